#include "client/producing/partitioner.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace brook::client::producing {

int32_t murmur2(std::span<const uint8_t> data) {
  // Java's int arithmetic wraps; unsigned arithmetic gives the same bits without undefined behaviour, and
  // Java's >>> is an unsigned shift.
  const uint32_t length = static_cast<uint32_t>(data.size());
  const uint32_t seed = 0x9747b28cu;
  const uint32_t m = 0x5bd1e995u;
  const int r = 24;
  uint32_t h = seed ^ length;
  const size_t length4 = data.size() / 4;
  for (size_t i = 0; i < length4; ++i) {
    const size_t i4 = i * 4;
    uint32_t k = uint32_t(data[i4]) | (uint32_t(data[i4 + 1]) << 8) | (uint32_t(data[i4 + 2]) << 16) |
                 (uint32_t(data[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t tail = data.size() & ~size_t{3};
  switch (data.size() % 4) {
    case 3: h ^= uint32_t(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= uint32_t(data[tail + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t(data[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(std::span<const uint8_t> key, int32_t partition_count) {
  return to_positive(murmur2(key)) % partition_count;
}

namespace {
int32_t thread_random() {
  thread_local std::mt19937 engine{std::random_device{}()};
  return to_positive(static_cast<int32_t>(engine()));
}
}  // namespace

builtin_partitioner::builtin_partitioner(std::string topic, int32_t sticky_batch_size, random_source random)
    : topic_(std::move(topic)), sticky_batch_size_(std::max(sticky_batch_size, 1)), random_(std::move(random)) {
  if (!random_) random_ = thread_random;
}

int32_t builtin_partitioner::next_partition(const topic_availability& topic) {
  const int32_t random = to_positive(random_());
  if (cumulative_frequency_.empty()) {
    // No load stats (adaptive partitioning off, too few partitions, or all queues equal): uniform among the
    // partitions that have a leader, or among all when none has.
    if (!topic.available.empty()) return topic.available[size_t(random) % topic.available.size()];
    return topic.partition_count > 0 ? random % topic.partition_count : 0;
  }
  // Weighted by the inverse of the queue sizes: the first table entry strictly greater than the draw.
  const int32_t weighted = random % cumulative_frequency_.back();
  auto it = std::upper_bound(cumulative_frequency_.begin(), cumulative_frequency_.end(), weighted);
  return load_partition_ids_[size_t(it - cumulative_frequency_.begin())];
}

std::shared_ptr<builtin_partitioner::sticky_partition> builtin_partitioner::peek_current(
    const topic_availability& topic) {
  if (!current_) current_ = std::make_shared<sticky_partition>(sticky_partition{next_partition(topic), 0});
  return current_;
}

void builtin_partitioner::update_partition_info(const std::shared_ptr<sticky_partition>& info,
                                                int32_t appended_bytes, const topic_availability& topic,
                                                bool enable_switch) {
  if (!info) return;  // the record had a partition of its own
  info->produced_bytes += appended_bytes;
  // Switching only when the partition's batches are full avoids leaving small fractional batches behind;
  // the cap at twice batch.size keeps a mix of keyed and unkeyed records from pinning one partition.
  const int64_t produced = info->produced_bytes;
  if ((produced >= sticky_batch_size_ && enable_switch) || produced >= int64_t{sticky_batch_size_} * 2) {
    current_ = std::make_shared<sticky_partition>(sticky_partition{next_partition(topic), 0});
  }
}

void builtin_partitioner::update_partition_load_stats(std::vector<int32_t> queue_sizes,
                                                      std::vector<int32_t> partition_ids, size_t length) {
  cumulative_frequency_.clear();
  load_partition_ids_.clear();
  // Fewer than two partitions in all, or none available: nothing to weigh.
  if (queue_sizes.empty() || length < 1 || queue_sizes.size() < 2) return;
  length = std::min({length, queue_sizes.size(), partition_ids.size()});
  int32_t max_size_plus_1 = queue_sizes[0];
  bool all_equal = true;
  for (size_t i = 1; i < length; ++i) {
    if (queue_sizes[i] != max_size_plus_1) all_equal = false;
    max_size_plus_1 = std::max(max_size_plus_1, queue_sizes[i]);
  }
  ++max_size_plus_1;
  // Equal queues and no partition left out: uniform is the same thing, cheaper.
  if (all_equal && length == queue_sizes.size()) return;
  // Invert the sizes (a short queue gets a high weight) and fold them into a running sum.
  cumulative_frequency_.resize(length);
  load_partition_ids_.assign(partition_ids.begin(), partition_ids.begin() + static_cast<std::ptrdiff_t>(length));
  cumulative_frequency_[0] = max_size_plus_1 - queue_sizes[0];
  for (size_t i = 1; i < length; ++i)
    cumulative_frequency_[i] = max_size_plus_1 - queue_sizes[i] + cumulative_frequency_[i - 1];
}

std::optional<int32_t> builtin_partitioner::load_stats_range_end() const {
  if (cumulative_frequency_.empty()) return std::nullopt;
  return cumulative_frequency_.back();
}

}  // namespace brook::client::producing
