#include "broker/security/listener_security.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fmt/format.h>

#include "broker/security/sasl_oauthbearer.hpp"
#include "broker/security/sasl_plain.hpp"
#include "broker/security/sasl_scram.hpp"

namespace brook::broker::security {

namespace {

using common::kafka_error;

common::error bad_config(std::string message) { return {kafka_error::invalid_config, std::move(message)}; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// A listener's setting: listener.name.<l>.<key>, else the broker-wide key when set, else its default.
std::optional<std::string> setting(const server_config& config, const std::string& listener, std::string_view key) {
  if (auto v = config.listener_setting(listener, key)) return v;
  std::string value = config.get_string(key);  // every key asked for here is a broker config
  if (!value.empty()) return value;
  return std::nullopt;
}

common::result<int64_t> long_setting(const server_config& config, const std::string& listener, const std::string& key,
                                     int64_t fallback) {
  auto text = config.listener_setting(listener, key);
  if (!text) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0)
    return bad_config(fmt::format("Invalid value {} for configuration listener.name.{}.{}: not a non-negative number",
                                  *text, lower(listener), key));
  return value;
}

common::result<tls_settings> read_tls_settings(const server_config& config, const std::string& listener) {
  tls_settings s;
  s.listener = listener;
  s.keystore_type = setting(config, listener, "ssl.keystore.type").value_or("JKS");
  s.keystore_location = setting(config, listener, "ssl.keystore.location");
  s.keystore_password = setting(config, listener, "ssl.keystore.password");
  s.key_password = setting(config, listener, "ssl.key.password");
  s.keystore_certificate_chain = setting(config, listener, "ssl.keystore.certificate.chain");
  s.keystore_key = setting(config, listener, "ssl.keystore.key");
  s.truststore_type = setting(config, listener, "ssl.truststore.type").value_or("JKS");
  s.truststore_location = setting(config, listener, "ssl.truststore.location");
  s.truststore_password = setting(config, listener, "ssl.truststore.password");
  s.truststore_certificates = setting(config, listener, "ssl.truststore.certificates");
  const std::string auth = lower(setting(config, listener, "ssl.client.auth").value_or("none"));
  if (auth == "none") s.client_auth = tls_client_auth::none;
  else if (auth == "requested") s.client_auth = tls_client_auth::requested;
  else if (auth == "required") s.client_auth = tls_client_auth::required;
  else return bad_config(fmt::format("Invalid value {} for configuration ssl.client.auth: none, requested or required", auth));
  if (auto protocols = setting(config, listener, "ssl.enabled.protocols")) s.enabled_protocols = split_list(*protocols);
  for (const auto& p : s.enabled_protocols) {
    if (p != "TLSv1.2" && p != "TLSv1.3")
      return bad_config(fmt::format("Invalid value {} for configuration ssl.enabled.protocols: Brook serves TLSv1.2 and TLSv1.3", p));
  }
  if (auto suites = setting(config, listener, "ssl.cipher.suites")) s.cipher_suites = split_list(*suites);
  s.principal_mapping_rules = setting(config, listener, "ssl.principal.mapping.rules").value_or("DEFAULT");
  return s;
}

common::result<std::shared_ptr<const sasl_listener_settings>> read_sasl_settings(const server_config& config,
                                                                                 const std::string& listener,
                                                                                 const scram_credentials& scram) {
  auto settings = std::make_shared<sasl_listener_settings>();
  auto mechanisms_text = config.listener_setting(listener, "sasl.enabled.mechanisms");
  settings->mechanisms = mechanisms_text ? split_list(*mechanisms_text) : config.get_list("sasl.enabled.mechanisms");
  if (settings->mechanisms.empty())
    return bad_config(fmt::format("listener {} uses SASL but sasl.enabled.mechanisms is empty", listener));
  std::map<std::string, std::shared_ptr<const sasl_plain_users>, std::less<>> plain;
  std::shared_ptr<const oauthbearer_validator_options> oauthbearer;
  const int64_t max_reauth_default = config.get_int("connections.max.reauth.ms");
  for (const auto& mechanism : settings->mechanisms) {
    const std::string jaas_key = fmt::format("{}.sasl.jaas.config", lower(mechanism));
    const std::string jaas_name = fmt::format("listener.name.{}.{}", lower(listener), jaas_key);
    if (mechanism == "PLAIN") {
      auto jaas = config.listener_setting(listener, jaas_key);
      if (!jaas)
        return bad_config(fmt::format("listener {} offers SASL/PLAIN, but {} (its users, as PlainLoginModule "
                                      "user_<name>=\"<password>\" options) is not set",
                                      listener, jaas_name));
      auto users = sasl_plain_users::from_jaas(jaas_name, *jaas);
      if (!users) return users.err();
      plain[mechanism] = std::make_shared<const sasl_plain_users>(std::move(*users));
    } else if (mechanism == "OAUTHBEARER") {
      auto jaas = config.listener_setting(listener, jaas_key);
      if (!jaas)
        return bad_config(fmt::format("listener {} offers SASL/OAUTHBEARER, but {} (an OAuthBearerLoginModule entry, "
                                      "with its unsecuredValidator* options) is not set",
                                      listener, jaas_name));
      auto options = oauthbearer_validator_options::from_jaas(jaas_name, *jaas);
      if (!options) return options.err();
      oauthbearer = std::make_shared<const oauthbearer_validator_options>(std::move(*options));
    } else if (mechanism == "SCRAM-SHA-256" || mechanism == "SCRAM-SHA-512") {
      // The users are the stored credentials (AlterUserScramCredentials); a JAAS entry, which Kafka
      // uses for its own inter-broker login, is checked if given and otherwise not needed.
      if (auto jaas = config.listener_setting(listener, jaas_key)) {
        auto parsed = parse_jaas_config(jaas_name, *jaas);
        if (!parsed) return parsed.err();
      }
    } else if (mechanism == "GSSAPI") {
      return bad_config(fmt::format("listener {}: SASL/GSSAPI (Kerberos), Kafka's default sasl.enabled.mechanisms, is "
                                    "not served by Brook; set sasl.enabled.mechanisms to PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
                                    listener));
    } else {
      return bad_config(fmt::format("listener {}: sasl.enabled.mechanisms names {}, which Brook does not serve "
                                    "(it serves PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER)",
                                    listener, mechanism));
    }
    auto listener_wide = long_setting(config, listener, "connections.max.reauth.ms", max_reauth_default);
    if (!listener_wide) return listener_wide.err();
    auto per_mechanism =
        long_setting(config, listener, fmt::format("{}.connections.max.reauth.ms", lower(mechanism)), *listener_wide);
    if (!per_mechanism) return per_mechanism.err();
    settings->max_reauth_ms[mechanism] = *per_mechanism;
  }
  settings->new_server = [plain, oauthbearer, &scram](std::string_view mechanism,
                                                     bool reauthentication) -> std::unique_ptr<sasl_server> {
    if (auto it = plain.find(mechanism); it != plain.end()) return make_plain_server(it->second);
    if (mechanism == "OAUTHBEARER" && oauthbearer) return make_oauthbearer_server(*oauthbearer);
    return make_scram_server(mechanism, scram, reauthentication);  // nullptr unless SCRAM
  };
  return std::shared_ptr<const sasl_listener_settings>(std::move(settings));
}

}  // namespace

common::result<std::shared_ptr<const listener_security>> build_listener_security(const server_config& config,
                                                                                  const listener_endpoint& listener,
                                                                                  const scram_credentials& scram) {
  auto out = std::make_shared<listener_security>();
  out->listener = listener.name;
  out->protocol = listener.security_protocol;
  const bool tls = listener.security_protocol == "SSL" || listener.security_protocol == "SASL_SSL";
  const bool sasl = listener.security_protocol == "SASL_PLAINTEXT" || listener.security_protocol == "SASL_SSL";
  if (tls) {
    auto settings = read_tls_settings(config, listener.name);
    if (!settings) return settings.err();
    auto mapper = ssl_principal_mapper::parse(settings->principal_mapping_rules);
    if (!mapper) return mapper.err();
    out->principal_mapper = std::make_shared<const ssl_principal_mapper>(std::move(*mapper));
    auto context = make_tls_context(*settings);
    if (!context) return context.err();
    out->tls = std::move(*context);
    out->client_auth = settings->client_auth;
  }
  if (sasl) {
    auto settings = read_sasl_settings(config, listener.name, scram);
    if (!settings) return settings.err();
    out->sasl = std::move(*settings);
  }
  return std::shared_ptr<const listener_security>(std::move(out));
}

}  // namespace brook::broker::security
