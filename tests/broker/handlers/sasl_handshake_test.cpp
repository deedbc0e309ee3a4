// SaslHandshake end to end on a SASL_PLAINTEXT listener, and on a listener without SASL.
#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "sasl_test_util.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/sasl_authenticate.hpp"
#include "common/protocol/messages/sasl_handshake.hpp"

namespace sasl_handshake_test {

namespace proto = brook::common::protocol;
using namespace std::chrono_literals;

constexpr int16_t unsupported_sasl_mechanism = 33, handshake_illegal_sasl_state = 34;

std::vector<std::string> sasl_listener(std::vector<std::string> more = {}) {
  more.insert(more.begin(), "connection.failed.authentication.delay.ms=0");
  return brook::test::sasl_plain_listener(std::move(more));
}

proto::sasl_handshake::response handshake(brook::test::kafka_client& c, std::string mechanism, int16_t version = 1) {
  proto::sasl_handshake::request req;
  req.mechanism = std::move(mechanism);
  return c.call<proto::sasl_handshake::response>(proto::sasl_handshake::api_key, version, req);
}


TEST_CASE("SaslHandshake: ApiVersions lists the SASL APIs on every listener") {
  brook::test::broker_fixture b;
  auto resp = b.call<proto::api_versions::response>(proto::api_versions::api_key, 2, proto::api_versions::request{});
  bool handshake = false, authenticate = false;
  for (const auto& k : resp.api_keys) {
    if (k.api_key == proto::sasl_handshake::api_key) handshake = k.min_version == 0 && k.max_version == 1;
    if (k.api_key == proto::sasl_authenticate::api_key) authenticate = k.min_version == 0 && k.max_version == 2;
  }
  CHECK(handshake);
  CHECK(authenticate);
}

TEST_CASE("SaslHandshake: an enabled mechanism is accepted and the listener's mechanisms listed, in v0 and v1") {
  brook::test::broker_fixture b(sasl_listener());
  for (int16_t v : {int16_t{0}, int16_t{1}}) {
    auto c = b.connect();
    auto resp = handshake(c, "PLAIN", v);
    CHECK(resp.error_code == 0);
    CHECK(resp.mechanisms == std::vector<std::string>{"PLAIN"});
  }
}

TEST_CASE("SaslHandshake: an unsupported mechanism gets UNSUPPORTED_SASL_MECHANISM and the connection closes") {
  brook::test::broker_fixture b(sasl_listener());
  auto c = b.connect();
  auto resp = handshake(c, "SCRAM-SHA-256");
  CHECK(resp.error_code == unsupported_sasl_mechanism);
  CHECK(resp.mechanisms == std::vector<std::string>{"PLAIN"});
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("SaslHandshake: a listener without SASL answers ILLEGAL_SASL_STATE and keeps serving") {
  brook::test::broker_fixture b;
  auto c = b.connect();
  CHECK(handshake(c, "PLAIN").error_code == handshake_illegal_sasl_state);
  auto meta = c.call<proto::metadata::response>(proto::metadata::api_key, 12, proto::metadata::request{});
  CHECK(meta.brokers.size() == 1);
}

TEST_CASE("SaslHandshake: before it only ApiVersions is served, and any other request closes the connection") {
  brook::test::broker_fixture b(sasl_listener());
  auto c = b.connect();
  auto versions = c.call<proto::api_versions::response>(proto::api_versions::api_key, 2, proto::api_versions::request{});
  CHECK(versions.error_code == 0);
  proto::writer w;
  proto::metadata::request{}.encode(w, 12);
  CHECK_FALSE(c.call_raw(proto::metadata::api_key, 12, w.take(), 5s).has_value());
}

TEST_CASE("SaslHandshake: a request larger than sasl.server.max.receive.size before authentication closes the connection") {
  brook::test::broker_fixture b(sasl_listener({"sasl.server.max.receive.size=1024"}));
  auto c = b.connect();
  proto::sasl_handshake::request req;
  req.mechanism = std::string(2000, 'P');
  proto::writer w;
  req.encode(w, 1);
  CHECK_FALSE(c.call_raw(proto::sasl_handshake::api_key, 1, w.take(), 5s).has_value());
}

}  // namespace sasl_handshake_test
