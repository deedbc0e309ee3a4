#include "client/core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace brook::client::core {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
}  // namespace

config_reader::config_reader(const properties& props, std::string kind) : props_(props), kind_(std::move(kind)) {}

bool config_reader::has(std::string_view key) const { return props_.find(key) != props_.end(); }

const std::string* config_reader::raw(std::string_view key) {
  known_.emplace(key);
  auto it = props_.find(key);
  return it == props_.end() ? nullptr : &it->second;
}

void config_reader::bad(std::string_view key, std::string_view value, std::string_view why) {
  if (!first_error_)
    first_error_ = common::error{common::kafka_error::invalid_config,
                                 fmt::format("invalid value '{}' for {} configuration '{}': {}", value, kind_, key, why)};
}

void config_reader::fail(std::string_view key, std::string why) {
  if (!first_error_)
    first_error_ = common::error{common::kafka_error::invalid_config,
                                 fmt::format("{} configuration '{}': {}", kind_, key, why)};
}

std::string config_reader::string(std::string_view key, std::string fallback) {
  const auto* v = raw(key);
  return v ? *v : fallback;
}

std::optional<std::string> config_reader::optional_string(std::string_view key) {
  const auto* v = raw(key);
  if (!v || trim(*v).empty()) return std::nullopt;
  return *v;
}

std::string config_reader::required_string(std::string_view key) {
  const auto* v = raw(key);
  if (!v || trim(*v).empty()) {
    fail(key, "is required");
    return {};
  }
  return *v;
}

int64_t config_reader::int64(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const auto* v = raw(key);
  if (!v) return fallback;
  const auto s = trim(*v);
  int64_t value = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    bad(key, *v, "not an integer");
    return fallback;
  }
  if (value < min || value > max) {
    bad(key, *v, max == INT64_MAX ? fmt::format("must be at least {}", min)
                                  : fmt::format("must be between {} and {}", min, max));
    return fallback;
  }
  return value;
}

int32_t config_reader::int32(std::string_view key, int32_t fallback, int64_t min, int64_t max) {
  return static_cast<int32_t>(int64(key, fallback, std::max<int64_t>(min, INT32_MIN), std::min<int64_t>(max, INT32_MAX)));
}

bool config_reader::boolean(std::string_view key, bool fallback) {
  const auto* v = raw(key);
  if (!v) return fallback;
  const auto s = lower(trim(*v));
  if (s == "true") return true;
  if (s == "false") return false;
  bad(key, *v, "must be true or false");
  return fallback;
}

std::chrono::milliseconds config_reader::millis(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  return std::chrono::milliseconds(int64(key, fallback, min, max));
}

std::string config_reader::choice(std::string_view key, std::string fallback,
                                  std::initializer_list<std::string_view> allowed) {
  const auto* v = raw(key);
  if (!v) return fallback;
  const auto s = lower(trim(*v));
  for (auto a : allowed)
    if (s == a) return s;
  std::string names;
  for (auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
  bad(key, *v, fmt::format("must be one of {}", names));
  return fallback;
}

std::vector<std::string> config_reader::list(std::string_view key, std::vector<std::string> fallback) {
  const auto* v = raw(key);
  if (!v) return fallback;
  std::vector<std::string> out;
  std::string_view rest = *v;
  while (true) {
    const auto comma = rest.find(',');
    const auto item = trim(rest.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

void config_reader::accept(std::initializer_list<std::string_view> keys) {
  for (auto k : keys) known_.emplace(k);
}

common::result<void> config_reader::finish() const {
  if (first_error_) return *first_error_;
  for (const auto& [key, value] : props_) {
    if (!known_.count(key))
      return common::error{common::kafka_error::invalid_config,
                           fmt::format("unknown {} configuration '{}'", kind_, key)};
  }
  return {};
}

cluster_options read_cluster_options(config_reader& config, std::string default_client_id,
                                     int64_t default_request_timeout_ms) {
  cluster_options o;
  const auto servers = config.required_string("bootstrap.servers");
  if (!servers.empty()) {
    auto parsed = parse_bootstrap_servers(servers);
    if (parsed) o.bootstrap = std::move(*parsed);
    else config.fail("bootstrap.servers", parsed.err().message);
  }
  o.connection.client_id = config.string("client.id", std::move(default_client_id));
  o.connection.request_timeout = config.millis("request.timeout.ms", default_request_timeout_ms, 0, INT32_MAX);
  o.connection.setup_timeout = config.millis("socket.connection.setup.timeout.ms", 10000, 0);
  config.millis("socket.connection.setup.timeout.max.ms", 30000, 0);
  o.metadata_max_age = config.millis("metadata.max.age.ms", 300000, 0);
  o.reconnect_backoff = config.millis("reconnect.backoff.ms", 50, 0);
  o.reconnect_backoff_max = config.millis("reconnect.backoff.max.ms", 1000, 0);
  o.retry_backoff = config.millis("retry.backoff.ms", 100, 0);
  o.retry_backoff_max = config.millis("retry.backoff.max.ms", 1000, 0);
  config.choice("security.protocol", "plaintext", {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"});
  if (config.has("security.protocol")) {
    auto p = config.string("security.protocol", "PLAINTEXT");
    std::string lp = p;
    std::transform(lp.begin(), lp.end(), lp.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lp != "plaintext") config.fail("security.protocol", fmt::format("{} is not supported yet; use PLAINTEXT", p));
  }
  config.choice("client.dns.lookup", "use_all_dns_ips", {"use_all_dns_ips", "resolve_canonical_bootstrap_servers_only"});
  config.millis("connections.max.idle.ms", 540000, -1);
  config.int32("send.buffer.bytes", 131072, -1);
  config.int32("receive.buffer.bytes", 65536, -1);
  config.accept({"key.serializer", "value.serializer", "key.deserializer", "value.deserializer", "interceptor.classes",
                 "metric.reporters", "metrics.num.samples", "metrics.sample.window.ms", "metrics.recording.level",
                 "auto.include.jmx.reporter", "enable.metrics.push", "client.rack"});
  return o;
}

}  // namespace brook::client::core
