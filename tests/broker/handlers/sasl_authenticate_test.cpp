// SaslAuthenticate end to end with SASL/PLAIN: success opens the connection to every API, failure is
// answered, delayed and closes it, and KIP-368 session lifetimes are told and enforced.
#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "sasl_test_util.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/sasl_authenticate.hpp"
#include "common/protocol/messages/sasl_handshake.hpp"

namespace sasl_authenticate_test {

namespace proto = brook::common::protocol;
using namespace std::chrono_literals;

constexpr int16_t illegal_sasl_state = 34, sasl_authentication_failed = 58;

std::vector<std::string> plain_listener(std::vector<std::string> more = {}) {
  return brook::test::sasl_plain_listener(std::move(more));
}

std::vector<uint8_t> plain_token(std::string_view user, std::string_view password) {
  std::vector<uint8_t> t{0};
  t.insert(t.end(), user.begin(), user.end());
  t.push_back(0);
  t.insert(t.end(), password.begin(), password.end());
  return t;
}

void handshake(brook::test::kafka_client& c, int16_t version = 1) {
  proto::sasl_handshake::request req;
  req.mechanism = "PLAIN";
  auto resp = c.call<proto::sasl_handshake::response>(proto::sasl_handshake::api_key, version, req);
  REQUIRE(resp.error_code == 0);
}

proto::sasl_authenticate::response authenticate(brook::test::kafka_client& c, std::vector<uint8_t> token,
                                                int16_t version = 2) {
  proto::sasl_authenticate::request req;
  req.auth_bytes = std::move(token);
  return c.call<proto::sasl_authenticate::response>(proto::sasl_authenticate::api_key, version, req);
}

bool metadata_served(brook::test::kafka_client& c) {
  proto::writer w;
  proto::metadata::request{}.encode(w, 12);
  return c.call_raw(proto::metadata::api_key, 12, w.take(), 5s).has_value();
}


TEST_CASE("SaslAuthenticate: the right password authenticates and every API is then served, in v0 to v2") {
  brook::test::broker_fixture b(plain_listener());
  for (int16_t v : {int16_t{0}, int16_t{1}, int16_t{2}}) {
    auto c = b.connect();
    handshake(c);
    auto resp = authenticate(c, plain_token("alice", "alice-secret"), v);
    CHECK(resp.error_code == 0);
    CHECK_FALSE(resp.error_message.has_value());
    CHECK(resp.auth_bytes.empty());
    CHECK(resp.session_lifetime_ms == 0);
    CHECK(metadata_served(c));
    // A second SaslAuthenticate after success: ILLEGAL_SASL_STATE, and the connection stays.
    auto again = authenticate(c, plain_token("alice", "alice-secret"), v);
    CHECK(again.error_code == illegal_sasl_state);
    CHECK(metadata_served(c));
  }
}

TEST_CASE("SaslAuthenticate: a wrong password or user fails alike, after the delay, and the connection closes") {
  brook::test::broker_fixture b(plain_listener({"connection.failed.authentication.delay.ms=300"}));
  for (auto [user, password] : {std::pair{"alice", "wrong"}, std::pair{"mallory", "alice-secret"}}) {
    auto c = b.connect();
    handshake(c);
    const auto start = std::chrono::steady_clock::now();
    auto resp = authenticate(c, plain_token(user, password));
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
    CHECK(resp.error_code == sasl_authentication_failed);
    CHECK(resp.error_message == "Authentication failed: Invalid username or password");
    CHECK(c.closed_by_peer(5s));
  }
}

TEST_CASE("SaslAuthenticate: after SaslHandshake v0 the token travels raw, without a Kafka header") {
  brook::test::broker_fixture b(plain_listener({"connection.failed.authentication.delay.ms=0"}));
  SECTION("the right password") {
    auto c = b.connect();
    handshake(c, 0);
    auto token = plain_token("bob", "bob-secret");
    std::vector<uint8_t> frame{0, 0, 0, static_cast<uint8_t>(token.size())};
    frame.insert(frame.end(), token.begin(), token.end());
    c.send_bytes(frame);
    auto answer = c.receive_frame(5s);
    REQUIRE(answer);
    CHECK(answer->empty());
    CHECK(metadata_served(c));
  }
  SECTION("a wrong password closes the connection without an answer") {
    auto c = b.connect();
    handshake(c, 0);
    auto token = plain_token("bob", "nope");
    std::vector<uint8_t> frame{0, 0, 0, static_cast<uint8_t>(token.size())};
    frame.insert(frame.end(), token.begin(), token.end());
    c.send_bytes(frame);
    CHECK_FALSE(c.receive_frame(5s).has_value());
  }
}

TEST_CASE("SaslAuthenticate: connections.max.reauth.ms is told from v1, and a session past it serves nothing but a re-authentication") {
  // Long enough for the Metadata request below to be served inside the session on a loaded machine.
  brook::test::broker_fixture b(plain_listener({"connections.max.reauth.ms=1000"}));
  auto c = b.connect();
  handshake(c);
  auto resp = authenticate(c, plain_token("alice", "alice-secret"), 1);
  // The session began before its answer arrived, so it ends no later than 1000 ms from here.
  const auto answered_at = std::chrono::steady_clock::now();
  REQUIRE(resp.error_code == 0);
  CHECK(resp.session_lifetime_ms == 1000);
  CHECK(metadata_served(c));
  // The condition under test is the session's end itself: wait for that instant to pass.
  std::this_thread::sleep_until(answered_at + 1100ms);
  SECTION("re-authenticating renews the session") {
    handshake(c);
    auto again = authenticate(c, plain_token("alice", "alice-secret"), 1);
    CHECK(again.error_code == 0);
    CHECK(again.session_lifetime_ms == 1000);
    CHECK(metadata_served(c));
  }
  SECTION("another request closes the connection") {
    CHECK_FALSE(metadata_served(c));
  }
  SECTION("re-authenticating as someone else fails") {
    handshake(c);
    auto other = authenticate(c, plain_token("bob", "bob-secret"), 1);
    CHECK(other.error_code == sasl_authentication_failed);
    CHECK(other.error_message == "Cannot change principals during re-authentication from User.alice: User.bob");
    CHECK(c.closed_by_peer(5s));
  }
}

TEST_CASE("SaslAuthenticate: on a listener without SASL the answer is ILLEGAL_SASL_STATE") {
  brook::test::broker_fixture b;
  auto resp = b.call<proto::sasl_authenticate::response>(proto::sasl_authenticate::api_key, 2,
                                                         proto::sasl_authenticate::request{});
  CHECK(resp.error_code == illegal_sasl_state);
}

}  // namespace sasl_authenticate_test
