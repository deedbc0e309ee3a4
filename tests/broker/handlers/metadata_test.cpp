#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "acl_test_util.hpp"
#include "group_test_util.hpp"

namespace proto = brook::common::protocol;

// librdkafka 2.15 sends an all-topics Metadata v12 whose null topic array takes 4 bytes: the first
// reads as the compact null, and 3 bytes are left after the body. Kafka ignores them; so must we.
TEST_CASE("a Metadata v12 request with 3 bytes after its body is answered and the connection kept") {
  brook::test::broker_fixture b;
  auto c = b.connect();
  const proto::bytes body{0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
  auto raw = c.call_raw(proto::metadata::api_key, 12, body);
  REQUIRE(raw);
  proto::reader r(*raw);
  proto::metadata::response resp;
  resp.decode(r, 12);
  CHECK(r.remaining() == 0);
  REQUIRE(resp.brokers.size() == 1);
  CHECK(resp.cluster_id == b.server().cluster_id());
  // The same connection still serves requests.
  auto again = c.call<proto::metadata::response>(proto::metadata::api_key, 12, proto::metadata::request{});
  CHECK(again.brokers.size() == 1);
  CHECK_FALSE(c.closed_by_peer(std::chrono::milliseconds(100)));
}

namespace {
brook::common::uuid create_topic_for_ids(brook::test::broker_fixture& b, const std::string& name) {
  proto::metadata::request create;
  create.topics.emplace();
  create.topics->emplace_back().name = name;
  create.allow_auto_topic_creation = true;
  auto created = b.call<proto::metadata::response>(proto::metadata::api_key, 12, create);
  REQUIRE(created.topics.size() == 1);
  REQUIRE(created.topics[0].error_code == 0);
  return created.topics[0].topic_id;
}
}  // namespace

// The Java admin client asks by id with "" as each entry's name (the field's default), not null:
// Kafka answers any request holding a non-zero id by id alone.
TEST_CASE("Metadata v12 entries with a topic id are answered by id whatever their name") {
  brook::test::broker_fixture b;
  const auto id = create_topic_for_ids(b, "by-id");
  const auto unknown = brook::common::uuid::random();

  proto::metadata::request req;
  req.topics.emplace();
  for (const auto& wanted : {id, unknown}) {
    auto& t = req.topics->emplace_back();
    t.topic_id = wanted;
    t.name = "";
  }
  req.topics->emplace_back().name = "ignored-in-a-request-by-id";
  auto resp = b.call<proto::metadata::response>(proto::metadata::api_key, 12, req);
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].error_code == 0);
  CHECK(resp.topics[0].name == "by-id");
  CHECK(resp.topics[0].topic_id == id);
  CHECK(resp.topics[0].partitions.size() == 1);
  CHECK(resp.topics[1].error_code == 100);  // UNKNOWN_TOPIC_ID
  CHECK_FALSE(resp.topics[1].name.has_value());
  CHECK(resp.topics[1].topic_id == unknown);
  CHECK(b.server().topics().find("ignored-in-a-request-by-id") == nullptr);

  // A null name asks by id just the same.
  proto::metadata::request null_name;
  null_name.topics.emplace();
  auto& t = null_name.topics->emplace_back();
  t.topic_id = id;
  t.name.reset();
  auto by_null = b.call<proto::metadata::response>(proto::metadata::api_key, 12, null_name);
  REQUIRE(by_null.topics.size() == 1);
  CHECK(by_null.topics[0].name == "by-id");
}

TEST_CASE("Metadata v10 and v11 may not ask by topic id") {
  brook::test::broker_fixture b;
  const auto id = create_topic_for_ids(b, "by-id-old");
  for (int16_t version : {10, 11}) {
    proto::metadata::request req;
    req.topics.emplace();
    auto& t = req.topics->emplace_back();
    t.topic_id = id;
    t.name = "by-id-old";
    auto resp = b.call<proto::metadata::response>(proto::metadata::api_key, version, req);
    REQUIRE(resp.topics.size() == 1);
    CHECK(resp.topics[0].error_code == 42);  // INVALID_REQUEST
    CHECK(resp.topics[0].partitions.empty());
  }
}

// v13 adds a top-level error code, which Kafka sets only when the request failed as a whole: an answer
// is 0 there, whatever its topics' own errors.
TEST_CASE("a Metadata v13 answer has top-level error 0 next to per-topic errors") {
  brook::test::broker_fixture b({"auto.create.topics.enable=false"});
  proto::create_topics::request create;
  auto& topic = create.topics.emplace_back();
  topic.name = "t";
  topic.num_partitions = 2;
  topic.replication_factor = 1;
  REQUIRE(b.call<proto::create_topics::response>(proto::create_topics::api_key, 5, create).topics.at(0).error_code == 0);

  proto::metadata::request req;
  req.topics.emplace().emplace_back().name = "t";
  req.topics->emplace_back().name = "missing";
  auto resp = b.call<proto::metadata::response>(proto::metadata::api_key, 13, req);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.brokers.size() == 1);
  CHECK(resp.cluster_id == b.server().cluster_id());
  REQUIRE(resp.topics.size() == 2);
  CHECK(resp.topics[0].error_code == 0);
  CHECK(resp.topics[0].name == "t");
  CHECK_FALSE(resp.topics[0].topic_id.is_zero());
  CHECK(resp.topics[0].partitions.size() == 2);
  CHECK(resp.topics[1].error_code == brook::common::wire_code(brook::common::kafka_error::unknown_topic_or_partition));

  // By id (a request holding an id is answered by id alone): an unknown one, the same top level.
  proto::metadata::request by_id;
  const auto unknown_id = brook::common::uuid::random();
  by_id.topics.emplace().emplace_back().topic_id = unknown_id;
  by_id.topics->back().name = std::nullopt;
  auto unknown = b.call<proto::metadata::response>(proto::metadata::api_key, 13, by_id);
  CHECK(unknown.error_code == 0);
  REQUIRE(unknown.topics.size() == 1);
  CHECK(unknown.topics[0].error_code == brook::common::wire_code(brook::common::kafka_error::unknown_topic_id));
  CHECK(unknown.topics[0].topic_id == unknown_id);

  // Every topic (a null list): the same top level.
  proto::metadata::request every;
  every.topics.reset();
  auto all = b.call<proto::metadata::response>(proto::metadata::api_key, 13, every);
  CHECK(all.error_code == 0);
  REQUIRE(all.topics.size() == 1);
  CHECK(all.topics[0].name == "t");
}

TEST_CASE("with an authorizer Metadata shows only topics the principal may DESCRIBE and creates only with CREATE") {
  namespace t = brook::test;
  namespace md = brook::common::protocol::metadata;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::topic, "seen", acl_operation::create),
               t::allowing(resource_type::topic, "hidden", acl_operation::create),
               t::allowing(resource_type::topic, "seen", acl_operation::describe),
               t::allowing(resource_type::topic, "auto-", acl_operation::describe, t::sec::pattern_type::prefixed)});
  t::create_topic(b.client(), "seen");
  t::create_topic(b.client(), "hidden");
  auto ask = [&](std::optional<std::vector<std::string>> names, int16_t version = 12) {
    md::request req;
    if (names) {
      req.topics.emplace();
      for (auto& n : *names) req.topics->push_back({{}, n});
    } else {
      req.topics = std::nullopt;
    }
    req.allow_auto_topic_creation = true;
    req.include_topic_authorized_operations = true;
    return b.call<md::response>(md::api_key, version, req);
  };
  auto all = ask(std::nullopt);
  REQUIRE(all.topics.size() == 1);
  CHECK(all.topics[0].name == "seen");
  CHECK(all.topics[0].topic_authorized_operations == ((1 << 5) | (1 << 8)));  // CREATE, DESCRIBE
  // Named: refused whether the topic exists or not, so that its existence is not disclosed.
  auto named = ask(std::vector<std::string>{"seen", "hidden", "absent"});
  REQUIRE(named.topics.size() == 3);
  CHECK(named.topics[0].error_code == 0);
  CHECK(named.topics[1].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(named.topics[1].partitions.empty());
  CHECK(named.topics[2].error_code == wire_code(kafka_error::topic_authorization_failed));
  // Auto-creation needs CREATE on the cluster or on the topic.
  auto refused = ask(std::vector<std::string>{"auto-1"});
  CHECK(refused.topics.at(0).error_code == wire_code(kafka_error::topic_authorization_failed));
  t::grant(b, {t::allowing(resource_type::topic, "auto-", acl_operation::create, t::sec::pattern_type::prefixed)});
  auto created = ask(std::vector<std::string>{"auto-1"});
  CHECK(created.topics.at(0).error_code == 0);
  CHECK(created.topics.at(0).partitions.size() == 1);
  // v10 reports the cluster's authorized operations when asked: none here.
  md::request cluster;
  cluster.topics = std::vector<md::request_topic>{};
  cluster.include_cluster_authorized_operations = true;
  CHECK(b.call<md::response>(md::api_key, 10, cluster).cluster_authorized_operations == 0);
}
