#include "client/producing/record_accumulator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace brook::client::producing {

using common::error;
using common::kafka_error;
using common::result;

int64_t system_clock::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

exponential_backoff::exponential_backoff(int64_t initial_ms, int64_t max_ms, double jitter)
    : initial_(initial_ms), max_(max_ms), jitter_(jitter) {
  exp_max_ = (max_ > initial_ && initial_ > 0)
                 ? std::log(static_cast<double>(max_) / static_cast<double>(std::max<int64_t>(initial_, 1))) /
                       std::log(2.0)
                 : 0.0;
}

int64_t exponential_backoff::backoff(int64_t attempts) const {
  if (exp_max_ == 0.0) return initial_;
  const double exp = std::min(static_cast<double>(attempts), exp_max_);
  const double term = static_cast<double>(initial_) * std::pow(2.0, exp);
  double factor = 1.0;
  if (jitter_ >= std::numeric_limits<double>::epsilon()) {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    std::uniform_real_distribution<double> dist(1.0 - jitter_, 1.0 + jitter_);
    factor = dist(engine);
  }
  const double value = term * factor;
  if (value > static_cast<double>(max_)) return max_;
  return static_cast<int64_t>(value);
}

std::optional<int32_t> cluster_snapshot::partition_count(const std::string& topic) const {
  auto it = topics.find(topic);
  if (it == topics.end() || it->second.empty()) return std::nullopt;
  return static_cast<int32_t>(it->second.size());
}

namespace {
const cluster_snapshot::partition* find_partition(const cluster_snapshot& c, const topic_partition& tp) {
  auto it = c.topics.find(tp.topic);
  if (it == c.topics.end()) return nullptr;
  for (const auto& p : it->second)
    if (p.id == tp.partition) return &p;
  return nullptr;
}
}  // namespace

std::optional<int32_t> cluster_snapshot::leader_for(const topic_partition& tp) const {
  const auto* p = find_partition(*this, tp);
  if (!p || p->leader < 0) return std::nullopt;
  return p->leader;
}

std::optional<int32_t> cluster_snapshot::leader_epoch_for(const topic_partition& tp) const {
  const auto* p = find_partition(*this, tp);
  if (!p || p->leader_epoch < 0) return std::nullopt;
  return p->leader_epoch;
}

std::vector<topic_partition> cluster_snapshot::partitions_for_node(int32_t node) const {
  std::vector<topic_partition> out;
  for (const auto& [topic, parts] : topics)
    for (const auto& p : parts)
      if (p.leader == node) out.push_back({topic, p.id});
  return out;
}

topic_availability cluster_snapshot::availability(const std::string& topic) const {
  topic_availability a;
  auto it = topics.find(topic);
  if (it == topics.end()) return a;
  a.partition_count = static_cast<int32_t>(it->second.size());
  for (const auto& p : it->second)
    if (p.leader >= 0) a.available.push_back(p.id);
  std::sort(a.available.begin(), a.available.end());
  return a;
}

record_accumulator::record_accumulator(const producer_config& config, const clock& clock,
                                       idempotence_manager* idempotence, builtin_partitioner::random_source random)
    : config_(config),
      clock_(clock),
      idempotence_(idempotence),
      random_(std::move(random)),
      retry_backoff_(config.retry_backoff_ms, config.retry_backoff_max_ms),
      // Enough for the batches a partition cycles through (max.in.flight.requests.per.connection in flight,
      // one filling), within buffer.memory.
      buffers_(std::make_shared<batch_buffer_pool>(
          static_cast<size_t>(std::max<int64_t>(config.batch_size, 0)),
          static_cast<size_t>(std::clamp<int64_t>(config.buffer_memory / std::max<int64_t>(config.batch_size, 1), 0,
                                                  8)))) {}

record_accumulator::topic_info& record_accumulator::topic_locked(const std::string& topic) {
  auto& slot = topics_[topic];
  if (!slot) slot = std::make_unique<topic_info>(builtin_partitioner(topic, config_.batch_size, random_));
  return *slot;
}

builtin_partitioner& record_accumulator::partitioner_for(const std::string& topic) {
  std::lock_guard lock(mutex_);
  return topic_locked(topic).partitioner;
}

std::optional<int32_t> record_accumulator::try_append_locked(std::deque<batch_ptr>& dq, const record& r,
                                                             int64_t timestamp, delivery_callback& callback) {
  if (dq.empty()) return std::nullopt;
  auto& last = dq.back();
  if (last->is_closed()) return std::nullopt;
  return last->try_append(timestamp, r.key, r.value, r.headers, std::move(callback));
}

result<record_accumulator::append_result> record_accumulator::append(const record& r, int64_t timestamp,
                                                                     delivery_callback callback,
                                                                     const cluster_snapshot& cluster) {
  const int32_t upper_bound = batch_size_upper_bound(r.key, r.value, r.headers);
  if (upper_bound > config_.max_request_size)
    return error{kafka_error::message_too_large,
                 "The message is " + std::to_string(upper_bound) +
                     " bytes when serialized which is larger than " + std::to_string(config_.max_request_size) +
                     ", which is the value of the max.request.size configuration."};
  if (upper_bound > config_.buffer_memory)
    return error{kafka_error::message_too_large,
                 "The message is " + std::to_string(upper_bound) +
                     " bytes when serialized which is larger than the total memory buffer you have configured "
                     "with the buffer.memory configuration."};
  const auto count = cluster.partition_count(r.topic);
  if (!count)
    return error{kafka_error::unknown_topic_or_partition, "Topic " + r.topic + " not present in metadata"};
  std::optional<int32_t> fixed_partition;
  if (r.partition) {
    if (*r.partition < 0 || *r.partition >= *count)
      return error{kafka_error::unknown_topic_or_partition,
                   "Partition " + std::to_string(*r.partition) + " of topic " + r.topic + " with partition count " +
                       std::to_string(*count) + " is not present in metadata"};
    fixed_partition = r.partition;
  } else if (r.key && !config_.partitioner_ignore_keys) {
    fixed_partition = partition_for_key(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.key->data()), r.key->size()), *count);
  }
  // Which partitions have a leader matters only to the sticky choice (a record without partition or key).
  topic_availability availability;
  if (!fixed_partition) availability = cluster.availability(r.topic);
  const int64_t batch_bytes = std::max<int64_t>(config_.batch_size, upper_bound);

  std::unique_lock lock(mutex_);
  int64_t reserved = 0;
  auto release_reserved = [&] {
    if (reserved) {
      used_memory_ -= reserved;
      reserved = 0;
      memory_freed_.notify_all();
    }
  };
  std::optional<int64_t> deadline;  // max.block.ms from the first wait for memory (read the clock only then)
  while (true) {
    if (aborted_) {
      release_reserved();
      return *aborted_;
    }
    if (closed_) {
      release_reserved();
      return error{kafka_error::unknown_server_error, "Producer closed while send in progress"};
    }
    auto& info = topic_locked(r.topic);
    std::shared_ptr<builtin_partitioner::sticky_partition> sticky;
    int32_t partition;
    if (fixed_partition) {
      partition = *fixed_partition;
    } else {
      sticky = info.partitioner.peek_current(availability);
      partition = sticky->partition;
    }
    auto& dq = info.batches[partition];
    if (auto appended = try_append_locked(dq, r, timestamp, callback)) {
      release_reserved();
      // Switching partitions while the queue's last batch is not full would leave a small batch behind.
      info.partitioner.update_partition_info(sticky, *appended, availability, dq.back()->is_full());
      return append_result{partition, dq.size() > 1 || dq.back()->is_full(), false};
    }
    if (!reserved) {
      // Memory for a new batch: immediately when it is free and nobody waits before us, else in turn.
      bool waited = false;
      if (!(waiters_.empty() && used_memory_ + batch_bytes <= config_.buffer_memory)) {
        const uint64_t ticket = next_ticket_++;
        waiters_.push_back(ticket);
        while (!(waiters_.front() == ticket && used_memory_ + batch_bytes <= config_.buffer_memory)) {
          if (!deadline) deadline = clock_.now_ms() + config_.max_block_ms;
          const int64_t remaining = *deadline - clock_.now_ms();
          if (remaining <= 0 || closed_ || aborted_) {
            waiters_.erase(std::find(waiters_.begin(), waiters_.end(), ticket));
            memory_freed_.notify_all();
            if (aborted_) return *aborted_;
            if (closed_) return error{kafka_error::unknown_server_error, "Producer closed while send in progress"};
            return error{kafka_error::request_timed_out,
                         "Failed to allocate " + std::to_string(batch_bytes) +
                             " bytes within the configured max blocking time " +
                             std::to_string(config_.max_block_ms) + " ms (max.block.ms). Total memory: " +
                             std::to_string(config_.buffer_memory) + " bytes (buffer.memory). Available memory: " +
                             std::to_string(config_.buffer_memory - used_memory_) + " bytes."};
          }
          memory_freed_.wait_for(lock, std::chrono::milliseconds(remaining));
        }
        waiters_.pop_front();
        memory_freed_.notify_all();
        waited = true;
      }
      used_memory_ += batch_bytes;
      reserved = batch_bytes;
      // The lock was released while waiting: the sticky partition or the queue may have changed.
      if (waited) continue;
    }
    const float estimate = ratio_.estimate(r.topic, config_.compression_type);
    std::optional<int32_t> level;
    switch (config_.compression_type) {
      case common::compression_codec::gzip: level = config_.compression_gzip_level; break;
      case common::compression_codec::lz4: level = config_.compression_lz4_level; break;
      case common::compression_codec::zstd: level = config_.compression_zstd_level; break;
      default: break;
    }
    auto batch = std::make_shared<producer_batch>(topic_partition{r.topic, partition}, config_.compression_type,
                                                  level, static_cast<int32_t>(batch_bytes), clock_.now_ms(),
                                                  estimate, buffers_);
    auto appended = batch->try_append(timestamp, r.key, r.value, r.headers, std::move(callback));
    batch->reserved_bytes = reserved;
    reserved = 0;
    dq.push_back(batch);
    incomplete_.insert(batch);
    info.partitioner.update_partition_info(sticky, appended.value_or(0), availability, batch->is_full());
    return append_result{partition, dq.size() > 1 || batch->is_full(), true};
  }
}

bool record_accumulator::should_backoff(const producer_batch& batch, int64_t now_ms) const {
  const bool wait_more =
      batch.attempts() > 0 && batch.waited_time_ms(now_ms) < retry_backoff_.backoff(batch.attempts() - 1);
  return !batch.has_leader_changed_for_ongoing_retry() && wait_more;
}

int64_t record_accumulator::partition_ready_locked(const cluster_snapshot& cluster, int64_t now_ms,
                                                   const std::string& topic, topic_info& info, int64_t next_delay,
                                                   ready_check& out) {
  const int32_t count = cluster.partition_count(topic).value_or(0);
  // Adaptive only once every partition has had a queue: a partition the stats do not know could never win.
  const bool adaptive = config_.partitioner_adaptive_partitioning_enable && count > 0 &&
                        info.batches.size() >= static_cast<size_t>(count);
  std::vector<int32_t> queue_sizes, partition_ids;
  const bool exhausted = !waiters_.empty();
  for (auto& [partition, dq] : info.batches) {
    const topic_partition tp{topic, partition};
    const auto leader = cluster.leader_for(tp);
    bool included = false;
    if (leader && adaptive) {
      queue_sizes.push_back(0);
      partition_ids.push_back(partition);
      included = true;
    }
    if (dq.empty()) continue;
    auto& batch = *dq.front();
    batch.maybe_update_leader_epoch(cluster.leader_epoch_for(tp));
    const int64_t waited = batch.waited_time_ms(now_ms);
    const bool backing_off = should_backoff(batch, now_ms);
    const bool full = dq.size() > 1 || batch.is_full();
    if (!leader) {
      out.unknown_leader_topics.insert(topic);
      continue;
    }
    if (included) queue_sizes.back() = static_cast<int32_t>(dq.size());
    if (config_.partitioner_availability_timeout_ms > 0) {
      auto it = node_stats_.find(*leader);
      if (it != node_stats_.end() &&
          it->second.ready_ms - it->second.drain_ms > config_.partitioner_availability_timeout_ms && included) {
        // The leader has had data but could not take it for too long: keep new records away from it.
        queue_sizes.pop_back();
        partition_ids.pop_back();
      }
    }
    if (!out.ready_nodes.count(*leader) && !muted_.count(tp)) {
      const int64_t time_to_wait =
          backing_off ? retry_backoff_.backoff(batch.attempts() > 0 ? batch.attempts() - 1 : 0) : config_.linger_ms;
      const bool expired = waited >= time_to_wait;
      const bool sendable = full || expired || exhausted || closed_ || flushes_in_progress_ > 0;
      if (sendable && !backing_off) {
        out.ready_nodes.insert(*leader);
      } else {
        next_delay = std::min(std::max<int64_t>(time_to_wait - waited, 0), next_delay);
      }
    }
  }
  if (adaptive) {
    const size_t length = queue_sizes.size();
    queue_sizes.resize(info.batches.size(), 0);
    partition_ids.resize(info.batches.size(), -1);
    info.partitioner.update_partition_load_stats(std::move(queue_sizes), std::move(partition_ids), length);
  } else {
    info.partitioner.update_partition_load_stats({}, {}, 0);
  }
  return next_delay;
}

record_accumulator::ready_check record_accumulator::ready(const cluster_snapshot& cluster, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  ready_check out;
  for (auto& [topic, info] : topics_)
    out.next_ready_check_delay_ms =
        partition_ready_locked(cluster, now_ms, topic, *info, out.next_ready_check_delay_ms, out);
  return out;
}

std::map<int32_t, std::vector<batch_ptr>> record_accumulator::drain(const cluster_snapshot& cluster,
                                                                    const std::set<int32_t>& nodes,
                                                                    int32_t max_request_size, int64_t now_ms) {
  std::map<int32_t, std::vector<batch_ptr>> result;
  std::vector<batch_ptr> to_close;
  {
    std::lock_guard lock(mutex_);
    for (int32_t node : nodes) {
      auto& ready = result[node];
      const auto parts = cluster.partitions_for_node(node);
      if (parts.empty()) continue;
      int64_t size = 0;
      // Each node starts where it stopped last time, so no partition starves.
      size_t& drain_index = drain_index_[node];
      drain_index %= parts.size();
      const size_t start = drain_index;
      do {
        const topic_partition& tp = parts[drain_index];
        drain_index = (drain_index + 1) % parts.size();
        if (muted_.count(tp)) continue;
        auto topic_it = topics_.find(tp.topic);
        if (topic_it == topics_.end()) continue;
        auto dq_it = topic_it->second->batches.find(tp.partition);
        if (dq_it == topic_it->second->batches.end() || dq_it->second.empty()) continue;
        auto& dq = dq_it->second;
        const batch_ptr first = dq.front();
        first->maybe_update_leader_epoch(cluster.leader_epoch_for(tp));
        if (should_backoff(*first, now_ms)) continue;
        // A single batch larger than the request size (compression estimates can miss) still goes alone.
        if (size + first->estimated_size_bytes() > max_request_size && !ready.empty()) break;
        if (idempotence_ && idempotence_->should_stop_drain(*first)) break;
        dq.pop_front();
        if (idempotence_ && !first->has_sequence()) idempotence_->assign_sequence(first);
        if (!first->is_closed()) {
          auto ratio = first->close();
          if (ratio && first->codec() != common::compression_codec::none)
            ratio_.update(tp.topic, first->codec(), *ratio);
        }
        size += first->estimated_size_bytes();
        first->drained(now_ms);
        ready.push_back(first);
        if (config_.guarantee_message_order()) muted_.insert(tp);
      } while (drain_index != start);
    }
  }
  return result;
}

void record_accumulator::reenqueue(const batch_ptr& batch, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  batch->reenqueued(now_ms);
  auto& dq = topic_locked(batch->tp().topic).batches[batch->tp().partition];
  if (idempotence_ && batch->has_sequence()) {
    // Retried batches go back in sequence order ahead of the batches that never left.
    auto it = dq.begin();
    while (it != dq.end() && (*it)->has_sequence() && (*it)->base_sequence() < batch->base_sequence()) ++it;
    dq.insert(it, batch);
  } else {
    dq.push_front(batch);
  }
}

size_t record_accumulator::split_and_reenqueue(const batch_ptr& big) {
  std::lock_guard lock(mutex_);
  const float estimate = std::max(1.0f, big->compression_ratio());
  ratio_.set(big->tp().topic, big->codec(), estimate);
  auto parts = big->split(config_.batch_size, estimate);
  for (auto& part : parts) {
    // Closed now, so the estimate of the next drain is the real size.
    if (auto ratio = part->close(); !ratio) continue;
  }
  auto& dq = topic_locked(big->tp().topic).batches[big->tp().partition];
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    const auto& part = *it;
    incomplete_.insert(part);
    if (idempotence_ && part->has_sequence()) {
      idempotence_->add_in_flight_batch(part);
      auto pos = dq.begin();
      while (pos != dq.end() && (*pos)->has_sequence() && (*pos)->base_sequence() < part->base_sequence()) ++pos;
      dq.insert(pos, part);
    } else {
      dq.push_front(part);
    }
  }
  return parts.size();
}

std::vector<batch_ptr> record_accumulator::expired_batches(int64_t now_ms) {
  std::lock_guard lock(mutex_);
  std::vector<batch_ptr> expired;
  next_batch_expiry_ms_ = INT64_MAX;
  for (auto& [topic, info] : topics_) {
    for (auto& [partition, dq] : info->batches) {
      while (!dq.empty()) {
        auto& batch = dq.front();
        if (batch->has_reached_delivery_timeout(config_.delivery_timeout_ms, now_ms)) {
          expired.push_back(batch);
          dq.pop_front();
        } else {
          next_batch_expiry_ms_ = std::min(next_batch_expiry_ms_, batch->created_ms() + config_.delivery_timeout_ms);
          break;
        }
      }
    }
  }
  return expired;
}

int64_t record_accumulator::next_expiry_time_ms() const {
  std::lock_guard lock(mutex_);
  return next_batch_expiry_ms_;
}

void record_accumulator::deallocate(const batch_ptr& batch) {
  {
    std::lock_guard lock(mutex_);
    if (incomplete_.erase(batch)) {
      used_memory_ -= batch->reserved_bytes;
      batch->reserved_bytes = 0;
    }
  }
  memory_freed_.notify_all();
  batch_completed_.notify_all();
}

void record_accumulator::mute_partition(const topic_partition& tp) {
  std::lock_guard lock(mutex_);
  muted_.insert(tp);
}

void record_accumulator::unmute_partition(const topic_partition& tp) {
  std::lock_guard lock(mutex_);
  muted_.erase(tp);
}

bool record_accumulator::is_muted(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  return muted_.count(tp) > 0;
}

void record_accumulator::update_node_latency_stats(int32_t node, int64_t now_ms, bool can_drain) {
  if (config_.partitioner_availability_timeout_ms <= 0) return;
  std::lock_guard lock(mutex_);
  auto [it, inserted] = node_stats_.emplace(node, node_latency{now_ms, now_ms});
  if (can_drain) it->second.drain_ms = now_ms;
  it->second.ready_ms = now_ms;
}

void record_accumulator::begin_flush() {
  std::lock_guard lock(mutex_);
  ++flushes_in_progress_;
}

void record_accumulator::await_flush_completion() {
  std::unique_lock lock(mutex_);
  // Every batch created up to now, including the parts a batch split into later (they keep its creation
  // time), must be done.
  const int64_t cutoff = clock_.now_ms();
  batch_completed_.wait(lock, [&] {
    return std::none_of(incomplete_.begin(), incomplete_.end(),
                        [&](const batch_ptr& b) { return b->created_ms() <= cutoff && !b->is_done(); });
  });
  --flushes_in_progress_;
}

bool record_accumulator::flush_in_progress() const {
  std::lock_guard lock(mutex_);
  return flushes_in_progress_ > 0;
}

void record_accumulator::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  memory_freed_.notify_all();
}

bool record_accumulator::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::vector<batch_ptr> record_accumulator::abort_undrained_batches(const common::error& e) {
  std::vector<batch_ptr> out;
  {
    std::lock_guard lock(mutex_);
    aborted_ = e;
    for (auto& [topic, info] : topics_)
      for (auto& [partition, dq] : info->batches) {
        out.insert(out.end(), dq.begin(), dq.end());
        dq.clear();
      }
  }
  memory_freed_.notify_all();
  return out;
}

bool record_accumulator::has_undrained() const {
  std::lock_guard lock(mutex_);
  for (const auto& [topic, info] : topics_)
    for (const auto& [partition, dq] : info->batches)
      if (!dq.empty()) return true;
  return false;
}

bool record_accumulator::has_incomplete() const {
  std::lock_guard lock(mutex_);
  return !incomplete_.empty();
}

int64_t record_accumulator::used_memory() const {
  std::lock_guard lock(mutex_);
  return used_memory_;
}

int64_t record_accumulator::available_memory() const {
  std::lock_guard lock(mutex_);
  return config_.buffer_memory - used_memory_;
}

size_t record_accumulator::memory_waiters() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

size_t record_accumulator::queue_size(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(tp.topic);
  if (it == topics_.end()) return 0;
  auto dq = it->second->batches.find(tp.partition);
  return dq == it->second->batches.end() ? 0 : dq->second.size();
}

}  // namespace brook::client::producing
