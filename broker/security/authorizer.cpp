#include "broker/security/authorizer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/config/server_config.hpp"

namespace brook::broker::security {

namespace {

constexpr std::string_view audit_logger_name = "kafka.authorizer.logger";

std::string_view trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Kafka's audit logger: its own name, writing where the broker's log goes, at the broker's level.
std::shared_ptr<spdlog::logger> audit_logger() {
  if (auto existing = spdlog::get(std::string(audit_logger_name))) return existing;
  auto base = spdlog::default_logger();
  auto created = std::make_shared<spdlog::logger>(std::string(audit_logger_name), base->sinks().begin(),
                                                  base->sinks().end());
  created->set_level(base->level());
  try {
    spdlog::register_logger(created);
  } catch (const spdlog::spdlog_ex&) {
    // Another broker in this process registered it first: share that one.
    if (auto existing = spdlog::get(std::string(audit_logger_name))) return existing;
  }
  return created;
}

// Whether `acl` (of the right resource) applies to the requester and the operation, and how: Kafka's
// StandardAuthorizerData.findResult. Implied operations count for ALLOW entries only: a DENY of READ
// does not deny DESCRIBE.
std::optional<permission_type> applies(const acl_binding& acl, const requester& who, acl_operation op) {
  if (acl.principal != who.principal && acl.principal != wildcard_principal) return std::nullopt;
  if (!host_matches(acl.host, who.host)) return std::nullopt;
  if (acl.operation != acl_operation::all) {
    if (acl.permission == permission_type::allow) {
      if (op == acl_operation::describe) {
        switch (acl.operation) {
          case acl_operation::describe:
          case acl_operation::read:
          case acl_operation::write:
          case acl_operation::delete_:
          case acl_operation::alter:
            break;
          default:
            return std::nullopt;
        }
      } else if (op == acl_operation::describe_configs) {
        if (acl.operation != acl_operation::describe_configs && acl.operation != acl_operation::alter_configs)
          return std::nullopt;
      } else if (op != acl.operation) {
        return std::nullopt;
      }
    } else if (op != acl.operation) {
      return std::nullopt;
    }
  }
  return acl.permission;
}

}  // namespace

std::optional<authorizer_settings> authorizer_settings_from(const server_config& config) {
  if (trimmed(config.get_string("authorizer.class.name")).empty()) return std::nullopt;
  authorizer_settings s;
  // Kafka splits super.users on ';' and drops blank entries.
  const std::string users = config.get_string("super.users");
  std::string_view rest = users;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string_view entry = trimmed(rest.substr(0, semi));
    if (!entry.empty()) s.super_users.emplace(entry);
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  s.allow_everyone_if_no_acl_found = config.get_bool("allow.everyone.if.no.acl.found");
  return s;
}

authorizer::authorizer(authorizer_settings settings) : settings_(std::move(settings)), audit_(audit_logger()) {}

authorizer::rule authorizer::decide(const requester& who, const action& what, const acl_binding** matched) const {
  *matched = nullptr;
  if (settings_.super_users.count(std::string(who.principal))) return rule::super_user;
  bool resource_has_acls = false;
  const acl_binding* allow = nullptr;
  // Every ACL of one (type, pattern, name), in order.
  auto range_of = [this, &what](pattern_type pattern, std::string_view name) {
    acl_binding probe;
    probe.type = what.type;
    probe.pattern = pattern;
    probe.name = std::string(name);
    return acls_.lower_bound(probe);
  };
  // Looks at one ACL of the resource; true when it denies (nothing else needs looking at).
  auto consider = [&](const acl_binding& acl) {
    resource_has_acls = true;
    auto permission = applies(acl, who, what.operation);
    if (permission == permission_type::deny) {
      *matched = &acl;
      return true;
    }
    if (permission == permission_type::allow) allow = &acl;
    return false;
  };
  auto literal_section = [&](std::string_view name) {
    for (auto it = range_of(pattern_type::literal, name);
         it != acls_.end() && it->type == what.type && it->pattern == pattern_type::literal && it->name == name; ++it)
      if (consider(*it)) return true;
    return false;
  };
  if (literal_section(what.name)) return rule::matching_deny;
  if (what.name != wildcard_resource && literal_section(wildcard_resource)) return rule::matching_deny;
  for (auto it = range_of(pattern_type::prefixed, ""); it != acls_.end() && it->type == what.type &&
                                                         it->pattern == pattern_type::prefixed;
       ++it)
    if (what.name.starts_with(it->name) && consider(*it)) return rule::matching_deny;
  if (allow) {
    *matched = allow;
    return rule::matching_allow;
  }
  // No ACL applies: the configured default only for a resource nobody has ACLs on.
  if (!resource_has_acls && settings_.allow_everyone_if_no_acl_found) return rule::default_allow;
  return rule::default_deny;
}

bool authorizer::authorize(const requester& who, const action& what) const {
  const acl_binding* matched = nullptr;
  const rule r = decide(who, what, &matched);
  log_decision(who, what, r, matched);
  return r == rule::super_user || r == rule::matching_allow || r == rule::default_allow;
}

void authorizer::log_decision(const requester& who, const action& what, rule r, const acl_binding* matched) const {
  const bool allowed = r == rule::super_user || r == rule::matching_allow || r == rule::default_allow;
  spdlog::level::level_enum level;
  if (allowed)
    level = what.log_if_allowed ? spdlog::level::debug : spdlog::level::trace;
  else
    level = what.log_if_denied ? spdlog::level::info : spdlog::level::trace;
  if (!audit_->should_log(level)) return;
  std::string basis;
  switch (r) {
    case rule::super_user: basis = "SuperUser"; break;
    case rule::default_allow: basis = "DefaultAllow"; break;
    case rule::default_deny: basis = "DefaultDeny"; break;
    case rule::matching_allow:
    case rule::matching_deny: basis = fmt::format("MatchingAcl(acl={})", to_string(*matched)); break;
  }
  audit_->log(level,
              "Principal = {} is {} operation = {} from host = {} on resource = {}:LITERAL:{} for request = {} with "
              "resourceRefCount = {} based on rule {}",
              who.principal, allowed ? "Allowed" : "Denied", name_of(what.operation), who.host,
              display_name(what.type), what.name, who.api, what.resource_ref_count, basis);
}

bool authorizer::authorize_by_resource_type(const requester& who, acl_operation operation, resource_type type) const {
  // A name no ACL is likely to name: super users, and allow.everyone.if.no.acl.found when nothing
  // covers it, are allowed here (Kafka checks the same name, logging only when allowed).
  action probe{operation, type, "hardcode", 1, true, false};
  if (authorize(who, probe)) return true;
  std::set<std::string> deny_literal, deny_prefixed, allow_literal, allow_prefixed;
  bool wildcard_allow = false;
  acl_binding first;
  first.type = type;
  for (auto it = acls_.lower_bound(first); it != acls_.end() && it->type == type; ++it) {
    const acl_binding& acl = *it;
    if (!host_matches(acl.host, who.host)) continue;
    if (acl.principal != who.principal && acl.principal != wildcard_principal) continue;
    if (acl.operation != operation && acl.operation != acl_operation::all) continue;
    const bool literal = acl.pattern == pattern_type::literal;
    if (!literal && acl.pattern != pattern_type::prefixed) continue;
    if (acl.permission == permission_type::deny) {
      // A deny of every name denies outright.
      if (literal ? acl.name == wildcard_resource : acl.name.empty()) return false;
      (literal ? deny_literal : deny_prefixed).insert(acl.name);
    } else if (acl.permission == permission_type::allow) {
      if (literal ? acl.name == wildcard_resource : acl.name.empty())
        wildcard_allow = true;
      else
        (literal ? allow_literal : allow_prefixed).insert(acl.name);
    }
  }
  if (wildcard_allow) return true;
  // An allowed name that no deny dominates: not denied literally (for a literal allow) and with no
  // denied prefix among its own prefixes.
  auto dominated = [&deny_prefixed](const std::string& allowed) {
    for (size_t n = 1; n <= allowed.size(); ++n)
      if (deny_prefixed.count(allowed.substr(0, n))) return true;
    return false;
  };
  for (const auto& name : allow_literal)
    if (!deny_literal.count(name) && !dominated(name)) return true;
  for (const auto& name : allow_prefixed)
    if (!dominated(name)) return true;
  return false;
}

std::vector<acl_binding> authorizer::acls(const acl_filter& filter) const {
  std::vector<acl_binding> out;
  for (const auto& acl : acls_)
    if (filter.matches(acl)) out.push_back(acl);
  return out;
}

}  // namespace brook::broker::security
