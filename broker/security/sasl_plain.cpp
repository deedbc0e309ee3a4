#include "broker/security/sasl_plain.hpp"

#include <fmt/format.h>
#include <vector>

namespace brook::broker::security {

namespace {

using common::kafka_error;

constexpr std::string_view plain_login_module = "org.apache.kafka.common.security.plain.PlainLoginModule";

common::error failed(std::string message) { return {kafka_error::sasl_authentication_failed, std::move(message)}; }

// Compares without stopping at the first difference, so that the time taken says nothing of where
// a guessed password goes wrong.
bool same_secret(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ (i < expected.size() ? expected[i] : 0));
  return diff == 0;
}

}  // namespace

common::result<sasl_plain_users> sasl_plain_users::from_jaas(std::string_view config_name, std::string_view jaas_text) {
  auto modules = parse_jaas_config(config_name, jaas_text);
  if (!modules) return modules.err();
  for (const auto& m : *modules) {
    if (m.class_name != plain_login_module) continue;
    std::map<std::string, std::string> passwords;
    for (const auto& [key, value] : m.options)
      if (key.starts_with("user_") && key.size() > 5) passwords[key.substr(5)] = value;
    return sasl_plain_users(std::move(passwords));
  }
  return common::error{kafka_error::invalid_config,
                       fmt::format("Invalid value for {}: no {} entry", config_name, plain_login_module)};
}

common::result<std::string> sasl_plain_users::authenticate(std::string_view token) const {
  // Kafka's PlainSaslServer.evaluateResponse: exactly three NUL-separated parts.
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t nul = token.find('\0', start);
    parts.push_back(token.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  if (parts.size() != 3)
    return failed(fmt::format("Invalid SASL/PLAIN response: expected 3 tokens, got {}", parts.size()));
  const std::string_view authzid = parts[0], username = parts[1], password = parts[2];
  if (username.empty()) return failed("Authentication failed: username not specified");
  if (password.empty()) return failed("Authentication failed: password not specified");
  auto it = passwords_.find(std::string(username));
  // A name that is not there costs a comparison too.
  const bool known = it != passwords_.end();
  const bool match = same_secret(password, known ? std::string_view(it->second) : std::string_view());
  if (!known || !match) return failed("Authentication failed: Invalid username or password");
  if (!authzid.empty() && authzid != username)
    return failed("Authentication failed: Client requested an authorization id that is different from username");
  return std::string(username);
}

namespace {

// Owned by the connection's authenticator; answers its one token.
class plain_server final : public sasl_server {
 public:
  explicit plain_server(std::shared_ptr<const sasl_plain_users> users) : users_(std::move(users)) {}
  std::string_view mechanism() const override { return "PLAIN"; }
  sasl_step respond(std::span<const uint8_t> client_token) override {
    auto user = users_->authenticate(
        std::string_view(reinterpret_cast<const char*>(client_token.data()), client_token.size()));
    if (!user) return sasl_step::failure(user.err().message);
    return sasl_step::success(std::move(*user));
  }

 private:
  std::shared_ptr<const sasl_plain_users> users_;
};

}  // namespace

std::unique_ptr<sasl_server> make_plain_server(std::shared_ptr<const sasl_plain_users> users) {
  return std::make_unique<plain_server>(std::move(users));
}

}  // namespace brook::broker::security
