// Topic administration shared by CreateTopics, Metadata's auto-creation, DeleteTopics,
// CreatePartitions and the config-altering APIs: validation with Kafka's errors and messages, the
// durable change in the metadata store (on the blocking pool), then the registry update.
// Network thread only. Arguments are references to the caller's named locals: GCC 12 mishandles
// temporaries inside co_await expressions (see blocking.hpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "broker/config/topic_config.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker {

class broker;

struct new_topic {
  std::string name;
  int32_t partitions = -1;          // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  topic_overrides configs;
};

// Kafka's controller refuses an operation that would write more than 10,000 metadata records in one
// batch (QuorumController.MAX_RECORDS_PER_USER_OP) with POLICY_VIOLATION; a partition is one record, so
// a CreateTopics or CreatePartitions request may add at most this many partitions, and Metadata's
// auto-creation at most this many per request.
inline constexpr int64_t max_partitions_per_request = 10'000;

// POLICY_VIOLATION when `added` partitions exceed the per-request limit.
common::result<void> check_partitions_per_request(int64_t added);
// The partitions the broker may hold in all: brook.max.partitions, lowered to what the open-file limit
// leaves room for (one descriptor per partition plus a reserve for connections and the store).
int64_t max_partitions_in_total(broker& b);
// POLICY_VIOLATION when adding `added` partitions would take the broker past max_partitions_in_total.
common::result<void> check_partitions_in_total(broker& b, int64_t added);
// The partitions of a topic as CreateTopics would create it (-1: num.partitions).
int32_t resolved_partition_count(broker& b, int32_t requested);

// Validates and (unless validate_only) creates the topic: the store record and every partition log, or
// nothing (a failure midway, or shutdown, removes what was made). The returned record is what was (or
// would be) stored. The returned record is what was (or
// would be) stored.
boost::asio::awaitable<common::result<log::topic_record>> create_topic(broker& b, const new_topic& t, bool validate_only);
boost::asio::awaitable<common::result<void>> delete_topic(broker& b, const std::string& name);
// delete_topic's step on the network thread once the store has dropped the topic: the registry entry,
// the partitions (fetches parked on them wake up and find the topic gone) and the group coordinator's
// cached offsets for it. The partition logs are the caller's to remove.
void forget_topic(broker& b, const std::string& name);
// Grows a topic to `count` partitions in total.
boost::asio::awaitable<common::result<void>> set_partition_count(broker& b, const std::string& name, int32_t count,
                                                                 bool validate_only);
// Replaces the topic's config overrides with `configs` (validated first).
boost::asio::awaitable<common::result<void>> set_topic_configs(broker& b, const std::string& name, const topic_overrides& configs,
                                                               bool validate_only);

}  // namespace brook::broker
