// Public value types shared by Brook's producer and consumer: a topic-partition, a record header, a record to
// produce, and the delivery report a producer hands back for each record.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace brook::client {

struct topic_partition {
  std::string topic{};
  int32_t partition = -1;

  friend bool operator==(const topic_partition&, const topic_partition&) = default;
  friend auto operator<=>(const topic_partition&, const topic_partition&) = default;
};

struct topic_partition_hash {
  size_t operator()(const topic_partition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + std::hash<int32_t>{}(tp.partition);
  }
};

struct header {
  std::string key{};
  std::optional<std::string> value{};  // nullopt: a null header value
};

// A record to produce. Without a partition the producer's partitioner picks one (murmur2 of the key, or the
// sticky partition for records without a key); without a timestamp the producer stamps the time of send().
struct record {
  std::string topic{};
  std::optional<int32_t> partition{};
  std::optional<std::string> key{};    // nullopt: a null key
  std::optional<std::string> value{};  // nullopt: a null value (a tombstone)
  std::vector<header> headers{};
  std::optional<int64_t> timestamp{};  // milliseconds since the epoch
};

// What became of one produced record. On success `error.code` is none; offset is -1 when the broker did not
// say (acks=0, or a duplicate sequence the broker no longer has metadata for); timestamp is the record's
// CreateTime, or the broker's LogAppendTime when the topic uses it.
struct delivery_report {
  std::string topic{};
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;
  common::error error{common::kafka_error::none, {}};

  bool ok() const { return error.code == common::kafka_error::none; }
};

}  // namespace brook::client
