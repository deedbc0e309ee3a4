// What the ACL APIs (CreateAcls, DescribeAcls, DeleteAcls) share: Kafka's refusal of UNKNOWN codes
// and its answers when the request is not allowed or no authorizer is configured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "broker/request_context.hpp"
#include "broker/security/acl.hpp"
#include "broker/security/authorize.hpp"
#include "common/error.hpp"
#include "common/protocol/wire.hpp"

namespace brook::broker::handlers::acl_apis {

// Kafka's request parsing throws on a creation or filter with a 0 (UNKNOWN) resource type, pattern
// type, operation or permission type; the broker then closes the connection. So does Brook.
inline void refuse_unknown_codes(std::string_view api, int8_t resource_type, int8_t pattern_type, int8_t operation,
                                 int8_t permission_type) {
  if (resource_type == 0 || pattern_type == 0 || operation == 0 || permission_type == 0)
    throw common::protocol::decode_error(
        fmt::format("{} names an UNKNOWN resource type, pattern type, operation or permission type", api));
}

// ClusterAuthorizationException's message when the cluster check fails.
inline std::string needs_permission(std::string_view api, security::acl_operation operation) {
  return fmt::format("Request {} needs {} permission.", api, security::name_of(operation));
}

// SecurityDisabledException's messages: CreateAcls and DeleteAcls say the first, DescribeAcls the second.
inline constexpr std::string_view no_authorizer = "No Authorizer is configured.";
inline constexpr std::string_view no_authorizer_on_broker = "No Authorizer is configured on the broker";

// Why an ACL API is refused before anything is done: the principal lacks `operation` on the cluster
// (checked first, as Kafka does), or no authorizer is configured (`no_authorizer_message`).
struct refusal {
  common::kafka_error code;
  std::string message;
};
inline std::optional<refusal> refuse(request_context& ctx, std::string_view api, security::acl_operation operation,
                                     std::string_view no_authorizer_message) {
  if (!security::authorized_on_cluster(ctx, operation))
    return refusal{common::kafka_error::cluster_authorization_failed, needs_permission(api, operation)};
  if (!ctx.owner.authorizer()) return refusal{common::kafka_error::security_disabled, std::string(no_authorizer_message)};
  return std::nullopt;
}

}  // namespace brook::broker::handlers::acl_apis
