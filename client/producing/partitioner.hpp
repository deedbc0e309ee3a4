// Choosing a partition for a record the way the Java client does: murmur2 of the serialized key for keyed
// records (so a key lands on the same partition as with any Java-compatible client), and KIP-794's uniform
// sticky partitioner for records without a key (or with partitioner.ignore.keys=true): stay on one partition
// until batch.size bytes went to it, then switch, preferring partitions whose leaders have short queues
// (adaptive partitioning) and skipping partitions without a leader.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace brook::client::producing {

// Kafka's murmur2 (Utils.murmur2): seed 0x9747b28c, little-endian 4-byte blocks, signed 32-bit result.
int32_t murmur2(std::span<const uint8_t> data);
// Utils.toPositive: clears the sign bit (not abs(), so INT_MIN maps to 0).
constexpr int32_t to_positive(int32_t n) { return n & 0x7fffffff; }
// The partition of a keyed record: toPositive(murmur2(key)) % partitions. partition_count must be > 0.
int32_t partition_for_key(std::span<const uint8_t> key, int32_t partition_count);

// What the sticky partitioner needs to know of a topic: how many partitions it has and which of them have
// a leader now (ascending ids).
struct topic_availability {
  int32_t partition_count = 0;
  std::vector<int32_t> available;
};

// The partitioner for records without a key, one per topic. Owner: the record accumulator, which calls it
// only under its own lock (so nothing here is synchronised). Invariants: current() is set once a partition
// was picked; the load stats, when present, hold a strictly increasing cumulative frequency table over
// partitions that have a leader.
class builtin_partitioner {
 public:
  // Draws a non-negative random int; tests inject a fixed sequence.
  using random_source = std::function<int32_t()>;

  // The partition picked for records without a key and how many bytes went to it since.
  struct sticky_partition {
    int32_t partition = -1;
    int64_t produced_bytes = 0;
  };

  // sticky_batch_size: how many bytes to produce to a partition before switching (batch.size, at least 1).
  builtin_partitioner(std::string topic, int32_t sticky_batch_size, random_source random = {});

  // The current sticky partition, picking one first if there is none yet.
  std::shared_ptr<sticky_partition> peek_current(const topic_availability& topic);
  // True when `seen` (from peek_current) is no longer the current sticky partition.
  bool is_partition_changed(const std::shared_ptr<sticky_partition>& seen) const {
    return seen && current_ != seen;
  }
  // Counts `appended_bytes` for the sticky partition and switches once batch.size bytes went to it (or twice
  // that, when switching is disabled because the partition's queue still has a batch that is not full).
  void update_partition_info(const std::shared_ptr<sticky_partition>& info, int32_t appended_bytes,
                             const topic_availability& topic, bool enable_switch = true);
  // Adaptive partitioning: the queue sizes (in batches) of the partitions that have a leader, and their ids.
  // `length` may be shorter than the vectors when partitions were left out for being unavailable (their
  // leader did not drain for partitioner.availability.timeout.ms). Empty queue_sizes: no stats (uniform).
  void update_partition_load_stats(std::vector<int32_t> queue_sizes, std::vector<int32_t> partition_ids,
                                   size_t length);

  const std::shared_ptr<sticky_partition>& current() const { return current_; }
  // The end of the range random numbers are mapped from, when load stats exist (for tests).
  std::optional<int32_t> load_stats_range_end() const;
  const std::string& topic() const { return topic_; }

 private:
  int32_t next_partition(const topic_availability& topic);

  std::string topic_;
  int32_t sticky_batch_size_;
  random_source random_;
  std::shared_ptr<sticky_partition> current_;
  // Cumulative frequency table and the partition ids it maps to; empty when not adaptive right now.
  std::vector<int32_t> cumulative_frequency_;
  std::vector<int32_t> load_partition_ids_;
};

}  // namespace brook::client::producing
