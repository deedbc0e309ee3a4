#include "broker/config/topic_config.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace brook::broker {
namespace {

using common::kafka_error;


topic_config_definition topic_def(std::string name, config_type type, std::string default_value,
                                  std::optional<std::string> broker_synonym, std::string documentation,
                                  config_validator validator = {}) {
  topic_config_definition t;
  t.definition.name = std::move(name);
  t.definition.type = type;
  t.definition.default_value = std::move(default_value);
  t.definition.documentation = std::move(documentation);
  t.definition.validator = std::move(validator);
  t.definition.read_only = false;
  t.definition.sensitive = false;
  t.broker_synonym = std::move(broker_synonym);
  return t;
}

// Kafka's throttled-replica lists: "*" or partition:broker pairs.
config_validator throttled_replicas() {
  return [](const config_value& v) -> std::optional<std::string> {
    const auto* list = std::get_if<std::vector<std::string>>(&v);
    if (!list) return std::nullopt;
    const auto& items = *list;
    if (items.size() == 1 && items[0] == "*") return std::nullopt;
    for (const auto& item : items) {
      size_t colon = item.find(':');
      auto digits = [](std::string_view s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      if (colon == std::string::npos || !digits(std::string_view(item).substr(0, colon)) ||
          !digits(std::string_view(item).substr(colon + 1))) {
        return std::string(
            "must be the literal '*' or a list of replicas in the following format: "
            "[partitionId]:[brokerId],[partitionId]:[brokerId],...");
      }
    }
    return std::nullopt;
  };
}

std::vector<topic_config_definition> make_topic_definitions() {
  using t = config_type;
  std::vector<topic_config_definition> d{
      topic_def("cleanup.policy", t::list, "delete", "log.cleanup.policy",
                "What happens to old segments: delete them, compact them by key, or both.",
                one_of({"compact", "delete"})),
      topic_def("compression.gzip.level", t::int_, "-1", "compression.gzip.level",
                "Level used when the broker compresses this topic with gzip.", gzip_level()),
      topic_def("compression.lz4.level", t::int_, "9", "compression.lz4.level",
                "Level used when the broker compresses this topic with lz4.", in_range(1, 17)),
      topic_def("compression.type", t::string, "producer", "compression.type",
                "Final compression of the topic: a codec, 'uncompressed', or 'producer' to keep the producer's.",
                one_of({"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"})),
      topic_def("compression.zstd.level", t::int_, "3", "compression.zstd.level",
                "Level used when the broker compresses this topic with zstd.", in_range(-131072, 22)),
      topic_def("errors.deadletterqueue.group.enable", t::boolean, "false", std::nullopt,
                "Lets share groups write undeliverable records to this topic; Brook has no share groups."),
      topic_def("delete.retention.ms", t::long_, "86400000", "log.cleaner.delete.retention.ms",
                "How long tombstones stay in a compacted topic.", at_least(0)),
      topic_def("file.delete.delay.ms", t::long_, "60000", "log.segment.delete.delay.ms",
                "Wait before the files of a deleted segment are removed.", at_least(0)),
      topic_def("flush.messages", t::long_, long_max_text, "log.flush.interval.messages",
                "Messages appended to a partition before it is flushed to disk.", at_least(1)),
      topic_def("flush.ms", t::long_, long_max_text, "log.flush.interval.ms",
                "Longest time a message waits before a flush to disk.", at_least(0)),
      topic_def("follower.replication.throttled.replicas", t::list, "", std::nullopt,
                "Replicas whose follower replication is throttled; no effect on a single node.", throttled_replicas()),
      topic_def("index.interval.bytes", t::int_, "4096", "log.index.interval.bytes",
                "Bytes of log between two offset index entries.", at_least(0)),
      topic_def("leader.replication.throttled.replicas", t::list, "", std::nullopt,
                "Replicas whose leader replication is throttled; no effect on a single node.", throttled_replicas()),
      topic_def("local.retention.bytes", t::long_, "-2", "log.local.retention.bytes",
                "Local retention in bytes with tiered storage; -2 follows retention.bytes.", at_least(-2)),
      topic_def("local.retention.ms", t::long_, "-2", "log.local.retention.ms",
                "Local retention in milliseconds with tiered storage; -2 follows retention.ms.", at_least(-2)),
      topic_def("max.compaction.lag.ms", t::long_, long_max_text, "log.cleaner.max.compaction.lag.ms",
                "Longest time a record may stay uncompacted.", at_least(1)),
      topic_def("max.decompressed.message.bytes", t::int_, "2147483639", "max.decompressed.message.bytes",
                "Largest size a single record of a compressed batch may decompress to.", in_range(1, 2147483639)),
      topic_def("max.message.bytes", t::int_, "1048588", "message.max.bytes",
                "Largest record batch the topic accepts.", at_least(0)),
      topic_def("message.timestamp.after.max.ms", t::long_, "3600000", "log.message.timestamp.after.max.ms",
                "Largest amount a record's CreateTime may be ahead of the broker's clock.", at_least(0)),
      topic_def("message.timestamp.before.max.ms", t::long_, long_max_text, "log.message.timestamp.before.max.ms",
                "Largest amount a record's CreateTime may be behind the broker's clock.", at_least(0)),
      topic_def("message.timestamp.type", t::string, "CreateTime", "log.message.timestamp.type",
                "Timestamp of records: CreateTime (the producer's) or LogAppendTime (the broker's).",
                one_of({"CreateTime", "LogAppendTime"})),
      topic_def("min.cleanable.dirty.ratio", t::double_, "0.5", "log.cleaner.min.cleanable.ratio",
                "Share of dirty log that makes the topic eligible for compaction.", in_range_double(0, 1)),
      topic_def("min.compaction.lag.ms", t::long_, "0", "log.cleaner.min.compaction.lag.ms",
                "Shortest time a record stays uncompacted.", at_least(0)),
      topic_def("min.insync.replicas", t::int_, "1", "min.insync.replicas",
                "Least number of in-sync replicas for acks=all produce.", at_least(1)),
      topic_def("preallocate", t::boolean, "false", "log.preallocate", "Preallocate segment files."),
      topic_def("remote.copy.lag.bytes", t::long_, "-1", "log.remote.copy.lag.bytes",
                "Newer local bytes after which a segment may be copied to tiered storage; Brook has no tiered storage.",
                at_least(-1)),
      topic_def("remote.copy.lag.ms", t::long_, "0", "log.remote.copy.lag.ms",
                "Age after which a segment may be copied to tiered storage; Brook has no tiered storage.", at_least(-1)),
      topic_def("remote.log.copy.disable", t::boolean, "false", std::nullopt,
                "Stop copying segments to tiered storage; Brook has no tiered storage."),
      topic_def("remote.log.delete.on.disable", t::boolean, "false", std::nullopt,
                "Delete tiered data when tiering is turned off; Brook has no tiered storage."),
      topic_def("remote.storage.enable", t::boolean, "false", std::nullopt,
                "Tiered storage for the topic; Brook does not support it."),
      topic_def("retention.bytes", t::long_, "-1", "log.retention.bytes",
                "Largest size of a partition before old segments are deleted; -1: no limit."),
      topic_def("retention.ms", t::long_, "604800000", "log.retention.ms",
                "Longest time a segment is kept before it is deleted; -1: no limit.", at_least(-1)),
      topic_def("segment.bytes", t::int_, "1073741824", "log.segment.bytes", "Largest size of a segment file.",
                at_least(14)),
      topic_def("segment.index.bytes", t::int_, "10485760", "log.index.size.max.bytes",
                "Largest size of an offset or time index file.", at_least(4)),
      topic_def("segment.jitter.ms", t::long_, "0", "log.roll.jitter.ms",
                "Random jitter subtracted from segment.ms so that segments do not all roll at once.", at_least(0)),
      topic_def("segment.ms", t::long_, "604800000", "log.roll.ms",
                "Age after which the active segment is rolled even if it is not full.", at_least(1)),
      topic_def("unclean.leader.election.enable", t::boolean, "false", "unclean.leader.election.enable",
                "Elect an out-of-sync replica as leader; meaningless on a single node."),
  };
  std::sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.definition.name < b.definition.name; });
  return d;
}

// The value a topic inherits from the broker (Kafka's mapping of broker settings to topic
// defaults): broker keys with hour/minute variants resolve their precedence first.
config_value inherited_value(const server_config& broker, const topic_config_definition& t) {
  const std::string& name = t.definition.name;
  if (name == "retention.ms") return broker.log_retention_ms();
  if (name == "segment.ms") return broker.log_roll_ms();
  if (name == "segment.jitter.ms") return broker.log_roll_jitter_ms();
  if (name == "flush.ms") return broker.log_flush_interval_ms();
  if (t.broker_synonym) {
    const config_value& v = broker.value(*t.broker_synonym);
    if (!std::holds_alternative<std::monostate>(v)) return v;
  }
  auto parsed = parse_config_value(t.definition, t.definition.default_value.value_or(""));
  return parsed ? *parsed : config_value{};
}

using value_map = std::map<std::string, config_value, std::less<>>;

// Parses every override (unknown names and bad values refused), then checks the cross-key rules
// on the merged values.
common::result<value_map> merged_values(const server_config& broker, const topic_overrides& overrides) {
  value_map values;
  for (const auto& [name, text] : overrides) {
    const topic_config_definition* t = find_topic_config(name);
    if (!t) return {kafka_error::invalid_config, fmt::format("Unknown topic config name: {}", name)};
    auto parsed = parse_config_value(t->definition, text);
    if (!parsed) return parsed.err();
    values[name] = std::move(*parsed);
  }
  for (const auto& t : topic_config_definitions()) {
    if (!values.count(t.definition.name)) values[t.definition.name] = inherited_value(broker, t);
  }
  if (std::get<bool>(values["remote.storage.enable"])) {
    return {kafka_error::invalid_config,
            "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."};
  }
  int64_t min_lag = std::get<int64_t>(values["min.compaction.lag.ms"]);
  int64_t max_lag = std::get<int64_t>(values["max.compaction.lag.ms"]);
  if (min_lag > max_lag) {
    return {kafka_error::invalid_config,
            fmt::format("conflict topic config setting min.compaction.lag.ms ({}) > max.compaction.lag.ms ({})", min_lag,
                        max_lag)};
  }
  return values;
}

}  // namespace

const std::vector<topic_config_definition>& topic_config_definitions() {
  static const std::vector<topic_config_definition> table = make_topic_definitions();
  return table;
}

const topic_config_definition* find_topic_config(std::string_view name) {
  const auto& table = topic_config_definitions();
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const topic_config_definition& t, std::string_view n) { return t.definition.name < n; });
  return it != table.end() && it->definition.name == name ? &*it : nullptr;
}

common::result<void> validate_topic_overrides(const server_config& broker, const topic_overrides& overrides) {
  auto values = merged_values(broker, overrides);
  if (!values) return values.err();
  return {};
}

common::result<effective_topic_config> resolve_topic_config(const server_config& broker,
                                                            const topic_overrides& overrides) {
  auto merged = merged_values(broker, overrides);
  if (!merged) return merged.err();
  const value_map& v = *merged;
  auto i64 = [&](std::string_view name) { return std::get<int64_t>(v.find(name)->second); };
  auto i32 = [&](std::string_view name) { return static_cast<int32_t>(i64(name)); };
  auto boolean = [&](std::string_view name) { return std::get<bool>(v.find(name)->second); };
  auto text = [&](std::string_view name) { return std::get<std::string>(v.find(name)->second); };

  effective_topic_config c;
  c.cleanup_policy = std::get<std::vector<std::string>>(v.find("cleanup.policy")->second);
  c.cleanup_delete = std::find(c.cleanup_policy.begin(), c.cleanup_policy.end(), "delete") != c.cleanup_policy.end();
  c.cleanup_compact = std::find(c.cleanup_policy.begin(), c.cleanup_policy.end(), "compact") != c.cleanup_policy.end();
  c.compression_type = text("compression.type");
  c.compression_gzip_level = i32("compression.gzip.level");
  c.compression_lz4_level = i32("compression.lz4.level");
  c.compression_zstd_level = i32("compression.zstd.level");
  c.delete_retention_ms = i64("delete.retention.ms");
  c.file_delete_delay_ms = i64("file.delete.delay.ms");
  c.flush_messages = i64("flush.messages");
  c.flush_ms = i64("flush.ms");
  c.index_interval_bytes = i32("index.interval.bytes");
  c.local_retention_bytes = i64("local.retention.bytes");
  c.local_retention_ms = i64("local.retention.ms");
  c.max_compaction_lag_ms = i64("max.compaction.lag.ms");
  c.max_decompressed_message_bytes = i32("max.decompressed.message.bytes");
  c.max_message_bytes = i32("max.message.bytes");
  c.message_timestamp_type =
      text("message.timestamp.type") == "LogAppendTime" ? timestamp_type::log_append_time : timestamp_type::create_time;
  c.message_timestamp_before_max_ms = i64("message.timestamp.before.max.ms");
  c.message_timestamp_after_max_ms = i64("message.timestamp.after.max.ms");
  c.min_cleanable_dirty_ratio = std::get<double>(v.find("min.cleanable.dirty.ratio")->second);
  c.min_compaction_lag_ms = i64("min.compaction.lag.ms");
  c.min_insync_replicas = i32("min.insync.replicas");
  c.preallocate = boolean("preallocate");
  c.remote_storage_enable = boolean("remote.storage.enable");
  c.retention_bytes = i64("retention.bytes");
  c.retention_ms = i64("retention.ms");
  c.segment_bytes = i32("segment.bytes");
  c.segment_index_bytes = i32("segment.index.bytes");
  c.segment_jitter_ms = i64("segment.jitter.ms");
  c.segment_ms = i64("segment.ms");
  c.unclean_leader_election_enable = boolean("unclean.leader.election.enable");
  return c;
}

std::vector<config_entry> describe_topic_config(const server_config& broker, const topic_overrides& overrides) {
  std::vector<config_entry> out;
  out.reserve(topic_config_definitions().size());
  for (const auto& t : topic_config_definitions()) {
    const config_definition& d = t.definition;
    config_entry e;
    e.name = d.name;
    e.type = d.type;
    e.read_only = false;
    e.sensitive = d.sensitive;
    e.documentation = d.documentation;
    auto override_it = overrides.find(d.name);
    if (override_it != overrides.end()) {
      auto parsed = parse_config_value(d, override_it->second);
      e.value = parsed ? format_config_value(*parsed) : std::optional<std::string>(override_it->second);
      e.synonyms.push_back({d.name, e.value, config_source::dynamic_topic_config});
    } else {
      e.value = format_config_value(inherited_value(broker, t));
    }
    if (t.broker_synonym) {
      auto inherited = broker.synonyms_of(*t.broker_synonym);
      e.synonyms.insert(e.synonyms.end(), inherited.begin(), inherited.end());
    }
    if (d.sensitive) {
      e.value.reset();
      for (auto& s : e.synonyms) s.value.reset();
    }
    e.source = e.synonyms.empty() ? config_source::default_config : e.synonyms.front().source;
    e.is_default = e.source == config_source::default_config;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace brook::broker
