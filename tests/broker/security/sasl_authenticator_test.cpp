// The per-connection SASL state machine, driven with a fake clock and a scripted mechanism.
#include "broker/security/sasl_authenticator.hpp"

#include <catch2/catch.hpp>

#include "broker/security/sasl_plain.hpp"

namespace brook::broker::security {

namespace {

using common::kafka_error;
using namespace std::chrono_literals;

constexpr int16_t metadata = 3, sasl_handshake = 17, api_versions = 18, sasl_authenticate = 36;

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A two-step mechanism: "hello" is challenged with "who?", then "<user>" succeeds unless it is
// "intruder"; the credential lasts `lifetime` when set.
class two_step_server final : public sasl_server {
 public:
  explicit two_step_server(std::optional<std::chrono::milliseconds> lifetime) : lifetime_(lifetime) {}
  std::string_view mechanism() const override { return "TWO-STEP"; }
  sasl_step respond(std::span<const uint8_t> token) override {
    const std::string text(token.begin(), token.end());
    if (!greeted_) {
      if (text != "hello") return sasl_step::failure("bad greeting");
      greeted_ = true;
      return sasl_step::challenge_with("who?");
    }
    if (text == "intruder") return sasl_step::failure("Authentication failed: Invalid username or password");
    auto step = sasl_step::success(text, "welcome");
    step.credential_lifetime = lifetime_;
    return step;
  }

 private:
  std::optional<std::chrono::milliseconds> lifetime_;
  bool greeted_ = false;
};

struct authenticator_fixture {
  std::optional<std::chrono::milliseconds> credential_lifetime;
  int64_t max_reauth_ms = 0;
  sasl_authenticator::clock::time_point now{};

  sasl_authenticator make() {
    auto settings = std::make_shared<sasl_listener_settings>();
    settings->mechanisms = {"TWO-STEP", "PLAIN"};
    auto users = std::make_shared<const sasl_plain_users>(std::map<std::string, std::string>{{"alice", "secret"}});
    settings->new_server = [this, users](std::string_view mechanism, bool) -> std::unique_ptr<sasl_server> {
      if (mechanism == "PLAIN") return make_plain_server(users);
      return std::make_unique<two_step_server>(credential_lifetime);
    };
    settings->max_reauth_ms = {{"TWO-STEP", max_reauth_ms}, {"PLAIN", max_reauth_ms}};
    return sasl_authenticator(settings);
  }

  // A complete two-step exchange with SaslAuthenticate `version`.
  sasl_authenticator::authenticate_answer log_in(sasl_authenticator& a, std::string user, int16_t version = 2) {
    REQUIRE_FALSE(a.refuse(sasl_handshake, 1, now));
    REQUIRE(a.handshake("TWO-STEP", 1).error == kafka_error::none);
    REQUIRE_FALSE(a.refuse(sasl_authenticate, version, now));
    auto first = a.authenticate(bytes_of("hello"), version, now);
    REQUIRE(first.error == kafka_error::none);
    REQUIRE(first.token == "who?");
    REQUIRE_FALSE(first.authenticated);
    REQUIRE_FALSE(a.refuse(sasl_authenticate, version, now));
    return a.authenticate(bytes_of(user), version, now);
  }
};

}  // namespace

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: before the handshake only ApiVersions, once, and SaslHandshake",
                 "[security][sasl]") {
  auto a = make();
  CHECK_FALSE(a.refuse(api_versions, 3, now));
  CHECK(a.refuse(api_versions, 3, now).value_or("").find("ApiVersions") != std::string::npos);
  auto b = make();
  CHECK(b.refuse(metadata, 12, now).value_or("").find("during SASL handshake") != std::string::npos);
  auto c = make();
  CHECK(c.refuse(sasl_authenticate, 2, now).has_value());
  auto d = make();
  CHECK_FALSE(d.refuse(sasl_handshake, 1, now));
  CHECK_FALSE(d.authenticated());
  // An ApiVersions newer than the broker's is answered UNSUPPORTED_VERSION; the retry is served too.
  auto e = make();
  CHECK_FALSE(e.refuse(api_versions, 9, now, true));
  CHECK_FALSE(e.refuse(api_versions, 3, now));
  CHECK(e.refuse(api_versions, 3, now).has_value());
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: a two-step exchange authenticates the principal",
                 "[security][sasl]") {
  auto a = make();
  auto answer = log_in(a, "alice");
  CHECK(answer.error == kafka_error::none);
  CHECK(answer.authenticated);
  CHECK(answer.token == "welcome");
  CHECK(answer.session_lifetime_ms == 0);
  CHECK(a.principal() == "User:alice");
  CHECK(a.mechanism() == "TWO-STEP");
  CHECK_FALSE(a.session_expiry());
  CHECK_FALSE(a.refuse(metadata, 12, now + 24h));
  // Another SaslAuthenticate after success: ILLEGAL_SASL_STATE, the connection stays.
  auto again = a.authenticate(bytes_of("x"), 2, now);
  CHECK(again.error == kafka_error::illegal_sasl_state);
  CHECK_FALSE(again.close_after);
  CHECK(a.authenticated());
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: requests other than SaslAuthenticate during the exchange are refused",
                 "[security][sasl]") {
  auto a = make();
  REQUIRE(a.handshake("TWO-STEP", 1).error == kafka_error::none);
  CHECK(a.refuse(metadata, 12, now).value_or("").find("during SASL authentication") != std::string::npos);
  CHECK(a.refuse(sasl_handshake, 1, now).has_value());
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: an unsupported mechanism lists the enabled ones and closes",
                 "[security][sasl]") {
  auto a = make();
  auto answer = a.handshake("GSSAPI", 1);
  CHECK(answer.error == kafka_error::unsupported_sasl_mechanism);
  CHECK(answer.mechanisms == std::vector<std::string>{"TWO-STEP", "PLAIN"});
  CHECK(answer.close_after);
  CHECK(a.refuse(sasl_handshake, 1, now).has_value());
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: a failed exchange answers SASL_AUTHENTICATION_FAILED and ends",
                 "[security][sasl]") {
  auto a = make();
  auto answer = log_in(a, "intruder");
  CHECK(answer.error == kafka_error::sasl_authentication_failed);
  CHECK(answer.message == "Authentication failed: Invalid username or password");
  CHECK(answer.close_after);
  CHECK_FALSE(a.authenticated());
  CHECK(a.refuse(metadata, 12, now).has_value());
  CHECK(a.refuse(sasl_handshake, 1, now).has_value());
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: after SaslHandshake v0 the tokens come raw", "[security][sasl]") {
  auto a = make();
  REQUIRE(a.handshake("PLAIN", 0).error == kafka_error::none);
  CHECK(a.expects_raw_token());
  std::string token("\0alice\0secret", 13);
  auto answer = a.authenticate(bytes_of(token), -1, now);
  CHECK(answer.error == kafka_error::none);
  CHECK(answer.authenticated);
  CHECK_FALSE(a.expects_raw_token());
  CHECK(a.principal() == "User:alice");
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: connections.max.reauth.ms ends the session", "[security][sasl]") {
  max_reauth_ms = 60000;
  auto a = make();
  auto answer = log_in(a, "alice");
  CHECK(answer.session_lifetime_ms == 60000);
  REQUIRE(a.session_expiry());
  CHECK(*a.session_expiry() == now + 60s);
  CHECK_FALSE(a.refuse(metadata, 12, now + 59999ms));
  CHECK(a.refuse(metadata, 12, now + 60s).value_or("").find("expired") != std::string::npos);
  // A client that re-authenticates may still start over with a SaslHandshake.
  CHECK_FALSE(a.refuse(sasl_handshake, 1, now + 61s));
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: an expiring credential bounds the session", "[security][sasl]") {
  SECTION("sooner than connections.max.reauth.ms") {
    max_reauth_ms = 60000;
    credential_lifetime = 5000ms;
    auto a = make();
    CHECK(log_in(a, "alice").session_lifetime_ms == 5000);
  }
  SECTION("later than connections.max.reauth.ms") {
    max_reauth_ms = 60000;
    credential_lifetime = 600000ms;
    auto a = make();
    CHECK(log_in(a, "alice").session_lifetime_ms == 60000);
  }
  SECTION("without connections.max.reauth.ms") {
    credential_lifetime = 5000ms;
    auto a = make();
    CHECK(log_in(a, "alice").session_lifetime_ms == 5000);
  }
  SECTION("already expired") {
    credential_lifetime = -5000ms;
    auto a = make();
    CHECK(log_in(a, "alice").session_lifetime_ms == 0);
    CHECK(a.refuse(metadata, 12, now).has_value());
  }
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: re-authentication keeps the principal and renews the session",
                 "[security][sasl]") {
  max_reauth_ms = 1000;
  auto a = make();
  REQUIRE(log_in(a, "alice").authenticated);
  now += 900ms;
  SECTION("the same principal") {
    auto again = log_in(a, "alice");
    CHECK(again.error == kafka_error::none);
    CHECK(again.authenticated);
    CHECK(*a.session_expiry() == now + 1s);
    CHECK_FALSE(a.refuse(metadata, 12, now + 999ms));
  }
  SECTION("another principal fails") {
    auto other = log_in(a, "bob");
    CHECK(other.error == kafka_error::sasl_authentication_failed);
    CHECK(other.message == "Cannot change principals during re-authentication from User.alice: User.bob");
    CHECK(other.close_after);
  }
  SECTION("another mechanism fails at its first token") {
    REQUIRE(a.handshake("PLAIN", 1).error == kafka_error::none);
    auto answer = a.authenticate(bytes_of(std::string("\0alice\0secret", 13)), 2, now);
    CHECK(answer.error == kafka_error::sasl_authentication_failed);
    CHECK(answer.message ==
          "SASL mechanism 'PLAIN' requested by client is not supported for re-authentication of mechanism 'TWO-STEP'");
  }
}

TEST_CASE_METHOD(authenticator_fixture, "sasl authenticator: a SaslAuthenticate v0 client cannot re-authenticate",
                 "[security][sasl]") {
  max_reauth_ms = 1000;
  auto a = make();
  REQUIRE(log_in(a, "alice", 0).authenticated);
  // Kafka answers its SaslHandshake ILLEGAL_SASL_STATE; past the session's end the connection closes.
  auto handshake = a.handshake("TWO-STEP", 1);
  CHECK(handshake.error == kafka_error::illegal_sasl_state);
  CHECK_FALSE(handshake.close_after);
  CHECK(a.refuse(sasl_handshake, 1, now + 1s).has_value());
}

}  // namespace brook::broker::security
