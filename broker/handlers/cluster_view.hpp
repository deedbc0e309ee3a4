// What Metadata and DescribeCluster both say about this one-broker cluster.
#pragma once

#include "broker/request_context.hpp"
#include "common/protocol/messages/metadata.hpp"

namespace brook::broker::handlers {

// This broker as a client should reach it: the advertised listener, else the address the client
// connected to.
common::protocol::metadata::response_broker self_endpoint(request_context& ctx);

}  // namespace brook::broker::handlers
