#include "broker/security/tls_context.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace brook::broker::security {

namespace {

using common::kafka_error;

common::error tls_config_error(std::string message) { return {kafka_error::invalid_config, std::move(message)}; }

// The newest OpenSSL error as text (and the queue cleared), for messages about a store.
std::string openssl_error() {
  unsigned long code = ERR_get_error();
  unsigned long last = code;
  while (code != 0) {
    last = code;
    code = ERR_get_error();
  }
  if (last == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(last, text, sizeof(text));
  return text;
}

struct bio_deleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct x509_deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct pkey_deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct p12_deleter {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
using p12_ptr = std::unique_ptr<PKCS12, p12_deleter>;

common::result<std::string> read_file_text(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return tls_config_error(fmt::format("{} {}: the file cannot be read", key, path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bio_ptr memory_bio(const std::string& text) {
  return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate of a PEM text, in order.
std::vector<x509_ptr> pem_certificates(const std::string& text) {
  std::vector<x509_ptr> out;
  auto bio = memory_bio(text);
  auto no_password = [](char*, int, int, void*) { return 0; };
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr)) out.emplace_back(cert);
  ERR_clear_error();  // the end of the text reads as an error
  return out;
}

// OpenSSL's password callback: the configured password, or none (OpenSSL's default would prompt on the
// terminal).
int give_password(char* buf, int size, int, void* user) {
  const auto* password = static_cast<const std::optional<std::string>*>(user);
  if (!*password || (*password)->size() > static_cast<size_t>(size)) return 0;
  std::copy((*password)->begin(), (*password)->end(), buf);
  return static_cast<int>((*password)->size());
}

pkey_ptr pem_private_key(const std::string& text, const std::optional<std::string>& password) {
  auto bio = memory_bio(text);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, give_password,
                                          const_cast<std::optional<std::string>*>(&password));
  return pkey_ptr(key);
}

struct pkcs12_contents {
  pkey_ptr key;
  x509_ptr cert;
  std::vector<x509_ptr> others;
};

common::result<pkcs12_contents> read_pkcs12(const std::string& key, const std::string& path,
                                            const std::optional<std::string>& password) {
  auto text = read_file_text(key, path);
  if (!text) return text.err();
  auto bio = memory_bio(*text);
  p12_ptr p12(d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) return tls_config_error(fmt::format("{} {}: not a PKCS12 file ({})", key, path, openssl_error()));
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  if (PKCS12_parse(p12.get(), password ? password->c_str() : "", &pkey, &cert, &ca) != 1)
    return tls_config_error(fmt::format("{} {}: cannot be opened with the password given ({})", key, path, openssl_error()));
  pkcs12_contents out{pkey_ptr(pkey), x509_ptr(cert), {}};
  if (ca) {
    for (int i = 0; i < sk_X509_num(ca); ++i) out.others.emplace_back(sk_X509_value(ca, i));
    sk_X509_free(ca);  // the certificates now belong to `others`
  }
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

common::result<void> load_keystore(SSL_CTX* ctx, const tls_settings& s) {
  const std::string type = upper(s.keystore_type);
  const bool inline_pem = s.keystore_certificate_chain || s.keystore_key;
  pkey_ptr key;
  std::vector<x509_ptr> chain;
  if (type == "PEM") {
    if (inline_pem) {
      if (!s.keystore_certificate_chain || !s.keystore_key)
        return tls_config_error(fmt::format(
            "listener {}: ssl.keystore.certificate.chain and ssl.keystore.key must be set together", s.listener));
      if (s.keystore_location)
        return tls_config_error(fmt::format(
            "listener {}: ssl.keystore.location cannot be set with ssl.keystore.certificate.chain and ssl.keystore.key",
            s.listener));
      chain = pem_certificates(*s.keystore_certificate_chain);
      if (chain.empty()) return tls_config_error("ssl.keystore.certificate.chain holds no PEM certificate");
      key = pem_private_key(*s.keystore_key, s.key_password);
      if (!key) return tls_config_error(fmt::format("ssl.keystore.key: no readable private key ({})", openssl_error()));
    } else {
      if (!s.keystore_location)
        return tls_config_error(fmt::format("listener {} uses TLS but has no key store: set ssl.keystore.location, or "
                                      "ssl.keystore.certificate.chain and ssl.keystore.key",
                                      s.listener));
      auto text = read_file_text("ssl.keystore.location", *s.keystore_location);
      if (!text) return text.err();
      chain = pem_certificates(*text);
      if (chain.empty())
        return tls_config_error(fmt::format("ssl.keystore.location {}: holds no PEM certificate", *s.keystore_location));
      key = pem_private_key(*text, s.key_password ? s.key_password : s.keystore_password);
      if (!key)
        return tls_config_error(fmt::format("ssl.keystore.location {}: no readable private key ({})", *s.keystore_location,
                                      openssl_error()));
    }
  } else if (type == "PKCS12") {
    if (inline_pem) return tls_config_error("ssl.keystore.certificate.chain and ssl.keystore.key need ssl.keystore.type=PEM");
    if (!s.keystore_location)
      return tls_config_error(fmt::format("listener {} uses TLS but ssl.keystore.location is not set", s.listener));
    auto p12 = read_pkcs12("ssl.keystore.location", *s.keystore_location, s.keystore_password);
    if (!p12) return p12.err();
    if (!p12->key || !p12->cert)
      return tls_config_error(fmt::format("ssl.keystore.location {}: holds no private key with its certificate",
                                    *s.keystore_location));
    key = std::move(p12->key);
    chain.push_back(std::move(p12->cert));
    for (auto& c : p12->others) chain.push_back(std::move(c));
  } else if (type == "JKS") {
    if (!s.keystore_location && inline_pem)
      return tls_config_error("ssl.keystore.certificate.chain and ssl.keystore.key need ssl.keystore.type=PEM");
    return tls_config_error(fmt::format("listener {}: ssl.keystore.type is {} (Kafka's default), which Brook cannot read; "
                                  "use PEM or PKCS12 (keytool -importkeystore -deststoretype PKCS12 converts a JKS store)",
                                  s.listener, s.keystore_type));
  } else {
    return tls_config_error(fmt::format("Invalid value {} for configuration ssl.keystore.type: PEM, PKCS12 or JKS", s.keystore_type));
  }
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1)
    return tls_config_error(fmt::format("listener {}: the key store's certificate is refused ({})", s.listener, openssl_error()));
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1)
      return tls_config_error(fmt::format("listener {}: the key store's chain is refused ({})", s.listener, openssl_error()));
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return tls_config_error(fmt::format("listener {}: the key store's private key does not match its certificate ({})",
                                  s.listener, openssl_error()));
  return {};
}

common::result<void> load_truststore(SSL_CTX* ctx, const tls_settings& s) {
  const std::string type = upper(s.truststore_type);
  std::vector<x509_ptr> trusted;
  if (s.truststore_certificates) {
    if (type != "PEM") return tls_config_error("ssl.truststore.certificates needs ssl.truststore.type=PEM");
    trusted = pem_certificates(*s.truststore_certificates);
    if (trusted.empty()) return tls_config_error("ssl.truststore.certificates holds no PEM certificate");
  } else if (s.truststore_location) {
    if (type == "PEM") {
      auto text = read_file_text("ssl.truststore.location", *s.truststore_location);
      if (!text) return text.err();
      trusted = pem_certificates(*text);
      if (trusted.empty())
        return tls_config_error(fmt::format("ssl.truststore.location {}: holds no PEM certificate", *s.truststore_location));
    } else if (type == "PKCS12") {
      auto p12 = read_pkcs12("ssl.truststore.location", *s.truststore_location, s.truststore_password);
      if (!p12) return p12.err();
      if (p12->cert) trusted.push_back(std::move(p12->cert));
      for (auto& c : p12->others) trusted.push_back(std::move(c));
      if (trusted.empty())
        return tls_config_error(fmt::format("ssl.truststore.location {}: holds no certificate", *s.truststore_location));
    } else if (type == "JKS") {
      return tls_config_error(fmt::format("listener {}: ssl.truststore.type is {} (Kafka's default), which Brook cannot "
                                    "read; use PEM or PKCS12",
                                    s.listener, s.truststore_type));
    } else {
      return tls_config_error(
          fmt::format("Invalid value {} for configuration ssl.truststore.type: PEM, PKCS12 or JKS", s.truststore_type));
    }
  } else {
    // As Kafka falls back to the JVM's trusted authorities: the system's.
    SSL_CTX_set_default_verify_paths(ctx);
    return {};
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& c : trusted) {
    if (X509_STORE_add_cert(store, c.get()) != 1) ERR_clear_error();  // a duplicate is no error
  }
  // The certificate request names the trusted authorities, as Java's TLS does (the issuers its trust
  // manager accepts): a client then offers only a certificate one of them issued, or none. Java's
  // client picks its certificate by these names.
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  if (!names) return tls_config_error("out of memory for the trusted authorities' names");
  for (const auto& c : trusted) {
    X509_NAME* name = X509_NAME_dup(X509_get_subject_name(c.get()));
    if (!name || sk_X509_NAME_push(names, name) == 0) {
      X509_NAME_free(name);
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return tls_config_error("out of memory for the trusted authorities' names");
    }
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  return {};
}

bool is_tls13_suite(std::string_view name) {
  return name == "TLS_AES_128_GCM_SHA256" || name == "TLS_AES_256_GCM_SHA384" || name == "TLS_CHACHA20_POLY1305_SHA256" ||
         name == "TLS_AES_128_CCM_SHA256" || name == "TLS_AES_128_CCM_8_SHA256";
}

common::result<void> set_ciphers(SSL_CTX* ctx, const tls_settings& s) {
  if (s.cipher_suites.empty()) return {};
  std::string tls12, tls13;
  for (const auto& suite : s.cipher_suites) {
    if (is_tls13_suite(suite)) {
      tls13 += (tls13.empty() ? "" : ":") + suite;
      continue;
    }
    // Kafka's are Java's (IANA) names; OpenSSL knows its own.
    const char* openssl_name = OPENSSL_cipher_name(suite.c_str());
    std::string name = openssl_name && std::string_view(openssl_name) != "(NONE)" ? openssl_name : suite;
    tls12 += (tls12.empty() ? "" : ":") + name;
  }
  if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, tls12.c_str()) != 1)
    return tls_config_error(fmt::format("ssl.cipher.suites: none of {} is known ({})", tls12, openssl_error()));
  if (tls12.empty()) SSL_CTX_set_cipher_list(ctx, "");  // TLS 1.3 suites only
  if (SSL_CTX_set_ciphersuites(ctx, tls13.c_str()) != 1)
    return tls_config_error(fmt::format("ssl.cipher.suites: {} is refused ({})", tls13, openssl_error()));
  return {};
}

}  // namespace

// ---- ssl.principal.mapping.rules ----

struct ssl_principal_mapper::rule {
  bool is_default = false;
  std::unique_ptr<RE2> pattern;
  std::string rewrite;  // RE2's \N form of the Java $N replacement
  char case_change = 0;  // 'L', 'U' or 0
};

common::result<ssl_principal_mapper> ssl_principal_mapper::parse(std::string_view rules) {
  ssl_principal_mapper out;
  auto invalid = [&](std::string_view why) {
    return common::error{kafka_error::invalid_config,
                         fmt::format("Invalid value {} for configuration ssl.principal.mapping.rules: {}", rules, why)};
  };
  size_t i = 0;
  auto skip_space = [&] {
    while (i < rules.size() && std::isspace(static_cast<unsigned char>(rules[i]))) ++i;
  };
  // A part of a rule up to its unescaped '/': a backslash escapes the next character.
  auto part = [&](std::string& text) -> bool {
    while (i < rules.size() && rules[i] != '/') {
      if (rules[i] == '\\' && i + 1 < rules.size()) text += rules[i++];
      text += rules[i++];
    }
    if (i >= rules.size()) return false;
    ++i;  // the '/'
    return true;
  };
  while (true) {
    skip_space();
    if (i >= rules.size()) break;
    auto r = std::make_shared<rule>();
    if (rules.substr(i).starts_with("DEFAULT")) {
      r->is_default = true;
      i += 7;
    } else if (rules.substr(i).starts_with("RULE:")) {
      i += 5;
      std::string pattern, replacement;
      if (!part(pattern) || !part(replacement)) return invalid("a RULE is RULE:pattern/replacement/[LU]");
      if (i < rules.size() && (rules[i] == 'L' || rules[i] == 'U')) r->case_change = rules[i++];
      r->pattern = std::make_unique<RE2>(pattern, RE2::Quiet);
      if (!r->pattern->ok()) return invalid(fmt::format("pattern {}: {}", pattern, r->pattern->error()));
      // Java's replacement: $N is group N, a backslash escapes the next character.
      for (size_t j = 0; j < replacement.size(); ++j) {
        const char c = replacement[j];
        if (c == '\\' && j + 1 < replacement.size()) {
          const char next = replacement[++j];
          if (next == '\\') r->rewrite += "\\\\";
          else r->rewrite += next;
        } else if (c == '$' && j + 1 < replacement.size() && std::isdigit(static_cast<unsigned char>(replacement[j + 1]))) {
          r->rewrite += '\\';
          r->rewrite += replacement[++j];
        } else {
          r->rewrite += c;
        }
      }
      std::string why;
      if (!r->pattern->CheckRewriteString(r->rewrite, &why)) return invalid(why);
    } else {
      return invalid(fmt::format("Invalid rule: {}", rules.substr(i)));
    }
    skip_space();
    if (i < rules.size()) {
      if (rules[i] != ',' && rules[i] != '\n') return invalid(fmt::format("Invalid rule: {}", rules.substr(i)));
      ++i;
    }
    out.rules_.push_back(std::move(r));
  }
  return out;
}

std::optional<std::string> ssl_principal_mapper::name_of(std::string_view subject) const {
  for (const auto& r : rules_) {
    if (r->is_default) return std::string(subject);
    if (!RE2::FullMatch(subject, *r->pattern)) continue;
    std::string name(subject);
    RE2::GlobalReplace(&name, *r->pattern, r->rewrite);
    if (r->case_change == 'L')
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (r->case_change == 'U')
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return name;
  }
  return std::nullopt;
}

// ---- the context ----

namespace {

// Kafka's listeners (Java's TLS) answer every client certificate they do not accept (unknown
// authority, expired, malformed) with the bad_certificate alert, which the client reports as "Received
// fatal alert: bad_certificate"; OpenSSL would name the reason (unknown_ca, certificate_expired...).
// X509_V_ERR_CERT_REJECTED is the verification error OpenSSL answers with that alert. (A missing
// certificate stays TLS 1.3's certificate_required, which OpenSSL sends before any callback runs, as
// Java's TLS 1.3 does; Java clients send none when no certificate of theirs has a requested issuer.)
int reject_as_bad_certificate(int ok, X509_STORE_CTX* store) {
  if (!ok) X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
  return ok;
}

}  // namespace

common::result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const tls_settings& s) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  const bool v12 = std::find(s.enabled_protocols.begin(), s.enabled_protocols.end(), "TLSv1.2") != s.enabled_protocols.end();
  const bool v13 = std::find(s.enabled_protocols.begin(), s.enabled_protocols.end(), "TLSv1.3") != s.enabled_protocols.end();
  if (!v12 && !v13) return tls_config_error("ssl.enabled.protocols: enable TLSv1.2, TLSv1.3 or both");
  SSL_CTX_set_min_proto_version(native, v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(native, v13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (auto r = load_keystore(native, s); !r) return r.err();
  if (auto r = set_ciphers(native, s); !r) return r.err();
  if (s.client_auth != tls_client_auth::none) {
    if (auto r = load_truststore(native, s); !r) return r.err();
    int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    if (s.client_auth == tls_client_auth::required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(native, mode, reject_as_bad_certificate);
  }
  // Resumed sessions of verified clients need a context id.
  static constexpr unsigned char session_context[] = "brook";
  SSL_CTX_set_session_id_context(native, session_context, sizeof(session_context) - 1);
  return ctx;
}

std::string certificate_subject(const void* x509) {
  X509_NAME* name = X509_get_subject_name(static_cast<const X509*>(x509));
  if (!name) return {};
  bio_ptr out(BIO_new(BIO_s_mem()));
  // RFC 2253 as Java prints it: most specific first, non-ASCII characters left as UTF-8.
  const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(out.get(), name, 0, flags) < 0) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace brook::broker::security
