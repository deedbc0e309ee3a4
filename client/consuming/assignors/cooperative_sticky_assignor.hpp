#pragma once

#include "client/consuming/assignors/assignor.hpp"

namespace brook::client::consuming::assignors {

// Java's CooperativeStickyAssignor ("cooperative-sticky"), as its AbstractStickyAssignor behaves:
// - balanced: no partition could move to a member subscribed to its topic that holds at least two
//   fewer partitions than its owner (with equal subscriptions: counts differ by at most one);
// - sticky: a member keeps the partitions it reports owning (subscription v1+), when its claim is
//   valid: the topic is still subscribed and exists, and no member of a newer generation claims the
//   partition (two claims of the same generation void each other);
// - cooperative: a partition that some member owns and that the balanced assignment gives to
//   another is left out of this round; its owner revokes it and the next rebalance hands it over.
// State: the generation of the last assignment, sent as user data (an int32) for members whose
// subscription version (< 2) cannot carry it. Owned by one consumer, touched by its thread only.
class cooperative_sticky_assignor final : public assignor {
 public:
  std::string_view name() const override { return "cooperative-sticky"; }
  std::vector<rebalance_protocol> supported_protocols() const override {
    return {rebalance_protocol::cooperative, rebalance_protocol::eager};
  }
  std::optional<common::protocol::bytes> subscription_user_data(const std::set<std::string>& topics) const override;
  group_assignment assign(const partition_counts& partitions, const std::vector<member_subscription>& members) override;
  void on_assignment(const assignment& a, int32_t generation_id) override { generation_ = generation_id; }

  // The balanced, sticky assignment before partitions changing owner are held back (Java's eager
  // StickyAssignor computes the same balance).
  static group_assignment sticky_assign(const partition_counts& partitions,
                                        const std::vector<member_subscription>& members);

 private:
  int32_t generation_ = -1;
};

}  // namespace brook::client::consuming::assignors
