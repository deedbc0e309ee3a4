// The JAAS configuration syntax Kafka accepts, and SASL/PLAIN's checks and messages (PlainSaslServer).
#include <catch2/catch.hpp>

#include <string>

#include "broker/security/jaas_config.hpp"
#include "broker/security/sasl_plain.hpp"

using namespace brook::broker::security;
using brook::common::kafka_error;

namespace {
std::string plain_token(std::string_view authzid, std::string_view user, std::string_view password) {
  std::string t(authzid);
  t += '\0';
  t += user;
  t += '\0';
  t += password;
  return t;
}
}  // namespace

TEST_CASE("a JAAS configuration as Kafka's server.properties writes it") {
  auto parsed = parse_jaas_config(
      "listener.name.sasl_plaintext.plain.sasl.jaas.config",
      "org.apache.kafka.common.security.plain.PlainLoginModule required\n"
      "  username=\"admin\" password=\"admin-secret\"\n  user_admin=\"admin-secret\" user_alice=\"al\\\"ice\";");
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 1);
  const auto& m = parsed->front();
  CHECK(m.class_name == "org.apache.kafka.common.security.plain.PlainLoginModule");
  CHECK(m.control_flag == "required");
  CHECK(m.options == std::map<std::string, std::string>{
                         {"username", "admin"}, {"password", "admin-secret"}, {"user_admin", "admin-secret"},
                         {"user_alice", "al\"ice"}});
  // Bare values and several entries.
  auto two = parse_jaas_config("x", "a.B optional k=v; c.D sufficient;");
  REQUIRE(two);
  CHECK(two->size() == 2);
  CHECK(two->at(0).options.at("k") == "v");
  CHECK(two->at(1).options.empty());
}

TEST_CASE("a JAAS configuration Kafka would refuse is an error naming the key") {
  for (const char* text : {"", "   ", "a.B required k=\"v\"", "a.B mandatory;", "a.B required k;",
                           "a.B required k=;", "a.B required k=\"open;", "= required;"}) {
    INFO(text);
    auto parsed = parse_jaas_config("sasl.jaas.config", text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.code() == kafka_error::invalid_config);
    CHECK(parsed.err().message.starts_with("Invalid value for sasl.jaas.config: "));
  }
}

TEST_CASE("SASL/PLAIN accepts the configured users and says nothing of which part was wrong") {
  auto users = sasl_plain_users::from_jaas(
      "k", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" "
           "password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\";");
  REQUIRE(users);
  CHECK(users->size() == 2);
  auto ok = users->authenticate(plain_token("", "alice", "alice-secret"));
  REQUIRE(ok);
  CHECK(*ok == "alice");
  CHECK(users->authenticate(plain_token("admin", "admin", "admin-secret")));

  const std::string invalid = "Authentication failed: Invalid username or password";
  for (const auto& token : {plain_token("", "alice", "wrong"), plain_token("", "mallory", "alice-secret"),
                            plain_token("", "alice", "alice-secret-and-more"), plain_token("", "alice", "alice")}) {
    auto r = users->authenticate(token);
    REQUIRE_FALSE(r);
    CHECK(r.code() == kafka_error::sasl_authentication_failed);
    CHECK(r.err().message == invalid);
  }
  auto other_authz = users->authenticate(plain_token("admin", "alice", "alice-secret"));
  REQUIRE_FALSE(other_authz);
  CHECK(other_authz.err().message ==
        "Authentication failed: Client requested an authorization id that is different from username");
  CHECK(users->authenticate(std::string("alice\0alice-secret", 18)).err().message ==
        "Invalid SASL/PLAIN response: expected 3 tokens, got 2");
  CHECK(users->authenticate(plain_token("", "", "x")).err().message == "Authentication failed: username not specified");
  CHECK(users->authenticate(plain_token("", "alice", "")).err().message ==
        "Authentication failed: password not specified");
}

TEST_CASE("a PLAIN listener needs a PlainLoginModule entry") {
  auto users = sasl_plain_users::from_jaas("k", "org.example.Other required;");
  REQUIRE_FALSE(users);
  CHECK(users.code() == kafka_error::invalid_config);
}
