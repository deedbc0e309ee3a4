#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/metadata.hpp"

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
  const auto unknown_id = brook::common::uuid::random();
  req.topics->emplace_back().topic_id = unknown_id;
  req.topics->back().name = std::nullopt;
  auto resp = b.call<proto::metadata::response>(proto::metadata::api_key, 13, req);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.brokers.size() == 1);
  CHECK(resp.cluster_id == b.server().cluster_id());
  REQUIRE(resp.topics.size() == 3);
  CHECK(resp.topics[0].error_code == 0);
  CHECK(resp.topics[0].name == "t");
  CHECK_FALSE(resp.topics[0].topic_id.is_zero());
  CHECK(resp.topics[0].partitions.size() == 2);
  CHECK(resp.topics[1].error_code == brook::common::wire_code(brook::common::kafka_error::unknown_topic_or_partition));
  CHECK(resp.topics[2].error_code == brook::common::wire_code(brook::common::kafka_error::unknown_topic_id));
  CHECK(resp.topics[2].topic_id == unknown_id);

  // Every topic (a null list): the same top level.
  proto::metadata::request every;
  every.topics.reset();
  auto all = b.call<proto::metadata::response>(proto::metadata::api_key, 13, every);
  CHECK(all.error_code == 0);
  REQUIRE(all.topics.size() == 1);
  CHECK(all.topics[0].name == "t");
}
