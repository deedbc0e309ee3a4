// TLS contexts from Kafka's ssl.* settings (PEM inline and in files, PKCS12, refusals) and the
// mapping of certificate subjects to principals. Keys and certificates are made here, never stored.
#include "broker/security/tls_context.hpp"

#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>

namespace brook::broker::security {

namespace {

struct made_identity {
  std::string key_pem;
  std::string cert_pem;
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  made_identity() = default;
  made_identity(const made_identity&) = delete;
  ~made_identity() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(size));
  BIO_free(bio);
  return out;
}

// A P-256 key and a self-signed certificate for O=Brook, OU=Apps, CN=<cn>; the key in PEM encrypted
// with `key_password` when given.
void make_identity(made_identity& id, const std::string& cn, const char* key_password = nullptr) {
  id.key = EVP_EC_gen("P-256");
  REQUIRE(id.key);
  id.cert = X509_new();
  X509_set_version(id.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(id.cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(id.cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(id.cert), 3600);
  X509_set_pubkey(id.cert, id.key);
  X509_NAME* name = X509_get_subject_name(id.cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Brook"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Apps"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(id.cert, name);
  REQUIRE(X509_sign(id.cert, id.key, EVP_sha256()) > 0);
  BIO* key_bio = BIO_new(BIO_s_mem());
  if (key_password) {
    REQUIRE(PEM_write_bio_PKCS8PrivateKey(key_bio, id.key, EVP_aes_256_cbc(), key_password,
                                          static_cast<int>(strlen(key_password)), nullptr, nullptr) == 1);
  } else {
    REQUIRE(PEM_write_bio_PrivateKey(key_bio, id.key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  }
  id.key_pem = bio_text(key_bio);
  BIO* cert_bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_X509(cert_bio, id.cert) == 1);
  id.cert_pem = bio_text(cert_bio);
}

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    path = std::filesystem::temp_directory_path() /
           ("brook-tls-test-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

tls_settings pem_inline(const made_identity& id) {
  tls_settings s;
  s.listener = "SSL";
  s.keystore_type = "PEM";
  s.keystore_certificate_chain = id.cert_pem;
  s.keystore_key = id.key_pem;
  return s;
}

std::string refusal(const tls_settings& s) {
  auto ctx = make_tls_context(s);
  REQUIRE_FALSE(ctx);
  CHECK(ctx.err().code == common::kafka_error::invalid_config);
  return ctx.err().message;
}

// The alert (SSL_AD_...) a client with `client_identity` (none: no certificate) reads when the server
// context refuses its handshake; 0 when the handshake completes. Both ends talk over a pair of memory BIOs.
int handshake_alert(boost::asio::ssl::context& server_context, const made_identity* client_identity) {
  static thread_local int alert;
  alert = 0;
  SSL_CTX* client_context = SSL_CTX_new(TLS_client_method());
  REQUIRE(client_context);
  if (client_identity) {
    REQUIRE(SSL_CTX_use_certificate(client_context, client_identity->cert) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(client_context, client_identity->key) == 1);
  }
  SSL* server = SSL_new(server_context.native_handle());
  SSL* client = SSL_new(client_context);
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  REQUIRE(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) == 1);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  SSL_set_info_callback(client, [](const SSL*, int where, int value) {
    if (where & SSL_CB_READ_ALERT) alert = value & 0xff;
  });
  bool server_done = false;
  // Under TLS 1.3 the client has finished before the server looks at its certificate: it reads on to
  // receive the server's verdict.
  for (int round = 0; round < 10 && !server_done && alert == 0; ++round) {
    char byte;
    if (SSL_is_init_finished(client)) {
      SSL_read(client, &byte, 1);
    } else {
      SSL_do_handshake(client);
    }
    server_done = SSL_do_handshake(server) == 1;
  }
  SSL_free(client);
  SSL_free(server);
  SSL_CTX_free(client_context);
  ERR_clear_error();
  return server_done ? 0 : alert;
}

}  // namespace

TEST_CASE("tls context: a refused client certificate gets bad_certificate, as from Kafka", "[security][tls]") {
  made_identity broker;
  make_identity(broker, "broker");
  made_identity client;
  make_identity(client, "app-client");
  made_identity foreign;
  make_identity(foreign, "app-client");
  auto s = pem_inline(broker);
  s.truststore_type = "PEM";
  s.truststore_certificates = client.cert_pem;  // a self-signed certificate trusted as it is
  for (const auto auth : {tls_client_auth::required, tls_client_auth::requested}) {
    s.client_auth = auth;
    auto ctx = make_tls_context(s);
    REQUIRE(ctx);
    CHECK(handshake_alert(**ctx, &client) == 0);
    // The certificate request names the trusted authorities, as Java's does: the one trusted subject.
    STACK_OF(X509_NAME)* requested_issuers = SSL_CTX_get_client_CA_list((*ctx)->native_handle());
    REQUIRE(sk_X509_NAME_num(requested_issuers) == 1);
    CHECK(X509_NAME_cmp(sk_X509_NAME_value(requested_issuers, 0), X509_get_subject_name(client.cert)) == 0);
    // OpenSSL would answer unknown_ca.
    CHECK(handshake_alert(**ctx, &foreign) == SSL_AD_BAD_CERTIFICATE);
  }
  // Without a certificate: TLS 1.3's own alert when one is required (Kafka's Java TLS: bad_certificate).
  s.client_auth = tls_client_auth::required;
  auto required = make_tls_context(s);
  REQUIRE(required);
  CHECK(handshake_alert(**required, nullptr) == SSL_AD_CERTIFICATE_REQUIRED);
  s.client_auth = tls_client_auth::requested;
  auto requested = make_tls_context(s);
  REQUIRE(requested);
  CHECK(handshake_alert(**requested, nullptr) == 0);
}

TEST_CASE("tls context: PEM key stores inline and in a file", "[security][tls]") {
  made_identity broker;
  make_identity(broker, "broker");
  CHECK(make_tls_context(pem_inline(broker)));

  temp_dir dir;
  tls_settings file;
  file.keystore_type = "PEM";
  file.keystore_location = dir.write("broker.pem", broker.key_pem + broker.cert_pem);
  CHECK(make_tls_context(file));

  SECTION("an encrypted key needs ssl.key.password") {
    made_identity locked;
    make_identity(locked, "broker", "key-secret");
    auto s = pem_inline(locked);
    CHECK(refusal(s).find("ssl.keystore.key") != std::string::npos);
    s.key_password = "key-secret";
    CHECK(make_tls_context(s));
  }
  SECTION("a key that is not the certificate's") {
    made_identity other;
    make_identity(other, "other");
    auto s = pem_inline(broker);
    s.keystore_key = other.key_pem;
    CHECK(refusal(s).find("does not match") != std::string::npos);
  }
  SECTION("the chain without the key, or both with a location") {
    auto s = pem_inline(broker);
    s.keystore_key.reset();
    CHECK(refusal(s).find("must be set together") != std::string::npos);
    s = pem_inline(broker);
    s.keystore_location = file.keystore_location;
    CHECK(refusal(s).find("cannot be set with") != std::string::npos);
  }
}

TEST_CASE("tls context: PKCS12 key and trust stores with their passwords", "[security][tls]") {
  made_identity broker;
  make_identity(broker, "broker");
  PKCS12* p12 = PKCS12_create("store-secret", "broker", broker.key, broker.cert, nullptr, 0, 0, 0, 0, 0);
  REQUIRE(p12);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(i2d_PKCS12_bio(bio, p12) == 1);
  PKCS12_free(p12);
  temp_dir dir;
  const std::string path = dir.write("broker.p12", bio_text(bio));

  tls_settings s;
  s.keystore_type = "PKCS12";
  s.keystore_location = path;
  s.keystore_password = "store-secret";
  CHECK(make_tls_context(s));
  s.keystore_password = "wrong";
  CHECK(refusal(s).find("cannot be opened") != std::string::npos);

  made_identity client;
  make_identity(client, "client");
  tls_settings mtls = pem_inline(broker);
  mtls.client_auth = tls_client_auth::required;
  mtls.truststore_type = "PEM";
  mtls.truststore_certificates = client.cert_pem;
  CHECK(make_tls_context(mtls));
  mtls.truststore_certificates = "not a certificate";
  CHECK(refusal(mtls).find("ssl.truststore.certificates") != std::string::npos);
}

TEST_CASE("tls context: what Brook cannot serve is refused by name", "[security][tls]") {
  tls_settings jks;
  jks.listener = "SSL";
  jks.keystore_location = "/etc/kafka/broker.jks";
  const auto message = refusal(jks);
  CHECK(message.find("JKS") != std::string::npos);
  CHECK(message.find("PKCS12") != std::string::npos);

  tls_settings none;
  none.listener = "SSL";
  none.keystore_type = "PEM";
  CHECK(refusal(none).find("no key store") != std::string::npos);

  made_identity broker;
  make_identity(broker, "broker");
  auto no_protocols = pem_inline(broker);
  no_protocols.enabled_protocols.clear();
  CHECK(refusal(no_protocols).find("ssl.enabled.protocols") != std::string::npos);
  auto suites = pem_inline(broker);
  suites.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"};
  CHECK(make_tls_context(suites));
  suites.cipher_suites = {"NO_SUCH_SUITE"};
  CHECK(refusal(suites).find("ssl.cipher.suites") != std::string::npos);
}

TEST_CASE("tls context: a certificate subject prints as RFC 2253, most specific first", "[security][tls]") {
  made_identity client;
  make_identity(client, "client-app");
  CHECK(certificate_subject(client.cert) == "CN=client-app,OU=Apps,O=Brook");
}

TEST_CASE("ssl principal mapping rules", "[security][tls]") {
  const std::string subject = "CN=Client-App,OU=ServiceUsers,O=Brook";
  auto map = [&](std::string_view rules) {
    auto mapper = ssl_principal_mapper::parse(rules);
    REQUIRE(mapper);
    return mapper->name_of(subject);
  };
  CHECK(map("DEFAULT") == subject);
  CHECK(map("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/") == "Client-App");
  CHECK(map("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L") == "client-app");
  CHECK(map("RULE:^CN=(.*?),OU=(.*?),O=(.*)$/$1@$3/U") == "CLIENT-APP@BROOK");
  // The first rule that matches decides; one that does not is skipped.
  CHECK(map("RULE:^CN=(.*?),OU=Admins.*$/admin/, RULE:^CN=(.*?),.*$/$1/L, DEFAULT") == "client-app");
  CHECK(map("RULE:^CN=(.*?),OU=Admins.*$/admin/") == std::nullopt);
  // An escaped slash belongs to the pattern.
  auto slash = ssl_principal_mapper::parse("RULE:^CN=(.*?)\\/x$/$1/");
  REQUIRE(slash);
  CHECK(slash->name_of("CN=a/x") == "a");

  auto bad = ssl_principal_mapper::parse("RULE:^CN=(.*)$");
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message.find("ssl.principal.mapping.rules") != std::string::npos);
  CHECK_FALSE(ssl_principal_mapper::parse("SOMETHING"));
  CHECK_FALSE(ssl_principal_mapper::parse("RULE:(unclosed/$1/"));
}

}  // namespace brook::broker::security
