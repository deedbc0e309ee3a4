// What one listener asks of its clients, built once at startup from the listener's settings
// (listener.name.<listener>.<key> over the broker-wide key, as Kafka reads them): TLS for SSL and
// SASL_SSL (the OpenSSL context, whether client certificates are asked for, how a certificate's
// subject maps to a principal) and SASL for SASL_PLAINTEXT and SASL_SSL (the mechanisms offered,
// their users and session limits). Immutable afterwards; shared by the listener's connections.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "broker/config/server_config.hpp"
#include "broker/security/sasl_authenticator.hpp"
#include "broker/security/scram_credentials.hpp"
#include "broker/security/tls_context.hpp"
#include "common/error.hpp"

namespace brook::broker::security {

struct listener_security {
  std::string listener;
  std::string protocol;  // PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
  std::shared_ptr<boost::asio::ssl::context> tls;  // SSL and SASL_SSL only
  tls_client_auth client_auth = tls_client_auth::none;
  std::shared_ptr<const ssl_principal_mapper> principal_mapper;  // TLS only
  std::shared_ptr<const sasl_listener_settings> sasl;            // SASL_PLAINTEXT and SASL_SSL only
};

// The security of `listener`; errors (invalid_config) name the key and the problem, so that a broker
// with a listener it cannot serve does not start. SCRAM exchanges read `scram` (the broker's stored
// credentials), which must outlive the listener's connections.
common::result<std::shared_ptr<const listener_security>> build_listener_security(const server_config& config,
                                                                                  const listener_endpoint& listener,
                                                                                  const scram_credentials& scram);

}  // namespace brook::broker::security
