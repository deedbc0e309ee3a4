#include "client/consuming/consumer_config.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>

namespace brook::client::consuming {

namespace {

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
  if (id == "." || id == "..") return "cannot be \".\" or \"..\"";
  if (id.size() > 249) return "can't be longer than 249 characters";
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return "may only contain ASCII alphanumerics, '.', '_' and '-'";
  return std::nullopt;
}

std::atomic<int> client_id_sequence{1};

}  // namespace

common::result<consumer_config> consumer_config::parse(const core::properties& properties) {
  core::config_reader config(properties, "consumer");
  consumer_config c;
  c.group_id = config.optional_string("group.id");
  c.group_instance_id = config.optional_string("group.instance.id");
  if (c.group_instance_id)
    if (auto problem = instance_id_problem(*c.group_instance_id)) config.fail("group.instance.id", *problem);

  c.cluster = core::read_cluster_options(config, "", 30000);
  if (c.cluster.connection.client_id.empty())
    c.cluster.connection.client_id = "consumer-" + c.group_id.value_or("null") + "-" +
                                     c.group_instance_id.value_or(std::to_string(client_id_sequence.fetch_add(1)));
  c.cluster.allow_auto_topic_creation = config.boolean("allow.auto.create.topics", true);
  c.client_rack = config.string("client.rack", "");

  c.protocol = config.choice("group.protocol", "classic", {"classic", "consumer"}) == "consumer"
                   ? group_protocol::consumer
                   : group_protocol::classic;
  c.group_remote_assignor = config.optional_string("group.remote.assignor");
  c.session_timeout_ms = config.int32("session.timeout.ms", 45000);
  c.heartbeat_interval_ms = config.int32("heartbeat.interval.ms", 3000);
  c.max_poll_interval_ms = config.int32("max.poll.interval.ms", 300000, 1);
  c.max_poll_records = config.int32("max.poll.records", 500, 1);
  std::vector<std::string> strategies;
  for (const auto& entry : config.list("partition.assignment.strategy", {"range", "cooperative-sticky"})) {
    auto name = assignor_name(entry);
    if (!name) {
      config.fail("partition.assignment.strategy",
                  "unknown or unsupported assignor '" + entry +
                      "' (supported: range, roundrobin, cooperative-sticky, or Java's class names for them)");
      break;
    }
    if (std::find(strategies.begin(), strategies.end(), *name) == strategies.end()) strategies.push_back(*name);
  }
  if (strategies.empty() && config.has("partition.assignment.strategy"))
    config.fail("partition.assignment.strategy", "at least one assignor is needed");
  if (!strategies.empty()) c.partition_assignment_strategy = std::move(strategies);
  c.enable_auto_commit = config.boolean("enable.auto.commit", true);
  c.auto_commit_interval_ms = config.int32("auto.commit.interval.ms", 5000, 0);
  auto reset = config.choice("auto.offset.reset", "latest", {"earliest", "latest", "none"});
  c.auto_offset_reset = reset == "earliest" ? offset_reset_strategy::earliest
                        : reset == "none"   ? offset_reset_strategy::none
                                            : offset_reset_strategy::latest;
  c.fetch_min_bytes = config.int32("fetch.min.bytes", 1, 0);
  c.fetch_max_bytes = config.int32("fetch.max.bytes", 52428800, 0);
  c.fetch_max_wait_ms = config.int32("fetch.max.wait.ms", 500, 0);
  c.max_partition_fetch_bytes = config.int32("max.partition.fetch.bytes", 1048576, 0);
  c.isolation = config.choice("isolation.level", "read_uncommitted", {"read_uncommitted", "read_committed"}) ==
                        "read_committed"
                    ? isolation_level::read_committed
                    : isolation_level::read_uncommitted;
  c.check_crcs = config.boolean("check.crcs", true);
  c.exclude_internal_topics = config.boolean("exclude.internal.topics", true);
  c.default_api_timeout_ms = config.int32("default.api.timeout.ms", 60000, 0);

  // Java's cross-key rules.
  if (!c.group_id) {
    // No group: no auto commit, and asking for it is an error.
    if (config.has("enable.auto.commit") && c.enable_auto_commit)
      config.fail("enable.auto.commit", "cannot be set to true when default group id (null) is used");
    c.enable_auto_commit = false;
    if (c.group_instance_id) config.fail("group.instance.id", "needs group.id to be set");
  }
  if (c.protocol == group_protocol::classic) {
    if (c.group_remote_assignor) config.fail("group.remote.assignor", "cannot be set when group.protocol=CLASSIC");
    if (c.group_id && c.heartbeat_interval_ms >= c.session_timeout_ms)
      config.fail("heartbeat.interval.ms", "must be set lower than session.timeout.ms");
  } else if (config.has("partition.assignment.strategy")) {
    // The broker assigns under the consumer protocol; a client-side strategy would be silently unused.
    config.fail("partition.assignment.strategy",
                "cannot be set when group.protocol=CONSUMER (use group.remote.assignor)");
  }
  if (auto done = config.finish(); !done) return done.err();
  return c;
}

}  // namespace brook::client::consuming
