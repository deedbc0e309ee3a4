#include "log/producer_state.hpp"

#include <fmt/format.h>

namespace brook::log {

using common::kafka_error;

namespace {

bool in_sequence(int32_t last, int32_t next) {
  return last == INT32_MAX ? next == 0 : next == last + 1;  // sequences wrap to 0
}

}  // namespace

common::result<producer_state_table::verdict> producer_state_table::check(int64_t producer_id, int16_t epoch,
                                                                          int32_t first_seq, int32_t last_seq,
                                                                          bool transactional) const {
  auto it = producers_.find(producer_id);
  if (it == producers_.end()) return verdict{};  // a producer we have no state for may start anywhere
  const producer_entry& e = it->second;
  if (epoch < e.epoch)
    return common::error{kafka_error::invalid_producer_epoch,
                         fmt::format("Epoch of producer {} is {}, which is smaller than the last seen epoch {}",
                                     producer_id, epoch, e.epoch)};
  if (e.current_txn_first_offset && !transactional)
    return common::error{kafka_error::invalid_txn_state,
                         fmt::format("Expected transactional write from producer {}: its transaction from offset {} "
                                     "is open",
                                     producer_id, *e.current_txn_first_offset)};
  if (epoch > e.epoch) {
    if (first_seq != 0)
      return common::error{kafka_error::out_of_order_sequence_number,
                           fmt::format("Invalid sequence number for new epoch of producer {}: {} (expected 0)",
                                       producer_id, first_seq)};
    return verdict{};
  }
  for (const auto& b : e.batches)
    if (b.first_seq == first_seq && b.last_seq == last_seq) return verdict{b};
  // No batch left at this epoch (its marker moved the producer to it): as Kafka's ProducerAppendInfo, the
  // end sequence is "none", so only sequence 0 follows; only a producer with no epoch at all starts anywhere.
  const int32_t last = e.batches.empty() ? -1 : e.batches.back().last_seq;
  if (e.batches.empty() && (e.epoch == -1 || first_seq == 0)) return verdict{};
  if (!in_sequence(last, first_seq))
    return common::error{kafka_error::out_of_order_sequence_number,
                         fmt::format("Out of order sequence number for producer {} at epoch {}: {} (incoming seq. "
                                     "number), {} (current end sequence number)",
                                     producer_id, epoch, first_seq, last)};
  return verdict{};
}

void producer_state_table::record(int64_t producer_id, int16_t epoch, const producer_batch& batch, int64_t timestamp,
                                  bool transactional) {
  producer_entry& e = producers_[producer_id];
  if (epoch != e.epoch) {
    e.batches.clear();
    e.epoch = epoch;
  }
  e.batches.push_back(batch);
  while (e.batches.size() > max_cached_batches) e.batches.pop_front();
  e.last_timestamp = std::max(e.last_timestamp, timestamp);
  if (transactional && !e.current_txn_first_offset) {
    e.current_txn_first_offset = batch.first_offset;
    ongoing_[batch.first_offset] = producer_id;
  }
  covered_offset_ = std::max(covered_offset_, batch.last_offset + 1);
}

common::result<void> producer_state_table::check_marker(int64_t producer_id, int16_t epoch, int32_t coordinator_epoch,
                                                        int16_t transaction_version) const {
  auto it = producers_.find(producer_id);
  if (it == producers_.end()) return {};
  const producer_entry& e = it->second;
  const bool v2 = transaction_version >= transaction_version_2;
  const bool stale = v2 ? epoch <= e.epoch : epoch < e.epoch;
  // A retried marker of a transaction that already ended (transaction version 2, same epoch): written again.
  const bool retry = v2 && epoch == e.epoch && !e.current_txn_first_offset;
  if (stale && !retry)
    return common::error{kafka_error::invalid_producer_epoch,
                         fmt::format("Epoch of producer {} is {}, which is {} the last seen epoch {} (TV{})",
                                     producer_id, epoch, v2 ? "<=" : "<", e.epoch, transaction_version)};
  if (e.coordinator_epoch > coordinator_epoch)
    return common::error{kafka_error::transaction_coordinator_fenced,
                         fmt::format("Invalid coordinator epoch for producer {}: {} (zombie), {} (current)",
                                     producer_id, coordinator_epoch, e.coordinator_epoch)};
  return {};
}

std::optional<completed_txn> producer_state_table::record_marker(int64_t producer_id, int16_t epoch,
                                                                  int32_t coordinator_epoch, int64_t offset, bool commit,
                                                                  int64_t timestamp) {
  producer_entry& e = producers_[producer_id];
  std::optional<completed_txn> done;
  if (e.current_txn_first_offset) {
    done = completed_txn{producer_id, *e.current_txn_first_offset, offset, !commit};
    ongoing_.erase(*e.current_txn_first_offset);
    e.current_txn_first_offset.reset();
  }
  if (epoch != e.epoch) {
    e.batches.clear();
    e.epoch = epoch;
  }
  e.coordinator_epoch = coordinator_epoch;
  e.last_timestamp = timestamp;
  covered_offset_ = std::max(covered_offset_, offset + 1);
  return done;
}

int64_t producer_state_table::last_stable_offset_after(const completed_txn& txn) const {
  for (const auto& [first, pid] : ongoing_)
    if (pid != txn.producer_id) return first;
  return txn.last_offset + 1;
}

std::vector<aborted_txn> producer_state_table::replay(std::span<const uint8_t> batches) {
  std::vector<aborted_txn> aborted;
  size_t pos = 0;
  while (pos < batches.size()) {
    auto size = common::record_batch_view::peek_size(batches.subspan(pos));
    if (!size || pos + *size > batches.size()) break;
    common::record_batch_view b(batches.subspan(pos, *size));
    pos += *size;
    if (b.producer_id() >= 0 && b.is_control()) {
      auto marker = common::decode_end_txn_marker(b);
      if (marker && *marker) {
        auto done = record_marker(b.producer_id(), b.producer_epoch(), (*marker)->coordinator_epoch, b.base_offset(),
                                  (*marker)->type == common::control_record_type::commit, b.max_timestamp());
        if (done && done->aborted)
          aborted.push_back({done->producer_id, done->first_offset, done->last_offset, last_stable_offset_after(*done)});
      }
    } else if (b.producer_id() >= 0) {
      record(b.producer_id(), b.producer_epoch(),
             {b.base_sequence(), last_sequence(b.base_sequence(), b.last_offset_delta()), b.base_offset(),
              b.last_offset()},
             b.max_timestamp(), b.is_transactional());
    }
    covered_offset_ = std::max(covered_offset_, b.next_offset());
  }
  return aborted;
}

void producer_state_table::expire(int64_t before_timestamp) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    const bool expired = !it->second.current_txn_first_offset && it->second.last_timestamp < before_timestamp;
    it = expired ? producers_.erase(it) : std::next(it);
  }
}

producer_state_table::record_type producer_state_table::to_record() const {
  record_type r;
  r.covered_offset = covered_offset_;
  r.producers.reserve(producers_.size());
  for (const auto& [id, e] : producers_) {
    auto& p = r.producers.emplace_back();
    p.producer_id = id;
    p.producer_epoch = e.epoch;
    p.last_timestamp = e.last_timestamp;
    p.current_txn_first_offset = e.current_txn_first_offset.value_or(-1);
    p.coordinator_epoch = e.coordinator_epoch;
    for (const auto& b : e.batches) p.batches.push_back({b.first_seq, b.last_seq, b.first_offset, b.last_offset});
  }
  return r;
}

common::result<producer_state_table> producer_state_table::from_record(const record_type& record) {
  producer_state_table t;
  t.covered_offset_ = record.covered_offset;
  for (const auto& p : record.producers) {
    if (p.batches.size() > max_cached_batches)
      return common::error{kafka_error::kafka_storage_error,
                           fmt::format("producer state is damaged: producer {} has {} batches, at most {} are kept",
                                       p.producer_id, p.batches.size(), max_cached_batches)};
    producer_entry e;
    e.epoch = p.producer_epoch;
    e.last_timestamp = p.last_timestamp;
    e.coordinator_epoch = p.coordinator_epoch;
    if (p.current_txn_first_offset >= 0) {
      if (!t.ongoing_.emplace(p.current_txn_first_offset, p.producer_id).second)
        return common::error{kafka_error::kafka_storage_error,
                             fmt::format("producer state is damaged: two transactions start at offset {}",
                                         p.current_txn_first_offset)};
      e.current_txn_first_offset = p.current_txn_first_offset;
    }
    for (const auto& b : p.batches)
      e.batches.push_back({b.first_sequence, b.last_sequence, b.first_offset, b.last_offset});
    t.producers_[p.producer_id] = std::move(e);
  }
  return t;
}

}  // namespace brook::log
