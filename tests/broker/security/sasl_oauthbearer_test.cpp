// SASL/OAUTHBEARER with unsecured JWS tokens: Kafka's OAuthBearerSaslServer with its unsecured validator,
// its grammar, checks, answers and messages. Tokens are built here (Base64URL of JSON) and judged at the
// time of a fake clock.
#include <catch2/catch.hpp>

#include <chrono>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "broker/security/sasl_oauthbearer.hpp"

using namespace brook::broker::security;
using brook::common::kafka_error;
using std::chrono::milliseconds;

namespace {

// 2025-12-07T10:04:46.123Z, in ms since the epoch; the tokens' times are seconds around it.
constexpr int64_t oauth_now_ms = 1765101886123;
constexpr int64_t oauth_now_s = oauth_now_ms / 1000;

std::string jwt_base64url(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t group = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                           static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(group >> shift) & 63];
  }
  if (bytes.size() - i == 1) {
    const uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
    for (int shift : {18, 12}) out += alphabet[(group >> shift) & 63];
  } else if (bytes.size() - i == 2) {
    const uint32_t group = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8;
    for (int shift : {18, 12, 6}) out += alphabet[(group >> shift) & 63];
  }
  return out;
}

// An unsecured JWS compact serialization: header.claims. with an empty signature.
std::string jws_of(std::string_view claims_json, std::string_view header_json = R"({"alg":"none"})") {
  return jwt_base64url(header_json) + "." + jwt_base64url(claims_json) + ".";
}

// A client first message as Kafka's OAuthBearerClientInitialResponse writes it.
std::string bearer_message(std::string_view token, std::string_view authzid = {},
                          const std::map<std::string, std::string>& extensions = {}) {
  std::string m = "n,";
  if (!authzid.empty()) m += "a=" + std::string(authzid);
  m += ",\x01" "auth=Bearer " + std::string(token);
  for (const auto& [key, value] : extensions) m += "\x01" + key + "=" + value;
  return m + "\x01\x01";
}

std::string jwt_claims(std::string_view sub, int64_t exp_s) {
  return R"({"sub":")" + std::string(sub) + R"(","exp":)" + std::to_string(exp_s) + "}";
}

// The broker's side of exchanges, judged at a time the test sets.
struct oauthbearer_exchange_fixture {
  std::chrono::system_clock::time_point now{milliseconds(oauth_now_ms)};
  oauthbearer_validator_options options;

  std::unique_ptr<oauthbearer_sasl_server> server() {
    return make_oauthbearer_server(options, [this] { return now; });
  }
};

sasl_step respond_with(sasl_server& server, std::string_view bytes) {
  return server.respond(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// A refused token: the challenge with the JSON error, then, after the client's \x01, the failure.
void require_token_refused(oauthbearer_exchange_fixture& f, const std::string& token,
                     std::string_view expected_json = R"({"status":"invalid_token"})") {
  auto server = f.server();
  const auto challenge = respond_with(*server, bearer_message(token));
  REQUIRE(challenge.state == sasl_step::status::challenge);
  CHECK(challenge.token == expected_json);
  const auto failure = respond_with(*server, "\x01");
  REQUIRE(failure.state == sasl_step::status::failed);
  CHECK(failure.message == expected_json);
}

std::string refusal_of(const oauthbearer_exchange_fixture& f, std::string_view token) {
  const auto check = validate_unsecured_jws(token, f.options, f.now);
  REQUIRE_FALSE(check.token);
  return check.reason;
}

}  // namespace

TEST_CASE("OAUTHBEARER: a stock Java client's unsecured token and extension validate", "[sasl][oauthbearer]") {
  // What kafka-clients 4.4 sends at oauth_now_ms for
  //   OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice" unsecuredLoginExtension_traceId="abc-123";
  // header {"alg":"none"}, claims {"exp":1.765105486123E9,"iat":1.765101886123E9,"sub":"alice"}.
  const std::string java_client_message =
      "n,,\x01" "auth=Bearer eyJhbGciOiJub25lIn0."
      "eyJleHAiOjEuNzY1MTA1NDg2MTIzRTksImlhdCI6MS43NjUxMDE4ODYxMjNFOSwic3ViIjoiYWxpY2UifQ."
      "\x01" "traceId=abc-123\x01\x01";
  oauthbearer_exchange_fixture f;
  f.now += milliseconds(1000);  // the broker judges it a second later
  auto server = f.server();
  CHECK(server->mechanism() == "OAUTHBEARER");
  const auto step = respond_with(*server, java_client_message);
  REQUIRE(step.state == sasl_step::status::authenticated);
  CHECK(step.user == "alice");
  CHECK(step.token.empty());
  REQUIRE(step.credential_lifetime);
  CHECK(*step.credential_lifetime == milliseconds(3600 * 1000 - 1000));
  CHECK(server->extensions() == std::map<std::string, std::string>{{"traceId", "abc-123"}});
  CHECK(server->rejection_reason().empty());

  // With unsecuredLoginListClaim_scope=",read,write" unsecuredLoginLifetimeSeconds="60" the client adds a scope
  // list: claims {"exp":1.765101946123E9,"iat":1.765101886123E9,"scope":["read","write"],"sub":"alice"}.
  const std::string java_client_scoped_message =
      "n,,\x01" "auth=Bearer eyJhbGciOiJub25lIn0."
      "eyJleHAiOjEuNzY1MTAxOTQ2MTIzRTksImlhdCI6MS43NjUxMDE4ODYxMjNFOSwic2NvcGUi"
      "OlsicmVhZCIsIndyaXRlIl0sInN1YiI6ImFsaWNlIn0."
      "\x01\x01";
  oauthbearer_exchange_fixture scoped;
  scoped.options.required_scope = {"write"};
  auto scoped_server = scoped.server();
  const auto scoped_step = respond_with(*scoped_server, java_client_scoped_message);
  REQUIRE(scoped_step.state == sasl_step::status::authenticated);
  CHECK(scoped_step.user == "alice");
  CHECK(scoped_step.credential_lifetime == milliseconds(60 * 1000));
}

TEST_CASE("OAUTHBEARER: a valid token authenticates its subject until exp", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  auto server = f.server();
  const auto step = respond_with(*server, bearer_message(jws_of(jwt_claims("bob", oauth_now_s + 60))));
  REQUIRE(step.state == sasl_step::status::authenticated);
  CHECK(step.user == "bob");
  // exp is whole seconds; the clock is 123 ms into its second.
  CHECK(step.credential_lifetime == milliseconds(60 * 1000 - 123));
  CHECK(server->extensions().empty());

  const auto check = validate_unsecured_jws(
      jws_of(R"({"sub":"bob","exp":)" + std::to_string(oauth_now_s + 60) + R"(,"iat":)" +
                    std::to_string(oauth_now_s) + R"(,"scope":["read"," write ",""]})"),
      f.options, f.now);
  REQUIRE(check.token);
  CHECK(check.token->principal == "bob");
  CHECK(check.token->expiration_ms == (oauth_now_s + 60) * 1000);
  CHECK(check.token->issued_at_ms == oauth_now_s * 1000);
  CHECK(check.token->scope == std::set<std::string>{"read", "write"});
}

TEST_CASE("OAUTHBEARER: an expired token is refused unless within the allowed clock skew", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  const auto expired = jws_of(jwt_claims("bob", oauth_now_s - 10));
  require_token_refused(f, expired);
  CHECK(refusal_of(f, expired) ==
        "The indicated time (1765101886123 ms) minus allowable clock skew (0 ms) was on or after the Expiration Time "
        "value (1765101876.000000 seconds)");
  // Expiring exactly now is expired.
  f.now = std::chrono::system_clock::time_point(milliseconds(oauth_now_s * 1000));
  require_token_refused(f, jws_of(jwt_claims("bob", oauth_now_s)));

  // Ten seconds late, within a skew of 10.124 s: accepted, with no lifetime left.
  f.now = std::chrono::system_clock::time_point(milliseconds(oauth_now_ms));
  f.options.allowable_clock_skew = milliseconds(10124);
  auto server = f.server();
  const auto step = respond_with(*server, bearer_message(expired));
  REQUIRE(step.state == sasl_step::status::authenticated);
  CHECK(step.credential_lifetime == milliseconds(0));
  // One millisecond less of skew is not enough.
  f.options.allowable_clock_skew = milliseconds(10123);
  require_token_refused(f, expired);
}

TEST_CASE("OAUTHBEARER: iat may not be in the future beyond the skew, nor at or after exp", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  const auto future = jws_of(R"({"sub":"bob","exp":)" + std::to_string(oauth_now_s + 100) + R"(,"iat":)" +
                                    std::to_string(oauth_now_s + 10) + "}");
  require_token_refused(f, future);
  CHECK(refusal_of(f, future) ==
        "The Issued At value (1765101896.000000 seconds) was after the indicated time (1765101886123 ms) plus "
        "allowable clock skew (0 ms)");
  f.options.allowable_clock_skew = milliseconds(10000);
  CHECK(validate_unsecured_jws(future, f.options, f.now).token);

  // Within the skew, iat passes; exp must still come after it.
  const auto backwards = jws_of(R"({"sub":"bob","exp":)" + std::to_string(oauth_now_s + 5) + R"(,"iat":)" +
                                       std::to_string(oauth_now_s + 5) + "}");
  CHECK(refusal_of(f, backwards) ==
        "The Expiration Time time (1765101891.000000 seconds) was not after the Issued At time (1765101891.000000 "
        "seconds)");
}

TEST_CASE("OAUTHBEARER: a token without exp, or with claims of the wrong type, is refused", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  const auto no_exp = jws_of(R"({"sub":"bob"})");
  require_token_refused(f, no_exp);
  CHECK(refusal_of(f, no_exp) == "No expiration time in JWT");
  const std::string exp = std::to_string(oauth_now_s + 60);
  CHECK(refusal_of(f, jws_of(R"({"sub":"bob","exp":")" + exp + R"("})")) ==
        "The 'exp' claim was not of type Number: String");
  CHECK(refusal_of(f, jws_of(R"({"sub":"bob","exp":null})")) ==
        "The 'exp' claim was not of type Number: String");
  CHECK(refusal_of(f, jws_of(R"({"sub":"bob","exp":)" + exp + R"(,"iat":"yesterday"})")) ==
        "The 'iat' claim was not of type Number: String");
  CHECK(refusal_of(f, jws_of(R"({"exp":)" + exp + "}")) == "No principal name in JWT claim: sub");
  CHECK(refusal_of(f, jws_of(R"({"sub":"  ","exp":)" + exp + "}")) == "No principal name in JWT claim: sub");
  CHECK(refusal_of(f, jws_of(R"({"sub":42,"exp":)" + exp + "}")) ==
        "The 'sub' claim was not of type String: Integer");
  CHECK(refusal_of(f, jws_of(R"({"sub":["a"],"exp":)" + exp + "}")) ==
        "The 'sub' claim was not of type String: ArrayList");
  CHECK(refusal_of(f, jws_of(R"({"sub":"bob","scope":7,"exp":)" + exp + "}")) ==
        "The 'scope' claim was not of type List: Integer");
  // A fractional exp counts to the millisecond.
  const auto fractional = validate_unsecured_jws(
      jws_of(R"({"sub":"bob","exp":)" + exp + ".2506}"), f.options, f.now);
  REQUIRE(fractional.token);
  CHECK(fractional.token->expiration_ms == (oauth_now_s + 60) * 1000 + 251);
}

TEST_CASE("OAUTHBEARER: claims read as Kafka reads them through Jackson", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  // List items are rendered as text, numbers as Java prints them; empty renderings (objects, lists) are dropped.
  const auto listed = validate_unsecured_jws(
      jws_of(R"({"sub":"bob","exp":2000000000,"scope":[1.5,1e10,100,true,null,0.0001,12345678.9,1e-5,)"
                    R"({"a":1},[2],0.001,1234567.0,-2.5E-7,123456789012,0.0]})"),
      f.options, f.now);
  REQUIRE(listed.token);
  CHECK(listed.token->scope == std::set<std::string>{"1234567.0", "1.0E-4", "1.0E-5", "0.001", "1.0E10", "-2.5E-7",
                                                     "123456789012", "100", "1.23456789E7", "0.0", "null", "1.5",
                                                     "true"});
  // A scope string is trimmed, not split; an object is an empty scope.
  const auto spaced =
      validate_unsecured_jws(jws_of(R"({"sub":"x","exp":2000000000,"scope":" a b "})"), f.options, f.now);
  REQUIRE(spaced.token);
  CHECK(spaced.token->scope == std::set<std::string>{"a b"});
  const auto object_scope =
      validate_unsecured_jws(jws_of(R"({"sub":"x","exp":2000000000,"scope":{"a":1}})"), f.options, f.now);
  REQUIRE(object_scope.token);
  CHECK(object_scope.token->scope.empty());
  // A boolean or null principal is its text; an object's text is empty, so no principal.
  for (const std::string text : {"true", "null"}) {
    const auto check = validate_unsecured_jws(jws_of(R"({"sub":)" + text + R"(,"exp":2000000000})"), f.options, f.now);
    REQUIRE(check.token);
    CHECK(check.token->principal == text);
  }
  CHECK(refusal_of(f, jws_of(R"({"sub":{"a":1},"exp":2000000000})")) == "No principal name in JWT claim: sub");
  // An exp past the long range saturates, as Java's Math.round does.
  const auto far = validate_unsecured_jws(jws_of(R"({"sub":"x","exp":20000000000000000000000})"), f.options, f.now);
  REQUIRE(far.token);
  CHECK(far.token->expiration_ms == std::numeric_limits<int64_t>::max());
  // Claims that are only whitespace are no claims; a header that is not an object has no alg.
  CHECK(refusal_of(f, jws_of("  ")) == "No expiration time in JWT");
  CHECK(refusal_of(f, jws_of(R"({"sub":"x","exp":2000000000})", "[1,2]")) ==
        "JWS header must have an Algorithm value");
}

TEST_CASE("OAUTHBEARER: only alg none without a signature is an unsecured JWS", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  const auto claims = jwt_claims("bob", oauth_now_s + 60);
  const auto hs256 = jws_of(claims, R"({"alg":"HS256","typ":"JWT"})");
  require_token_refused(f, hs256);
  CHECK(refusal_of(f, hs256) == "Unsecured JWS must have 'none' for an algorithm");
  CHECK(refusal_of(f, jws_of(claims, R"({"alg":"NONE"})")) == "Unsecured JWS must have 'none' for an algorithm");
  CHECK(refusal_of(f, jws_of(claims, R"({"typ":"JWT"})")) == "JWS header must have an Algorithm value");
  const auto signed_token = jws_of(claims) + "c2lnbmF0dXJl";
  require_token_refused(f, signed_token);
  CHECK(refusal_of(f, signed_token) == "Unsecured JWS must not contain a digital signature");
  CHECK(validate_unsecured_jws(jws_of(claims, R"({"typ":"JWT","alg":"none"})"), f.options, f.now).token);
}

TEST_CASE("OAUTHBEARER: malformed Base64URL, JSON or serialization is refused", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  const auto header = jwt_base64url(R"({"alg":"none"})");
  const auto claims = jwt_base64url(jwt_claims("bob", oauth_now_s + 60));
  const std::string base64 = "malformed Base64 URL encoded value";
  // '+' and '/' are the other alphabet's; a lone final character is not a byte.
  CHECK(refusal_of(f, header + "." + claims + "+." ) == base64);
  CHECK(refusal_of(f, header + "." + claims + "/." ) == base64);
  CHECK(refusal_of(f, header + "." + claims + "A.") == base64);
  require_token_refused(f, header + "." + claims + "+.");
  const auto not_json = header + "." + jwt_base64url(R"({"sub":"bob","exp":)") + ".";
  CHECK(refusal_of(f, not_json) == "malformed JSON");
  require_token_refused(f, not_json);
  CHECK(refusal_of(f, header + "." + jwt_base64url("sub=bob") + ".") == "malformed JSON");
  CHECK(refusal_of(f, header + "." + claims) ==
        "Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values");
  CHECK(refusal_of(f, header + "." + claims + ".." ) == "Malformed compact serialization contains '..'");
  CHECK(refusal_of(f, header + "." + claims + ".x.") ==
        "Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values");
  // As Kafka's JSON reading does: text after the object is ignored, and a repeated claim's last value counts.
  const auto lenient = validate_unsecured_jws(
      header + "." + jwt_base64url(R"({"sub":"eve","sub":"bob","exp":)" + std::to_string(oauth_now_s + 60) + "} x") +
          ".",
      f.options, f.now);
  REQUIRE(lenient.token);
  CHECK(lenient.token->principal == "bob");
  // Padding is optional, and accepted where it belongs: {"alg":"none"}, 14 bytes, ends in a group of 3
  // characters, which one '=' completes.
  CHECK(validate_unsecured_jws(header + "=." + claims + ".", f.options, f.now).token);
  CHECK(refusal_of(f, header + "==." + claims + ".") == base64);
  CHECK(refusal_of(f, header + "=A." + claims + ".") == base64);
}

TEST_CASE("OAUTHBEARER: a required scope the token lacks is insufficient_scope", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  f.options.required_scope = {"read", "write"};
  const std::string exp = std::to_string(oauth_now_s + 60);
  const std::string insufficient = R"({"status":"insufficient_scope", "scope":"[read, write]"})";
  const auto read_only = jws_of(R"({"sub":"bob","exp":)" + exp + R"(,"scope":["read"]})");
  require_token_refused(f, read_only, insufficient);
  CHECK(refusal_of(f, read_only) ==
        "The provided scope ([read]) was missing a required scope (write).  All required scope elements: "
        "[read, write]");
  // A scope string is one item, as in Kafka, not a space-separated list.
  require_token_refused(f, jws_of(R"({"sub":"bob","exp":)" + exp + R"(,"scope":"read write"})"), insufficient);
  require_token_refused(f, jws_of(jwt_claims("bob", oauth_now_s + 60)), insufficient);

  auto server = f.server();
  CHECK(respond_with(*server, bearer_message(jws_of(R"({"sub":"bob","exp":)" + exp +
                                                  R"(,"scope":["write","admin","read"]})")))
            .state == sasl_step::status::authenticated);
  // The scope claim's name is an option.
  f.options.scope_claim_name = "scp";
  f.options.required_scope = {"read"};
  CHECK(validate_unsecured_jws(jws_of(R"({"sub":"bob","exp":)" + exp + R"(,"scp":"read"})"), f.options, f.now)
            .token);
  CHECK_FALSE(validate_unsecured_jws(jws_of(R"({"sub":"bob","exp":)" + exp + R"(,"scope":"read"})"), f.options,
                                     f.now)
                  .token);
}

TEST_CASE("OAUTHBEARER: an authorization id must be the token's principal", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  const auto token = jws_of(jwt_claims("bob", oauth_now_s + 60));
  auto mismatch = f.server();
  const auto failure = respond_with(*mismatch, bearer_message(token, "admin"));
  REQUIRE(failure.state == sasl_step::status::failed);
  CHECK(failure.message ==
        "Authentication failed: Client requested an authorization id (admin) that is different from the token's "
        "principal name (bob)");
  auto same = f.server();
  const auto ok = respond_with(*same, bearer_message(token, "bob"));
  REQUIRE(ok.state == sasl_step::status::authenticated);
  CHECK(ok.user == "bob");
}

TEST_CASE("OAUTHBEARER: the principal claim's name is an option", "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  auto options = oauthbearer_validator_options::from_jaas(
      "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config",
      "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
      "unsecuredValidatorPrincipalClaimName=\" email \";");
  REQUIRE(options);
  CHECK(options->principal_claim_name == "email");
  f.options = *options;
  const std::string exp = std::to_string(oauth_now_s + 60);
  auto server = f.server();
  const auto step =
      respond_with(*server, bearer_message(jws_of(R"({"sub":"bob","email":"bob@example.com","exp":)" + exp + "}")));
  REQUIRE(step.state == sasl_step::status::authenticated);
  CHECK(step.user == "bob@example.com");
  CHECK(refusal_of(f, jws_of(jwt_claims("bob", oauth_now_s + 60))) == "No principal name in JWT claim: email");
}

TEST_CASE("OAUTHBEARER: a refused token is a challenge, then Kafka's failure after the client's acknowledgement",
          "[sasl][oauthbearer]") {
  oauthbearer_exchange_fixture f;
  auto server = f.server();
  const auto challenge = respond_with(*server, bearer_message(jws_of(jwt_claims("bob", oauth_now_s - 1))));
  REQUIRE(challenge.state == sasl_step::status::challenge);
  CHECK(challenge.token == R"({"status":"invalid_token"})");
  CHECK(server->rejection_reason().starts_with("The indicated time (1765101886123 ms)"));
  const auto failure = respond_with(*server, "\x01");
  REQUIRE(failure.state == sasl_step::status::failed);
  CHECK(failure.message == R"({"status":"invalid_token"})");
  CHECK(respond_with(*server, "\x01").state == sasl_step::status::failed);

  // Instead of the acknowledgement the client may present another token, as Kafka allows.
  auto retried = f.server();
  REQUIRE(respond_with(*retried, bearer_message(jws_of(jwt_claims("bob", oauth_now_s - 1)))).state ==
          sasl_step::status::challenge);
  const auto step = respond_with(*retried, bearer_message(jws_of(jwt_claims("bob", oauth_now_s + 5))));
  REQUIRE(step.state == sasl_step::status::authenticated);
  CHECK(step.user == "bob");
  CHECK(retried->rejection_reason().empty());

  // A lone \x01 with no refusal before it is just a malformed first message.
  auto early = f.server();
  const auto early_failure = respond_with(*early, "\x01");
  REQUIRE(early_failure.state == sasl_step::status::failed);
  CHECK(early_failure.message ==
        "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER");
}

TEST_CASE("OAUTHBEARER: SASL extensions follow Kafka's rules for names and values", "[sasl][oauthbearer]") {
  const std::string token = jws_of(jwt_claims("bob", 2000000000));
  auto parsed = parse_oauthbearer_client_first_message(
      bearer_message(token, {}, {{"traceId", "a b\tc=d"}, {"logicalCluster", "lkc-1"}}));
  REQUIRE(parsed);
  CHECK(parsed->token == token);
  CHECK(parsed->authorization_id.empty());
  CHECK(parsed->extensions ==
        std::map<std::string, std::string>{{"traceId", "a b\tc=d"}, {"logicalCluster", "lkc-1"}});
  // A name given twice keeps its last value.
  auto twice =
      parse_oauthbearer_client_first_message("n,,\x01" "auth=Bearer " + token + "\x01" "x=1\x01" "x=2\x01\x01");
  REQUIRE(twice);
  CHECK(twice->extensions.at("x") == "2");

  // Names are letters only; values printable ASCII, space, tab, CR or LF; neither may be empty.
  for (const auto& bad : {std::map<std::string, std::string>{{"trace_id", "a"}},
                          std::map<std::string, std::string>{{"trace1", "a"}},
                          std::map<std::string, std::string>{{"traceId", ""}},
                          std::map<std::string, std::string>{{"traceId", "caf\xc3\xa9"}},
                          std::map<std::string, std::string>{{"traceId", "a\x7f"}}}) {
    INFO(bad.begin()->first << "=" << bad.begin()->second);
    auto r = parse_oauthbearer_client_first_message(bearer_message(token, {}, bad));
    REQUIRE_FALSE(r);
    CHECK(r.code() == kafka_error::sasl_authentication_failed);
    CHECK(r.err().message == "Invalid OAUTHBEARER client first message");
  }
  oauthbearer_exchange_fixture f;
  auto server = f.server();
  const auto step = respond_with(*server, bearer_message(token, {}, {{"traceId", "a_b"}}));
  REQUIRE(step.state == sasl_step::status::authenticated);
  CHECK(server->extensions() == std::map<std::string, std::string>{{"traceId", "a_b"}});
  auto refused = f.server();
  const auto failure = respond_with(*refused, bearer_message(token, {}, {{"trace_id", "x"}}));
  REQUIRE(failure.state == sasl_step::status::failed);
  CHECK(failure.message ==
        "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER");
  CHECK(refused->rejection_reason() == "Invalid OAUTHBEARER client first message");
}

TEST_CASE("OAUTHBEARER: the client first message's grammar", "[sasl][oauthbearer]") {
  const std::string token = jws_of(jwt_claims("bob", 2000000000));
  auto with_authzid = parse_oauthbearer_client_first_message(bearer_message(token, "b=2Cob=3D"));
  REQUIRE(with_authzid);
  CHECK(with_authzid->authorization_id == "b=2Cob=3D");  // left escaped, as Kafka leaves it
  auto padded = parse_oauthbearer_client_first_message("n,,\x01" "auth=bearer   abc.def~+/==\x01\x01");
  REQUIRE(padded);
  CHECK(padded->token == "abc.def~+/==");

  const std::string invalid = "Invalid OAUTHBEARER client first message";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"", invalid},
      {"y,,\x01" "auth=Bearer " + token + "\x01\x01", invalid},
      {"n,,auth=Bearer " + token + "\x01\x01", invalid},
      {"n,,\x01" "auth=Bearer " + token + "\x01", invalid},
      {"n,,\x01" "auth=Bearer " + token + "\x01\x01\x01", invalid},
      {"n,a=,\x01" "auth=Bearer " + token + "\x01\x01", invalid},
      {"n,a=b=2Xob,\x01" "auth=Bearer " + token + "\x01\x01", invalid},
      {"n,,\x01\x01", invalid + ": 'auth' not specified"},
      {"n,,\x01" "traceId=x\x01\x01", invalid + ": 'auth' not specified"},
      {"n,,\x01" "auth=Bearer\x01\x01", invalid + ": invalid 'auth' format"},
      {"n,,\x01" "auth=Bearer a b\x01\x01", invalid + ": invalid 'auth' format"},
      {"n,,\x01" "auth=Bearer =abc\x01\x01", invalid + ": invalid 'auth' format"},
      {"n,,\x01" "auth=Bearer abc=d\x01\x01", invalid + ": invalid 'auth' format"},
      {"n,,\x01" "auth= Bearer abc\x01\x01", invalid + ": invalid 'auth' format"},
      {"n,,\x01" "auth=Basic YWxpY2U6c2VjcmV0\x01\x01", "Invalid scheme in OAUTHBEARER client first message: Basic"},
  };
  for (const auto& [message, reason] : refused) {
    INFO(message);
    auto r = parse_oauthbearer_client_first_message(message);
    REQUIRE_FALSE(r);
    CHECK(r.err().message == reason);
  }
}

TEST_CASE("OAUTHBEARER: validator options from the listener's JAAS entry, checked as Kafka checks them",
          "[sasl][oauthbearer]") {
  const std::string key = "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config";
  const std::string module = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ";
  auto defaults = oauthbearer_validator_options::from_jaas(key, module + "unsecuredLoginStringClaim_sub=\"admin\";");
  REQUIRE(defaults);
  CHECK(defaults->principal_claim_name == "sub");
  CHECK(defaults->scope_claim_name == "scope");
  CHECK(defaults->required_scope.empty());
  CHECK(defaults->allowable_clock_skew == milliseconds(0));

  auto custom = oauthbearer_validator_options::from_jaas(
      key, module +
               "unsecuredValidatorPrincipalClaimName=\"  \" unsecuredValidatorScopeClaimName=scp "
               "unsecuredValidatorRequiredScope=\" write  read write \" "
               "unsecuredValidatorAllowableClockSkewMs=\" +250 \";");
  REQUIRE(custom);
  CHECK(custom->principal_claim_name == "sub");  // blank: the default
  CHECK(custom->scope_claim_name == "scp");
  CHECK(custom->required_scope == std::vector<std::string>{"write", "read", "write"});
  CHECK(custom->allowable_clock_skew == milliseconds(250));

  const std::vector<std::pair<std::string, std::string>> refused = {
      {"unsecuredValidatorAllowableClockSkewMs=\"ten\"", "For input string: \"ten\""},
      {"unsecuredValidatorAllowableClockSkewMs=\"2147483648\"", "For input string: \"2147483648\""},
      {"unsecuredValidatorAllowableClockSkewMs=\"1.5\"", "For input string: \"1.5\""},
      {"unsecuredValidatorAllowableClockSkewMs=\" -1\"", "Allowable clock skew millis must not be negative:  -1"},
      {"unsecuredValidatorRequiredScope=\"read wr\\\"ite\"", "Invalid scope value: wr\"ite"},
      {"unsecuredValidatorRequiredScope=\"read\twrite\"", "Invalid scope value: read\twrite"},
  };
  for (const auto& [option, message] : refused) {
    INFO(option);
    auto r = oauthbearer_validator_options::from_jaas(key, module + option + ";");
    REQUIRE_FALSE(r);
    CHECK(r.code() == kafka_error::invalid_config);
    CHECK(r.err().message == "Invalid value for " + key + ": " + message);
  }
  auto other_module = oauthbearer_validator_options::from_jaas(
      key, "org.apache.kafka.common.security.plain.PlainLoginModule required user_admin=\"x\";");
  REQUIRE_FALSE(other_module);
  CHECK(other_module.err().message ==
        "Invalid value for " + key +
            ": no org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule entry");
  CHECK_FALSE(oauthbearer_validator_options::from_jaas(key, "org.apache.kafka.common.security.oauthbearer"));
}
