// One handler per API, each in its own file in this folder; api_table.cpp lists them.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "broker/request_context.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/alter_client_quotas.hpp"
#include "common/protocol/messages/alter_configs.hpp"
#include "common/protocol/messages/alter_partition_reassignments.hpp"
#include "common/protocol/messages/alter_user_scram_credentials.hpp"
#include "common/protocol/messages/consumer_group_describe.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/create_acls.hpp"
#include "common/protocol/messages/create_partitions.hpp"
#include "common/protocol/messages/delete_acls.hpp"
#include "common/protocol/messages/describe_acls.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "common/protocol/messages/describe_client_quotas.hpp"
#include "common/protocol/messages/describe_cluster.hpp"
#include "common/protocol/messages/describe_configs.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "common/protocol/messages/describe_log_dirs.hpp"
#include "common/protocol/messages/describe_producers.hpp"
#include "common/protocol/messages/describe_topic_partitions.hpp"
#include "common/protocol/messages/describe_user_scram_credentials.hpp"
#include "common/protocol/messages/elect_leaders.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/incremental_alter_configs.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/list_config_resources.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/list_partition_reassignments.hpp"
#include "common/protocol/messages/offset_for_leader_epoch.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/delete_groups.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/heartbeat.hpp"
#include "common/protocol/messages/sasl_authenticate.hpp"
#include "common/protocol/messages/sasl_handshake.hpp"
#include "common/protocol/messages/join_group.hpp"
#include "common/protocol/messages/leave_group.hpp"
#include "common/protocol/messages/list_groups.hpp"
#include "common/protocol/messages/offset_commit.hpp"
#include "common/protocol/messages/offset_delete.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "common/protocol/messages/sync_group.hpp"
#include "common/protocol/messages/txn_offset_commit.hpp"
#include "common/protocol/messages/add_offsets_to_txn.hpp"
#include "common/protocol/messages/add_partitions_to_txn.hpp"
#include "common/protocol/messages/describe_transactions.hpp"
#include "common/protocol/messages/end_txn.hpp"
#include "common/protocol/messages/list_transactions.hpp"
#include "common/protocol/messages/write_txn_markers.hpp"

namespace brook::broker::handlers {

namespace proto = common::protocol;
using boost::asio::awaitable;

awaitable<proto::api_versions::response> api_versions(request_context&, proto::api_versions::request&);
// The v0 body for an ApiVersions request newer than any we serve: UNSUPPORTED_VERSION and our range.
proto::bytes unsupported_api_versions_response();

awaitable<proto::metadata::response> metadata(request_context&, proto::metadata::request&);
// The ACL APIs (the authorizer's ACLs: broker/security/authorizer.hpp).
awaitable<proto::create_acls::response> create_acls(request_context&, proto::create_acls::request&);
awaitable<proto::describe_acls::response> describe_acls(request_context&, proto::describe_acls::request&);
awaitable<proto::delete_acls::response> delete_acls(request_context&, proto::delete_acls::request&);
awaitable<proto::create_topics::response> create_topics(request_context&, proto::create_topics::request&);
awaitable<proto::delete_topics::response> delete_topics(request_context&, proto::delete_topics::request&);
awaitable<proto::create_partitions::response> create_partitions(request_context&, proto::create_partitions::request&);
awaitable<proto::describe_configs::response> describe_configs(request_context&, proto::describe_configs::request&);
awaitable<proto::alter_configs::response> alter_configs(request_context&, proto::alter_configs::request&);
awaitable<proto::incremental_alter_configs::response> incremental_alter_configs(
    request_context&, proto::incremental_alter_configs::request&);
awaitable<proto::describe_cluster::response> describe_cluster(request_context&, proto::describe_cluster::request&);
awaitable<proto::describe_topic_partitions::response> describe_topic_partitions(
    request_context&, proto::describe_topic_partitions::request&);
awaitable<proto::describe_log_dirs::response> describe_log_dirs(request_context&, proto::describe_log_dirs::request&);
// Leaders and replica placement, as a single node answers them (ElectLeaders and the reassignments).
awaitable<proto::elect_leaders::response> elect_leaders(request_context&, proto::elect_leaders::request&);
awaitable<proto::list_partition_reassignments::response> list_partition_reassignments(
    request_context&, proto::list_partition_reassignments::request&);
awaitable<proto::alter_partition_reassignments::response> alter_partition_reassignments(
    request_context&, proto::alter_partition_reassignments::request&);
awaitable<proto::list_config_resources::response> list_config_resources(request_context&,
                                                                        proto::list_config_resources::request&);
// Client quotas (stored and reported here; Produce and Fetch enforce them, broker/quota/).
awaitable<proto::describe_client_quotas::response> describe_client_quotas(request_context&,
                                                                          proto::describe_client_quotas::request&);
awaitable<proto::alter_client_quotas::response> alter_client_quotas(request_context&,
                                                                    proto::alter_client_quotas::request&);
awaitable<proto::describe_user_scram_credentials::response> describe_user_scram_credentials(
    request_context&, proto::describe_user_scram_credentials::request&);
awaitable<proto::alter_user_scram_credentials::response> alter_user_scram_credentials(
    request_context&, proto::alter_user_scram_credentials::request&);

// Produce decodes its own request: with acks=0 it sends no response.
awaitable<std::optional<proto::encoded_message>> produce(request_context&, proto::reader& body);
awaitable<proto::fetch::response> fetch(request_context&, proto::fetch::request&);
awaitable<proto::list_offsets::response> list_offsets(request_context&, proto::list_offsets::request&);
awaitable<proto::offset_for_leader_epoch::response> offset_for_leader_epoch(request_context&,
                                                                            proto::offset_for_leader_epoch::request&);
awaitable<proto::delete_records::response> delete_records(request_context&, proto::delete_records::request&);
awaitable<proto::init_producer_id::response> init_producer_id(request_context&, proto::init_producer_id::request&);
awaitable<proto::describe_producers::response> describe_producers(request_context&, proto::describe_producers::request&);
awaitable<proto::add_partitions_to_txn::response> add_partitions_to_txn(request_context&,
                                                                        proto::add_partitions_to_txn::request&);
awaitable<proto::add_offsets_to_txn::response> add_offsets_to_txn(request_context&, proto::add_offsets_to_txn::request&);
awaitable<proto::end_txn::response> end_txn(request_context&, proto::end_txn::request&);
awaitable<proto::describe_transactions::response> describe_transactions(request_context&,
                                                                        proto::describe_transactions::request&);
awaitable<proto::list_transactions::response> list_transactions(request_context&, proto::list_transactions::request&);
awaitable<proto::write_txn_markers::response> write_txn_markers(request_context&, proto::write_txn_markers::request&);

// Consumer groups (classic protocol) and committed offsets; the state lives in broker/group/.
awaitable<proto::find_coordinator::response> find_coordinator(request_context&, proto::find_coordinator::request&);
awaitable<proto::join_group::response> join_group(request_context&, proto::join_group::request&);
awaitable<proto::sync_group::response> sync_group(request_context&, proto::sync_group::request&);
awaitable<proto::heartbeat::response> heartbeat(request_context&, proto::heartbeat::request&);
awaitable<proto::sasl_handshake::response> sasl_handshake(request_context&, proto::sasl_handshake::request&);
awaitable<proto::sasl_authenticate::response> sasl_authenticate(request_context&, proto::sasl_authenticate::request&);
// A failed authentication's answer waits connection.failed.authentication.delay.ms (cut short if the
// connection closes), as Kafka's does, to slow down guessing.
awaitable<void> hold_failed_authentication(request_context& ctx);
awaitable<proto::leave_group::response> leave_group(request_context&, proto::leave_group::request&);
awaitable<proto::offset_commit::response> offset_commit(request_context&, proto::offset_commit::request&);
awaitable<proto::offset_fetch::response> offset_fetch(request_context&, proto::offset_fetch::request&);
awaitable<proto::describe_groups::response> describe_groups(request_context&, proto::describe_groups::request&);
awaitable<proto::list_groups::response> list_groups(request_context&, proto::list_groups::request&);
awaitable<proto::delete_groups::response> delete_groups(request_context&, proto::delete_groups::request&);
awaitable<proto::offset_delete::response> offset_delete(request_context&, proto::offset_delete::request&);
// Transactional offset commits (KIP-98 / KIP-447).
awaitable<proto::txn_offset_commit::response> txn_offset_commit(request_context&, proto::txn_offset_commit::request&);
// Consumer-protocol groups (KIP-848).
awaitable<proto::consumer_group_heartbeat::response> consumer_group_heartbeat(request_context&,
                                                                              proto::consumer_group_heartbeat::request&);
awaitable<proto::consumer_group_describe::response> consumer_group_describe(request_context&,
                                                                            proto::consumer_group_describe::request&);

}  // namespace brook::broker::handlers
