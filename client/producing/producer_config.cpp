#include "client/producing/producer_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <limits>

namespace brook::client::producing {

using common::error;
using common::kafka_error;
using common::result;

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

error invalid(const std::string& key, const std::string& value, const std::string& why) {
  return error{kafka_error::invalid_config, "Invalid value " + value + " for configuration " + key + ": " + why};
}

template <class Int>
result<Int> parse_int(const std::string& key, const std::string& raw, Int min, Int max) {
  std::string s = trim(raw);
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  Int v{};
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size())
    return invalid(key, raw, "Not a number of type " + std::string(sizeof(Int) == 8 ? "LONG" : "INT"));
  if (v < min) return invalid(key, raw, "Value must be at least " + std::to_string(min));
  if (v > max) return invalid(key, raw, "Value must be no more than " + std::to_string(max));
  return v;
}

result<bool> parse_bool(const std::string& key, const std::string& raw) {
  std::string s = lower(trim(raw));
  if (s == "true") return true;
  if (s == "false") return false;
  return invalid(key, raw, "Expected value to be either true or false");
}

struct parse_state {
  producer_config config;
  std::map<std::string, std::string> set;  // the keys the caller gave
};

using setter = std::function<result<void>(producer_config&, const std::string& key, const std::string& value)>;

template <class Int>
setter int_setter(Int producer_config::*field, Int min, Int max = std::numeric_limits<Int>::max()) {
  return [=](producer_config& c, const std::string& key, const std::string& value) -> result<void> {
    auto v = parse_int<Int>(key, value, min, max);
    if (!v) return v.err();
    c.*field = *v;
    return {};
  };
}

setter bool_setter(bool producer_config::*field) {
  return [=](producer_config& c, const std::string& key, const std::string& value) -> result<void> {
    auto v = parse_bool(key, value);
    if (!v) return v.err();
    c.*field = *v;
    return {};
  };
}

// Keys Brook accepts without a behaviour of its own: records are bytes (no serializers), and metrics or
// interceptors are Java plug-ins.
setter ignored() {
  return [](producer_config&, const std::string&, const std::string&) -> result<void> { return {}; };
}

const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table = [] {
    std::map<std::string, setter> t;
    using C = producer_config;
    constexpr int32_t i32max = std::numeric_limits<int32_t>::max();
    t["bootstrap.servers"] = [](C& c, const std::string& key, const std::string& value) -> result<void> {
      c.bootstrap_servers.clear();
      std::string_view rest = value;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string item = trim(rest.substr(0, comma));
        if (!item.empty()) {
          size_t colon = item.rfind(':');
          if (colon == std::string::npos || colon == 0 || colon + 1 == item.size())
            return invalid(key, value, "Invalid url in bootstrap.servers: " + item);
          auto port = parse_int<int32_t>(key, item.substr(colon + 1), 0, 65535);
          if (!port) return invalid(key, value, "Invalid port in bootstrap.servers: " + item);
          c.bootstrap_servers.push_back(item);
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      return {};
    };
    t["client.id"] = [](C& c, const std::string&, const std::string& value) -> result<void> {
      c.client_id = value;
      return {};
    };
    t["acks"] = [](C& c, const std::string& key, const std::string& value) -> result<void> {
      std::string v = trim(value);
      if (lower(v) == "all" || v == "-1") c.acks = -1;
      else if (v == "0") c.acks = 0;
      else if (v == "1") c.acks = 1;
      else return invalid(key, value, "String must be one of: all, -1, 0, 1");
      return {};
    };
    t["retries"] = int_setter<int32_t>(&C::retries, 0);
    t["batch.size"] = int_setter<int32_t>(&C::batch_size, 0);
    t["linger.ms"] = int_setter<int64_t>(&C::linger_ms, 0);
    t["buffer.memory"] = int_setter<int64_t>(&C::buffer_memory, 0);
    t["max.block.ms"] = int_setter<int64_t>(&C::max_block_ms, 0);
    t["max.request.size"] = int_setter<int32_t>(&C::max_request_size, 0);
    t["request.timeout.ms"] = int_setter<int32_t>(&C::request_timeout_ms, 0);
    t["delivery.timeout.ms"] = int_setter<int32_t>(&C::delivery_timeout_ms, 0);
    t["retry.backoff.ms"] = int_setter<int64_t>(&C::retry_backoff_ms, 0);
    t["retry.backoff.max.ms"] = int_setter<int64_t>(&C::retry_backoff_max_ms, 0);
    t["max.in.flight.requests.per.connection"] =
        int_setter<int32_t>(&C::max_in_flight_requests_per_connection, 1);
    t["enable.idempotence"] = bool_setter(&C::enable_idempotence);
    t["compression.type"] = [](C& c, const std::string& key, const std::string& value) -> result<void> {
      // Java's validator is case-sensitive: the names are lower case.
      static const std::map<std::string, common::compression_codec> names = {
          {"none", common::compression_codec::none},     {"gzip", common::compression_codec::gzip},
          {"snappy", common::compression_codec::snappy}, {"lz4", common::compression_codec::lz4},
          {"zstd", common::compression_codec::zstd}};
      auto it = names.find(trim(value));
      if (it == names.end()) return invalid(key, value, "String must be one of: none, gzip, snappy, lz4, zstd");
      c.compression_type = it->second;
      return {};
    };
    t["compression.gzip.level"] = [](C& c, const std::string& key, const std::string& value) -> result<void> {
      auto v = parse_int<int32_t>(key, value, std::numeric_limits<int32_t>::min(), i32max);
      if (!v) return v.err();
      if (*v != -1 && (*v < 1 || *v > 9)) return invalid(key, value, "Value must be between 1 and 9, or -1");
      c.compression_gzip_level = *v;
      return {};
    };
    t["compression.lz4.level"] = int_setter<int32_t>(&C::compression_lz4_level, 1, 17);
    t["compression.zstd.level"] = int_setter<int32_t>(&C::compression_zstd_level, -131072, 22);
    t["partitioner.adaptive.partitioning.enable"] = bool_setter(&C::partitioner_adaptive_partitioning_enable);
    t["partitioner.availability.timeout.ms"] = int_setter<int64_t>(&C::partitioner_availability_timeout_ms, 0);
    t["partitioner.ignore.keys"] = bool_setter(&C::partitioner_ignore_keys);
    t["metadata.max.age.ms"] = int_setter<int64_t>(&C::metadata_max_age_ms, 0);
    t["metadata.max.idle.ms"] = int_setter<int64_t>(&C::metadata_max_idle_ms, 5000);
    t["reconnect.backoff.ms"] = int_setter<int64_t>(&C::reconnect_backoff_ms, 0);
    t["reconnect.backoff.max.ms"] = int_setter<int64_t>(&C::reconnect_backoff_max_ms, 0);
    t["socket.connection.setup.timeout.ms"] = int_setter<int64_t>(&C::socket_connection_setup_timeout_ms, 0);
    t["socket.connection.setup.timeout.max.ms"] =
        int_setter<int64_t>(&C::socket_connection_setup_timeout_max_ms, 0);
    t["connections.max.idle.ms"] = int_setter<int64_t>(&C::connections_max_idle_ms, std::numeric_limits<int64_t>::min());
    t["send.buffer.bytes"] = int_setter<int32_t>(&C::send_buffer_bytes, -1);
    t["receive.buffer.bytes"] = int_setter<int32_t>(&C::receive_buffer_bytes, -1);
    t["client.dns.lookup"] = [](C& c, const std::string& key, const std::string& value) -> result<void> {
      std::string v = trim(value);
      if (v != "use_all_dns_ips" && v != "resolve_canonical_bootstrap_servers_only")
        return invalid(key, value, "String must be one of: use_all_dns_ips, resolve_canonical_bootstrap_servers_only");
      c.client_dns_lookup = v;
      return {};
    };
    t["security.protocol"] = [](C& c, const std::string& key, const std::string& value) -> result<void> {
      std::string v = trim(value);
      std::string upper = v;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (upper == "SSL" || upper == "SASL_PLAINTEXT" || upper == "SASL_SSL")
        return invalid(key, value, "Brook's client supports only PLAINTEXT");
      if (upper != "PLAINTEXT")
        return invalid(key, value, "String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
      c.security_protocol = upper;
      return {};
    };
    t["transaction.timeout.ms"] = int_setter<int32_t>(&C::transaction_timeout_ms, std::numeric_limits<int32_t>::min());
    t["transactional.id"] = [](C&, const std::string& key, const std::string& value) -> result<void> {
      return invalid(key, value, "transactions are not supported by Brook's producer");
    };
    for (const char* k : {"key.serializer", "value.serializer", "metric.reporters", "metrics.num.samples",
                          "metrics.sample.window.ms", "metrics.recording.level", "interceptor.classes",
                          "enable.metrics.push"})
      t[k] = ignored();
    // A custom partitioner is a Java class; only the built-in one (or none) makes sense here.
    t["partitioner.class"] = [](C&, const std::string& key, const std::string& value) -> result<void> {
      std::string v = trim(value);
      if (v.empty() || v == "org.apache.kafka.clients.producer.internals.DefaultPartitioner") return {};
      return invalid(key, value, "Brook's producer has only the built-in partitioner");
    };
    return t;
  }();
  return table;
}

}  // namespace

const std::vector<std::string>& producer_config_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const auto& [name, _] : setters()) k.push_back(name);
    return k;
  }();
  return keys;
}

result<producer_config> producer_config::parse(const std::map<std::string, std::string>& properties) {
  producer_config c;
  for (const auto& [key, value] : properties) {
    auto it = setters().find(key);
    if (it == setters().end())
      return error{kafka_error::invalid_config, "Unknown producer configuration " + key};
    if (auto r = it->second(c, key, value); !r) return r.err();
  }
  auto given = [&](const char* key) { return properties.count(key) > 0; };

  if (c.bootstrap_servers.empty())
    return error{kafka_error::invalid_config,
                 "Missing required configuration bootstrap.servers: no resolvable bootstrap urls given"};

  // Idempotence (ProducerConfig.postProcessAndValidateIdempotenceConfigs).
  if (c.enable_idempotence) {
    const bool explicit_idempotence = given("enable.idempotence");
    if (c.retries == 0) {
      if (explicit_idempotence)
        return error{kafka_error::invalid_config,
                     "Must set retries to non-zero when using the idempotent producer (enable.idempotence=true)"};
      c.enable_idempotence = false;
    }
    if (c.acks != -1) {
      if (explicit_idempotence)
        return error{kafka_error::invalid_config,
                     "Must set acks to all in order to use the idempotent producer (enable.idempotence=true). "
                     "Otherwise we cannot guarantee idempotence."};
      c.enable_idempotence = false;
    }
    if (c.max_in_flight_requests_per_connection > 5) {
      if (explicit_idempotence)
        return error{kafka_error::invalid_config,
                     "Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer "
                     "(enable.idempotence=true)"};
      c.enable_idempotence = false;
    }
  }

  // KafkaProducer.configureDeliveryTimeout: delivery.timeout.ms must cover one linger and one request.
  const int64_t floor = c.linger_ms + int64_t{c.request_timeout_ms};
  if (c.delivery_timeout_ms < floor) {
    if (given("delivery.timeout.ms"))
      return error{kafka_error::invalid_config,
                   "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms (" +
                       std::to_string(floor) + ")"};
    c.delivery_timeout_ms = static_cast<int32_t>(std::min<int64_t>(floor, std::numeric_limits<int32_t>::max()));
  }
  return c;
}

}  // namespace brook::client::producing
