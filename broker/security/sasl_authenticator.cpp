#include "broker/security/sasl_authenticator.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace brook::broker::security {

namespace {
using common::kafka_error;
constexpr int16_t sasl_handshake_key = 17;
constexpr int16_t api_versions_key = 18;
constexpr int16_t sasl_authenticate_key = 36;
}  // namespace

sasl_authenticator::sasl_authenticator(std::shared_ptr<const sasl_listener_settings> settings)
    : settings_(std::move(settings)) {}

std::optional<std::string> sasl_authenticator::refuse(int16_t api_key, int16_t, clock::time_point now,
                                                      bool unsupported_version) {
  switch (state_) {
    case state::failed:
      return "its authentication failed";
    case state::handshake_or_versions:
      if (api_key == api_versions_key) {
        if (!unsupported_version) state_ = state::handshake;  // the client retries with a version we serve
        return std::nullopt;
      }
      if (api_key == sasl_handshake_key) return std::nullopt;
      return fmt::format("Unexpected Kafka request of API key {} during SASL handshake.", api_key);
    case state::handshake:
      if (api_key == sasl_handshake_key) return std::nullopt;
      if (api_key == api_versions_key)
        return "Unexpected ApiVersions request received during SASL authentication state HANDSHAKE_REQUEST";
      return fmt::format("Unexpected Kafka request of API key {} during SASL handshake.", api_key);
    case state::authenticate:
      if (api_key == sasl_authenticate_key && kafka_headers_) return std::nullopt;
      return fmt::format("Unexpected Kafka request of API key {} during SASL authentication.", api_key);
    case state::complete:
      // A client that re-authenticates (KIP-368) starts with a SaslHandshake, even past its session's end.
      if (api_key == sasl_handshake_key && client_reauthenticates_) return std::nullopt;
      if (session_expiry_ && now >= *session_expiry_) return "its SASL session expired";
      return std::nullopt;
  }
  return std::nullopt;
}

sasl_authenticator::handshake_answer sasl_authenticator::handshake(std::string_view mechanism, int16_t version) {
  handshake_answer answer;
  answer.mechanisms = settings_->mechanisms;
  if (state_ == state::complete) {
    if (!client_reauthenticates_) {
      // Kafka's answer to a SaslHandshake on an authenticated connection that cannot re-authenticate.
      answer.error = kafka_error::illegal_sasl_state;
      return answer;
    }
    reauthenticating_ = true;
  } else if (state_ != state::handshake_or_versions && state_ != state::handshake) {
    answer.error = kafka_error::illegal_sasl_state;
    answer.close_after = true;
    state_ = state::failed;
    return answer;
  }
  kafka_headers_ = version >= 1;
  bad_reauth_mechanism_.reset();
  const bool enabled =
      std::find(settings_->mechanisms.begin(), settings_->mechanisms.end(), mechanism) != settings_->mechanisms.end();
  if (!enabled) {
    answer.error = kafka_error::unsupported_sasl_mechanism;
    answer.close_after = true;
    state_ = state::failed;
    return answer;
  }
  state_ = state::authenticate;
  if (reauthenticating_ && mechanism != mechanism_) {
    // Answered as accepted, as Kafka does; the first token then fails the re-authentication.
    server_.reset();
    bad_reauth_mechanism_ = std::string(mechanism);
    return answer;
  }
  mechanism_ = std::string(mechanism);
  server_ = settings_->new_server(mechanism, reauthenticating_);
  return answer;
}

sasl_authenticator::authenticate_answer sasl_authenticator::authenticate(std::span<const uint8_t> token,
                                                                         int16_t version, clock::time_point now) {
  authenticate_answer answer;
  if (state_ == state::complete && version >= 0) {
    answer.error = kafka_error::illegal_sasl_state;
    answer.message = "SaslAuthenticate request received after successful authentication";
    return answer;
  }
  auto fail = [&](std::string message) {
    state_ = state::failed;
    server_.reset();
    answer.error = kafka_error::sasl_authentication_failed;
    answer.message = std::move(message);
    answer.close_after = true;
    return answer;
  };
  if (state_ != state::authenticate) {
    state_ = state::failed;
    answer.error = kafka_error::illegal_sasl_state;
    answer.message = "SaslAuthenticate request received before a SaslHandshake";
    answer.close_after = true;
    return answer;
  }
  if (version >= 1) client_reauthenticates_ = true;
  if (bad_reauth_mechanism_) {
    return fail(fmt::format("SASL mechanism '{}' requested by client is not supported for re-authentication of mechanism '{}'",
                            *bad_reauth_mechanism_, mechanism_));
  }
  if (!server_) return fail(fmt::format("SASL mechanism {} is not available", mechanism_));
  sasl_step step = server_->respond(token);
  switch (step.state) {
    case sasl_step::status::challenge:
      answer.token = std::move(step.token);
      return answer;
    case sasl_step::status::failed:
      return fail(std::move(step.message));
    case sasl_step::status::authenticated:
      break;
  }
  std::string principal = "User:" + step.user;
  if (reauthenticating_ && principal_ && *principal_ != principal) {
    const std::string before = principal_->substr(5);
    return fail(fmt::format("Cannot change principals during re-authentication from User.{}: User.{}", before, step.user));
  }
  // Kafka's session lifetime: the sooner of connections.max.reauth.ms and the credential's expiry.
  int64_t max_reauth = 0;
  if (auto it = settings_->max_reauth_ms.find(mechanism_); it != settings_->max_reauth_ms.end()) max_reauth = it->second;
  std::optional<int64_t> lifetime;
  if (step.credential_lifetime) {
    const int64_t credential = std::max<int64_t>(0, step.credential_lifetime->count());
    lifetime = max_reauth > 0 ? std::min(credential, max_reauth) : credential;
  } else if (max_reauth > 0) {
    lifetime = max_reauth;
  }
  session_expiry_.reset();
  if (lifetime) session_expiry_ = now + std::chrono::milliseconds(*lifetime);
  answer.session_lifetime_ms = lifetime.value_or(0);
  answer.token = std::move(step.token);
  answer.authenticated = true;
  principal_ = std::move(principal);
  state_ = state::complete;
  reauthenticating_ = false;
  server_.reset();
  return answer;
}

}  // namespace brook::broker::security
