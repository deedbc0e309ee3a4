// The ACL authorizer, with the semantics of Kafka's StandardAuthorizer (the broker is enabled with
// `authorizer.class.name`; see authorizer_settings below).
//
// A request is allowed when its principal is one of `super.users`; otherwise the ACLs of the resource
// decide: those of its literal name, of the literal `*` and of every prefixed pattern its name starts
// with, each applying when its principal is the request's or `User:*` and its host is the client's, `*`
// or a CIDR range holding it. A DENY that applies wins over any ALLOW; an ALLOW of READ, WRITE, DELETE
// or ALTER allows DESCRIBE too, of ALTER_CONFIGS DESCRIBE_CONFIGS too, and ALL allows (or denies)
// everything. When no ACL applies, the answer is `allow.everyone.if.no.acl.found` only if the resource
// has no ACLs at all (for anyone); otherwise it is denied.
//
// Owner: the broker (one, when an authorizer is configured). Network thread only: handlers read it for
// every check; CreateAcls and DeleteAcls change it after the store has the change, so it holds exactly
// the stored ACLs. Denied decisions are logged at INFO on the logger "kafka.authorizer.logger" (Kafka's
// audit logger), allowed ones at DEBUG when the check asks for it.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "broker/security/acl.hpp"
#include "common/error.hpp"

namespace spdlog {
class logger;
}

namespace brook::broker {
class server_config;
}

namespace brook::broker::security {

// Kafka's class names that select this authorizer.
inline constexpr std::string_view standard_authorizer_class = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
inline constexpr std::string_view acl_authorizer_class = "kafka.security.authorizer.AclAuthorizer";

// What the authorizer is configured with.
struct authorizer_settings {
  std::set<std::string> super_users;          // super.users: "User:admin;User:ops", blanks trimmed
  bool allow_everyone_if_no_acl_found = false;  // allow.everyone.if.no.acl.found
};

// nullopt when `authorizer.class.name` is empty (no authorizer); the settings otherwise. The class
// name itself is checked when the configuration is read (server_config refuses other classes).
std::optional<authorizer_settings> authorizer_settings_from(const server_config& config);

// Who asks: the connection's principal and host, and the API (for the log line).
struct requester {
  std::string_view principal;  // "User:alice"
  std::string_view host;       // the client's address
  std::string_view api;        // "Fetch"
};

// One check: an operation on a resource named literally.
struct action {
  acl_operation operation = acl_operation::unknown;
  resource_type type = resource_type::unknown;
  std::string_view name;
  int resource_ref_count = 1;
  bool log_if_allowed = true;  // logged at DEBUG when allowed
  bool log_if_denied = true;   // logged at INFO when denied
};

class authorizer {
 public:
  explicit authorizer(authorizer_settings settings);

  const authorizer_settings& settings() const { return settings_; }

  bool authorize(const requester& who, const action& what) const;
  // Kafka's authorizeByResourceType: whether the principal may do `operation` on at least one resource
  // of the type (a super user, allow.everyone.if.no.acl.found with no ACLs in the way, or an ALLOW that
  // no DENY dominates). For producers asking for idempotence without IDEMPOTENT_WRITE on the cluster.
  bool authorize_by_resource_type(const requester& who, acl_operation operation, resource_type type) const;

  // The ACLs that match, in their sort order.
  std::vector<acl_binding> acls(const acl_filter& filter) const;
  bool contains(const acl_binding& acl) const { return acls_.count(acl) > 0; }
  size_t size() const { return acls_.size(); }

  // Changes as stored: the broker's load at startup, CreateAcls, DeleteAcls and a reset.
  void add(const acl_binding& acl) { acls_.insert(acl); }
  void remove(const acl_binding& acl) { acls_.erase(acl); }
  void clear() { acls_.clear(); }

 private:
  enum class rule { super_user, matching_allow, matching_deny, default_allow, default_deny };
  rule decide(const requester& who, const action& what, const acl_binding** matched) const;
  void log_decision(const requester& who, const action& what, rule r, const acl_binding* matched) const;

  authorizer_settings settings_;
  std::set<acl_binding> acls_;  // sorted by (type, pattern, name, ...): a resource's ACLs are a range
  std::shared_ptr<spdlog::logger> audit_;
};

}  // namespace brook::broker::security
