// libFuzzer target: a connection's SASL exchange (broker/security/sasl_authenticator.hpp) with the
// broker's mechanisms, fed arbitrary requests and tokens, and the parsers of the security settings.
// Input: byte 0 picks what is fuzzed: 0xFF the JAAS and ssl.principal.mapping.rules parsers over the
// rest; otherwise a script of steps, each [op][length, 2 bytes][payload]: op%4 = 0 SaslAuthenticate
// (payload: the token; op/4%3 picks version 0-2, or a raw token after SaslHandshake v0), 1 a request
// of the API key in the payload's first two bytes, 2 SaslHandshake (payload: the mechanism), 3 the
// clock moves on (payload's first byte, in seconds). Whatever the order, the state machine must never
// report a principal without success, nor accept a request it refused before authentication.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/security/jaas_config.hpp"
#include "broker/security/sasl_authenticator.hpp"
#include "broker/security/sasl_oauthbearer.hpp"
#include "broker/security/sasl_plain.hpp"
#include "broker/security/tls_context.hpp"

namespace {

using namespace brook::broker::security;

std::shared_ptr<const sasl_listener_settings> listener_settings() {
  static const auto settings = [] {
    auto s = std::make_shared<sasl_listener_settings>();
    s->mechanisms = {"PLAIN", "OAUTHBEARER"};
    auto users = std::make_shared<const sasl_plain_users>(std::map<std::string, std::string>{{"alice", "alice-secret"}});
    auto options = oauthbearer_validator_options::from_jaas(
        "fuzz", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                "unsecuredValidatorRequiredScope=\"read\";");
    if (!options) __builtin_trap();
    auto oauth = std::make_shared<const oauthbearer_validator_options>(*options);
    s->new_server = [users, oauth](std::string_view mechanism, bool) -> std::unique_ptr<sasl_server> {
      if (mechanism == "PLAIN") return make_plain_server(users);
      if (mechanism == "OAUTHBEARER") {
        // A fixed clock keeps a run repeatable.
        return make_oauthbearer_server(*oauth, [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)); });
      }
      return nullptr;
    };
    s->max_reauth_ms = {{"PLAIN", 5000}, {"OAUTHBEARER", 0}};
    return std::shared_ptr<const sasl_listener_settings>(s);
  }();
  return settings;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (data[0] == 0xFF) {
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    (void)parse_jaas_config("fuzz", text);
    (void)sasl_plain_users::from_jaas("fuzz", text);
    (void)oauthbearer_validator_options::from_jaas("fuzz", text);
    if (auto mapper = ssl_principal_mapper::parse(text)) (void)mapper->name_of("CN=client,OU=Apps,O=Brook");
    return 0;
  }
  sasl_authenticator auth(listener_settings());
  auto now = sasl_authenticator::clock::time_point(std::chrono::hours(1));
  bool ever_authenticated = false;
  size_t at = 1;
  while (at + 3 <= size) {
    const uint8_t op = data[at];
    const size_t length = std::min<size_t>((size_t{data[at + 1]} << 8) | data[at + 2], size - at - 3);
    std::span<const uint8_t> payload(data + at + 3, length);
    at += 3 + length;
    switch (op % 4) {
      case 0: {
        const int16_t version = auth.expects_raw_token() ? -1 : static_cast<int16_t>(op / 4 % 3);
        auto answer = auth.authenticate(payload, version, now);
        if (answer.authenticated && (!auth.authenticated() || answer.error != brook::common::kafka_error::none))
          __builtin_trap();
        ever_authenticated = ever_authenticated || answer.authenticated;
        break;
      }
      case 1: {
        const int16_t key = payload.size() >= 2 ? static_cast<int16_t>((payload[0] << 8) | payload[1]) : 3;
        const bool served = !auth.refuse(key, 0, now).has_value();
        // Before any success only ApiVersions (18) and the SASL APIs (17, 36) may be served.
        if (served && !ever_authenticated && key != 17 && key != 18 && key != 36) __builtin_trap();
        break;
      }
      case 2: {
        const std::string mechanism(payload.begin(), payload.end());
        (void)auth.handshake(mechanism, static_cast<int16_t>(op / 4 % 2));
        break;
      }
      default:
        now += std::chrono::seconds(payload.empty() ? 1 : payload[0]);
        break;
    }
    if (auth.authenticated() != ever_authenticated) __builtin_trap();
  }
  return 0;
}
