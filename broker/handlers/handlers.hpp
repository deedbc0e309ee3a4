// One handler per API, each in its own file in this folder; api_table.cpp lists them.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "broker/request_context.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/alter_configs.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/create_partitions.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "common/protocol/messages/describe_cluster.hpp"
#include "common/protocol/messages/describe_configs.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/incremental_alter_configs.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/offset_for_leader_epoch.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/protocol/messages/metadata.hpp"

namespace brook::broker::handlers {

namespace proto = common::protocol;
using boost::asio::awaitable;

awaitable<proto::api_versions::response> api_versions(request_context&, proto::api_versions::request&);
// The v0 body for an ApiVersions request newer than any we serve: UNSUPPORTED_VERSION and our range.
proto::bytes unsupported_api_versions_response();

awaitable<proto::metadata::response> metadata(request_context&, proto::metadata::request&);
awaitable<proto::create_topics::response> create_topics(request_context&, proto::create_topics::request&);
awaitable<proto::delete_topics::response> delete_topics(request_context&, proto::delete_topics::request&);
awaitable<proto::create_partitions::response> create_partitions(request_context&, proto::create_partitions::request&);
awaitable<proto::describe_configs::response> describe_configs(request_context&, proto::describe_configs::request&);
awaitable<proto::alter_configs::response> alter_configs(request_context&, proto::alter_configs::request&);
awaitable<proto::incremental_alter_configs::response> incremental_alter_configs(
    request_context&, proto::incremental_alter_configs::request&);
awaitable<proto::describe_cluster::response> describe_cluster(request_context&, proto::describe_cluster::request&);

// Produce decodes its own request: with acks=0 it sends no response.
awaitable<std::optional<proto::bytes>> produce(request_context&, proto::reader& body);
awaitable<proto::fetch::response> fetch(request_context&, proto::fetch::request&);
awaitable<proto::list_offsets::response> list_offsets(request_context&, proto::list_offsets::request&);
awaitable<proto::offset_for_leader_epoch::response> offset_for_leader_epoch(request_context&,
                                                                            proto::offset_for_leader_epoch::request&);
awaitable<proto::delete_records::response> delete_records(request_context&, proto::delete_records::request&);
awaitable<proto::init_producer_id::response> init_producer_id(request_context&, proto::init_producer_id::request&);

}  // namespace brook::broker::handlers
