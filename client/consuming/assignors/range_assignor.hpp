#pragma once

#include "client/consuming/assignors/assignor.hpp"

namespace brook::client::consuming::assignors {

// Java's RangeAssignor ("range"): per topic, the members subscribed to it (in member order) get
// consecutive ranges of partitions, the first (partitions % members) one partition more. Stateless.
class range_assignor final : public assignor {
 public:
  std::string_view name() const override { return "range"; }
  group_assignment assign(const partition_counts& partitions, const std::vector<member_subscription>& members) override;
};

}  // namespace brook::client::consuming::assignors
