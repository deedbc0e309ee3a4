#include "broker/api_table.hpp"

#include <array>
#include <spdlog/spdlog.h>

#include "broker/handlers/handlers.hpp"

namespace brook::broker {

namespace proto = common::protocol;

namespace {

// Every API the broker serves, with the versions it serves: from `min` (the schema's lowest unless
// Kafka 4.0 removed older ones) to the schema's highest. ApiVersions advertises exactly this table.
#define BROOK_API_FROM(ns, display, fn, min)                                                 \
  api_entry {                                                                                \
    proto::ns::api_key, display, min, proto::ns::max_version,                                \
        &typed_handler<proto::ns::request, proto::ns::response, &handlers::fn>               \
  }
#define BROOK_API(ns, display, fn) BROOK_API_FROM(ns, display, fn, proto::ns::min_version)

const std::array entries{
    api_entry{proto::produce::api_key, "Produce", proto::produce::min_version, proto::produce::max_version,
              &handlers::produce},
    BROOK_API(fetch, "Fetch", fetch),
    BROOK_API(list_offsets, "ListOffsets", list_offsets),
    BROOK_API(metadata, "Metadata", metadata),
    BROOK_API(describe_configs, "DescribeConfigs", describe_configs),
    BROOK_API(alter_configs, "AlterConfigs", alter_configs),
    BROOK_API(api_versions, "ApiVersions", api_versions),
    BROOK_API(sasl_handshake, "SaslHandshake", sasl_handshake),
    BROOK_API(sasl_authenticate, "SaslAuthenticate", sasl_authenticate),
    BROOK_API(create_topics, "CreateTopics", create_topics),
    BROOK_API(delete_records, "DeleteRecords", delete_records),
    BROOK_API(init_producer_id, "InitProducerId", init_producer_id),
    BROOK_API_FROM(offset_for_leader_epoch, "OffsetForLeaderEpoch", offset_for_leader_epoch, 2),
    BROOK_API(delete_topics, "DeleteTopics", delete_topics),
    BROOK_API(create_partitions, "CreatePartitions", create_partitions),
    BROOK_API(incremental_alter_configs, "IncrementalAlterConfigs", incremental_alter_configs),
    BROOK_API(describe_acls, "DescribeAcls", describe_acls),
    BROOK_API(create_acls, "CreateAcls", create_acls),
    BROOK_API(delete_acls, "DeleteAcls", delete_acls),
    BROOK_API(describe_client_quotas, "DescribeClientQuotas", describe_client_quotas),
    BROOK_API(alter_client_quotas, "AlterClientQuotas", alter_client_quotas),
    BROOK_API(describe_user_scram_credentials, "DescribeUserScramCredentials", describe_user_scram_credentials),
    BROOK_API(alter_user_scram_credentials, "AlterUserScramCredentials", alter_user_scram_credentials),
    BROOK_API(describe_cluster, "DescribeCluster", describe_cluster),
    BROOK_API(list_config_resources, "ListConfigResources", list_config_resources),
    BROOK_API(find_coordinator, "FindCoordinator", find_coordinator),
    BROOK_API(join_group, "JoinGroup", join_group),
    BROOK_API(sync_group, "SyncGroup", sync_group),
    BROOK_API(heartbeat, "Heartbeat", heartbeat),
    BROOK_API(leave_group, "LeaveGroup", leave_group),
    BROOK_API(offset_commit, "OffsetCommit", offset_commit),
    BROOK_API(offset_fetch, "OffsetFetch", offset_fetch),
    BROOK_API(describe_groups, "DescribeGroups", describe_groups),
    BROOK_API(list_groups, "ListGroups", list_groups),
    BROOK_API(delete_groups, "DeleteGroups", delete_groups),
    BROOK_API(offset_delete, "OffsetDelete", offset_delete),
    BROOK_API(consumer_group_heartbeat, "ConsumerGroupHeartbeat", consumer_group_heartbeat),
    BROOK_API(consumer_group_describe, "ConsumerGroupDescribe", consumer_group_describe),
    BROOK_API(describe_log_dirs, "DescribeLogDirs", describe_log_dirs),
    BROOK_API(elect_leaders, "ElectLeaders", elect_leaders),
    BROOK_API(alter_partition_reassignments, "AlterPartitionReassignments", alter_partition_reassignments),
    BROOK_API(list_partition_reassignments, "ListPartitionReassignments", list_partition_reassignments),
    BROOK_API(describe_producers, "DescribeProducers", describe_producers),
    BROOK_API(describe_topic_partitions, "DescribeTopicPartitions", describe_topic_partitions),
    BROOK_API(add_partitions_to_txn, "AddPartitionsToTxn", add_partitions_to_txn),
    BROOK_API(add_offsets_to_txn, "AddOffsetsToTxn", add_offsets_to_txn),
    BROOK_API(end_txn, "EndTxn", end_txn),
    BROOK_API(txn_offset_commit, "TxnOffsetCommit", txn_offset_commit),
    BROOK_API(describe_transactions, "DescribeTransactions", describe_transactions),
    BROOK_API(list_transactions, "ListTransactions", list_transactions),
    BROOK_API(write_txn_markers, "WriteTxnMarkers", write_txn_markers),
};
#undef BROOK_API
#undef BROOK_API_FROM

}  // namespace

void note_trailing_bytes(request_context& ctx, size_t count) {
  if (!ctx.conn || ctx.conn->trailing_bytes_logged) return;
  ctx.conn->trailing_bytes_logged = true;
  const api_entry* api = find_api(ctx.header.api_key);
  spdlog::debug("ignoring {} bytes after the body of a {} v{} request from {} (further ones on this connection not logged)",
                count, api ? api->name : std::string_view("?"), ctx.version(), ctx.conn->peer);
}

std::span<const api_entry> api_table() { return entries; }

const api_entry* find_api(int16_t key) {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

}  // namespace brook::broker
