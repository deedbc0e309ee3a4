#include "client/consuming/consumer_config.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <functional>
#include <limits>

namespace brook::client::consuming {

namespace {

using common::error;
using common::kafka_error;

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

error bad(const std::string& key, const std::string& value, const std::string& why) {
  return error{kafka_error::invalid_config, "Invalid value " + value + " for configuration " + key + ": " + why};
}

template <class T>
std::optional<error> parse_int(const std::string& key, const std::string& raw, T& out, T at_least) {
  std::string v = trim(raw);
  T parsed{};
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size())
    return bad(key, raw, std::string("Not a number of type ") + (sizeof(T) == 4 ? "INT" : "LONG"));
  if (parsed < at_least) return bad(key, raw, "Value must be at least " + std::to_string(at_least));
  out = parsed;
  return std::nullopt;
}

std::optional<error> parse_bool(const std::string& key, const std::string& raw, bool& out) {
  std::string v = lower(trim(raw));
  if (v == "true") out = true;
  else if (v == "false") out = false;
  else return bad(key, raw, "Expected value to be either true or false");
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& raw) {
  std::vector<std::string> out;
  std::string v = trim(raw);
  if (v.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t comma = v.find(',', start);
    out.push_back(trim(std::string_view(v).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Java's class names map to the protocol names the assignors register under.
std::optional<std::string> assignor_name(const std::string& entry) {
  static const std::map<std::string, std::string> names{
      {"range", "range"},
      {"roundrobin", "roundrobin"},
      {"cooperative-sticky", "cooperative-sticky"},
      {"org.apache.kafka.clients.consumer.RangeAssignor", "range"},
      {"org.apache.kafka.clients.consumer.RoundRobinAssignor", "roundrobin"},
      {"org.apache.kafka.clients.consumer.CooperativeStickyAssignor", "cooperative-sticky"},
  };
  auto it = names.find(entry);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

// Kafka's rule for group.instance.id (JoinGroupRequest.validateGroupInstanceId).
std::optional<std::string> instance_id_problem(const std::string& id) {
  if (id.empty()) return "Group instance id must be non-empty string";
  if (id == "." || id == "..") return "Group instance id cannot be \".\" or \"..\"";
  if (id.size() > 249) return "Group instance id can't be longer than 249 characters";
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return "Group instance id contains a character other than ASCII alphanumerics, '.', '_' and '-'";
  return std::nullopt;
}

using setter = std::function<std::optional<error>(consumer_config&, const std::string& key, const std::string& value)>;

template <class T>
setter int_key(T consumer_config::*member, T at_least) {
  return [member, at_least](consumer_config& c, const std::string& k, const std::string& v) {
    return parse_int<T>(k, v, c.*member, at_least);
  };
}

setter bool_key(bool consumer_config::*member) {
  return [member](consumer_config& c, const std::string& k, const std::string& v) { return parse_bool(k, v, c.*member); };
}

const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table{
      {"bootstrap.servers",
       [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         auto servers = parse_bootstrap_servers(v);
         if (!servers) return servers.err();
         c.bootstrap_servers = std::move(*servers);
         return std::nullopt;
       }},
      {"client.id", [](consumer_config& c, const std::string&, const std::string& v) -> std::optional<error> {
         c.client_id = trim(v);
         return std::nullopt;
       }},
      {"client.rack", [](consumer_config& c, const std::string&, const std::string& v) -> std::optional<error> {
         c.client_rack = trim(v);
         return std::nullopt;
       }},
      {"group.id", [](consumer_config& c, const std::string&, const std::string& v) -> std::optional<error> {
         c.group_id = trim(v);
         return std::nullopt;
       }},
      {"group.instance.id", [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         std::string id = trim(v);
         if (auto problem = instance_id_problem(id)) return bad(k, v, *problem);
         c.group_instance_id = id;
         return std::nullopt;
       }},
      {"group.protocol", [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         std::string p = lower(trim(v));
         if (p == "classic") c.protocol = group_protocol::classic;
         else if (p == "consumer") c.protocol = group_protocol::consumer;
         else return bad(k, v, "String must be one of (case insensitive): CLASSIC, CONSUMER");
         return std::nullopt;
       }},
      {"group.remote.assignor", [](consumer_config& c, const std::string&, const std::string& v) -> std::optional<error> {
         std::string a = trim(v);
         if (a.empty()) c.group_remote_assignor.reset();
         else c.group_remote_assignor = a;
         return std::nullopt;
       }},
      {"session.timeout.ms", int_key(&consumer_config::session_timeout_ms, std::numeric_limits<int32_t>::min())},
      {"heartbeat.interval.ms", int_key(&consumer_config::heartbeat_interval_ms, std::numeric_limits<int32_t>::min())},
      {"max.poll.interval.ms", int_key(&consumer_config::max_poll_interval_ms, int32_t{1})},
      {"max.poll.records", int_key(&consumer_config::max_poll_records, int32_t{1})},
      {"partition.assignment.strategy",
       [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         std::vector<std::string> names;
         for (const auto& entry : split_list(v)) {
           auto name = assignor_name(entry);
           if (!name) return bad(k, v, "unknown or unsupported assignor " + entry +
                                           " (supported: range, roundrobin, cooperative-sticky or Java's class names)");
           if (std::find(names.begin(), names.end(), *name) == names.end()) names.push_back(*name);
         }
         if (names.empty()) return bad(k, v, "at least one assignor is needed");
         c.partition_assignment_strategy = std::move(names);
         return std::nullopt;
       }},
      {"enable.auto.commit", bool_key(&consumer_config::enable_auto_commit)},
      {"auto.commit.interval.ms", int_key(&consumer_config::auto_commit_interval_ms, int32_t{0})},
      {"auto.offset.reset", [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         std::string s = trim(v);
         if (s == "earliest") c.auto_offset_reset = offset_reset_strategy::earliest;
         else if (s == "latest") c.auto_offset_reset = offset_reset_strategy::latest;
         else if (s == "none") c.auto_offset_reset = offset_reset_strategy::none;
         else return bad(k, v, "String must be one of: latest, earliest, none");
         return std::nullopt;
       }},
      {"fetch.min.bytes", int_key(&consumer_config::fetch_min_bytes, int32_t{0})},
      {"fetch.max.bytes", int_key(&consumer_config::fetch_max_bytes, int32_t{0})},
      {"fetch.max.wait.ms", int_key(&consumer_config::fetch_max_wait_ms, int32_t{0})},
      {"max.partition.fetch.bytes", int_key(&consumer_config::max_partition_fetch_bytes, int32_t{0})},
      {"isolation.level", [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         std::string s = trim(v);
         if (s == "read_uncommitted") c.isolation = isolation_level::read_uncommitted;
         else if (s == "read_committed") c.isolation = isolation_level::read_committed;
         else return bad(k, v, "String must be one of: read_committed, read_uncommitted");
         return std::nullopt;
       }},
      {"check.crcs", bool_key(&consumer_config::check_crcs)},
      {"exclude.internal.topics", bool_key(&consumer_config::exclude_internal_topics)},
      {"allow.auto.create.topics", bool_key(&consumer_config::allow_auto_create_topics)},
      {"metadata.max.age.ms", int_key(&consumer_config::metadata_max_age_ms, int64_t{0})},
      {"request.timeout.ms", int_key(&consumer_config::request_timeout_ms, int32_t{0})},
      {"default.api.timeout.ms", int_key(&consumer_config::default_api_timeout_ms, int32_t{0})},
      {"retry.backoff.ms", int_key(&consumer_config::retry_backoff_ms, int64_t{0})},
      {"retry.backoff.max.ms", int_key(&consumer_config::retry_backoff_max_ms, int64_t{0})},
      {"reconnect.backoff.ms", int_key(&consumer_config::reconnect_backoff_ms, int64_t{0})},
      {"reconnect.backoff.max.ms", int_key(&consumer_config::reconnect_backoff_max_ms, int64_t{0})},
      {"socket.connection.setup.timeout.ms",
       int_key(&consumer_config::socket_connection_setup_timeout_ms, std::numeric_limits<int64_t>::min())},
      {"socket.connection.setup.timeout.max.ms",
       int_key(&consumer_config::socket_connection_setup_timeout_max_ms, std::numeric_limits<int64_t>::min())},
      {"connections.max.idle.ms",
       int_key(&consumer_config::connections_max_idle_ms, std::numeric_limits<int64_t>::min())},
      {"send.buffer.bytes", int_key(&consumer_config::send_buffer_bytes, int32_t{-1})},
      {"receive.buffer.bytes", int_key(&consumer_config::receive_buffer_bytes, int32_t{-1})},
      {"client.dns.lookup", [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         std::string s = trim(v);
         if (s != "use_all_dns_ips" && s != "resolve_canonical_bootstrap_servers_only")
           return bad(k, v, "String must be one of: use_all_dns_ips, resolve_canonical_bootstrap_servers_only");
         c.client_dns_lookup = s;
         return std::nullopt;
       }},
      {"security.protocol", [](consumer_config& c, const std::string& k, const std::string& v) -> std::optional<error> {
         std::string s = trim(v);
         if (s != "PLAINTEXT") return bad(k, v, "only PLAINTEXT is supported");
         c.security_protocol = s;
         return std::nullopt;
       }},
  };
  return table;
}

std::atomic<int> client_id_sequence{1};

}  // namespace

common::result<std::vector<bootstrap_server>> parse_bootstrap_servers(const std::string& list) {
  const std::string key = "bootstrap.servers";
  std::vector<bootstrap_server> out;
  for (const auto& entry : split_list(list)) {
    if (entry.empty()) continue;
    std::string host, port;
    if (entry.front() == '[') {
      auto close = entry.find(']');
      if (close == std::string::npos || close + 1 >= entry.size() || entry[close + 1] != ':')
        return bad(key, list, "Invalid url in bootstrap.servers: " + entry);
      host = entry.substr(1, close - 1);
      port = entry.substr(close + 2);
    } else {
      auto colon = entry.rfind(':');
      if (colon == std::string::npos || colon == 0) return bad(key, list, "Invalid url in bootstrap.servers: " + entry);
      host = entry.substr(0, colon);
      port = entry.substr(colon + 1);
    }
    uint32_t p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
      return bad(key, list, "Invalid port in bootstrap.servers: " + entry);
    out.push_back({host, static_cast<uint16_t>(p)});
  }
  if (out.empty()) return bad(key, list, "No resolvable bootstrap urls given in bootstrap.servers");
  return out;
}

const std::vector<std::string>& consumer_config::known_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const auto& [name, set] : setters()) k.push_back(name);
    return k;
  }();
  return keys;
}

common::result<consumer_config> consumer_config::parse(const std::map<std::string, std::string>& properties) {
  consumer_config c;
  for (const auto& [key, value] : properties) {
    auto it = setters().find(key);
    if (it == setters().end())
      return error{kafka_error::invalid_config, "Unknown consumer configuration " + key};
    if (auto e = it->second(c, key, value)) return *e;
  }
  if (c.bootstrap_servers.empty())
    return error{kafka_error::invalid_config,
                 "Missing required configuration \"bootstrap.servers\" which has no default value."};
  // Java's post-processing: no group means no auto commit, and asking for it is an error.
  if (!c.group_id) {
    if (properties.count("enable.auto.commit") && c.enable_auto_commit)
      return error{kafka_error::invalid_config,
                   "enable.auto.commit cannot be set to true when default group id (null) is used."};
    c.enable_auto_commit = false;
    if (c.group_instance_id)
      return error{kafka_error::invalid_config, "group.instance.id needs group.id to be set"};
  }
  if (c.protocol == group_protocol::classic) {
    if (c.group_remote_assignor)
      return error{kafka_error::invalid_config, "group.remote.assignor cannot be set when group.protocol=CLASSIC"};
    if (c.group_id && c.heartbeat_interval_ms >= c.session_timeout_ms)
      return error{kafka_error::invalid_config,
                   "heartbeat.interval.ms must be set lower than session.timeout.ms"};
  } else if (properties.count("partition.assignment.strategy")) {
    // The broker assigns under the consumer protocol; a client-side strategy would be silently unused.
    return error{kafka_error::invalid_config,
                 "partition.assignment.strategy cannot be set when group.protocol=CONSUMER "
                 "(use group.remote.assignor)"};
  }
  if (c.client_id.empty())
    c.client_id = "consumer-" + c.group_id.value_or("null") + "-" +
                  c.group_instance_id.value_or(std::to_string(client_id_sequence.fetch_add(1)));
  return c;
}

}  // namespace brook::client::consuming
