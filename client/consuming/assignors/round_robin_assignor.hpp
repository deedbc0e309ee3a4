#pragma once

#include "client/consuming/assignors/assignor.hpp"

namespace brook::client::consuming::assignors {

// Java's RoundRobinAssignor ("roundrobin"): every partition of every subscribed topic, sorted by
// topic then partition, dealt in turn to the members (in member order), skipping a member not
// subscribed to that partition's topic. Stateless.
class round_robin_assignor final : public assignor {
 public:
  std::string_view name() const override { return "roundrobin"; }
  group_assignment assign(const partition_counts& partitions, const std::vector<member_subscription>& members) override;
};

}  // namespace brook::client::consuming::assignors
