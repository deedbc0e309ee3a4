// DescribeAcls: filters as Kafka matches them, grouping by resource pattern, DESCRIBE on the cluster
// and SECURITY_DISABLED without an authorizer.
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"

using namespace brook::test;
using brook::common::kafka_error;
namespace da = proto::describe_acls;
using sec::acl_operation;
using sec::pattern_type;
using sec::permission_type;
using sec::resource_type;

namespace {
void populate_for_describe(broker_fixture& b) {
  auto resp = create_acls(
      b, {creation(resource_type::topic, "orders", pattern_type::literal, "User:alice", "*", acl_operation::read,
                   permission_type::allow),
          creation(resource_type::topic, "orders", pattern_type::literal, "User:bob", "10.0.0.1", acl_operation::write,
                   permission_type::allow),
          creation(resource_type::topic, "*", pattern_type::literal, "User:carol", "*", acl_operation::describe,
                   permission_type::allow),
          creation(resource_type::topic, "ord", pattern_type::prefixed, "User:alice", "*", acl_operation::write,
                   permission_type::deny),
          creation(resource_type::group, "orders", pattern_type::literal, "User:alice", "*", acl_operation::read,
                   permission_type::allow)});
  for (const auto& r : resp.results) REQUIRE(r.error_code == 0);
}
}  // namespace

TEST_CASE("DescribeAcls without an authorizer answers SECURITY_DISABLED") {
  broker_fixture b;
  auto resp = describe_acls(b, describe_all());
  CHECK(resp.error_code == brook::common::wire_code(kafka_error::security_disabled));
  CHECK(resp.error_message == "No Authorizer is configured on the broker");
  CHECK(resp.resources.empty());
}

TEST_CASE("DescribeAcls answers the ACLs a filter matches, one entry per resource pattern") {
  broker_fixture b({standard_authorizer, "super.users=User:ANONYMOUS"});
  populate_for_describe(b);
  for (int16_t v : {int16_t{1}, int16_t{2}, int16_t{3}}) {
    auto all = describe_acls(b, describe_all(), v);
    CHECK(all.error_code == 0);
    CHECK(all.error_message == "");
    CHECK(all.resources.size() == 4);
    CHECK(described(all).size() == 5);
  }
  auto req = describe_all();
  req.resource_type_filter = static_cast<int8_t>(resource_type::topic);
  req.resource_name_filter = "orders";
  req.pattern_type_filter = static_cast<int8_t>(pattern_type::match);
  CHECK(described(describe_acls(b, req)) ==
        std::vector<std::string>{"TOPIC:LITERAL:* User:carol * DESCRIBE ALLOW",
                                 "TOPIC:LITERAL:orders User:alice * READ ALLOW",
                                 "TOPIC:LITERAL:orders User:bob 10.0.0.1 WRITE ALLOW",
                                 "TOPIC:PREFIXED:ord User:alice * WRITE DENY"});
  auto orders = describe_acls(b, req);
  REQUIRE(orders.resources.size() == 3);
  CHECK(orders.resources[1].resource_name == "orders");
  CHECK(orders.resources[1].acls.size() == 2);
  req.pattern_type_filter = static_cast<int8_t>(pattern_type::literal);
  CHECK(described(describe_acls(b, req)).size() == 2);
  req.pattern_type_filter = static_cast<int8_t>(pattern_type::any);
  req.resource_type_filter = static_cast<int8_t>(resource_type::any);
  CHECK(described(describe_acls(b, req)) ==
        std::vector<std::string>{"TOPIC:LITERAL:orders User:alice * READ ALLOW",
                                 "TOPIC:LITERAL:orders User:bob 10.0.0.1 WRITE ALLOW",
                                 "GROUP:LITERAL:orders User:alice * READ ALLOW"});
  auto by_entry = describe_all();
  by_entry.principal_filter = "User:alice";
  by_entry.permission_type = static_cast<int8_t>(permission_type::deny);
  CHECK(described(describe_acls(b, by_entry)) == std::vector<std::string>{"TOPIC:PREFIXED:ord User:alice * WRITE DENY"});
  auto by_host = describe_all();
  by_host.host_filter = "10.0.0.1";
  by_host.operation = static_cast<int8_t>(acl_operation::write);
  CHECK(described(describe_acls(b, by_host)).size() == 1);
  // A code Kafka does not define matches nothing; UNKNOWN (0) closes the connection.
  auto undefined = describe_all();
  undefined.operation = 42;
  auto none = describe_acls(b, undefined);
  CHECK(none.error_code == 0);
  CHECK(none.resources.empty());
  auto unknown = describe_all();
  unknown.permission_type = 0;
  proto::writer w;
  unknown.encode(w, 3);
  auto conn = b.connect();
  CHECK_FALSE(conn.call_raw(da::api_key, 3, w.take()).has_value());
}

TEST_CASE("DescribeAcls needs DESCRIBE on the cluster") {
  broker_fixture b({standard_authorizer});
  auto denied = describe_acls(b, describe_all());
  CHECK(denied.error_code == brook::common::wire_code(kafka_error::cluster_authorization_failed));
  CHECK(denied.error_message == "Request DescribeAcls needs DESCRIBE permission.");
  CHECK(denied.resources.empty());
  // ALTER implies DESCRIBE.
  grant(b, {allowing(resource_type::cluster, "kafka-cluster", acl_operation::alter)});
  auto allowed = describe_acls(b, describe_all());
  CHECK(allowed.error_code == 0);
  CHECK(described(allowed) == std::vector<std::string>{"CLUSTER:LITERAL:kafka-cluster User:ANONYMOUS * ALTER ALLOW"});
}
