#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/protocol/messages/api_versions.hpp"
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
