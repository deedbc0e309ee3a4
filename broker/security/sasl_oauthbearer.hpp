// SASL/OAUTHBEARER on the broker side (RFC 7628), as Kafka's OAuthBearerSaslServer with its default
// token validator, OAuthBearerUnsecuredValidatorCallbackHandler: the bearer token is an unsecured JWS
// (RFC 7515 with `"alg":"none"` and no signature), meant for development only, whose claims name the
// principal and bound the session (KIP-368). What a stock Java client sends with
// `OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice";` validates here.
//
// The exchange, as Kafka runs it:
//   client: n,[a=<authzid>],\x01auth=Bearer <token>\x01[<extension>=<value>\x01]...\x01
//   server: success with an empty message; or, for a token it refuses, a challenge holding the RFC 6750
//           error ({"status":"invalid_token"}), which the client acknowledges with a lone \x01, and the
//           server then fails with that same JSON as the message.
// A client first message that breaks the grammar fails at once with Kafka's message for a mechanism's
// SaslException; an authzid that is not the token's principal fails at once too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "broker/security/sasl_server.hpp"
#include "common/error.hpp"

namespace brook::broker::security {

// The validator's options, the `unsecuredValidator*` options of a listener's OAuthBearerLoginModule
// JAAS entry. Immutable once built; shared by every connection of the listener.
struct oauthbearer_validator_options {
  // unsecuredValidatorPrincipalClaimName: the claim holding the principal's name.
  std::string principal_claim_name = "sub";
  // unsecuredValidatorScopeClaimName: the claim holding the token's scope (a string or a list of strings).
  std::string scope_claim_name = "scope";
  // unsecuredValidatorRequiredScope: space-separated scope items a token must all carry (in the order given).
  std::vector<std::string> required_scope;
  // unsecuredValidatorAllowableClockSkewMs: how far `iat` may lie in the future and `exp` in the past.
  std::chrono::milliseconds allowable_clock_skew{0};

  // From the JAAS configuration of a listener's OAUTHBEARER mechanism: the options of its
  // org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule entry, checked as Kafka checks
  // them (blank options take their defaults; values are trimmed). Errors (invalid_config, naming
  // `config_name`): no such entry, a clock skew that is not a non-negative 32-bit integer, a required
  // scope item with a character RFC 6749 does not allow.
  static common::result<oauthbearer_validator_options> from_jaas(std::string_view config_name,
                                                                 std::string_view jaas_text);
};

// What a client's first message carries (RFC 7628 section 3.1, with Kafka's grammar).
struct oauthbearer_client_first_message {
  std::string authorization_id;  // empty when the gs2 header names none; as sent (=2C and =3D undecoded, as in Kafka)
  std::string token;             // the bearer token after "auth=Bearer "
  // The SASL extensions: every key/value pair but `auth`. Names are ASCII letters, values printable
  // ASCII, space, tab, CR or LF (Kafka's rules); a name given twice keeps its last value.
  std::map<std::string, std::string> extensions;
};

// Parses a client first message. Errors (sasl_authentication_failed) carry Kafka's reason, which Kafka
// logs but does not send: the client is told only that its credentials were invalid.
common::result<oauthbearer_client_first_message> parse_oauthbearer_client_first_message(std::string_view message);

// A token the validator accepted.
struct oauthbearer_token {
  std::string principal;
  std::set<std::string> scope;
  int64_t expiration_ms = 0;             // `exp`, in ms since the epoch
  std::optional<int64_t> issued_at_ms;   // `iat`, when present
};

// The validator's verdict on one token: the token, or why it was refused.
struct oauthbearer_token_check {
  std::optional<oauthbearer_token> token;
  // Refused: the RFC 6750 error status ("invalid_token", or "insufficient_scope" when a required scope
  // item is missing), the scope the broker requires (insufficient_scope only, as Kafka prints a list:
  // "[a, b]") and the reason, for the broker's log.
  std::string error_status;
  std::optional<std::string> error_scope;
  std::string reason;
};

// Validates an unsecured JWS compact serialization at time `now`, as Kafka's unsecured validator.
oauthbearer_token_check validate_unsecured_jws(std::string_view token, const oauthbearer_validator_options& options,
                                               std::chrono::system_clock::time_point now);

// The time the validator checks `iat` and `exp` against; tests pass a fake clock.
using oauthbearer_clock = std::function<std::chrono::system_clock::time_point()>;

// One OAUTHBEARER exchange. Owned by the connection being authenticated, used on its network thread;
// the options are copied, the clock is called once per token. States: awaiting the client's first
// message; refused a token and awaiting the client's \x01 acknowledgement (any other message is taken as
// a fresh first message, as Kafka does); done (authenticated or failed).
class oauthbearer_sasl_server final : public sasl_server {
 public:
  oauthbearer_sasl_server(oauthbearer_validator_options options, oauthbearer_clock clock);

  std::string_view mechanism() const override { return "OAUTHBEARER"; }
  sasl_step respond(std::span<const uint8_t> client_token) override;

  // Authenticated: the client's SASL extensions, all of which the unsecured validator accepts (Kafka's
  // negotiated properties). Empty before.
  const std::map<std::string, std::string>& extensions() const { return extensions_; }
  // Why the last refusal or failure happened (a token's fault, a malformed message), for the broker's
  // log: the client is not told. Empty when nothing was refused.
  const std::string& rejection_reason() const { return rejection_reason_; }

 private:
  enum class state { awaiting_first_message, awaiting_error_acknowledgement, done };

  sasl_step first_message(std::string_view message);

  oauthbearer_validator_options options_;
  oauthbearer_clock clock_;
  state state_ = state::awaiting_first_message;
  std::string error_json_;  // the challenge sent for a refused token, and the final failure's message
  std::map<std::string, std::string> extensions_;
  std::string rejection_reason_;
};

// A server for one exchange on a listener configured with `options`; `clock` defaults to the system clock.
std::unique_ptr<oauthbearer_sasl_server> make_oauthbearer_server(
    const oauthbearer_validator_options& options,
    oauthbearer_clock clock = [] { return std::chrono::system_clock::now(); });

}  // namespace brook::broker::security
