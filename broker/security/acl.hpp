// Kafka's ACL model: resource types, pattern types, operations and permission types with their wire
// codes (the enum values are the codes CreateAcls, DescribeAcls and DeleteAcls carry), an ACL binding
// (a resource pattern with an access control entry) and the binding filters DescribeAcls and DeleteAcls
// match with, as Kafka's AclBinding and AclBindingFilter define them.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/protocol/messages/acl_record.hpp"

namespace brook::broker::security {

enum class resource_type : int8_t {
  unknown = 0,
  any = 1,
  topic = 2,
  group = 3,
  cluster = 4,
  transactional_id = 5,
  delegation_token = 6,
  user = 7,
};

enum class pattern_type : int8_t {
  unknown = 0,
  any = 1,    // filters only: any pattern type, names compared exactly
  match = 2,  // filters only: the patterns that would apply to the named resource
  literal = 3,
  prefixed = 4,
};

enum class acl_operation : int8_t {
  unknown = 0,
  any = 1,  // filters only
  all = 2,
  read = 3,
  write = 4,
  create = 5,
  delete_ = 6,
  alter = 7,
  describe = 8,
  cluster_action = 9,
  describe_configs = 10,
  alter_configs = 11,
  idempotent_write = 12,
  create_tokens = 13,
  describe_tokens = 14,
  two_phase_commit = 15,
};

enum class permission_type : int8_t {
  unknown = 0,
  any = 1,  // filters only
  deny = 2,
  allow = 3,
};

// From a wire code, as Kafka's fromCode: a code it does not define is UNKNOWN.
resource_type resource_type_of(int8_t code);
pattern_type pattern_type_of(int8_t code);
acl_operation operation_of(int8_t code);
permission_type permission_type_of(int8_t code);

// Kafka's enum names ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW").
std::string_view name_of(resource_type t);
std::string_view name_of(pattern_type t);
std::string_view name_of(acl_operation op);
std::string_view name_of(permission_type p);
// The resource type as Kafka's log lines spell it ("Topic", "TransactionalId").
std::string_view display_name(resource_type t);

// The literal resource name that stands for every resource of its type.
inline constexpr std::string_view wildcard_resource = "*";
// The principal that stands for every user, and the host that stands for every host.
inline constexpr std::string_view wildcard_principal = "User:*";
inline constexpr std::string_view wildcard_host = "*";
// The one name of the CLUSTER resource.
inline constexpr std::string_view cluster_resource_name = "kafka-cluster";

// One ACL. The member order is the sort order: the authorizer finds a resource's ACLs by range.
struct acl_binding {
  resource_type type = resource_type::unknown;
  pattern_type pattern = pattern_type::unknown;
  std::string name;
  std::string principal;  // "User:alice"
  std::string host;       // an address, "*" or a CIDR range
  acl_operation operation = acl_operation::unknown;
  permission_type permission = permission_type::unknown;
  auto operator<=>(const acl_binding&) const = default;
  bool operator==(const acl_binding&) const = default;
};

// The ACL as the metadata store keeps it, and back (codes Kafka does not define read as UNKNOWN).
common::protocol::acl_record::message to_record(const acl_binding& acl);
acl_binding from_record(const common::protocol::acl_record::message& record);

// Kafka's StandardAcl printing, as its log lines show an ACL.
std::string to_string(const acl_binding& acl);

// A DescribeAcls / DeleteAcls filter: nullopt names, principals and hosts and the ANY codes match
// anything; pattern MATCH matches the literal and prefixed patterns that apply to the named resource.
struct acl_filter {
  resource_type type = resource_type::any;
  std::optional<std::string> name;
  pattern_type pattern = pattern_type::any;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  acl_operation operation = acl_operation::any;
  permission_type permission = permission_type::any;

  bool matches(const acl_binding& acl) const;
};

// Kafka's checks of an ACL to create (the broker's and the controller's), in Kafka's order and with its
// messages ("Invalid patternType MATCH", "Could not parse principal from `alice` ..."); nullopt when the
// ACL may be created. All of them are INVALID_REQUEST.
std::optional<std::string> invalid_acl_reason(const acl_binding& acl);

// Whether an ACL's host applies to a client at `client_host` (its address as text): "*", the same
// address, or a CIDR range holding it ("10.0.0.0/8", "fd00::/8").
bool host_matches(std::string_view acl_host, std::string_view client_host);

}  // namespace brook::broker::security
