// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 as Kafka's ScramSaslServer serves them: RFC 7677's test
// vector, full exchanges driven by a client written here from RFC 5802, and every way an exchange fails.
#include <catch2/catch.hpp>

#include <openssl/rand.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "broker/security/sasl_scram.hpp"
#include "broker/security/scram_credentials.hpp"

using namespace brook::broker::security;

namespace {

std::span<const uint8_t> scram_test_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::string scram_b64(std::span<const uint8_t> in) {
  static constexpr std::string_view a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = uint32_t{in[i]} << 16;
    if (i + 1 < in.size()) n |= uint32_t{in[i + 1]} << 8;
    if (i + 2 < in.size()) n |= in[i + 2];
    out += a[(n >> 18) & 63];
    out += a[(n >> 12) & 63];
    out += i + 1 < in.size() ? a[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? a[n & 63] : '=';
  }
  return out;
}

scram_bytes scram_unb64(std::string_view in) {
  static constexpr std::string_view a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  scram_bytes out;
  uint32_t n = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    n = (n << 6) | static_cast<uint32_t>(a.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(n >> bits));
    }
  }
  return out;
}

// A credential store holding `users` (name -> password) for `mechanism`, salted as Kafka's tools do.
struct scram_user_spec {
  std::string name;
  std::string password;
  scram_mechanism mechanism = scram_mechanism::sha_256;
  int32_t iterations = 4096;
  std::string salt = "a-salt-of-twenty-six-chars";
};

void store_scram_users(scram_credentials& credentials, const std::vector<scram_user_spec>& users) {
  std::vector<brook::log::scram_credential_record> records;
  for (const auto& u : users) {
    const scram_bytes salt(u.salt.begin(), u.salt.end());
    const auto salted = scram_salted_password(u.mechanism, u.password, salt, u.iterations);
    const auto c = scram_credential_from_salted_password(u.mechanism, salt, salted, u.iterations);
    brook::log::scram_credential_record r;
    r.name = u.name;
    r.mechanism = static_cast<int8_t>(u.mechanism);
    r.salt = c.salt;
    r.stored_key = c.stored_key;
    r.server_key = c.server_key;
    r.iterations = c.iterations;
    records.push_back(std::move(r));
  }
  credentials.load(records);
}

std::map<char, std::string> scram_attributes(std::string_view message) {
  std::map<char, std::string> out;
  size_t start = 0;
  while (start <= message.size()) {
    size_t comma = message.find(',', start);
    if (comma == std::string_view::npos) comma = message.size();
    const auto field = message.substr(start, comma - start);
    if (field.size() >= 2 && field[1] == '=') out[field[0]] = std::string(field.substr(2));
    start = comma + 1;
  }
  return out;
}

sasl_step scram_send(sasl_server& server, std::string_view message) { return server.respond(scram_test_bytes(message)); }

// The client's side of RFC 5802, enough to drive the broker: builds the client-first and client-final
// messages and checks the server's signature.
struct scram_test_client {
  scram_mechanism mechanism;
  std::string user_field;  // as sent in n= (escaped)
  std::string password;
  std::string gs2_header = "n,,";
  std::string nonce;

  std::string first_bare;
  std::string auth_message;
  scram_bytes salted_password;

  std::string client_first(std::string extensions = {}) {
    if (nonce.empty()) {
      uint8_t random[18];
      REQUIRE(RAND_bytes(random, sizeof random) == 1);
      nonce = scram_b64(random);
    }
    first_bare = "n=" + user_field + ",r=" + nonce + extensions;
    return gs2_header + first_bare;
  }

  // The client-final message for `server_first`, with `binding` (default: the gs2 header, as RFC 5802
  // wants) and the proof from `proof_password`.
  std::string client_final(const std::string& server_first, std::optional<std::string> binding = std::nullopt,
                           std::optional<std::string> nonce_override = std::nullopt) {
    auto attrs = scram_attributes(server_first);
    const std::string server_nonce = nonce_override.value_or(attrs.at('r'));
    const scram_bytes salt = scram_unb64(attrs.at('s'));
    const int32_t iterations = std::stoi(attrs.at('i'));
    salted_password = scram_salted_password(mechanism, password, salt, iterations);
    const std::string without_proof = "c=" + scram_b64(scram_test_bytes(binding.value_or(gs2_header))) + ",r=" + server_nonce;
    auth_message = first_bare + "," + server_first + "," + without_proof;
    const auto client_key = scram_client_key(mechanism, salted_password);
    const auto stored_key = scram_hash(mechanism, client_key);
    const auto signature = scram_hmac(mechanism, stored_key, scram_test_bytes(auth_message));
    scram_bytes proof(client_key.size());
    for (size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
    return without_proof + ",p=" + scram_b64(proof);
  }

  std::string expected_server_final() const {
    const auto server_key = scram_server_key(mechanism, salted_password);
    return "v=" + scram_b64(scram_hmac(mechanism, server_key, scram_test_bytes(auth_message)));
  }
};

const std::string scram_failed_256 =
    "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256";
const std::string scram_failed_512 =
    "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512";

void check_scram_failed(const sasl_step& step, const std::string& message) {
  CHECK(step.state == sasl_step::status::failed);
  CHECK(step.message == message);
  CHECK(step.token.empty());
  CHECK(step.user.empty());
}

}  // namespace

TEST_CASE("SCRAM-SHA-256 answers RFC 7677's test vector", "[scram]") {
  scram_credentials credentials;
  const auto salt = scram_unb64("W22ZaJ0SNY7soEsUEjb6gQ==");
  store_scram_users(credentials, {{"user", "pencil", scram_mechanism::sha_256, 4096, std::string(salt.begin(), salt.end())}});
  auto server = make_scram_server_with_nonces("SCRAM-SHA-256", credentials,
                                              [] { return std::string("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"); });
  REQUIRE(server);
  CHECK(server->mechanism() == "SCRAM-SHA-256");

  auto first = scram_send(*server, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  REQUIRE(first.state == sasl_step::status::challenge);
  CHECK(first.token == "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");

  auto final_step = scram_send(*server,
                         "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                         "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  REQUIRE(final_step.state == sasl_step::status::authenticated);
  CHECK(final_step.token == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  CHECK(final_step.user == "user");
  CHECK_FALSE(final_step.credential_lifetime.has_value());

  // The exchange is over: anything more is refused.
  auto more = scram_send(*server, "n,,n=user,r=x");
  CHECK(more.state == sasl_step::status::failed);
  CHECK(more.message == "Unexpected challenge in Sasl server state COMPLETE");
}

TEST_CASE("SCRAM-SHA-512 and SCRAM-SHA-256 authenticate a full exchange, with a fresh random server nonce each time", "[scram]") {
  scram_credentials credentials;
  store_scram_users(credentials, {{"alice", "alice-secret", scram_mechanism::sha_512, 8192},
                            {"alice", "other-secret", scram_mechanism::sha_256, 4096},
                            {"a,b=c", "odd-secret", scram_mechanism::sha_512, 4096}});
  std::set<std::string> server_nonces;
  for (const auto& [mechanism, password] : {std::pair{scram_mechanism::sha_512, "alice-secret"},
                                            std::pair{scram_mechanism::sha_256, "other-secret"},
                                            std::pair{scram_mechanism::sha_512, "alice-secret"}}) {
    INFO(scram_mechanism_name(mechanism));
    auto server = make_scram_server(scram_mechanism_name(mechanism), credentials);
    REQUIRE(server);
    scram_test_client client{mechanism, "alice", password};
    auto first = scram_send(*server, client.client_first());
    REQUIRE(first.state == sasl_step::status::challenge);
    auto attrs = scram_attributes(first.token);
    // The server's nonce extends the client's with 26 random base-36 digits, as long as Kafka's.
    REQUIRE(attrs.at('r').starts_with(client.nonce));
    const std::string ours = attrs.at('r').substr(client.nonce.size());
    CHECK(ours.size() == 26);
    server_nonces.insert(ours);
    CHECK(attrs.at('i') == (mechanism == scram_mechanism::sha_512 ? "8192" : "4096"));
    CHECK(scram_unb64(attrs.at('s')) == scram_bytes{'a', '-', 's', 'a', 'l', 't', '-', 'o', 'f', '-', 't', 'w', 'e',
                                              'n', 't', 'y', '-', 's', 'i', 'x', '-', 'c', 'h', 'a', 'r', 's'});
    auto done = scram_send(*server, client.client_final(first.token));
    REQUIRE(done.state == sasl_step::status::authenticated);
    CHECK(done.user == "alice");
    CHECK(done.token == client.expected_server_final());
  }
  CHECK(server_nonces.size() == 3);

  SECTION("a user name with ',' and '=' travels escaped as =2C and =3D, and so may an authzid naming it") {
    for (std::string header : {"n,,", "n,a=a=2Cb=3Dc,"}) {
      auto server = make_scram_server("SCRAM-SHA-512", credentials);
      scram_test_client client{scram_mechanism::sha_512, "a=2Cb=3Dc", "odd-secret", header};
      auto first = scram_send(*server, client.client_first());
      REQUIRE(first.state == sasl_step::status::challenge);
      auto done = scram_send(*server, client.client_final(first.token));
      REQUIRE(done.state == sasl_step::status::authenticated);
      CHECK(done.user == "a,b=c");
    }
  }
  SECTION("an authzid equal to the user and extensions Kafka does not know are accepted") {
    auto server = make_scram_server("SCRAM-SHA-512", credentials);
    scram_test_client client{scram_mechanism::sha_512, "alice", "alice-secret", "n,a=alice,"};
    auto first = scram_send(*server, client.client_first(",tokenauth=false,other=x=y"));
    REQUIRE(first.state == sasl_step::status::challenge);
    auto done = scram_send(*server, client.client_final(first.token));
    REQUIRE(done.state == sasl_step::status::authenticated);
    CHECK(done.user == "alice");
  }
}

TEST_CASE("SCRAM: a wrong password and an unknown user fail alike, at the proof, with Kafka's message", "[scram]") {
  scram_credentials credentials;
  store_scram_users(credentials, {{"alice", "alice-secret", scram_mechanism::sha_256, 4096}});

  auto attempt = [&](std::string mechanism, std::string user, std::string password) {
    auto server = make_scram_server(mechanism, credentials);
    REQUIRE(server);
    scram_test_client client{*scram_mechanism_named(mechanism), user, password};
    auto first = scram_send(*server, client.client_first());
    REQUIRE(first.state == sasl_step::status::challenge);
    auto attrs = scram_attributes(first.token);
    auto done = scram_send(*server, client.client_final(first.token));
    return std::tuple{attrs, done, std::move(server)};
  };

  auto [wrong_attrs, wrong, s1] = attempt("SCRAM-SHA-256", "alice", "not-her-secret");
  check_scram_failed(wrong, scram_failed_256);

  // A user without credentials gets a server-first message like a real one: a salt that looks like
  // Kafka's and stays the same from one attempt to the next, Kafka's minimum iterations.
  auto [unknown_attrs, unknown, s2] = attempt("SCRAM-SHA-256", "mallory", "anything");
  check_scram_failed(unknown, scram_failed_256);
  CHECK(unknown_attrs.at('i') == "4096");
  CHECK(scram_unb64(unknown_attrs.at('s')).size() == 26);
  auto [again_attrs, again, s3] = attempt("SCRAM-SHA-256", "mallory", "anything");
  CHECK(again_attrs.at('s') == unknown_attrs.at('s'));
  auto [other_attrs, other, s4] = attempt("SCRAM-SHA-256", "trudy", "anything");
  CHECK(other_attrs.at('s') != unknown_attrs.at('s'));

  // A user with a credential for the other mechanism only is unknown to this one.
  auto [other_mech_attrs, other_mech, s5] = attempt("SCRAM-SHA-512", "alice", "alice-secret");
  check_scram_failed(other_mech, scram_failed_512);

  // Once failed, the exchange stays failed.
  auto more = scram_send(*s1, "c=biws,r=x,p=AAAA");
  CHECK(more.state == sasl_step::status::failed);
  CHECK(more.message == "Unexpected challenge in Sasl server state FAILED");
}

TEST_CASE("SCRAM refuses client-first messages Kafka refuses", "[scram]") {
  scram_credentials credentials;
  store_scram_users(credentials, {{"alice", "alice-secret", scram_mechanism::sha_256, 4096}});
  for (std::string message :
       {std::string(), std::string("n,,n=alice"), std::string("n,,r=abc,n=alice"), std::string("y,,n=alice,r=abc"),
        std::string("p=tls-unique,,n=alice,r=abc"), std::string("n,,n=,r=abc"), std::string("n,,n=alice,r="),
        std::string("n,,n=al=ice,r=abc"), std::string("n,,n=al=2Dice,r=abc"), std::string("n,,n=al\xc3\xa9,r=abc"),
        std::string("n,,n=al\0ice,r=abc", 17), std::string("n,,n=alice,r=a b"), std::string("n,,n=alice,r=abc,"),
        std::string("n,,n=alice,r=abc,ext"), std::string("n,,n=alice,r=abc,1x=y"), std::string("n,,n=alice,r=abc,e="),
        std::string("n,a=,n=alice,r=abc"), std::string("n,,m=reserved,n=alice,r=abc"), std::string("n,x=y,n=alice,r=abc"),
        std::string("n,,n=alice,r=abc,tokenauth=true"), std::string("n,,n=alice,r=abc,tokenauth=TRUE")}) {
    INFO(message);
    auto server = make_scram_server("SCRAM-SHA-256", credentials);
    check_scram_failed(scram_send(*server, message), scram_failed_256);
  }
}

TEST_CASE("SCRAM refuses an authzid naming another user with Kafka's own message, known user or not", "[scram]") {
  scram_credentials credentials;
  store_scram_users(credentials, {{"alice", "alice-secret", scram_mechanism::sha_256, 4096}});
  for (std::string message : {"n,a=admin,n=alice,r=abc", "n,a=admin,n=mallory,r=abc"}) {
    auto server = make_scram_server("SCRAM-SHA-256", credentials);
    check_scram_failed(scram_send(*server, message),
                 "Authentication failed: Client requested an authorization id that is different from username");
  }
}

TEST_CASE("SCRAM refuses client-final messages with a wrong nonce, channel binding, proof or format", "[scram]") {
  scram_credentials credentials;
  store_scram_users(credentials, {{"alice", "alice-secret", scram_mechanism::sha_512, 4096}});
  // Each case gets its own exchange up to the server-first message, then a bad final message.
  auto exchange = [&](const std::function<std::string(scram_test_client&, const std::string&)>& final_message,
                      std::string header = "n,,") {
    auto server = make_scram_server("SCRAM-SHA-512", credentials);
    scram_test_client client{scram_mechanism::sha_512, "alice", "alice-secret", header};
    auto first = scram_send(*server, client.client_first());
    REQUIRE(first.state == sasl_step::status::challenge);
    return scram_send(*server, final_message(client, first.token));
  };
  // The good message passes, so the bad ones below fail for what was changed.
  CHECK(exchange([](scram_test_client& c, const std::string& sf) { return c.client_final(sf); }).state ==
        sasl_step::status::authenticated);

  // A nonce other than the one the server sent (even with a valid proof over it).
  check_scram_failed(exchange([](scram_test_client& c, const std::string& sf) {
                 return c.client_final(sf, std::nullopt, scram_attributes(sf).at('r') + "x");
               }),
               scram_failed_512);
  check_scram_failed(exchange([](scram_test_client& c, const std::string& sf) { return c.client_final(sf, std::nullopt, c.nonce); }),
               scram_failed_512);
  // A channel binding other than the gs2 header sent (with a valid proof over it).
  for (std::string binding : {"y,,", "n,,x", "n,a=alice,", ""})
    check_scram_failed(exchange([&](scram_test_client& c, const std::string& sf) { return c.client_final(sf, binding); }),
                 scram_failed_512);
  check_scram_failed(exchange([](scram_test_client& c, const std::string& sf) { return c.client_final(sf, "n,,"); }, "n,a=alice,"),
               scram_failed_512);
  // A proof altered in one bit, cut short, too long, not base64, or missing.
  auto mangle = [&](const std::function<std::string(std::string)>& change) {
    return exchange([&](scram_test_client& c, const std::string& sf) {
      const std::string good = c.client_final(sf);
      const size_t p = good.rfind(",p=");
      return good.substr(0, p + 3) + change(good.substr(p + 3));
    });
  };
  check_scram_failed(mangle([](std::string proof) {
                 auto raw = scram_unb64(proof);
                 raw[5] ^= 0x10;
                 return scram_b64(raw);
               }),
               scram_failed_512);
  check_scram_failed(mangle([](std::string proof) {
                 auto raw = scram_unb64(proof);
                 raw.pop_back();
                 return scram_b64(raw);
               }),
               scram_failed_512);
  check_scram_failed(mangle([](std::string proof) {
                 auto raw = scram_unb64(proof);
                 raw.push_back(0);
                 return scram_b64(raw);
               }),
               scram_failed_512);
  check_scram_failed(mangle([](std::string proof) { return proof.substr(0, proof.size() - 2) + "*="; }), scram_failed_512);
  check_scram_failed(mangle([](std::string proof) { return proof.substr(1); }), scram_failed_512);
  check_scram_failed(exchange([](scram_test_client& c, const std::string& sf) {
                 const std::string good = c.client_final(sf);
                 return good.substr(0, good.rfind(",p="));
               }),
               scram_failed_512);
  check_scram_failed(exchange([](scram_test_client&, const std::string&) { return std::string("garbage"); }), scram_failed_512);
}

TEST_CASE("SCRAM names re-authentication in its failure message, and serves only its two mechanisms", "[scram]") {
  scram_credentials credentials;
  auto server = make_scram_server("SCRAM-SHA-256", credentials, true);
  check_scram_failed(scram_send(*server, "bad"),
               "Authentication failed during re-authentication due to invalid credentials with SASL mechanism "
               "SCRAM-SHA-256");
  CHECK(make_scram_server("PLAIN", credentials) == nullptr);
  CHECK(make_scram_server("SCRAM-SHA-1", credentials) == nullptr);
  CHECK(make_scram_server("scram-sha-256", credentials) == nullptr);
  REQUIRE(make_scram_server("SCRAM-SHA-512", credentials));
  CHECK(make_scram_server("SCRAM-SHA-512", credentials)->mechanism() == "SCRAM-SHA-512");
}
