// The client's view of the schema-generated APIs: api_of<Request> names an API's response type, key and
// the versions the schema knows, so that a call is written `co_await conn.call(request)` and the
// response type follows from the request type.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/protocol/messages/add_offsets_to_txn.hpp"
#include "common/protocol/messages/add_partitions_to_txn.hpp"
#include "common/protocol/messages/alter_configs.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/consumer_group_describe.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "common/protocol/messages/create_partitions.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_groups.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "common/protocol/messages/describe_cluster.hpp"
#include "common/protocol/messages/describe_configs.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "common/protocol/messages/describe_log_dirs.hpp"
#include "common/protocol/messages/describe_producers.hpp"
#include "common/protocol/messages/end_txn.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/heartbeat.hpp"
#include "common/protocol/messages/incremental_alter_configs.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/join_group.hpp"
#include "common/protocol/messages/leave_group.hpp"
#include "common/protocol/messages/list_groups.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/offset_commit.hpp"
#include "common/protocol/messages/offset_delete.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "common/protocol/messages/offset_for_leader_epoch.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/protocol/messages/sync_group.hpp"
#include "common/protocol/messages/txn_offset_commit.hpp"

namespace brook::client::core {

namespace proto = brook::common::protocol;

template <class Request>
struct api_of;  // defined below for every request type the client sends

#define BROOK_CLIENT_API(ns)                                        \
  template <>                                                       \
  struct api_of<proto::ns::request> {                               \
    using request = proto::ns::request;                             \
    using response = proto::ns::response;                           \
    static constexpr int16_t key = proto::ns::api_key;              \
    static constexpr int16_t min_version = proto::ns::min_version;  \
    static constexpr int16_t max_version = proto::ns::max_version;  \
    static constexpr std::string_view name = #ns;                   \
  };

BROOK_CLIENT_API(add_offsets_to_txn)
BROOK_CLIENT_API(add_partitions_to_txn)
BROOK_CLIENT_API(alter_configs)
BROOK_CLIENT_API(api_versions)
BROOK_CLIENT_API(consumer_group_describe)
BROOK_CLIENT_API(consumer_group_heartbeat)
BROOK_CLIENT_API(create_partitions)
BROOK_CLIENT_API(create_topics)
BROOK_CLIENT_API(delete_groups)
BROOK_CLIENT_API(delete_records)
BROOK_CLIENT_API(delete_topics)
BROOK_CLIENT_API(describe_cluster)
BROOK_CLIENT_API(describe_configs)
BROOK_CLIENT_API(describe_groups)
BROOK_CLIENT_API(describe_log_dirs)
BROOK_CLIENT_API(describe_producers)
BROOK_CLIENT_API(end_txn)
BROOK_CLIENT_API(fetch)
BROOK_CLIENT_API(find_coordinator)
BROOK_CLIENT_API(heartbeat)
BROOK_CLIENT_API(incremental_alter_configs)
BROOK_CLIENT_API(init_producer_id)
BROOK_CLIENT_API(join_group)
BROOK_CLIENT_API(leave_group)
BROOK_CLIENT_API(list_groups)
BROOK_CLIENT_API(list_offsets)
BROOK_CLIENT_API(metadata)
BROOK_CLIENT_API(offset_commit)
BROOK_CLIENT_API(offset_delete)
BROOK_CLIENT_API(offset_fetch)
BROOK_CLIENT_API(offset_for_leader_epoch)
BROOK_CLIENT_API(produce)
BROOK_CLIENT_API(sync_group)
BROOK_CLIENT_API(txn_offset_commit)

#undef BROOK_CLIENT_API

}  // namespace brook::client::core
