// DeleteAcls: every ACL any filter matches goes (from the authorizer and the store), each filter's
// answer lists what it matched; ALTER on the cluster; SECURITY_DISABLED without an authorizer.
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"

using namespace brook::test;
using brook::common::kafka_error;
namespace dla = proto::delete_acls;
using sec::acl_operation;
using sec::pattern_type;
using sec::permission_type;
using sec::resource_type;

namespace {
dla::delete_acls_filter delete_filter_all() {
  dla::delete_acls_filter f;
  f.resource_type_filter = static_cast<int8_t>(resource_type::any);
  f.resource_name_filter = std::nullopt;
  f.pattern_type_filter = static_cast<int8_t>(pattern_type::any);
  f.principal_filter = std::nullopt;
  f.host_filter = std::nullopt;
  f.operation = static_cast<int8_t>(acl_operation::any);
  f.permission_type = static_cast<int8_t>(permission_type::any);
  return f;
}

dla::response delete_acls_call(broker_fixture& b, std::vector<dla::delete_acls_filter> filters, int16_t version = 3) {
  dla::request req;
  req.filters = std::move(filters);
  return b.call<dla::response>(dla::api_key, version, req);
}

std::vector<std::string> deleted_names(const dla::delete_acls_filter_result& r) {
  std::vector<std::string> out;
  for (const auto& m : r.matching_acls) {
    CHECK(m.error_code == 0);
    CHECK_FALSE(m.error_message.has_value());
    out.push_back(m.resource_name + " " + m.principal + " " + std::string(sec::name_of(sec::operation_of(m.operation))));
  }
  return out;
}

void populate_for_delete(broker_fixture& b) {
  auto resp = create_acls(
      b, {creation(resource_type::topic, "a", pattern_type::literal, "User:alice", "*", acl_operation::read,
                   permission_type::allow),
          creation(resource_type::topic, "b", pattern_type::literal, "User:alice", "*", acl_operation::write,
                   permission_type::allow),
          creation(resource_type::topic, "a", pattern_type::prefixed, "User:bob", "*", acl_operation::read,
                   permission_type::deny),
          creation(resource_type::group, "g", pattern_type::literal, "User:bob", "*", acl_operation::read,
                   permission_type::allow)});
  for (const auto& r : resp.results) REQUIRE(r.error_code == 0);
}
}  // namespace

TEST_CASE("DeleteAcls without an authorizer answers SECURITY_DISABLED for every filter") {
  broker_fixture b;
  auto resp = delete_acls_call(b, {delete_filter_all(), delete_filter_all()});
  REQUIRE(resp.filter_results.size() == 2);
  for (const auto& r : resp.filter_results) {
    CHECK(r.error_code == brook::common::wire_code(kafka_error::security_disabled));
    CHECK(r.error_message == "No Authorizer is configured.");
    CHECK(r.matching_acls.empty());
  }
}

TEST_CASE("DeleteAcls removes what its filters match and lists it per filter") {
  broker_fixture b({standard_authorizer, "super.users=User:ANONYMOUS"});
  for (int16_t v : {int16_t{1}, int16_t{2}, int16_t{3}}) {
    populate_for_delete(b);
    auto alice = delete_filter_all();
    alice.principal_filter = "User:alice";
    auto topic_a = delete_filter_all();
    topic_a.resource_type_filter = static_cast<int8_t>(resource_type::topic);
    topic_a.resource_name_filter = "a";
    topic_a.pattern_type_filter = static_cast<int8_t>(pattern_type::match);
    auto nothing = delete_filter_all();
    nothing.host_filter = "10.9.9.9";
    auto resp = delete_acls_call(b, {alice, topic_a, nothing}, v);
    REQUIRE(resp.filter_results.size() == 3);
    for (const auto& r : resp.filter_results) {
      CHECK(r.error_code == 0);
      CHECK_FALSE(r.error_message.has_value());
    }
    CHECK(deleted_names(resp.filter_results[0]) == std::vector<std::string>{"a User:alice READ", "b User:alice WRITE"});
    // Matched by two filters: listed by both, removed once.
    CHECK(deleted_names(resp.filter_results[1]) == std::vector<std::string>{"a User:alice READ", "a User:bob READ"});
    CHECK(resp.filter_results[2].matching_acls.empty());
    CHECK(described(describe_acls(b, describe_all())) ==
          std::vector<std::string>{"GROUP:LITERAL:g User:bob * READ ALLOW"});
    CHECK(deleted_names(delete_acls_call(b, {delete_filter_all()}, v).filter_results.at(0)) == std::vector<std::string>{"g User:bob READ"});
  }
  // Deleted ACLs stay deleted after a restart.
  populate_for_delete(b);
  auto groups = delete_filter_all();
  groups.resource_type_filter = static_cast<int8_t>(resource_type::group);
  REQUIRE(delete_acls_call(b, {groups}).filter_results.at(0).matching_acls.size() == 1);
  b.restart();
  CHECK(described(describe_acls(b, describe_all())).size() == 3);
}

TEST_CASE("DeleteAcls needs ALTER on the cluster, and the deletion is in force at once") {
  broker_fixture b({standard_authorizer});
  auto denied = delete_acls_call(b, {delete_filter_all()});
  REQUIRE(denied.filter_results.size() == 1);
  CHECK(denied.filter_results[0].error_code == brook::common::wire_code(kafka_error::cluster_authorization_failed));
  CHECK(denied.filter_results[0].error_message == "Request DeleteAcls needs ALTER permission.");
  grant(b, {allowing(resource_type::cluster, "kafka-cluster", acl_operation::alter)});
  auto own = delete_filter_all();
  own.resource_type_filter = static_cast<int8_t>(resource_type::cluster);
  auto deleted = delete_acls_call(b, {own});
  CHECK(deleted_names(deleted.filter_results.at(0)) == std::vector<std::string>{"kafka-cluster User:ANONYMOUS ALTER"});
  // The ALLOW it deleted was its own permission.
  CHECK(delete_acls_call(b, {delete_filter_all()}).filter_results.at(0).error_code ==
        brook::common::wire_code(kafka_error::cluster_authorization_failed));
}

TEST_CASE("DeleteAcls removes at most 10000 ACLs a request, as Kafka's controller") {
  broker_fixture b({standard_authorizer, "super.users=User:ANONYMOUS"});
  std::vector<sec::acl_binding> many;
  for (int i = 0; i <= 10000; ++i)
    many.push_back({resource_type::topic, pattern_type::literal, "t" + std::to_string(i), "User:alice", "*",
                    acl_operation::read, permission_type::allow});
  many.push_back({resource_type::group, pattern_type::literal, "g", "User:bob", "*", acl_operation::read,
                  permission_type::allow});
  grant(b, many);
  auto topics = delete_filter_all();
  topics.resource_type_filter = static_cast<int8_t>(resource_type::topic);
  auto groups = delete_filter_all();
  groups.resource_type_filter = static_cast<int8_t>(resource_type::group);
  auto resp = delete_acls_call(b, {topics, groups});
  REQUIRE(resp.filter_results.size() == 2);
  for (const auto& r : resp.filter_results) {
    // The 10,001st topic ACL is one too many; the next filter's match comes after the limit too.
    CHECK(r.error_code == brook::common::wire_code(kafka_error::invalid_request));
    CHECK(r.error_message == "Cannot remove more than 10000 acls in a single delete operation.");
    CHECK(r.matching_acls.empty());
  }
  // What was gathered before the limit is removed all the same, as Kafka commits it.
  auto left = describe_acls(b, describe_all());
  CHECK(described(left).size() == 2);
  // A request within the limit removes the rest.
  auto rest = delete_acls_call(b, {delete_filter_all()});
  REQUIRE(rest.filter_results.size() == 1);
  CHECK(rest.filter_results[0].error_code == 0);
  CHECK(rest.filter_results[0].matching_acls.size() == 2);
}
