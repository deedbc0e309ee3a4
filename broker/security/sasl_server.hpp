// The broker's half of one SASL exchange (RFC 4422), as a mechanism serves it: fed the client's
// tokens in order (SaslAuthenticate's auth_bytes, or the raw frames after SaslHandshake v0), it
// answers each with a challenge, success or failure.
//
// One per authentication attempt, owned by the connection being authenticated and used on the
// network thread only: respond() must not block (credentials are looked up in memory).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace brook::broker::security {

struct sasl_step {
  enum class status { challenge, authenticated, failed };
  status state = status::failed;
  // To the client: the next challenge, or the mechanism's final message on success (may be empty).
  std::string token;
  // authenticated: the principal's name; the connection's principal is "User:<name>".
  std::string user;
  // failed: the message for the client (SASL_AUTHENTICATION_FAILED), Kafka's wording; it never says
  // which part of the credentials was wrong.
  std::string message;
  // authenticated with a credential that expires (an OAUTHBEARER token): how long it stays valid,
  // which bounds the session (KIP-368).
  std::optional<std::chrono::milliseconds> credential_lifetime;

  static sasl_step challenge_with(std::string token) { return {status::challenge, std::move(token), {}, {}, {}}; }
  static sasl_step success(std::string user, std::string token = {}) {
    return {status::authenticated, std::move(token), std::move(user), {}, {}};
  }
  static sasl_step failure(std::string message) { return {status::failed, {}, {}, std::move(message), {}}; }
};

class sasl_server {
 public:
  virtual ~sasl_server() = default;
  // The mechanism's registered name: "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER".
  virtual std::string_view mechanism() const = 0;
  // The client's next token. After authenticated or failed the exchange is over.
  virtual sasl_step respond(std::span<const uint8_t> client_token) = 0;
};

}  // namespace brook::broker::security
