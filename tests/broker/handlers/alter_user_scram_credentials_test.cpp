#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>

#include "broker/security/sasl_scram.hpp"
#include "broker/security/scram_credentials.hpp"
#include "broker_fixture.hpp"
#include "common/protocol/messages/alter_user_scram_credentials.hpp"
#include "common/protocol/messages/describe_user_scram_credentials.hpp"
#include "acl_test_util.hpp"

namespace proto = brook::common::protocol;
namespace ausc = proto::alter_user_scram_credentials;
namespace dusc_alter = proto::describe_user_scram_credentials;
namespace sec = brook::broker::security;

namespace {

// An upsertion as Kafka's admin client sends it: a salt it made and Hi(password, salt, iterations).
ausc::scram_credential_upsertion alter_upsertion(std::string user, int8_t mechanism, int32_t iterations,
                                                 const std::string& password) {
  ausc::scram_credential_upsertion u;
  u.name = std::move(user);
  u.mechanism = mechanism;
  u.iterations = iterations;
  const std::string salt = "k3h5v8n1q0w2e4r6t7y9u1i3o5";
  u.salt.assign(salt.begin(), salt.end());
  if (auto m = sec::scram_mechanism_of_type(mechanism))
    u.salted_password = sec::scram_salted_password(*m, password, u.salt, std::max(iterations, 1));
  else
    u.salted_password = {1, 2, 3};
  return u;
}

ausc::response alter_scram(brook::test::broker_fixture& b, std::vector<ausc::scram_credential_deletion> deletions,
                           std::vector<ausc::scram_credential_upsertion> upsertions) {
  ausc::request req;
  req.deletions = std::move(deletions);
  req.upsertions = std::move(upsertions);
  return b.call<ausc::response>(ausc::api_key, 0, req);
}

// user -> (error code, message) of an AlterUserScramCredentials response.
std::map<std::string, std::pair<int16_t, std::string>> alter_outcomes(const ausc::response& resp) {
  std::map<std::string, std::pair<int16_t, std::string>> out;
  for (const auto& r : resp.results) out[r.user] = {r.error_code, r.error_message.value_or("")};
  return out;
}

// mechanism -> iterations of one user, as DescribeUserScramCredentials reports them; empty when none.
std::map<int8_t, int32_t> described_scram(brook::test::broker_fixture& b, const std::string& user) {
  dusc_alter::request req;
  req.users = std::vector<dusc_alter::user_name>{{user}};
  auto resp = b.call<dusc_alter::response>(dusc_alter::api_key, 0, req);
  REQUIRE(resp.results.size() == 1);
  std::map<int8_t, int32_t> out;
  for (const auto& c : resp.results[0].credential_infos) out[c.mechanism] = c.iterations;
  return out;
}

// A whole SCRAM exchange against the broker's credentials, as a client holding `password` runs it.
sec::sasl_step scram_authenticate(brook::test::broker_fixture& b, std::string_view mechanism, const std::string& user,
                            const std::string& password) {
  const auto m = *sec::scram_mechanism_named(mechanism);
  auto server = sec::make_scram_server(mechanism, b.server().scram_credentials());
  auto as_span = [](const std::string& s) { return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  const std::string bare = "n=" + user + ",r=clientnonce123";
  auto first = server->respond(as_span("n,," + bare));
  if (first.state != sec::sasl_step::status::challenge) return first;
  // r=<nonce>,s=<salt>,i=<iterations>
  const std::string& sf = first.token;
  const auto s_at = sf.find(",s="), i_at = sf.find(",i=");
  const std::string nonce = sf.substr(2, s_at - 2), salt_b64 = sf.substr(s_at + 3, i_at - s_at - 3);
  const int32_t iterations = std::stoi(sf.substr(i_at + 3));
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto b64 = [&](const sec::scram_bytes& in) {
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t n = uint32_t{in[i]} << 16 | (i + 1 < in.size() ? uint32_t{in[i + 1]} << 8 : 0) |
                   (i + 2 < in.size() ? uint32_t{in[i + 2]} : 0);
      for (int k = 0; k < 4; ++k) out += k <= static_cast<int>(in.size() - i) ? alphabet[(n >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
  };
  sec::scram_bytes salt;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : salt_b64) {
    if (c == '=') break;
    acc = (acc << 6) | static_cast<uint32_t>(alphabet.find(c));
    if ((bits += 6) >= 8) salt.push_back(static_cast<uint8_t>(acc >> (bits -= 8)));
  }
  const auto salted = sec::scram_salted_password(m, password, salt, iterations);
  const std::string without_proof = "c=biws,r=" + nonce;
  const std::string auth_message = bare + "," + sf + "," + without_proof;
  const auto client_key = sec::scram_client_key(m, salted);
  const auto signature = sec::scram_hmac(m, sec::scram_hash(m, client_key), as_span(auth_message));
  sec::scram_bytes proof(client_key.size());
  for (size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
  return server->respond(as_span(without_proof + ",p=" + b64(proof)));
}

}  // namespace

TEST_CASE("AlterUserScramCredentials stores credentials SCRAM then authenticates with, across a restart", "[scram]") {
  brook::test::broker_fixture b;
  auto resp = alter_scram(b, {}, {alter_upsertion("alice", 1, 8192, "alice-secret"),
                                  alter_upsertion("bob", 2, 4096, "bob-secret")});
  CHECK(resp.throttle_time_ms == 0);
  REQUIRE(resp.results.size() == 2);
  for (const auto& r : resp.results) {
    CHECK(r.error_code == 0);
    CHECK_FALSE(r.error_message.has_value());
  }
  CHECK(described_scram(b, "alice") == std::map<int8_t, int32_t>{{1, 8192}});

  CHECK(scram_authenticate(b, "SCRAM-SHA-256", "alice", "alice-secret").state == sec::sasl_step::status::authenticated);
  CHECK(scram_authenticate(b, "SCRAM-SHA-512", "bob", "bob-secret").state == sec::sasl_step::status::authenticated);
  CHECK(scram_authenticate(b, "SCRAM-SHA-256", "alice", "wrong").state == sec::sasl_step::status::failed);
  CHECK(scram_authenticate(b, "SCRAM-SHA-512", "alice", "alice-secret").state == sec::sasl_step::status::failed);

  // A new password replaces the old one at once.
  REQUIRE(alter_outcomes(alter_scram(b, {}, {alter_upsertion("alice", 1, 16384, "new-secret")}))["alice"].first == 0);
  CHECK(scram_authenticate(b, "SCRAM-SHA-256", "alice", "alice-secret").state == sec::sasl_step::status::failed);
  CHECK(scram_authenticate(b, "SCRAM-SHA-256", "alice", "new-secret").state == sec::sasl_step::status::authenticated);

  b.restart();
  CHECK(described_scram(b, "alice") == std::map<int8_t, int32_t>{{1, 16384}});
  CHECK(described_scram(b, "bob") == std::map<int8_t, int32_t>{{2, 4096}});
  CHECK(scram_authenticate(b, "SCRAM-SHA-256", "alice", "new-secret").state == sec::sasl_step::status::authenticated);
  CHECK(scram_authenticate(b, "SCRAM-SHA-512", "bob", "bob-secret").state == sec::sasl_step::status::authenticated);

  // Deleted credentials stop authenticating and stay deleted after a restart.
  auto deleted = alter_scram(b, {{"bob", 2}}, {});
  CHECK(alter_outcomes(deleted) == std::map<std::string, std::pair<int16_t, std::string>>{{"bob", {0, ""}}});
  CHECK(scram_authenticate(b, "SCRAM-SHA-512", "bob", "bob-secret").state == sec::sasl_step::status::failed);
  b.restart();
  CHECK(described_scram(b, "bob").empty());
  CHECK(described_scram(b, "alice").size() == 1);
}

TEST_CASE("AlterUserScramCredentials answers each user with Kafka's errors, changing only the valid ones", "[scram]") {
  brook::test::broker_fixture b;
  REQUIRE(alter_outcomes(alter_scram(b, {}, {alter_upsertion("carol", 1, 4096, "c")}))["carol"].first == 0);
  auto resp = alter_scram(b, {{"nobody", 1}, {"carol", 2}},
                          {alter_upsertion("twice", 1, 8192, "x"), alter_upsertion("", 1, 8192, "x"),
                           alter_upsertion("dave", 3, 8192, "x"), alter_upsertion("erin", 1, 4095, "x"),
                           alter_upsertion("fred", 2, 16385, "x"), alter_upsertion("twice", 2, 8192, "x"),
                           alter_upsertion("gina", 2, 16384, "g")});
  const auto missing = std::pair<int16_t, std::string>{91, "Attempt to delete a user credential that does not exist"};
  CHECK(alter_outcomes(resp) == std::map<std::string, std::pair<int16_t, std::string>>{
                                    {"nobody", missing},
                                    {"carol", missing},
                                    {"", {93, "Username must not be empty"}},
                                    {"dave", {33, "Unknown SCRAM mechanism"}},
                                    {"erin", {93, "Too few iterations"}},
                                    {"fred", {93, "Too many iterations"}},
                                    {"twice", {92, "A user credential cannot be altered twice in the same request"}},
                                    {"gina", {0, ""}}});
  CHECK(resp.results.size() == 8);
  CHECK(described_scram(b, "gina") == std::map<int8_t, int32_t>{{2, 16384}});
  CHECK(described_scram(b, "carol") == std::map<int8_t, int32_t>{{1, 4096}});
  for (const char* user : {"erin", "fred", "twice", "dave"}) CHECK(described_scram(b, user).empty());
}

TEST_CASE("a broker reset forgets every SCRAM credential", "[scram]") {
  brook::test::broker_fixture b;
  REQUIRE(alter_outcomes(alter_scram(b, {}, {alter_upsertion("alice", 1, 4096, "a")}))["alice"].first == 0);
  REQUIRE(b.server().reset());
  CHECK(described_scram(b, "alice").empty());
  CHECK(b.server().scram_credentials().snapshot()->empty());
  CHECK(scram_authenticate(b, "SCRAM-SHA-256", "alice", "a").state == sec::sasl_step::status::failed);
  b.restart();
  CHECK(described_scram(b, "alice").empty());
}

TEST_CASE("with an authorizer AlterUserScramCredentials needs ALTER and DescribeUserScramCredentials DESCRIBE on the cluster") {
  namespace t = brook::test;
  namespace ausc = brook::common::protocol::alter_user_scram_credentials;
  namespace dusc = brook::common::protocol::describe_user_scram_credentials;
  const int16_t refused = brook::common::wire_code(brook::common::kafka_error::cluster_authorization_failed);
  t::broker_fixture b({t::standard_authorizer});
  ausc::request alter;
  alter.deletions.push_back({"alice", 1});
  alter.deletions.push_back({"bob", 1});
  auto denied = b.call<ausc::response>(ausc::api_key, 0, alter);
  REQUIRE(denied.results.size() == 2);
  CHECK(denied.results[0].user == "alice");
  CHECK(denied.results[0].error_code == refused);
  dusc::request describe;
  describe.users = std::vector<dusc::user_name>{{"alice"}};
  auto hidden = b.call<dusc::response>(dusc::api_key, 0, describe);
  CHECK(hidden.error_code == refused);
  REQUIRE(hidden.results.size() == 1);
  CHECK(hidden.results[0].error_code == refused);
  t::grant(b, {t::allowing(t::sec::resource_type::cluster, "kafka-cluster", t::sec::acl_operation::alter)});
  // Allowed: the credentials' own answers (there are none to delete or describe).
  CHECK(b.call<ausc::response>(ausc::api_key, 0, alter).results.at(0).error_code != refused);
  auto described = b.call<dusc::response>(dusc::api_key, 0, describe);
  CHECK(described.error_code == 0);
  CHECK(described.results.at(0).error_code != refused);
}
