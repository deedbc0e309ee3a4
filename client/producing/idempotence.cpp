#include "client/producing/idempotence.hpp"

#include <limits>

#include "client/core/errors.hpp"

namespace brook::client::producing {

using common::kafka_error;

producer_id_and_epoch idempotence_manager::current() const {
  std::lock_guard lock(mutex_);
  return id_;
}

bool idempotence_manager::has_producer_id() const {
  std::lock_guard lock(mutex_);
  return id_.valid();
}

bool idempotence_manager::needs_producer_id() const {
  std::lock_guard lock(mutex_);
  return !id_.valid() && !initializing_ && !fatal_;
}

void idempotence_manager::set_initializing(bool initializing) {
  std::lock_guard lock(mutex_);
  initializing_ = initializing;
}

void idempotence_manager::set_producer_id_and_epoch(producer_id_and_epoch id) {
  std::lock_guard lock(mutex_);
  id_ = id;
  initializing_ = false;
  if (reset_sequences_on_next_id_) {
    // A new producer id after the epoch ran out: every partition starts again from sequence 0.
    reset_sequences_all();
    reset_sequences_on_next_id_ = false;
  }
}

std::optional<common::error> idempotence_manager::fatal_error() const {
  std::lock_guard lock(mutex_);
  return fatal_;
}

void idempotence_manager::set_fatal_error(common::error e) {
  std::lock_guard lock(mutex_);
  if (!fatal_) fatal_ = std::move(e);
}

idempotence_manager::partition_entry& idempotence_manager::entry(const topic_partition& tp) {
  return partitions_[tp];
}

const idempotence_manager::partition_entry* idempotence_manager::find(const topic_partition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

int32_t idempotence_manager::next_sequence(const topic_partition& tp) {
  std::lock_guard lock(mutex_);
  return entry(tp).next_sequence;
}

void idempotence_manager::increment_sequence(const topic_partition& tp, int32_t records) {
  std::lock_guard lock(mutex_);
  auto& e = entry(tp);
  e.next_sequence = producing::increment_sequence(e.next_sequence, records);
}

std::optional<int32_t> idempotence_manager::last_acked_sequence(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  const auto* e = find(tp);
  if (!e || e->last_acked_sequence < 0) return std::nullopt;
  return e->last_acked_sequence;
}

std::optional<int64_t> idempotence_manager::last_acked_offset(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  const auto* e = find(tp);
  if (!e || e->last_acked_offset < 0) return std::nullopt;
  return e->last_acked_offset;
}

bool idempotence_manager::has_inflight_batches(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  const auto* e = find(tp);
  return e && !e->inflight.empty();
}

int32_t idempotence_manager::first_in_flight_sequence(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  const auto* e = find(tp);
  if (!e || e->inflight.empty()) return -1;
  return (*e->inflight.begin())->base_sequence();
}

bool idempotence_manager::has_stale_producer_id_and_epoch(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  const auto* e = find(tp);
  return !(id_ == (e ? e->id : producer_id_and_epoch{}));
}

bool idempotence_manager::has_unresolved_sequence(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  return unresolved_.count(tp) > 0;
}

bool idempotence_manager::is_next_sequence(const topic_partition& tp, int32_t sequence) const {
  const auto* e = find(tp);
  const int32_t last = e ? e->last_acked_sequence : -1;
  return sequence - last == 1;
}

bool idempotence_manager::should_stop_drain(const producer_batch& first) const {
  std::lock_guard lock(mutex_);
  if (fatal_) return true;
  // No producer id yet (or being renewed): nothing can be sent.
  if (!id_.valid()) return true;
  const auto* e = find(first.tp());
  const bool inflight = e && !e->inflight.empty();
  if (!first.has_sequence()) {
    // A new batch must not start the new epoch at sequence 0 while batches of the old epoch are in flight.
    if (inflight && !(id_ == e->id)) return true;
    // Nor go out while earlier sequences are of unknown fate.
    if (unresolved_.count(first.tp())) return true;
  }
  // A retried batch goes out only when it is the first in flight: one request at a time while retrying.
  if (inflight && first.has_sequence())
    return (*e->inflight.begin())->base_sequence() != first.base_sequence();
  return false;
}

void idempotence_manager::assign_sequence(const batch_ptr& batch) {
  std::lock_guard lock(mutex_);
  if (batch->has_sequence()) return;  // a retry keeps its sequence, or it could be written twice
  auto& e = entry(batch->tp());
  if (!(id_ == e.id) && e.inflight.empty()) {
    // The partition's batches of the previous id/epoch are all done: start this epoch at sequence 0.
    e.id = id_;
    e.next_sequence = 0;
    e.last_acked_sequence = -1;
  }
  batch->set_producer_state(id_.producer_id, id_.epoch, e.next_sequence);
  e.next_sequence = producing::increment_sequence(e.next_sequence, batch->record_count());
  e.inflight.insert(batch);
}

void idempotence_manager::remove_in_flight_batch(const batch_ptr& batch) {
  std::lock_guard lock(mutex_);
  auto it = partitions_.find(batch->tp());
  if (it != partitions_.end()) it->second.inflight.erase(batch);
}

void idempotence_manager::add_in_flight_batch(const batch_ptr& batch) {
  std::lock_guard lock(mutex_);
  if (batch->has_sequence()) entry(batch->tp()).inflight.insert(batch);
}

void idempotence_manager::handle_completed_batch(const batch_ptr& batch, int64_t base_offset) {
  std::lock_guard lock(mutex_);
  auto& e = entry(batch->tp());
  if (batch->last_sequence() > e.last_acked_sequence) e.last_acked_sequence = batch->last_sequence();
  if (base_offset >= 0) {
    const int64_t last_offset = base_offset + batch->record_count() - 1;
    if (last_offset > e.last_acked_offset) e.last_acked_offset = last_offset;
  }
  e.inflight.erase(batch);
}

bool idempotence_manager::can_retry(kafka_error code, int64_t log_start_offset, const producer_batch& batch) {
  std::lock_guard lock(mutex_);
  const auto& tp = batch.tp();
  if (code == kafka_error::unknown_producer_id) {
    // The broker lost this producer's state. Without a log start offset nothing can be told yet: retry.
    if (log_start_offset == -1) return true;
    // Already renumbered by an earlier failure of the same partition: just retry.
    if (batch.sequence_has_been_reset()) return true;
    // Either the log's head was removed (retention) or state was lost: for the idempotent producer both
    // mean a new epoch with sequences from 0, then a retry.
    partitions_to_rewrite_.insert(tp);
    epoch_bump_required_ = true;
    return true;
  }
  if (code == kafka_error::out_of_order_sequence_number) {
    const bool unresolved = unresolved_.count(tp) > 0;
    // Not the batch right after the last acknowledged one: an earlier batch is being retried; wait for it.
    if (!unresolved && (batch.sequence_has_been_reset() || !is_next_sequence(tp, batch.base_sequence())))
      return true;
    // A real gap: bump the epoch when it cannot resolve otherwise, and retry.
    auto it = unresolved_.find(tp);
    if (!unresolved || (it != unresolved_.end() && batch.base_sequence() == it->second)) {
      partitions_to_rewrite_.insert(tp);
      epoch_bump_required_ = true;
    }
    return true;
  }
  return core::is_retriable(code);
}

void idempotence_manager::handle_failed_batch(const batch_ptr& batch, const common::error& e, bool adjust_sequences) {
  std::lock_guard lock(mutex_);
  const auto& tp = batch->tp();
  // ProducerFenced, cluster authorization and unsupported versions end the producer.
  if (e.code == kafka_error::producer_fenced || e.code == kafka_error::cluster_authorization_failed ||
      e.code == kafka_error::unsupported_version || e.code == kafka_error::transactional_id_authorization_failed) {
    if (!fatal_) fatal_ = e;
  }
  auto it = partitions_.find(tp);
  if (it != partitions_.end()) it->second.inflight.erase(batch);
  if (fatal_) return;
  if (e.code == kafka_error::out_of_order_sequence_number) {
    // A gap in the log: a new epoch restarts the partition at 0.
    partitions_to_rewrite_.insert(tp);
    epoch_bump_required_ = true;
  } else if (e.code == kafka_error::unknown_producer_id) {
    // The broker has no state for us and accepts sequence 0 again.
    partitions_.erase(tp);
    unresolved_.erase(tp);
  } else if (adjust_sequences) {
    partitions_to_rewrite_.insert(tp);
    epoch_bump_required_ = true;
  }
}

void idempotence_manager::mark_sequence_unresolved(const producer_batch& batch) {
  std::lock_guard lock(mutex_);
  const int32_t next = batch.last_sequence() + 1;
  auto [it, inserted] = unresolved_.emplace(batch.tp(), next);
  if (!inserted) it->second = std::max(it->second, next);
}

void idempotence_manager::maybe_resolve_sequences() {
  std::lock_guard lock(mutex_);
  for (auto it = unresolved_.begin(); it != unresolved_.end();) {
    const auto* e = find(it->first);
    if (e && !e->inflight.empty()) {
      ++it;
      continue;
    }
    const int32_t next = e ? e->next_sequence : 0;
    if (!is_next_sequence(it->first, next)) {
      // All in-flight batches of the partition expired: their fate is unknown, so a new epoch.
      partitions_to_rewrite_.insert(it->first);
      epoch_bump_required_ = true;
    }
    it = unresolved_.erase(it);
  }
}

void idempotence_manager::request_epoch_bump(const topic_partition& tp) {
  std::lock_guard lock(mutex_);
  partitions_to_rewrite_.insert(tp);
  epoch_bump_required_ = true;
}

bool idempotence_manager::epoch_bump_required() const {
  std::lock_guard lock(mutex_);
  return epoch_bump_required_;
}

void idempotence_manager::start_sequences_at_beginning(const topic_partition& tp) {
  auto& e = entry(tp);
  int32_t sequence = 0;
  std::set<batch_ptr, by_sequence> renumbered;
  for (const auto& b : e.inflight) {
    b->reset_producer_state(id_.producer_id, id_.epoch, sequence);
    sequence += b->record_count();
    renumbered.insert(b);
  }
  e.inflight = std::move(renumbered);
  e.id = id_;
  e.next_sequence = sequence;
  e.last_acked_sequence = -1;
}

void idempotence_manager::reset_sequences_all() {
  partitions_.clear();
  unresolved_.clear();
}

bool idempotence_manager::bump_epoch_and_reset_id_if_needed() {
  std::lock_guard lock(mutex_);
  if (fatal_) return false;
  if (epoch_bump_required_) {
    if (id_.epoch == std::numeric_limits<int16_t>::max()) {
      // The epoch is exhausted: get a new producer id.
      id_ = {};
      reset_sequences_on_next_id_ = true;
    } else {
      id_.epoch = static_cast<int16_t>(id_.epoch + 1);
    }
    for (const auto& tp : partitions_to_rewrite_) {
      start_sequences_at_beginning(tp);
      unresolved_.erase(tp);
    }
    partitions_to_rewrite_.clear();
    epoch_bump_required_ = false;
  }
  if (!id_.valid() && !initializing_) {
    initializing_ = true;
    return true;
  }
  return false;
}

}  // namespace brook::client::producing
