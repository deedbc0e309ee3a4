#include "log/producer_state.hpp"

#include <fmt/format.h>

namespace brook::log {

using common::kafka_error;

namespace {
constexpr uint8_t snapshot_version = 1;

bool in_sequence(int32_t last, int32_t next) {
  return last == INT32_MAX ? next == 0 : next == last + 1;  // sequences wrap to 0
}

template <class T>
void put(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  for (int i = sizeof(T) - 1; i >= 0; --i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

struct cursor {
  std::string_view in;
  size_t pos = 0;
  bool ok = true;
  template <class T>
  T get() {
    if (pos + sizeof(T) > in.size()) {
      ok = false;
      return T{};
    }
    std::make_unsigned_t<T> u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) u = static_cast<decltype(u)>((u << 8) | static_cast<uint8_t>(in[pos + i]));
    pos += sizeof(T);
    return static_cast<T>(u);
  }
};
}  // namespace

common::result<producer_state_table::verdict> producer_state_table::check(int64_t producer_id, int16_t epoch,
                                                                          int32_t first_seq, int32_t last_seq) const {
  auto it = producers_.find(producer_id);
  if (it == producers_.end()) return verdict{};  // a producer we have no state for may start anywhere
  const producer_entry& e = it->second;
  if (epoch < e.epoch)
    return common::error{kafka_error::invalid_producer_epoch,
                         fmt::format("Epoch of producer {} is {}, which is smaller than the last seen epoch {}",
                                     producer_id, epoch, e.epoch)};
  if (epoch > e.epoch) {
    if (first_seq != 0)
      return common::error{kafka_error::out_of_order_sequence_number,
                           fmt::format("Invalid sequence number for new epoch of producer {}: {} (expected 0)",
                                       producer_id, first_seq)};
    return verdict{};
  }
  for (const auto& b : e.batches)
    if (b.first_seq == first_seq && b.last_seq == last_seq) return verdict{b};
  if (e.batches.empty()) return verdict{};
  const int32_t last = e.batches.back().last_seq;
  if (!in_sequence(last, first_seq))
    return common::error{kafka_error::out_of_order_sequence_number,
                         fmt::format("Out of order sequence number for producer {} at epoch {}: {} (incoming seq. "
                                     "number), {} (current end sequence number)",
                                     producer_id, epoch, first_seq, last)};
  return verdict{};
}

void producer_state_table::record(int64_t producer_id, int16_t epoch, const producer_batch& batch, int64_t timestamp) {
  producer_entry& e = producers_[producer_id];
  if (epoch != e.epoch) {
    e.batches.clear();
    e.epoch = epoch;
  }
  e.batches.push_back(batch);
  while (e.batches.size() > max_cached_batches) e.batches.pop_front();
  e.last_timestamp = std::max(e.last_timestamp, timestamp);
  covered_offset_ = std::max(covered_offset_, batch.last_offset + 1);
}

void producer_state_table::replay(std::span<const uint8_t> batches) {
  size_t pos = 0;
  while (pos < batches.size()) {
    auto size = common::record_batch_view::peek_size(batches.subspan(pos));
    if (!size || pos + *size > batches.size()) break;
    common::record_batch_view b(batches.subspan(pos, *size));
    pos += *size;
    covered_offset_ = std::max(covered_offset_, b.next_offset());
    if (b.producer_id() < 0 || b.is_control()) continue;
    record(b.producer_id(), b.producer_epoch(),
           {b.base_sequence(), last_sequence(b.base_sequence(), b.last_offset_delta()), b.base_offset(), b.last_offset()},
           b.max_timestamp());
  }
}

void producer_state_table::expire(int64_t before_timestamp) {
  for (auto it = producers_.begin(); it != producers_.end();)
    it = it->second.last_timestamp < before_timestamp ? producers_.erase(it) : std::next(it);
}

std::string producer_state_table::encode() const {
  std::string out;
  out.push_back(static_cast<char>(snapshot_version));
  put<int64_t>(out, covered_offset_);
  put<uint32_t>(out, static_cast<uint32_t>(producers_.size()));
  for (const auto& [id, e] : producers_) {
    put<int64_t>(out, id);
    put<int16_t>(out, e.epoch);
    put<int64_t>(out, e.last_timestamp);
    out.push_back(static_cast<char>(e.batches.size()));
    for (const auto& b : e.batches) {
      put<int32_t>(out, b.first_seq);
      put<int32_t>(out, b.last_seq);
      put<int64_t>(out, b.first_offset);
      put<int64_t>(out, b.last_offset);
    }
  }
  return out;
}

common::result<producer_state_table> producer_state_table::decode(std::string_view bytes) {
  auto corrupt = [](std::string_view why) {
    return common::error{kafka_error::kafka_storage_error, fmt::format("producer state snapshot is damaged: {}", why)};
  };
  cursor c{bytes};
  if (c.get<uint8_t>() != snapshot_version || !c.ok) return corrupt("unknown version");
  producer_state_table t;
  t.covered_offset_ = c.get<int64_t>();
  const uint32_t n = c.get<uint32_t>();
  for (uint32_t i = 0; i < n && c.ok; ++i) {
    const int64_t id = c.get<int64_t>();
    producer_entry e;
    e.epoch = c.get<int16_t>();
    e.last_timestamp = c.get<int64_t>();
    const uint8_t k = c.get<uint8_t>();
    if (k > max_cached_batches) return corrupt("too many batches");
    for (uint8_t j = 0; j < k && c.ok; ++j) {
      producer_batch b;
      b.first_seq = c.get<int32_t>();
      b.last_seq = c.get<int32_t>();
      b.first_offset = c.get<int64_t>();
      b.last_offset = c.get<int64_t>();
      e.batches.push_back(b);
    }
    t.producers_[id] = std::move(e);
  }
  if (!c.ok || c.pos != bytes.size()) return corrupt("truncated or trailing bytes");
  return t;
}

}  // namespace brook::log
