// The ACL authorizer's rules (StandardAuthorizer's semantics), the ACL filters of DescribeAcls and
// DeleteAcls, CreateAcls' checks of an ACL, and the broker keys that configure the authorizer.
#include <catch2/catch.hpp>

#include <memory>
#include <sstream>
#include <string>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "broker/config/server_config.hpp"
#include "broker/security/acl.hpp"
#include "broker/security/authorizer.hpp"

using namespace brook::broker::security;
using brook::broker::server_config;

namespace {

using acl_op = acl_operation;
using acl_rt = resource_type;

acl_binding acl_allow(acl_rt type, std::string name, std::string principal, acl_op operation, std::string host = "*",
                  pattern_type pattern = pattern_type::literal) {
  return acl_binding{type, pattern, std::move(name), std::move(principal), std::move(host), operation,
                     permission_type::allow};
}

acl_binding acl_deny(acl_rt type, std::string name, std::string principal, acl_op operation, std::string host = "*",
                 pattern_type pattern = pattern_type::literal) {
  auto acl = acl_allow(type, std::move(name), std::move(principal), operation, std::move(host), pattern);
  acl.permission = permission_type::deny;
  return acl;
}

struct acl_checker {
  authorizer auth;
  explicit acl_checker(authorizer_settings s = {}) : auth(std::move(s)) {}
  bool can(std::string_view principal, acl_op operation, acl_rt type, std::string_view name,
           std::string_view host = "10.0.0.1") const {
    return auth.authorize(requester{principal, host, "Test"}, action{operation, type, name});
  }
  bool can_any(std::string_view principal, acl_op operation, acl_rt type, std::string_view host = "10.0.0.1") const {
    return auth.authorize_by_resource_type(requester{principal, host, "Test"}, operation, type);
  }
};

}  // namespace

TEST_CASE("without ACLs the default decides: denied, or allowed with allow.everyone.if.no.acl.found") {
  acl_checker strict;
  CHECK_FALSE(strict.can("User:alice", acl_op::read, acl_rt::topic, "t"));
  acl_checker open(authorizer_settings{{}, true});
  CHECK(open.can("User:alice", acl_op::read, acl_rt::topic, "t"));
  // A resource with ACLs for someone else is denied even so: the default only covers resources nobody
  // has ACLs on.
  open.auth.add(acl_allow(acl_rt::topic, "t", "User:bob", acl_op::read));
  CHECK_FALSE(open.can("User:alice", acl_op::read, acl_rt::topic, "t"));
  CHECK(open.can("User:bob", acl_op::read, acl_rt::topic, "t"));
  CHECK(open.can("User:alice", acl_op::read, acl_rt::topic, "other"));
  // So do ACLs that cover it by wildcard or prefix.
  open.auth.add(acl_allow(acl_rt::group, "*", "User:bob", acl_op::read));
  CHECK_FALSE(open.can("User:alice", acl_op::read, acl_rt::group, "g"));
  open.auth.add(acl_allow(acl_rt::transactional_id, "tx-", "User:bob", acl_op::write, "*", pattern_type::prefixed));
  CHECK_FALSE(open.can("User:alice", acl_op::write, acl_rt::transactional_id, "tx-1"));
  CHECK(open.can("User:alice", acl_op::write, acl_rt::transactional_id, "other"));
}

TEST_CASE("super users are allowed everything, whatever the ACLs say") {
  acl_checker c(authorizer_settings{{"User:admin"}, false});
  c.auth.add(acl_deny(acl_rt::topic, "t", "User:admin", acl_op::all));
  c.auth.add(acl_deny(acl_rt::topic, "t", "User:*", acl_op::read));
  CHECK(c.can("User:admin", acl_op::read, acl_rt::topic, "t"));
  CHECK(c.can("User:admin", acl_op::alter, acl_rt::cluster, "kafka-cluster"));
  CHECK_FALSE(c.can("User:other", acl_op::read, acl_rt::topic, "t"));
}

TEST_CASE("super.users is a semicolon-separated list, allow.everyone.if.no.acl.found a boolean") {
  auto config = server_config::from_properties(
      {{"authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"},
       {"super.users", " User:admin ; User:ops;;"},
       {"allow.everyone.if.no.acl.found", "true"}});
  REQUIRE(config);
  auto settings = authorizer_settings_from(*config);
  REQUIRE(settings);
  CHECK(settings->super_users == std::set<std::string>{"User:admin", "User:ops"});
  CHECK(settings->allow_everyone_if_no_acl_found);

  // Kafka's defaults: no authorizer, no super users, denied without ACLs.
  auto defaults = server_config::from_properties({});
  REQUIRE(defaults);
  CHECK(defaults->get_string("authorizer.class.name").empty());
  CHECK_FALSE(defaults->get_bool("allow.everyone.if.no.acl.found"));
  CHECK_FALSE(authorizer_settings_from(*defaults));
  auto plain = server_config::from_properties({{"authorizer.class.name", "kafka.security.authorizer.AclAuthorizer"}});
  REQUIRE(plain);
  auto plain_settings = authorizer_settings_from(*plain);
  REQUIRE(plain_settings);
  CHECK(plain_settings->super_users.empty());
  CHECK_FALSE(plain_settings->allow_everyone_if_no_acl_found);
}

TEST_CASE("authorizer.class.name refuses authorizers other than Kafka's ACL authorizers") {
  auto other = server_config::from_properties({{"authorizer.class.name", "com.example.MyAuthorizer"}});
  REQUIRE_FALSE(other);
  CHECK(other.code() == brook::common::kafka_error::invalid_config);
  CHECK_THAT(other.err().message, Catch::StartsWith("Invalid value com.example.MyAuthorizer for configuration "
                                                    "authorizer.class.name: "));
  CHECK_THAT(other.err().message, Catch::Contains("org.apache.kafka.metadata.authorizer.StandardAuthorizer"));
}

TEST_CASE("DENY wins over ALLOW, from any matching pattern") {
  acl_checker c;
  c.auth.add(acl_allow(acl_rt::topic, "payments", "User:alice", acl_op::read));
  CHECK(c.can("User:alice", acl_op::read, acl_rt::topic, "payments"));
  c.auth.add(acl_deny(acl_rt::topic, "pay", "User:alice", acl_op::read, "*", pattern_type::prefixed));
  CHECK_FALSE(c.can("User:alice", acl_op::read, acl_rt::topic, "payments"));
  acl_checker w;
  w.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::all));
  w.auth.add(acl_deny(acl_rt::topic, "*", "User:*", acl_op::write));
  CHECK(w.can("User:alice", acl_op::read, acl_rt::topic, "t"));
  CHECK_FALSE(w.can("User:alice", acl_op::write, acl_rt::topic, "t"));
}

TEST_CASE("the wildcard principal User:* and host patterns") {
  acl_checker c;
  c.auth.add(acl_allow(acl_rt::topic, "t", "User:*", acl_op::read));
  CHECK(c.can("User:anyone", acl_op::read, acl_rt::topic, "t"));
  // Only User:* is a wildcard: other principal types are not.
  c.auth.add(acl_allow(acl_rt::topic, "u", "Group:*", acl_op::read));
  CHECK_FALSE(c.can("User:anyone", acl_op::read, acl_rt::topic, "u"));

  acl_checker h;
  h.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::read, "10.0.0.1"));
  CHECK(h.can("User:alice", acl_op::read, acl_rt::topic, "t", "10.0.0.1"));
  CHECK_FALSE(h.can("User:alice", acl_op::read, acl_rt::topic, "t", "10.0.0.2"));
  h.auth.add(acl_allow(acl_rt::topic, "c", "User:alice", acl_op::read, "192.168.0.0/16"));
  CHECK(h.can("User:alice", acl_op::read, acl_rt::topic, "c", "192.168.4.2"));
  CHECK_FALSE(h.can("User:alice", acl_op::read, acl_rt::topic, "c", "192.169.0.1"));
  h.auth.add(acl_allow(acl_rt::topic, "v6", "User:alice", acl_op::read, "fd00::/8"));
  CHECK(h.can("User:alice", acl_op::read, acl_rt::topic, "v6", "fd12:0:0:0:0:0:0:1"));
  CHECK_FALSE(h.can("User:alice", acl_op::read, acl_rt::topic, "v6", "10.0.0.1"));
  h.auth.add(acl_deny(acl_rt::topic, "t", "User:alice", acl_op::read, "10.0.0.9"));
  CHECK(h.can("User:alice", acl_op::read, acl_rt::topic, "t", "10.0.0.1"));
  CHECK_FALSE(h.can("User:alice", acl_op::read, acl_rt::topic, "t", "10.0.0.9"));
}

TEST_CASE("the literal * resource name and prefixed patterns") {
  acl_checker c;
  c.auth.add(acl_allow(acl_rt::group, "*", "User:alice", acl_op::read));
  CHECK(c.can("User:alice", acl_op::read, acl_rt::group, "any-group"));
  CHECK_FALSE(c.can("User:alice", acl_op::read, acl_rt::topic, "any-topic"));  // per resource type
  c.auth.add(acl_allow(acl_rt::topic, "logs.", "User:alice", acl_op::write, "*", pattern_type::prefixed));
  CHECK(c.can("User:alice", acl_op::write, acl_rt::topic, "logs.app"));
  CHECK(c.can("User:alice", acl_op::write, acl_rt::topic, "logs."));
  CHECK_FALSE(c.can("User:alice", acl_op::write, acl_rt::topic, "logs"));
  CHECK_FALSE(c.can("User:alice", acl_op::write, acl_rt::topic, "metrics.logs.app"));
  // A literal ACL named like a prefix is not a prefix, and "*" is only a wildcard when literal.
  c.auth.add(acl_allow(acl_rt::topic, "audit", "User:alice", acl_op::read));
  CHECK_FALSE(c.can("User:alice", acl_op::read, acl_rt::topic, "audit-2"));
  c.auth.add(acl_allow(acl_rt::topic, "*", "User:bob", acl_op::read, "*", pattern_type::prefixed));
  CHECK_FALSE(c.can("User:bob", acl_op::read, acl_rt::topic, "x"));
  CHECK(c.can("User:bob", acl_op::read, acl_rt::topic, "*x"));
}

TEST_CASE("allowed operations imply DESCRIBE and DESCRIBE_CONFIGS, ALL covers every operation") {
  for (acl_op implying : {acl_op::read, acl_op::write, acl_op::delete_, acl_op::alter}) {
    acl_checker c;
    c.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", implying));
    CHECK(c.can("User:alice", acl_op::describe, acl_rt::topic, "t"));
    CHECK_FALSE(c.can("User:alice", acl_op::describe_configs, acl_rt::topic, "t"));
  }
  acl_checker create;
  create.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::create));
  CHECK_FALSE(create.can("User:alice", acl_op::describe, acl_rt::topic, "t"));
  acl_checker configs;
  configs.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::alter_configs));
  CHECK(configs.can("User:alice", acl_op::describe_configs, acl_rt::topic, "t"));
  CHECK_FALSE(configs.can("User:alice", acl_op::describe, acl_rt::topic, "t"));
  // Implication holds for ALLOW only: denying READ leaves DESCRIBE alone.
  acl_checker denied;
  denied.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::describe));
  denied.auth.add(acl_deny(acl_rt::topic, "t", "User:alice", acl_op::read));
  CHECK(denied.can("User:alice", acl_op::describe, acl_rt::topic, "t"));
  CHECK_FALSE(denied.can("User:alice", acl_op::read, acl_rt::topic, "t"));
  acl_checker all;
  all.auth.add(acl_allow(acl_rt::cluster, "kafka-cluster", "User:alice", acl_op::all));
  for (acl_op any : {acl_op::create, acl_op::alter, acl_op::describe, acl_op::cluster_action, acl_op::idempotent_write, acl_op::alter_configs})
    CHECK(all.can("User:alice", any, acl_rt::cluster, "kafka-cluster"));
  all.auth.add(acl_deny(acl_rt::cluster, "kafka-cluster", "User:alice", acl_op::all));
  CHECK_FALSE(all.can("User:alice", acl_op::describe, acl_rt::cluster, "kafka-cluster"));
}

TEST_CASE("authorize by resource type: some resource of the type, unless a deny dominates") {
  acl_checker c;
  CHECK_FALSE(c.can_any("User:alice", acl_op::write, acl_rt::transactional_id));
  c.auth.add(acl_allow(acl_rt::transactional_id, "tx-1", "User:alice", acl_op::write));
  CHECK(c.can_any("User:alice", acl_op::write, acl_rt::transactional_id));
  CHECK_FALSE(c.can_any("User:bob", acl_op::write, acl_rt::transactional_id));
  // The same name denied literally, or a denied prefix of it, dominates the allow.
  c.auth.add(acl_deny(acl_rt::transactional_id, "tx-1", "User:alice", acl_op::write));
  CHECK_FALSE(c.can_any("User:alice", acl_op::write, acl_rt::transactional_id));
  acl_checker p;
  p.auth.add(acl_allow(acl_rt::topic, "app.events", "User:alice", acl_op::write, "*", pattern_type::prefixed));
  CHECK(p.can_any("User:alice", acl_op::write, acl_rt::topic));
  p.auth.add(acl_deny(acl_rt::topic, "app.", "User:*", acl_op::write, "*", pattern_type::prefixed));
  CHECK_FALSE(p.can_any("User:alice", acl_op::write, acl_rt::topic));
  p.auth.add(acl_allow(acl_rt::topic, "other", "User:alice", acl_op::all));
  CHECK(p.can_any("User:alice", acl_op::write, acl_rt::topic));
  // A wildcard deny denies outright; a wildcard allow allows.
  acl_checker w;
  w.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::write));
  w.auth.add(acl_deny(acl_rt::topic, "*", "User:alice", acl_op::write));
  CHECK_FALSE(w.can_any("User:alice", acl_op::write, acl_rt::topic));
  acl_checker a;
  a.auth.add(acl_allow(acl_rt::topic, "", "User:alice", acl_op::write, "*", pattern_type::prefixed));
  a.auth.add(acl_deny(acl_rt::topic, "t", "User:alice", acl_op::write));
  CHECK(a.can_any("User:alice", acl_op::write, acl_rt::topic));
  // Hosts count; implied operations do not.
  acl_checker h;
  h.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::write, "10.0.0.5"));
  CHECK_FALSE(h.can_any("User:alice", acl_op::write, acl_rt::topic, "10.0.0.1"));
  CHECK(h.can_any("User:alice", acl_op::write, acl_rt::topic, "10.0.0.5"));
  CHECK_FALSE(h.can_any("User:alice", acl_op::describe, acl_rt::topic, "10.0.0.5"));
  // Super users, and allow.everyone.if.no.acl.found when nothing covers the probe, are allowed.
  acl_checker super(authorizer_settings{{"User:admin"}, false});
  CHECK(super.can_any("User:admin", acl_op::idempotent_write, acl_rt::cluster));
  acl_checker everyone(authorizer_settings{{}, true});
  CHECK(everyone.can_any("User:alice", acl_op::write, acl_rt::transactional_id));
}

TEST_CASE("ACL filters: ANY, MATCH, exact patterns and entry fields") {
  const auto lit = acl_allow(acl_rt::topic, "orders", "User:alice", acl_op::read);
  const auto star = acl_allow(acl_rt::topic, "*", "User:bob", acl_op::write, "10.0.0.1");
  const auto pre = acl_deny(acl_rt::topic, "ord", "User:alice", acl_op::read, "*", pattern_type::prefixed);
  const auto grp = acl_allow(acl_rt::group, "orders", "User:alice", acl_op::read);
  auto matching = [&](acl_filter f) {
    std::vector<acl_binding> out;
    for (const auto* acl : {&lit, &star, &pre, &grp})
      if (f.matches(*acl)) out.push_back(*acl);
    return out;
  };
  CHECK(matching({}).size() == 4);
  CHECK(matching({acl_rt::topic}).size() == 3);
  // ANY compares names exactly whatever the pattern type.
  CHECK(matching({acl_rt::any, std::string("orders")}) == std::vector<acl_binding>{lit, grp});
  CHECK(matching({acl_rt::topic, std::string("ord"), pattern_type::any}) == std::vector<acl_binding>{pre});
  // MATCH: the patterns that apply to the resource.
  CHECK(matching({acl_rt::topic, std::string("orders"), pattern_type::match}) == std::vector<acl_binding>{lit, star, pre});
  CHECK(matching({acl_rt::topic, std::string("other"), pattern_type::match}) == std::vector<acl_binding>{star});
  CHECK(matching({acl_rt::topic, std::string("orders"), pattern_type::literal}) == std::vector<acl_binding>{lit});
  CHECK(matching({acl_rt::topic, std::nullopt, pattern_type::prefixed}) == std::vector<acl_binding>{pre});
  CHECK(matching({acl_rt::any, std::nullopt, pattern_type::any, std::string("User:bob")}) == std::vector<acl_binding>{star});
  CHECK(matching({acl_rt::any, std::nullopt, pattern_type::any, std::nullopt, std::string("10.0.0.1")}) ==
        std::vector<acl_binding>{star});
  CHECK(matching({acl_rt::any, std::nullopt, pattern_type::any, std::nullopt, std::nullopt, acl_op::write}) ==
        std::vector<acl_binding>{star});
  CHECK(matching({acl_rt::any, std::nullopt, pattern_type::any, std::nullopt, std::nullopt, acl_op::any,
                  permission_type::deny}) == std::vector<acl_binding>{pre});
  // Codes Kafka does not define read as UNKNOWN, which matches nothing.
  CHECK(matching({resource_type_of(99)}).empty());
  CHECK(resource_type_of(99) == acl_rt::unknown);
  CHECK(operation_of(15) == acl_op::two_phase_commit);
  CHECK(operation_of(16) == acl_op::unknown);
}

TEST_CASE("CreateAcls' checks of an ACL, with Kafka's messages") {
  auto good = acl_allow(acl_rt::topic, "t", "User:alice", acl_op::read);
  CHECK_FALSE(invalid_acl_reason(good));
  auto with = [&](auto change) {
    auto acl = good;
    change(acl);
    return invalid_acl_reason(acl).value_or("valid");
  };
  CHECK(with([](acl_binding& a) { a.type = acl_rt::cluster; }) ==
        "The only valid name for the CLUSTER resource is kafka-cluster");
  CHECK(with([](acl_binding& a) {
          a.type = acl_rt::cluster;
          a.name = "kafka-cluster";
        }) == "valid");
  CHECK(with([](acl_binding& a) { a.name = ""; }) == "Invalid empty resource name");
  CHECK(with([](acl_binding& a) { a.type = acl_rt::any; }) == "Invalid resourceType ANY");
  CHECK(with([](acl_binding& a) { a.pattern = pattern_type::match; }) == "Invalid patternType MATCH");
  CHECK(with([](acl_binding& a) { a.pattern = pattern_type::any; }) == "Invalid patternType ANY");
  CHECK(with([](acl_binding& a) { a.operation = acl_op::any; }) == "Invalid operation ANY");
  CHECK(with([](acl_binding& a) { a.permission = permission_type::any; }) == "Invalid permissionType ANY");
  CHECK(with([](acl_binding& a) { a.principal = "alice"; }) ==
        "Could not parse principal from `alice` (no colon is present separating the principal type from the "
        "principal name)");
  CHECK(with([](acl_binding& a) { a.host = ""; }) == "Host pattern cannot be null or empty");
  CHECK(with([](acl_binding& a) { a.host = "10.0.0.0/33"; }) ==
        "Invalid CIDR notation '10.0.0.0/33': Could not parse [10.0.0.0/33]");
  CHECK(with([](acl_binding& a) { a.host = "10.0.0.0/8"; }) == "valid");
  CHECK(with([](acl_binding& a) { a.host = "broker.example.com"; }) == "valid");
}

TEST_CASE("denied decisions are logged at INFO on kafka.authorizer.logger, allowed ones at DEBUG") {
  acl_checker c;
  c.auth.add(acl_allow(acl_rt::topic, "t", "User:alice", acl_op::read));
  auto logger = spdlog::get("kafka.authorizer.logger");
  REQUIRE(logger);
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%l %v");
  const auto saved_sinks = logger->sinks();
  const auto saved_level = logger->level();
  logger->sinks() = {sink};
  logger->set_level(spdlog::level::info);
  CHECK_FALSE(c.auth.authorize(requester{"User:bob", "10.0.0.1", "Fetch"}, action{acl_op::read, acl_rt::topic, "t"}));
  CHECK(c.auth.authorize(requester{"User:alice", "10.0.0.1", "Fetch"}, action{acl_op::read, acl_rt::topic, "t"}));
  // A check that asks not to be logged when denied (a filter of what is shown) is not.
  CHECK_FALSE(c.auth.authorize(requester{"User:bob", "10.0.0.1", "Metadata"},
                               action{acl_op::describe, acl_rt::topic, "t", 1, false, false}));
  logger->flush();
  logger->sinks() = saved_sinks;
  logger->set_level(saved_level);
  CHECK(out.str() ==
        "info Principal = User:bob is Denied operation = READ from host = 10.0.0.1 on resource = Topic:LITERAL:t for "
        "request = Fetch with resourceRefCount = 1 based on rule DefaultDeny\n");
}
