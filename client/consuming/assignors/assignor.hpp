// The classic group protocol's client-side assignors: the group leader runs one of them over every
// member's subscription (consumer protocol) and the topics' partition counts, and sends each member
// its share through SyncGroup. Names are Java's, so groups mixing Brook, Java and librdkafka
// members agree on the protocol. An assignor may keep state across rebalances (the generation it
// last saw); it belongs to one consumer and is touched only by that consumer's thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/consuming/consumer_protocol.hpp"
#include "client/consuming/topic_partition.hpp"

namespace brook::client::consuming::assignors {

// How partitions change hands: eager revokes everything before each rebalance; cooperative
// (KIP-429) keeps what stays and revokes only what moves, which then needs a second rebalance.
enum class rebalance_protocol { eager, cooperative };

struct member_subscription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  subscription sub;
};

// Partition counts of the topics known to the leader's metadata; a subscribed topic missing here
// gets no partitions assigned.
using partition_counts = std::map<std::string, int32_t>;
// Member id -> its partitions; every member given is present, possibly with none.
using group_assignment = std::map<std::string, std::vector<topic_partition>>;

class assignor {
 public:
  virtual ~assignor() = default;
  virtual std::string_view name() const = 0;
  // Every protocol the assignor can run under; the consumer uses the strongest all its assignors share.
  virtual std::vector<rebalance_protocol> supported_protocols() const { return {rebalance_protocol::eager}; }
  // The user data this member puts in its subscription for this assignor (none by default).
  virtual std::optional<common::protocol::bytes> subscription_user_data(const std::set<std::string>& topics) const {
    return std::nullopt;
  }
  virtual group_assignment assign(const partition_counts& partitions,
                                  const std::vector<member_subscription>& members) = 0;
  // Called on every member after SyncGroup with its assignment and the generation it belongs to.
  virtual void on_assignment(const assignment& a, int32_t generation_id) {}
};

// Java's order of members: those with a group.instance.id first, by it; then by member id.
bool member_order(const member_subscription& a, const member_subscription& b);

// "range", "roundrobin" or "cooperative-sticky"; nullptr for any other name.
std::unique_ptr<assignor> make_assignor(std::string_view name);

}  // namespace brook::client::consuming::assignors
