#include "broker/security/acl.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace brook::broker::security {

namespace {

template <class E>
E enum_of(int8_t code, int8_t highest) {
  return code >= 0 && code <= highest ? static_cast<E>(code) : E{};
}

// An address in network order (4 or 16 bytes), or nothing when `text` is not an IP literal.
struct ip_bytes {
  std::array<uint8_t, 16> bytes{};
  size_t size = 0;
};

std::optional<ip_bytes> parse_ip(std::string_view text) {
  const std::string s(text);
  ip_bytes out;
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) != 1) return std::nullopt;
    out.size = 16;
  } else {
    if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) != 1) return std::nullopt;
    out.size = 4;
  }
  return out;
}

// "address/prefix" split and checked (the prefix within the address family's bits).
struct cidr_range {
  ip_bytes base;
  int prefix = 0;
};

std::optional<cidr_range> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto base = parse_ip(text.substr(0, slash));
  if (!base) return std::nullopt;
  const std::string_view bits = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty()) return std::nullopt;
  if (prefix < 0 || prefix > static_cast<int>(base->size * 8)) return std::nullopt;
  return cidr_range{*base, prefix};
}

bool in_range(const cidr_range& range, const ip_bytes& address) {
  if (address.size != range.base.size) return false;
  int left = range.prefix;
  for (size_t i = 0; i < address.size && left > 0; ++i, left -= 8) {
    const uint8_t mask = left >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - left));
    if ((address.bytes[i] & mask) != (range.base.bytes[i] & mask)) return false;
  }
  return true;
}

}  // namespace

resource_type resource_type_of(int8_t code) { return enum_of<resource_type>(code, 7); }
pattern_type pattern_type_of(int8_t code) { return enum_of<pattern_type>(code, 4); }
acl_operation operation_of(int8_t code) { return enum_of<acl_operation>(code, 15); }
permission_type permission_type_of(int8_t code) { return enum_of<permission_type>(code, 3); }

std::string_view name_of(resource_type t) {
  static constexpr std::array<std::string_view, 8> names{"UNKNOWN", "ANY",    "TOPIC",           "GROUP",
                                                         "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"};
  return names[static_cast<size_t>(t)];
}

std::string_view name_of(pattern_type t) {
  static constexpr std::array<std::string_view, 5> names{"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
  return names[static_cast<size_t>(t)];
}

std::string_view name_of(acl_operation op) {
  static constexpr std::array<std::string_view, 16> names{
      "UNKNOWN",        "ANY",           "ALL",              "READ",          "WRITE",         "CREATE",
      "DELETE",         "ALTER",         "DESCRIBE",         "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS",
      "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS", "TWO_PHASE_COMMIT"};
  return names[static_cast<size_t>(op)];
}

std::string_view name_of(permission_type p) {
  static constexpr std::array<std::string_view, 4> names{"UNKNOWN", "ANY", "DENY", "ALLOW"};
  return names[static_cast<size_t>(p)];
}

std::string_view display_name(resource_type t) {
  static constexpr std::array<std::string_view, 8> names{"Unknown", "Any",             "Topic",           "Group",
                                                         "Cluster", "TransactionalId", "DelegationToken", "User"};
  return names[static_cast<size_t>(t)];
}

common::protocol::acl_record::message to_record(const acl_binding& acl) {
  common::protocol::acl_record::message r;
  r.resource_type = static_cast<int8_t>(acl.type);
  r.resource_name = acl.name;
  r.pattern_type = static_cast<int8_t>(acl.pattern);
  r.principal = acl.principal;
  r.host = acl.host;
  r.operation = static_cast<int8_t>(acl.operation);
  r.permission_type = static_cast<int8_t>(acl.permission);
  return r;
}

acl_binding from_record(const common::protocol::acl_record::message& record) {
  return acl_binding{resource_type_of(record.resource_type), pattern_type_of(record.pattern_type),
                     record.resource_name,                   record.principal,
                     record.host,                            operation_of(record.operation),
                     permission_type_of(record.permission_type)};
}

std::string to_string(const acl_binding& acl) {
  return fmt::format(
      "StandardAcl[resourceType={}, resourceName={}, patternType={}, principal={}, host={}, operation={}, "
      "permissionType={}]",
      name_of(acl.type), acl.name, name_of(acl.pattern), acl.principal, acl.host, name_of(acl.operation),
      name_of(acl.permission));
}

bool acl_filter::matches(const acl_binding& acl) const {
  // The resource pattern part (Kafka's ResourcePatternFilter.matches).
  if (type != resource_type::any && type != acl.type) return false;
  if (pattern != pattern_type::any && pattern != pattern_type::match && pattern != acl.pattern) return false;
  if (name) {
    if (pattern == pattern_type::any || pattern == acl.pattern) {
      if (*name != acl.name) return false;
    } else if (acl.pattern == pattern_type::literal) {  // MATCH
      if (*name != acl.name && acl.name != wildcard_resource) return false;
    } else if (acl.pattern == pattern_type::prefixed) {
      if (!std::string_view(*name).starts_with(acl.name)) return false;
    } else {
      return false;
    }
  }
  // The entry part (AccessControlEntryFilter.matches): exact principal and host.
  if (principal && *principal != acl.principal) return false;
  if (host && *host != acl.host) return false;
  if (operation != acl_operation::any && operation != acl.operation) return false;
  return permission == permission_type::any || permission == acl.permission;
}

std::optional<std::string> invalid_acl_reason(const acl_binding& acl) {
  // The broker's own checks come first (Kafka's AclApis), then the controller's (AclControlManager).
  if (acl.type == resource_type::cluster && acl.name != cluster_resource_name)
    return fmt::format("The only valid name for the CLUSTER resource is {}", cluster_resource_name);
  if (acl.name.empty()) return std::string("Invalid empty resource name");
  if (acl.type == resource_type::unknown || acl.type == resource_type::any)
    return fmt::format("Invalid resourceType {}", name_of(acl.type));
  if (acl.pattern != pattern_type::literal && acl.pattern != pattern_type::prefixed)
    return fmt::format("Invalid patternType {}", name_of(acl.pattern));
  if (acl.operation == acl_operation::unknown || acl.operation == acl_operation::any)
    return fmt::format("Invalid operation {}", name_of(acl.operation));
  if (acl.permission != permission_type::deny && acl.permission != permission_type::allow)
    return fmt::format("Invalid permissionType {}", name_of(acl.permission));
  if (acl.principal.find(':') == std::string::npos)
    return fmt::format(
        "Could not parse principal from `{}` (no colon is present separating the principal type from the principal "
        "name)",
        acl.principal);
  if (acl.host.empty()) return std::string("Host pattern cannot be null or empty");
  if (acl.host != wildcard_host && acl.host.find('/') != std::string::npos && !parse_cidr(acl.host))
    return fmt::format("Invalid CIDR notation '{}': Could not parse [{}]", acl.host, acl.host);
  return std::nullopt;
}

bool host_matches(std::string_view acl_host, std::string_view client_host) {
  if (acl_host == wildcard_host || acl_host == client_host) return true;
  if (acl_host.find('/') == std::string_view::npos) return false;
  auto range = parse_cidr(acl_host);
  auto address = parse_ip(client_host);
  return range && address && in_range(*range, *address);
}

}  // namespace brook::broker::security
