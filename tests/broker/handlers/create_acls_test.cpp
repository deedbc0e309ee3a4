// CreateAcls: Kafka's checks and messages, SECURITY_DISABLED without an authorizer, ALTER on the
// cluster, ACLs in force at once and surviving a restart.
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/sasl_authenticate.hpp"
#include "common/protocol/messages/sasl_handshake.hpp"
#include "group_test_util.hpp"

using namespace brook::test;
using brook::common::kafka_error;
namespace ca = proto::create_acls;
using sec::acl_operation;
using sec::pattern_type;
using sec::permission_type;
using sec::resource_type;

TEST_CASE("CreateAcls without an authorizer answers SECURITY_DISABLED for every ACL") {
  broker_fixture b;
  auto resp = create_acls(b, {creation(resource_type::topic, "t", pattern_type::literal, "User:a", "*",
                                       acl_operation::read, permission_type::allow),
                              creation(resource_type::group, "g", pattern_type::literal, "User:a", "*",
                                       acl_operation::read, permission_type::allow)});
  REQUIRE(resp.results.size() == 2);
  for (const auto& r : resp.results) {
    CHECK(r.error_code == brook::common::wire_code(kafka_error::security_disabled));
    CHECK(r.error_message == "No Authorizer is configured.");
  }
}

TEST_CASE("CreateAcls checks each ACL as Kafka does and creates the valid ones") {
  broker_fixture b({standard_authorizer, "super.users=User:ANONYMOUS"});
  for (int16_t v : {int16_t{1}, int16_t{2}, int16_t{3}}) {
    auto resp = create_acls(
        b,
        {creation(resource_type::topic, "orders", pattern_type::literal, "User:alice", "*", acl_operation::read,
                  permission_type::allow),
         creation(resource_type::cluster, "other", pattern_type::literal, "User:alice", "*", acl_operation::alter,
                  permission_type::allow),
         creation(resource_type::topic, "", pattern_type::literal, "User:alice", "*", acl_operation::read,
                  permission_type::allow),
         creation(resource_type::topic, "t", pattern_type::match, "User:alice", "*", acl_operation::read,
                  permission_type::allow),
         creation(resource_type::topic, "t", pattern_type::literal, "User:alice", "*", acl_operation::any,
                  permission_type::allow),
         creation(resource_type::topic, "t", pattern_type::literal, "User:alice", "*", acl_operation::read,
                  permission_type::any),
         creation(resource_type::any, "t", pattern_type::literal, "User:alice", "*", acl_operation::read,
                  permission_type::allow),
         creation(resource_type::topic, "t", pattern_type::literal, "alice", "*", acl_operation::read,
                  permission_type::allow),
         creation(resource_type::topic, "t", pattern_type::literal, "User:alice", "", acl_operation::read,
                  permission_type::allow),
         creation(resource_type::topic, "logs-", pattern_type::prefixed, "User:*", "10.0.0.0/8", acl_operation::write,
                  permission_type::deny)},
        v);
    REQUIRE(resp.results.size() == 10);
    const std::vector<std::string> messages{
        "",
        "The only valid name for the CLUSTER resource is kafka-cluster",
        "Invalid empty resource name",
        "Invalid patternType MATCH",
        "Invalid operation ANY",
        "Invalid permissionType ANY",
        "Invalid resourceType ANY",
        "Could not parse principal from `alice` (no colon is present separating the principal type from the "
        "principal name)",
        "Host pattern cannot be null or empty",
        ""};
    for (size_t i = 0; i < messages.size(); ++i) {
      INFO("creation " << i << " at v" << v);
      CHECK(resp.results[i].error_code ==
            (messages[i].empty() ? int16_t{0} : brook::common::wire_code(kafka_error::invalid_request)));
      CHECK(resp.results[i].error_message == messages[i]);
    }
  }
  // Created once, whatever the repetitions.
  CHECK(described(describe_acls(b, describe_all())) ==
        std::vector<std::string>{"TOPIC:LITERAL:orders User:alice * READ ALLOW",
                                 "TOPIC:PREFIXED:logs- User:* 10.0.0.0/8 WRITE DENY"});
}

TEST_CASE("CreateAcls needs ALTER on the cluster") {
  broker_fixture b({standard_authorizer});
  auto one = [] {
    return std::vector<ca::acl_creation>{creation(resource_type::topic, "t", pattern_type::literal, "User:a", "*",
                                                  acl_operation::read, permission_type::allow)};
  };
  auto denied = create_acls(b, one());
  REQUIRE(denied.results.size() == 1);
  CHECK(denied.results[0].error_code == brook::common::wire_code(kafka_error::cluster_authorization_failed));
  CHECK(denied.results[0].error_message == "Request CreateAcls needs ALTER permission.");
  grant(b, {allowing(resource_type::cluster, "kafka-cluster", acl_operation::alter)});
  auto allowed = create_acls(b, one());
  CHECK(allowed.results.at(0).error_code == 0);
  // allow.everyone.if.no.acl.found lets anyone in while the cluster has no ACLs.
  broker_fixture open({standard_authorizer, "allow.everyone.if.no.acl.found=true"});
  CHECK(create_acls(open, one()).results.at(0).error_code == 0);
}

TEST_CASE("CreateAcls with an UNKNOWN code closes the connection, as Kafka's request parsing does") {
  broker_fixture b({standard_authorizer, "super.users=User:ANONYMOUS"});
  ca::request req;
  req.creations.push_back(creation(resource_type::unknown, "t", pattern_type::literal, "User:a", "*",
                                   acl_operation::read, permission_type::allow));
  proto::writer w;
  req.encode(w, 3);
  auto conn = b.connect();
  CHECK_FALSE(conn.call_raw(ca::api_key, 3, w.take()).has_value());
}

TEST_CASE("created ACLs survive a restart and are in force at once") {
  broker_fixture b({standard_authorizer, "super.users=User:admin"});
  // ANONYMOUS may not create ACLs yet: let it, in memory only.
  grant(b, {allowing(resource_type::cluster, "kafka-cluster", acl_operation::all)});
  auto resp = create_acls(b, {creation(resource_type::cluster, "kafka-cluster", pattern_type::literal,
                                       "User:ANONYMOUS", "*", acl_operation::alter, permission_type::allow),
                              creation(resource_type::cluster, "kafka-cluster", pattern_type::literal,
                                       "User:ANONYMOUS", "*", acl_operation::describe, permission_type::allow),
                              creation(resource_type::group, "g", pattern_type::prefixed, "User:bob", "10.1.2.3",
                                       acl_operation::read, permission_type::deny)});
  for (const auto& r : resp.results) CHECK(r.error_code == 0);
  b.restart();
  // The granted ALL is gone (never stored); the created ALTER and DESCRIBE remain.
  CHECK(described(describe_acls(b, describe_all())) ==
        std::vector<std::string>{"GROUP:PREFIXED:g User:bob 10.1.2.3 READ DENY",
                                 "CLUSTER:LITERAL:kafka-cluster User:ANONYMOUS * ALTER ALLOW",
                                 "CLUSTER:LITERAL:kafka-cluster User:ANONYMOUS * DESCRIBE ALLOW"});
  // The embedded broker's reset forgets them.
  REQUIRE(b.server().reset());
  auto after = describe_acls(b, describe_all());
  CHECK(after.error_code == brook::common::wire_code(kafka_error::cluster_authorization_failed));
  b.restart();
  CHECK(describe_acls(b, describe_all()).error_code == brook::common::wire_code(kafka_error::cluster_authorization_failed));
}

TEST_CASE("ACLs apply to the principal a SASL/PLAIN connection authenticated as") {
  namespace md = proto::metadata;
  broker_fixture b({"listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN",
                    "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain."
                    "PlainLoginModule required user_admin=\"admin-secret\" user_alice=\"alice-secret\";",
                    standard_authorizer, "super.users=User:admin"});
  auto login = [&](const std::string& user, const std::string& password) {
    auto c = b.connect();
    proto::sasl_handshake::request hello;
    hello.mechanism = "PLAIN";
    REQUIRE(c.call<proto::sasl_handshake::response>(proto::sasl_handshake::api_key, 1, hello).error_code == 0);
    proto::sasl_authenticate::request auth;
    auth.auth_bytes.push_back(0);
    auth.auth_bytes.insert(auth.auth_bytes.end(), user.begin(), user.end());
    auth.auth_bytes.push_back(0);
    auth.auth_bytes.insert(auth.auth_bytes.end(), password.begin(), password.end());
    REQUIRE(c.call<proto::sasl_authenticate::response>(proto::sasl_authenticate::api_key, 2, auth).error_code == 0);
    return c;
  };
  auto admin = login("admin", "admin-secret");
  auto alice = login("alice", "alice-secret");
  create_topic(admin, "t");
  md::request named;
  named.topics = std::vector<md::request_topic>{{{}, std::string("t")}};
  named.allow_auto_topic_creation = false;
  CHECK(alice.call<md::response>(md::api_key, 12, named).topics.at(0).error_code ==
        brook::common::wire_code(kafka_error::topic_authorization_failed));
  ca::request grant_describe;
  grant_describe.creations.push_back(creation(resource_type::topic, "t", pattern_type::literal, "User:alice", "*",
                                              acl_operation::describe, permission_type::allow));
  // alice may not create ACLs; the super user may.
  CHECK(alice.call<ca::response>(ca::api_key, 3, grant_describe).results.at(0).error_code ==
        brook::common::wire_code(kafka_error::cluster_authorization_failed));
  CHECK(admin.call<ca::response>(ca::api_key, 3, grant_describe).results.at(0).error_code == 0);
  auto seen = alice.call<md::response>(md::api_key, 12, named);
  CHECK(seen.topics.at(0).error_code == 0);
  CHECK(seen.topics.at(0).partitions.size() == 1);
}
