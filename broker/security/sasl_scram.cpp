#include "broker/security/sasl_scram.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace brook::broker::security {

namespace {

constexpr std::string_view scram_base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string scram_base64(std::span<const uint8_t> in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const uint32_t n = (uint32_t{in[i]} << 16) | (i + 1 < in.size() ? uint32_t{in[i + 1]} << 8 : 0) |
                       (i + 2 < in.size() ? uint32_t{in[i + 2]} : 0);
    out.push_back(scram_base64_alphabet[(n >> 18) & 63]);
    out.push_back(scram_base64_alphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? scram_base64_alphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? scram_base64_alphabet[n & 63] : '=');
  }
  return out;
}

// Base64 as Kafka's grammar has it (standard alphabet, padded to whole quads); nullopt otherwise.
std::optional<scram_bytes> scram_unbase64(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  scram_bytes out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=') {
        // Padding only at the end, at most two, and nothing after it.
        if (i + 4 != in.size() || j < 2) return std::nullopt;
        ++pad;
        n <<= 6;
        continue;
      }
      if (pad) return std::nullopt;
      const size_t v = scram_base64_alphabet.find(c);
      if (v == std::string_view::npos) return std::nullopt;
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(n >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(n));
  }
  return out;
}

std::vector<std::string_view> scram_fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// Kafka's grammar (ScramMessages): every part is ASCII without NUL.
bool is_scram_char(char c) { return c >= 0x01 && static_cast<unsigned char>(c) <= 0x7f; }
bool is_scram_nonce(std::string_view s) {  // a nonce: printable ASCII but ','
  if (s.empty()) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}
bool is_extension_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}
bool is_extension_value(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_scram_char(c) || c == ',') return false;
  return true;
}

// A saslname with its =2C and =3D escapes undone; nullopt when it is not one (empty, a bare '=',
// a character outside 0x01-0x7F).
std::optional<std::string> unescape_saslname(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!is_scram_char(c) || c == ',') return std::nullopt;
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    const std::string_view escape = s.substr(i, 3);
    if (escape == "=2C") out.push_back(',');
    else if (escape == "=3D") out.push_back('=');
    else return std::nullopt;
    i += 2;
  }
  return out;
}

// An extension "name=value" (name alphabetic, value non-empty).
std::optional<std::pair<std::string_view, std::string_view>> parse_extension(std::string_view field) {
  const size_t eq = field.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const auto name = field.substr(0, eq), value = field.substr(eq + 1);
  if (!is_extension_name(name) || !is_extension_value(value)) return std::nullopt;
  return std::pair{name, value};
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

struct client_first_message {
  std::string gs2_header;  // "n,," or "n,a=<authzid>,", as sent
  std::string bare;        // the rest, as sent: n=...,r=...[,extensions]
  std::string user;        // unescaped
  std::string authzid;     // unescaped; empty when absent
  std::string nonce;
  bool token_authenticated = false;  // the tokenauth extension is "true" (any case), as Boolean.parseBoolean
};

std::optional<client_first_message> parse_client_first(std::string_view text) {
  const auto fields = scram_fields(text);
  // n , [a=authzid] , n=user , r=nonce [, ext=value]*
  if (fields.size() < 4 || fields[0] != "n") return std::nullopt;
  client_first_message m;
  if (!fields[1].empty()) {
    if (!fields[1].starts_with("a=")) return std::nullopt;
    auto authzid = unescape_saslname(fields[1].substr(2));
    if (!authzid) return std::nullopt;
    m.authzid = std::move(*authzid);
  }
  // Kafka's grammar would take a reserved "m=" attribute here; RFC 5802 has any such attribute fail.
  if (!fields[2].starts_with("n=") || !fields[3].starts_with("r=")) return std::nullopt;
  auto user = unescape_saslname(fields[2].substr(2));
  if (!user) return std::nullopt;
  m.user = std::move(*user);
  if (!is_scram_nonce(fields[3].substr(2))) return std::nullopt;
  m.nonce = std::string(fields[3].substr(2));
  for (size_t i = 4; i < fields.size(); ++i) {
    auto ext = parse_extension(fields[i]);
    if (!ext) return std::nullopt;
    // Later values of a name replace earlier ones, as Kafka's map does.
    if (ext->first == "tokenauth") m.token_authenticated = same_ignoring_case(ext->second, "true");
  }
  const size_t header_size = fields[0].size() + 1 + fields[1].size() + 1;
  m.gs2_header = std::string(text.substr(0, header_size));
  m.bare = std::string(text.substr(header_size));
  return m;
}

struct client_final_message {
  scram_bytes channel_binding;
  std::string nonce;
  scram_bytes proof;
  std::string without_proof;  // as sent, up to ",p="
};

std::optional<client_final_message> parse_client_final(std::string_view text) {
  const auto fields = scram_fields(text);
  // c=cbind , r=nonce [, ext=value]* , p=proof
  if (fields.size() < 3 || !fields[0].starts_with("c=") || !fields[1].starts_with("r=") ||
      !fields.back().starts_with("p="))
    return std::nullopt;
  client_final_message m;
  auto binding = scram_unbase64(fields[0].substr(2));
  auto proof = scram_unbase64(fields.back().substr(2));
  if (!binding || !proof || !is_scram_nonce(fields[1].substr(2))) return std::nullopt;
  for (size_t i = 2; i + 1 < fields.size(); ++i)
    if (!parse_extension(fields[i])) return std::nullopt;
  m.channel_binding = std::move(*binding);
  m.proof = std::move(*proof);
  m.nonce = std::string(fields[1].substr(2));
  m.without_proof = std::string(text.substr(0, text.size() - fields.back().size() - 1));
  return m;
}

// The server's nonce: 26 random base-36 digits (about 134 bits), the length of Kafka's
// ScramFormatter.secureRandomString (130 random bits written in base 36).
std::optional<std::string> random_server_nonce() {
  static constexpr std::string_view digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  uint8_t random[64];
  while (out.size() < 26) {
    if (RAND_bytes(random, sizeof random) != 1) return std::nullopt;
    // Rejection sampling keeps every digit equally likely (252 = 7 * 36).
    for (uint8_t b : random)
      if (b < 252 && out.size() < 26) out.push_back(digits[b % 36]);
  }
  return out;
}

std::span<const uint8_t> scram_text_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// One SCRAM exchange: client_first, then client_final, then complete; failed from either step, for
// good. Owned by the connection it authenticates, used on its network thread only. Between the two
// client messages it holds the user's credential (or a decoy for a user without one) and what the
// AuthMessage is made of; the credential is dropped as soon as the exchange ends.
class scram_sasl_server final : public sasl_server {
 public:
  scram_sasl_server(scram_mechanism mechanism, const scram_credentials& credentials,
                    std::function<std::optional<std::string>()> nonce_source, bool reauthentication)
      : mechanism_(mechanism),
        credentials_(credentials),
        nonce_source_(std::move(nonce_source)),
        reauthentication_(reauthentication) {}

  std::string_view mechanism() const override { return scram_mechanism_name(mechanism_); }

  sasl_step respond(std::span<const uint8_t> client_token) override {
    const std::string_view text(reinterpret_cast<const char*>(client_token.data()), client_token.size());
    switch (state_) {
      case state::client_first: return on_client_first(text);
      case state::client_final: return on_client_final(text);
      case state::complete: return sasl_step::failure("Unexpected challenge in Sasl server state COMPLETE");
      case state::failed: break;
    }
    return sasl_step::failure("Unexpected challenge in Sasl server state FAILED");
  }

 private:
  enum class state { client_first, client_final, complete, failed };

  // Kafka's answer to every SaslException of the mechanism: the reason stays in the broker's log.
  sasl_step fail(std::string_view reason) {
    state_ = state::failed;
    credential_.reset();
    spdlog::debug("SASL/{} authentication failed: {}", mechanism(), reason);
    return sasl_step::failure(
        fmt::format("Authentication failed during {} due to invalid credentials with SASL mechanism {}",
                    reauthentication_ ? "re-authentication" : "authentication", mechanism()));
  }

  sasl_step on_client_first(std::string_view text) {
    auto first = parse_client_first(text);
    if (!first) return fail(fmt::format("Invalid SCRAM client first message format: {}", text));
    if (first->token_authenticated)
      return fail(fmt::format("Token Authentication failed: Invalid tokenId : {}", first->user));
    // Before the credential is looked up, so that the answer is the same whether the user exists or not.
    if (!first->authzid.empty() && first->authzid != first->user) {
      state_ = state::failed;
      return sasl_step::failure(
          "Authentication failed: Client requested an authorization id that is different from username");
    }
    auto stored = credentials_.find(first->user, mechanism_);
    if (stored && stored->iterations < scram_min_iterations)
      return fail(fmt::format("Iterations {} is less than the minimum {} for {}", stored->iterations,
                              scram_min_iterations, mechanism()));
    known_user_ = stored.has_value();
    credential_ = stored ? std::move(*stored) : credentials_.decoy(first->user, mechanism_);
    auto nonce = nonce_source_();
    if (!nonce || !is_scram_nonce(*nonce)) return fail("no server nonce");
    nonce_ = first->nonce + *nonce;
    server_first_ = fmt::format("r={},s={},i={}", nonce_, scram_base64(credential_->salt), credential_->iterations);
    client_first_ = std::move(*first);
    state_ = state::client_final;
    return sasl_step::challenge_with(server_first_);
  }

  sasl_step on_client_final(std::string_view text) {
    auto final_message = parse_client_final(text);
    if (!final_message) return fail(fmt::format("Invalid SCRAM client final message format: {}", text));
    if (final_message->nonce != nonce_) return fail("Invalid client nonce in the final client message.");
    // Kafka serves no channel binding: the client must echo its gs2 header ("n,," or "n,a=authzid,").
    if (final_message->channel_binding != scram_bytes(client_first_.gs2_header.begin(), client_first_.gs2_header.end()))
      return fail("Invalid channel binding in the final client message.");
    const std::string auth_message =
        client_first_.bare + "," + server_first_ + "," + final_message->without_proof;
    // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the proof holds when H(ClientKey) is the
    // stored key. Compared in constant time; a decoy's keys never match.
    const scram_bytes signature = scram_hmac(mechanism_, credential_->stored_key, scram_text_bytes(auth_message));
    if (final_message->proof.size() != signature.size()) return fail("Invalid client credentials");
    scram_bytes client_key(signature.size());
    for (size_t i = 0; i < signature.size(); ++i) client_key[i] = final_message->proof[i] ^ signature[i];
    const scram_bytes computed = scram_hash(mechanism_, client_key);
    const bool match = computed.size() == credential_->stored_key.size() &&
                       CRYPTO_memcmp(computed.data(), credential_->stored_key.data(), computed.size()) == 0;
    if (!match || !known_user_) return fail("Invalid client credentials");
    const scram_bytes server_signature = scram_hmac(mechanism_, credential_->server_key, scram_text_bytes(auth_message));
    credential_.reset();
    state_ = state::complete;
    return sasl_step::success(client_first_.user, "v=" + scram_base64(server_signature));
  }

  const scram_mechanism mechanism_;
  const scram_credentials& credentials_;
  const std::function<std::optional<std::string>()> nonce_source_;
  const bool reauthentication_;
  state state_ = state::client_first;
  client_first_message client_first_;
  std::string server_first_;
  std::string nonce_;  // the client's nonce and ours
  std::optional<scram_credential> credential_;  // the user's (or a decoy) between the first and final messages
  bool known_user_ = false;
};

}  // namespace

std::unique_ptr<sasl_server> make_scram_server(std::string_view mechanism, const scram_credentials& credentials,
                                               bool reauthentication) {
  auto m = scram_mechanism_named(mechanism);
  if (!m) return nullptr;
  return std::make_unique<scram_sasl_server>(*m, credentials, random_server_nonce, reauthentication);
}

std::unique_ptr<sasl_server> make_scram_server_with_nonces(std::string_view mechanism,
                                                           const scram_credentials& credentials,
                                                           std::function<std::optional<std::string>()> server_nonce,
                                                           bool reauthentication) {
  auto m = scram_mechanism_named(mechanism);
  if (!m) return nullptr;
  return std::make_unique<scram_sasl_server>(*m, credentials, std::move(server_nonce), reauthentication);
}

}  // namespace brook::broker::security
