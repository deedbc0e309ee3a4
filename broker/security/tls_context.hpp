// TLS for SSL and SASL_SSL listeners: an OpenSSL context built from Kafka's `ssl.*` keys, and the
// principal a client certificate stands for (ssl.principal.mapping.rules).
//
// Key and trust stores are read as Kafka reads PEM stores (ssl.keystore.type=PEM: a file holding the
// private key and the certificate chain, or the two inline in ssl.keystore.key and
// ssl.keystore.certificate.chain; ssl.truststore.type=PEM: a file or ssl.truststore.certificates) or
// as PKCS12 files. JKS, Java's own format, is refused with a message saying so.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace brook::broker::security {

enum class tls_client_auth { none, requested, required };

// One listener's `ssl.*` settings (listener.name.<l>.ssl.* over ssl.*); optional fields are unset keys.
struct tls_settings {
  std::string listener;  // for error messages
  std::string keystore_type = "JKS";
  std::optional<std::string> keystore_location, keystore_password, key_password, keystore_certificate_chain,
      keystore_key;
  std::string truststore_type = "JKS";
  std::optional<std::string> truststore_location, truststore_password, truststore_certificates;
  tls_client_auth client_auth = tls_client_auth::none;
  std::vector<std::string> enabled_protocols{"TLSv1.2", "TLSv1.3"};
  std::vector<std::string> cipher_suites;
  std::string principal_mapping_rules = "DEFAULT";
};

// Maps a certificate subject (RFC 2253, as Java's X500Principal.getName() prints it) to a principal
// name with Kafka's ssl.principal.mapping.rules: a comma-separated list of `DEFAULT` (the subject
// itself) and `RULE:<regex>/<replacement>/[L|U]`, the first rule whose regex matches the whole
// subject deciding. Immutable once parsed.
class ssl_principal_mapper {
 public:
  static common::result<ssl_principal_mapper> parse(std::string_view rules);
  // The principal name; nullopt when no rule applies (Kafka refuses such a client).
  std::optional<std::string> name_of(std::string_view subject) const;

 private:
  struct rule;
  std::vector<std::shared_ptr<const rule>> rules_;
};

// The SSL context of one listener; errors are invalid_config naming the key and the problem.
common::result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const tls_settings& settings);

// The RFC 2253 subject of an OpenSSL X509 certificate (X509*), most specific part first.
std::string certificate_subject(const void* x509);

}  // namespace brook::broker::security
