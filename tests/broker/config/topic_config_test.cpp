#include "broker/config/topic_config.hpp"

#include <catch2/catch.hpp>

#include "tests/broker/config/config_test_support.hpp"

using namespace brook::broker;
using brook::common::kafka_error;
using brook::test::entry_named;
using brook::test::server_config_of;

namespace {

effective_topic_config resolve(const server_config& b, topic_overrides overrides = {}) {
  auto r = resolve_topic_config(b, overrides);
  if (!r) FAIL(r.err().message);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("topic config: defaults come from the broker's defaults", "[config][topic]") {
  auto c = resolve(server_config_of());
  CHECK(c.retention_ms == 604800000);
  CHECK(c.retention_bytes == -1);
  CHECK(c.segment_bytes == 1073741824);
  CHECK(c.segment_ms == 604800000);
  CHECK(c.segment_jitter_ms == 0);
  CHECK(c.segment_index_bytes == 10485760);
  CHECK(c.index_interval_bytes == 4096);
  CHECK(c.max_message_bytes == 1048588);
  CHECK(c.cleanup_delete);
  CHECK_FALSE(c.cleanup_compact);
  CHECK(c.flush_messages == INT64_MAX);
  CHECK(c.flush_ms == INT64_MAX);
  CHECK(c.message_timestamp_type == timestamp_type::create_time);
  CHECK(c.message_timestamp_before_max_ms == INT64_MAX);
  CHECK(c.message_timestamp_after_max_ms == 3600000);
  CHECK(c.max_decompressed_message_bytes == 2147483639);
  CHECK(c.delete_retention_ms == 86400000);
  CHECK(c.min_compaction_lag_ms == 0);
  CHECK(c.max_compaction_lag_ms == INT64_MAX);
  CHECK(c.min_cleanable_dirty_ratio == 0.5);
  CHECK(c.compression_type == "producer");
  CHECK(c.min_insync_replicas == 1);
  CHECK(c.file_delete_delay_ms == 60000);
  CHECK_FALSE(c.remote_storage_enable);
}

TEST_CASE("topic config: broker settings apply with their precedence", "[config][topic]") {
  auto b = server_config_of({{"log.retention.minutes", "10"},
                   {"log.retention.hours", "1"},
                   {"log.segment.bytes", "1000"},
                   {"message.max.bytes", "2000"},
                   {"log.roll.hours", "2"},
                   {"log.cleanup.policy", "compact"},
                   {"log.message.timestamp.type", "LogAppendTime"},
                   {"log.flush.scheduler.interval.ms", "3000"},
                   {"log.cleaner.delete.retention.ms", "5"}});
  auto c = resolve(b);
  CHECK(c.retention_ms == 600000);
  CHECK(c.segment_bytes == 1000);
  CHECK(c.max_message_bytes == 2000);
  CHECK(c.segment_ms == 7200000);
  CHECK(c.cleanup_compact);
  CHECK_FALSE(c.cleanup_delete);
  CHECK(c.message_timestamp_type == timestamp_type::log_append_time);
  CHECK(c.flush_ms == 3000);
  CHECK(c.delete_retention_ms == 5);
}

TEST_CASE("topic config: overrides win over the broker", "[config][topic]") {
  auto b = server_config_of({{"log.retention.hours", "1"}, {"log.segment.bytes", "1000"}});
  auto c = resolve(b, {{"retention.ms", "-1"},
                       {"segment.bytes", "14"},
                       {"cleanup.policy", "compact,delete"},
                       {"message.timestamp.before.max.ms", "100"},
                       {"compression.type", "zstd"},
                       {"max.message.bytes", "10"},
                       {"flush.messages", "1"}});
  CHECK(c.retention_ms == -1);
  CHECK(c.segment_bytes == 14);
  CHECK(c.cleanup_compact);
  CHECK(c.cleanup_delete);
  CHECK(c.cleanup_policy == std::vector<std::string>{"compact", "delete"});
  CHECK(c.message_timestamp_before_max_ms == 100);
  CHECK(c.message_timestamp_after_max_ms == 3600000);
  CHECK(c.compression_type == "zstd");
  CHECK(c.max_message_bytes == 10);
  CHECK(c.flush_messages == 1);
}

TEST_CASE("topic config: the broker's timestamp and decompression limits are inherited", "[config][topic]") {
  auto c = resolve(server_config_of({{"log.message.timestamp.after.max.ms", "5000"}, {"max.decompressed.message.bytes", "100"}}),
                   {{"message.timestamp.before.max.ms", "7"}});
  CHECK(c.message_timestamp_before_max_ms == 7);
  CHECK(c.message_timestamp_after_max_ms == 5000);
  CHECK(c.max_decompressed_message_bytes == 100);
  CHECK(resolve(server_config_of(), {{"max.decompressed.message.bytes", "1"}}).max_decompressed_message_bytes == 1);
}

TEST_CASE("topic config: the keys Kafka 4 removed are unknown", "[config][topic]") {
  for (const char* name : {"message.downconversion.enable", "message.format.version", "message.timestamp.difference.max.ms"}) {
    auto r = validate_topic_overrides(server_config_of(), {{name, "1"}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.code() == kafka_error::invalid_config);
    CHECK(r.err().message == std::string("Unknown topic config name: ") + name);
    CHECK(find_topic_config(name) == nullptr);
  }
}

TEST_CASE("topic config: Kafka 4.4's newer keys are described with their broker synonyms", "[config][topic]") {
  auto b = server_config_of({{"log.remote.copy.lag.ms", "60000"}});
  auto entries = describe_topic_config(b, {{"errors.deadletterqueue.group.enable", "true"}});
  const auto& dlq = entry_named(entries, "errors.deadletterqueue.group.enable");
  CHECK(dlq.value == "true");
  CHECK(dlq.type == config_type::boolean);
  CHECK(dlq.source == config_source::dynamic_topic_config);
  REQUIRE(dlq.synonyms.size() == 1);
  CHECK_FALSE(dlq.documentation.empty());
  const auto& lag_ms = entry_named(entries, "remote.copy.lag.ms");
  CHECK(lag_ms.value == "60000");
  CHECK(lag_ms.type == config_type::long_);
  CHECK(lag_ms.source == config_source::static_broker_config);
  REQUIRE(lag_ms.synonyms.size() == 2);
  CHECK(lag_ms.synonyms[0].name == "log.remote.copy.lag.ms");
  CHECK(lag_ms.synonyms[1].value == "0");
  const auto& lag_bytes = entry_named(entries, "remote.copy.lag.bytes");
  CHECK(lag_bytes.value == "-1");
  CHECK(lag_bytes.source == config_source::default_config);
  const auto& decompressed = entry_named(entries, "max.decompressed.message.bytes");
  CHECK(decompressed.value == "2147483639");
  CHECK(decompressed.type == config_type::int_);
  REQUIRE(decompressed.synonyms.size() == 1);
  CHECK(decompressed.synonyms[0].name == "max.decompressed.message.bytes");
  CHECK(decompressed.synonyms[0].source == config_source::default_config);
  const auto& after = entry_named(entries, "message.timestamp.after.max.ms");
  CHECK(after.value == "3600000");
  CHECK(after.synonyms.at(0).name == "log.message.timestamp.after.max.ms");
  auto bad = validate_topic_overrides(b, {{"max.decompressed.message.bytes", "0"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message == "Invalid value 0 for configuration max.decompressed.message.bytes: Value must be at least 1");
  CHECK_FALSE(validate_topic_overrides(b, {{"remote.copy.lag.ms", "-2"}}).ok());
  CHECK(validate_topic_overrides(b, {{"remote.copy.lag.bytes", "-1"}}).ok());
}

TEST_CASE("topic config: invalid overrides are refused with Kafka's messages", "[config][topic]") {
  auto b = server_config_of();
  auto check = [&](topic_overrides o, std::string expected) {
    auto r = validate_topic_overrides(b, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.code() == kafka_error::invalid_config);
    CHECK(r.err().message == expected);
  };
  check({{"retention.mss", "1"}}, "Unknown topic config name: retention.mss");
  check({{"segment.bytes", "13"}}, "Invalid value 13 for configuration segment.bytes: Value must be at least 14");
  check({{"segment.bytes", "big"}}, "Invalid value big for configuration segment.bytes: Not a number of type INT");
  check({{"cleanup.policy", "compact,shred"}},
        "Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete");
  check({{"compression.type", "brotli"}},
        "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, "
        "snappy, gzip, producer");
  check({{"message.timestamp.type", "Whenever"}},
        "Invalid value Whenever for configuration message.timestamp.type: String must be one of: CreateTime, "
        "LogAppendTime");
  check({{"retention.ms", "-2"}}, "Invalid value -2 for configuration retention.ms: Value must be at least -1");
  check({{"min.insync.replicas", "0"}}, "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1");
  check({{"min.cleanable.dirty.ratio", "2"}},
        "Invalid value 2.0 for configuration min.cleanable.dirty.ratio: Value must be no more than 1");
  check({{"preallocate", "sometimes"}},
        "Invalid value sometimes for configuration preallocate: Expected value to be either true or false");
  check({{"min.compaction.lag.ms", "10"}, {"max.compaction.lag.ms", "5"}},
        "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)");
  CHECK_FALSE(validate_topic_overrides(b, {{"remote.storage.enable", "true"}}).ok());
  CHECK_FALSE(validate_topic_overrides(b, {{"leader.replication.throttled.replicas", "0:x"}}).ok());

  CHECK(validate_topic_overrides(b, {}).ok());
  CHECK(validate_topic_overrides(b, {{"leader.replication.throttled.replicas", "0:1,1:1"}}).ok());
  CHECK(validate_topic_overrides(b, {{"cleanup.policy", "compact"}, {"retention.ms", "1000"}}).ok());
  CHECK(find_topic_config("retention.ms")->broker_synonym == "log.retention.ms");
  CHECK(find_topic_config("max.message.bytes")->broker_synonym == "message.max.bytes");
  CHECK(find_topic_config("remote.storage.enable")->broker_synonym == std::nullopt);
}

TEST_CASE("topic config: describe with defaults only", "[config][topic]") {
  auto entries = describe_topic_config(server_config_of(), {});
  CHECK(entries.size() == topic_config_definitions().size());

  // Kafka reports retention.ms from log.retention.hours' default with no synonyms: the synonym
  // chain starts at log.retention.ms, which is unset.
  const auto& retention = entry_named(entries, "retention.ms");
  CHECK(retention.value == "604800000");
  CHECK(retention.source == config_source::default_config);
  CHECK(retention.is_default);
  CHECK_FALSE(retention.read_only);
  CHECK_FALSE(retention.sensitive);
  CHECK(retention.type == config_type::long_);
  CHECK(retention.synonyms.empty());

  const auto& segment = entry_named(entries, "segment.bytes");
  CHECK(segment.value == "1073741824");
  CHECK(segment.source == config_source::default_config);
  CHECK(segment.type == config_type::int_);
  REQUIRE(segment.synonyms.size() == 1);
  CHECK(segment.synonyms[0].name == "log.segment.bytes");
  CHECK(segment.synonyms[0].value == "1073741824");
  CHECK(segment.synonyms[0].source == config_source::default_config);

  CHECK(entry_named(entries, "flush.ms").synonyms.empty());
  CHECK(entry_named(entries, "flush.messages").synonyms.size() == 1);
  CHECK(entry_named(entries, "cleanup.policy").type == config_type::list);
  CHECK(entry_named(entries, "min.cleanable.dirty.ratio").value == "0.5");
  CHECK(entry_named(entries, "min.cleanable.dirty.ratio").type == config_type::double_);
  CHECK(entry_named(entries, "preallocate").type == config_type::boolean);
  CHECK(entry_named(entries, "remote.storage.enable").synonyms.empty());
  CHECK(entry_named(entries, "leader.replication.throttled.replicas").value == "");
}

TEST_CASE("topic config: describe orders override, static broker config, default", "[config][topic]") {
  auto b = server_config_of({{"log.segment.bytes", "5000"}, {"log.retention.ms", "1000"}});
  auto entries = describe_topic_config(b, {{"segment.bytes", " 2000 "}});

  const auto& segment = entry_named(entries, "segment.bytes");
  CHECK(segment.value == "2000");
  CHECK(segment.source == config_source::dynamic_topic_config);
  CHECK_FALSE(segment.is_default);
  REQUIRE(segment.synonyms.size() == 3);
  CHECK(segment.synonyms[0].name == "segment.bytes");
  CHECK(segment.synonyms[0].value == "2000");
  CHECK(segment.synonyms[0].source == config_source::dynamic_topic_config);
  CHECK(segment.synonyms[1].name == "log.segment.bytes");
  CHECK(segment.synonyms[1].value == "5000");
  CHECK(segment.synonyms[1].source == config_source::static_broker_config);
  CHECK(segment.synonyms[2].name == "log.segment.bytes");
  CHECK(segment.synonyms[2].value == "1073741824");
  CHECK(segment.synonyms[2].source == config_source::default_config);

  const auto& retention = entry_named(entries, "retention.ms");
  CHECK(retention.value == "1000");
  CHECK(retention.source == config_source::static_broker_config);
  REQUIRE(retention.synonyms.size() == 2);
  CHECK(retention.synonyms[0].name == "log.retention.ms");
  CHECK(retention.synonyms[1].name == "log.retention.hours");
  CHECK(retention.synonyms[1].source == config_source::default_config);

  const auto& bytes = entry_named(entries, "max.message.bytes");
  CHECK(bytes.source == config_source::default_config);
  REQUIRE(bytes.synonyms.size() == 1);
  CHECK(bytes.synonyms[0].name == "message.max.bytes");
}
