// The SASL state of one connection on a SASL_PLAINTEXT or SASL_SSL listener, as Kafka's
// SaslServerAuthenticator keeps it: which requests may be served, the mechanism the client chose,
// the exchange in progress, the principal once authenticated and when its session ends (KIP-368).
//
// Owned by the connection's shared state (connection_state::sasl), network thread only; it does no
// I/O (the connection and the SaslHandshake/SaslAuthenticate handlers act on its answers) and takes
// the time as an argument, so tests drive it with a fake clock.
//
// States: handshake (only ApiVersions, once, and SaslHandshake), authenticate (SaslAuthenticate, or
// raw tokens after a SaslHandshake v0), complete (everything; a SaslHandshake from a client that
// re-authenticates starts the exchange again, the principal and mechanism staying what they were),
// failed (the connection closes once the failure is answered).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "broker/security/sasl_server.hpp"
#include "common/error.hpp"

namespace brook::broker::security {

// What a SASL listener offers: its mechanisms, in configuration order, and how to start each.
struct sasl_listener_settings {
  std::vector<std::string> mechanisms;
  // A new exchange of an enabled mechanism; `reauthentication`: on an authenticated connection (KIP-368),
  // which some mechanisms' failure messages say.
  std::function<std::unique_ptr<sasl_server>(std::string_view mechanism, bool reauthentication)> new_server;
  // connections.max.reauth.ms per mechanism (0: sessions do not end unless their credential expires).
  std::map<std::string, int64_t, std::less<>> max_reauth_ms;
};

class sasl_authenticator {
 public:
  using clock = std::chrono::steady_clock;

  explicit sasl_authenticator(std::shared_ptr<const sasl_listener_settings> settings);

  // Whether a request of `api_key` may be served now; nullopt if yes, else why the connection closes
  // without an answer (Kafka's wording). An ApiVersions of a version the broker does not serve (answered
  // UNSUPPORTED_VERSION, KIP-511) does not use up the one ApiVersions allowed before the handshake.
  std::optional<std::string> refuse(int16_t api_key, int16_t api_version, clock::time_point now,
                                    bool unsupported_version = false);

  struct handshake_answer {
    common::kafka_error error = common::kafka_error::none;
    std::vector<std::string> mechanisms;  // the listener's, always
    bool close_after = false;             // an unsupported mechanism closes the connection
  };
  handshake_answer handshake(std::string_view mechanism, int16_t version);

  struct authenticate_answer {
    common::kafka_error error = common::kafka_error::none;
    std::string message;  // the error message for the client
    std::string token;    // the mechanism's challenge or final message
    int64_t session_lifetime_ms = 0;
    bool close_after = false;  // failed: the answer is held back (connection.failed.authentication.delay.ms) and then closes
    bool authenticated = false;  // this token completed the exchange
  };
  // One client token: SaslAuthenticate's auth_bytes (`version` its version) or, after SaslHandshake
  // v0, a raw token frame (`version` -1). `now` ends the session's clock.
  authenticate_answer authenticate(std::span<const uint8_t> token, int16_t version, clock::time_point now);

  // After SaslHandshake v0: the next frame is a raw SASL token, not a Kafka request.
  bool expects_raw_token() const { return state_ == state::authenticate && !kafka_headers_; }
  bool authenticated() const { return principal_.has_value(); }
  // "User:<name>" once authenticated.
  const std::optional<std::string>& principal() const { return principal_; }
  const std::string& mechanism() const { return mechanism_; }
  std::optional<clock::time_point> session_expiry() const { return session_expiry_; }

 private:
  enum class state { handshake_or_versions, handshake, authenticate, complete, failed };

  std::shared_ptr<const sasl_listener_settings> settings_;
  state state_ = state::handshake_or_versions;
  bool kafka_headers_ = false;         // SaslHandshake v1+: tokens come in SaslAuthenticate requests
  bool reauthenticating_ = false;      // a completed session is being renewed
  bool client_reauthenticates_ = false;  // some SaslAuthenticate was v1+ (KIP-368)
  std::string mechanism_;
  std::unique_ptr<sasl_server> server_;
  std::optional<std::string> bad_reauth_mechanism_;  // a re-authentication asked for another mechanism
  std::optional<std::string> principal_;
  std::optional<clock::time_point> session_expiry_;
};

}  // namespace brook::broker::security
