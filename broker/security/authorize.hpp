// The checks handlers make of the request's principal and client host, as Kafka's AuthHelper makes
// them: each is allowed when no authorizer is configured. Network thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/request_context.hpp"
#include "broker/security/acl.hpp"

namespace brook::broker::security {

// Whether the request may do `operation` on the resource (named literally). `log_if_allowed` /
// `log_if_denied` choose whether the decision reaches the audit log (Kafka's Action flags: a check that
// only filters what is shown, such as Metadata's topic list, logs neither).
bool authorized(request_context& ctx, acl_operation operation, resource_type type, std::string_view name,
                bool log_if_allowed = true, bool log_if_denied = true, int resource_ref_count = 1);
// `operation` on the cluster resource (kafka-cluster).
bool authorized_on_cluster(request_context& ctx, acl_operation operation, bool log_if_denied = true);
// Kafka's authorizeByResourceType: `operation` on at least one resource of the type.
bool authorized_by_resource_type(request_context& ctx, acl_operation operation, resource_type type);
// Kafka's authorizedOperations: the bit field (1 << code) of the operations the resource type supports
// that the request may do on the resource, none of them logged. All of them without an authorizer.
int32_t authorized_operations(request_context& ctx, resource_type type, std::string_view name);

// The client's address as Kafka's InetAddress.getHostAddress prints it, which is what ACL hosts name:
// dotted IPv4 (an IPv4-mapped IPv6 address as its IPv4 form) or eight uncompressed hex groups.
std::string client_host(const request_context& ctx);

}  // namespace brook::broker::security
