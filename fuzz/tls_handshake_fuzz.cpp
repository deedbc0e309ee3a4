// libFuzzer target: the broker's side of a TLS handshake (broker/security/tls_context.hpp) fed
// arbitrary bytes as what a client sends, through memory BIOs (no sockets). Byte 0 picks the context:
// even without client certificates, odd with ssl.client.auth=required. The key and certificate are
// made once per process with OpenSSL; nothing is stored.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "broker/security/tls_context.hpp"

namespace {

using namespace brook::broker::security;

std::string pem_of(int (*write)(BIO*, void*), void* object) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio, object);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

tls_settings made_settings() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  X509_sign(cert, key, EVP_sha256());
  tls_settings s;
  s.listener = "FUZZ";
  s.keystore_type = "PEM";
  s.keystore_key = pem_of([](BIO* b, void* k) { return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr, nullptr); }, key);
  s.keystore_certificate_chain = pem_of([](BIO* b, void* c) { return PEM_write_bio_X509(b, static_cast<X509*>(c)); }, cert);
  s.truststore_type = "PEM";
  s.truststore_certificates = s.keystore_certificate_chain;
  X509_free(cert);
  EVP_PKEY_free(key);
  return s;
}

SSL_CTX* context(bool client_auth) {
  static const auto contexts = [] {
    auto s = made_settings();
    auto plain = make_tls_context(s);
    s.client_auth = tls_client_auth::required;
    auto mutual = make_tls_context(s);
    if (!plain || !mutual) __builtin_trap();
    return std::pair{*plain, *mutual};
  }();
  return (client_auth ? contexts.second : contexts.first)->native_handle();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  SSL* ssl = SSL_new(context(data[0] & 1));
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);  // the SSL owns both
  SSL_set_accept_state(ssl);
  // The client's bytes arrive in pieces (byte 0's upper bits pick the piece size), as from a socket.
  const size_t piece = 1 + (data[0] >> 1) * 37;
  size_t at = 1;
  char sink[4096];
  while (true) {
    if (at < size) {
      const size_t n = std::min(piece, size - at);
      BIO_write(in, data + at, static_cast<int>(n));
      at += n;
    }
    const int r = SSL_is_init_finished(ssl) ? SSL_read(ssl, sink, sizeof sink) : SSL_do_handshake(ssl);
    while (BIO_read(out, sink, sizeof sink) > 0) {
    }
    const int error = SSL_get_error(ssl, r);
    if (r <= 0 && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) break;
    if (at >= size && r <= 0) break;
  }
  SSL_free(ssl);
  return 0;
}
