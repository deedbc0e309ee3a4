#include "client/producing/producer_batch.hpp"

#include <algorithm>
#include <limits>

#include "common/crc32c.hpp"

namespace brook::client::producing {

using common::batch_layout::header_size;

int32_t increment_sequence(int32_t sequence, int32_t increment) {
  if (sequence > std::numeric_limits<int32_t>::max() - increment)
    return increment - (std::numeric_limits<int32_t>::max() - sequence) - 1;
  return sequence + increment;
}

namespace {

int32_t varint_size(int32_t v) {
  uint32_t z = (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  int32_t n = 1;
  while (z >= 0x80) {
    z >>= 7;
    ++n;
  }
  return n;
}

int32_t varlong_size(int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  int32_t n = 1;
  while (z >= 0x80) {
    z >>= 7;
    ++n;
  }
  return n;
}

int32_t bytes_field_size(const std::optional<std::string>& b) {
  if (!b) return varint_size(-1);
  return varint_size(static_cast<int32_t>(b->size())) + static_cast<int32_t>(b->size());
}

// Key, value and headers: the part of a record that does not depend on its position in a batch.
int32_t payload_size(const std::optional<std::string>& key, const std::optional<std::string>& value,
                     const std::vector<header>& headers) {
  int32_t size = bytes_field_size(key) + bytes_field_size(value) + varint_size(static_cast<int32_t>(headers.size()));
  for (const auto& h : headers) {
    size += varint_size(static_cast<int32_t>(h.key.size())) + static_cast<int32_t>(h.key.size());
    size += bytes_field_size(h.value);
  }
  return size;
}

// Appends a zigzag-encoded varint / varlong (the v2 record format's integers).
void put_zigzag(std::vector<uint8_t>& out, uint64_t zz) {
  while (zz >= 0x80) {
    out.push_back(static_cast<uint8_t>(zz | 0x80));
    zz >>= 7;
  }
  out.push_back(static_cast<uint8_t>(zz));
}
void put_varint(std::vector<uint8_t>& out, int32_t v) {
  put_zigzag(out, (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}
void put_varlong(std::vector<uint8_t>& out, int64_t v) {
  put_zigzag(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
void put_bytes_field(std::vector<uint8_t>& out, const std::optional<std::string>& b) {
  if (!b) {
    put_varint(out, -1);
    return;
  }
  put_varint(out, static_cast<int32_t>(b->size()));
  out.insert(out.end(), b->begin(), b->end());
}

// Appends one v2 record straight to `out` (length prefix, attributes 0, deltas, key, value, headers): the same
// bytes as common::append_record, without building the body in a temporary first.
void put_record(std::vector<uint8_t>& out, int32_t body_size, int64_t timestamp_delta, int32_t offset_delta,
                const std::optional<std::string>& key, const std::optional<std::string>& value,
                const std::vector<header>& headers) {
  put_varint(out, body_size);
  out.push_back(0);  // attributes
  put_varlong(out, timestamp_delta);
  put_varint(out, offset_delta);
  put_bytes_field(out, key);
  put_bytes_field(out, value);
  put_varint(out, static_cast<int32_t>(headers.size()));
  for (const auto& h : headers) {
    put_varint(out, static_cast<int32_t>(h.key.size()));
    out.insert(out.end(), h.key.begin(), h.key.end());
    put_bytes_field(out, h.value);
  }
}

int32_t record_body_size(int32_t offset_delta, int64_t timestamp_delta, const std::optional<std::string>& key,
                         const std::optional<std::string>& value, const std::vector<header>& headers) {
  return 1 + varlong_size(timestamp_delta) + varint_size(offset_delta) + payload_size(key, value, headers);
}

}  // namespace

int32_t record_size_in_bytes(int32_t offset_delta, int64_t timestamp_delta, const std::optional<std::string>& key,
                             const std::optional<std::string>& value, const std::vector<header>& headers) {
  const int32_t body = record_body_size(offset_delta, timestamp_delta, key, value, headers);
  return varint_size(body) + body;
}

int32_t batch_size_upper_bound(const std::optional<std::string>& key, const std::optional<std::string>& value,
                               const std::vector<header>& headers) {
  // DefaultRecord.MAX_RECORD_OVERHEAD: length varint (5) + attributes (1) + timestamp delta (10) + offset
  // delta (5).
  constexpr int32_t max_record_overhead = 21;
  return static_cast<int32_t>(header_size) + max_record_overhead + payload_size(key, value, headers);
}

float compression_ratio_estimator::estimate(const std::string& topic, common::compression_codec codec) const {
  for (const auto& [k, v] : estimates_)
    if (k.first == topic && k.second == static_cast<int>(codec)) return v;
  return 1.0f;
}

void compression_ratio_estimator::update(const std::string& topic, common::compression_codec codec,
                                         float observed) {
  constexpr float deteriorate_step = 0.05f;
  constexpr float improving_step = 0.005f;
  for (auto& [k, v] : estimates_) {
    if (k.first == topic && k.second == static_cast<int>(codec)) {
      if (observed > v) v = std::max(v + deteriorate_step, observed);
      else if (observed < v) v = std::max(v - improving_step, observed);
      return;
    }
  }
  float v = 1.0f;
  if (observed > v) v = std::max(v + deteriorate_step, observed);
  else if (observed < v) v = std::max(v - improving_step, observed);
  estimates_.push_back({{topic, static_cast<int>(codec)}, v});
}

void compression_ratio_estimator::set(const std::string& topic, common::compression_codec codec, float ratio) {
  for (auto& [k, v] : estimates_) {
    if (k.first == topic && k.second == static_cast<int>(codec)) {
      v = ratio;
      return;
    }
  }
  estimates_.push_back({{topic, static_cast<int>(codec)}, ratio});
}

std::vector<uint8_t> batch_buffer_pool::take() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return {};
  auto buffer = std::move(free_.back());
  free_.pop_back();
  return buffer;
}

void batch_buffer_pool::give(std::vector<uint8_t>&& buffer) {
  if (buffer.capacity() != buffer_size_) return;
  buffer.clear();
  std::lock_guard lock(mutex_);
  if (free_.size() < max_buffers_) free_.push_back(std::move(buffer));
}

producer_batch::producer_batch(topic_partition tp, common::compression_codec codec,
                               std::optional<int32_t> compression_level, int32_t write_limit, int64_t now_ms,
                               float compression_ratio_estimate, std::shared_ptr<batch_buffer_pool> pool)
    : tp_(std::move(tp)),
      codec_(codec),
      compression_level_(compression_level),
      write_limit_(write_limit),
      compression_ratio_estimate_(compression_ratio_estimate),
      created_ms_(now_ms),
      last_attempt_ms_(now_ms),
      drained_ms_(now_ms),
      pool_(std::move(pool)) {}

producer_batch::~producer_batch() {
  if (!pool_) return;
  // Nothing reads the bytes any more (a Produce request copies them into its frame when it is encoded).
  pool_->give(std::move(uncompressed_));
  pool_->give(std::move(section_));
}

int32_t producer_batch::estimated_size_bytes() const {
  if (closed_) return static_cast<int32_t>(section_.size());  // the header's room included
  const size_t records = uncompressed_records_bytes();
  if (codec_ == common::compression_codec::none) return static_cast<int32_t>(header_size + records);
  // MemoryRecordsBuilder.COMPRESSION_RATE_ESTIMATION_FACTOR: a 5% margin over the estimated ratio.
  return static_cast<int32_t>(header_size) +
         static_cast<int32_t>(static_cast<double>(records) * compression_ratio_estimate_ * 1.05f);
}

bool producer_batch::is_full() const {
  return closed_ || (!records_.empty() && write_limit_ <= estimated_size_bytes());
}

std::optional<int32_t> producer_batch::try_append(int64_t timestamp, const std::optional<std::string>& key,
                                                  const std::optional<std::string>& value,
                                                  const std::vector<header>& headers, delivery_callback&& callback) {
  if (is_full()) return std::nullopt;
  const int32_t offset_delta = record_count();
  const int64_t timestamp_delta = records_.empty() ? 0 : timestamp - base_timestamp_;
  const int32_t body_size = record_body_size(offset_delta, timestamp_delta, key, value, headers);
  if (!records_.empty()) {
    const int32_t size = varint_size(body_size) + body_size;
    if (write_limit_ < estimated_size_bytes() + size) return std::nullopt;
  }
  const int32_t before = records_.empty() ? 0 : estimated_size_bytes();
  if (records_.empty()) {
    base_timestamp_ = timestamp;
    // Room for a full batch at once, as Java's BufferPool hands out batch.size bytes (the accumulator has
    // reserved that much of buffer.memory for this batch already): no regrowth and recopying per record.
    const int32_t first = record_size_in_bytes(0, 0, key, value, headers);
    if (pool_ && static_cast<size_t>(write_limit_) == pool_->buffer_size()) uncompressed_ = pool_->take();
    uncompressed_.reserve(static_cast<size_t>(std::max(write_limit_, static_cast<int32_t>(header_size) + first)));
    uncompressed_.resize(header_size);  // the header's room, filled in when the batch is sent
    records_.reserve(static_cast<size_t>(std::min(write_limit_ / std::max(first, 1) + 1, 1 << 16)));
  }
  max_timestamp_ = records_.empty() ? timestamp : std::max(max_timestamp_, timestamp);
  put_record(uncompressed_, body_size, timestamp_delta, offset_delta, key, value, headers);
  records_.push_back({timestamp, std::move(callback)});
  return estimated_size_bytes() - before;
}

common::result<float> producer_batch::close() {
  if (closed_) {
    return uncompressed_.empty() ? 1.0f
                                 : static_cast<float>(section_.size() - header_size) /
                                       static_cast<float>(uncompressed_records_bytes());
  }
  if (uncompressed_.empty()) uncompressed_.resize(header_size);  // a batch without records
  if (codec_ == common::compression_codec::none) {
    section_ = std::move(uncompressed_);
    uncompressed_.clear();
    closed_ = true;
    return 1.0f;
  }
  const size_t records = uncompressed_records_bytes();
  auto packed = common::compress(codec_, common::bytes_view(uncompressed_).subspan(header_size), compression_level_);
  if (!packed) return packed.err();
  section_.reserve(header_size + packed->size());
  section_.assign(header_size, 0);
  section_.insert(section_.end(), packed->begin(), packed->end());
  closed_ = true;
  const float ratio =
      records == 0 ? 1.0f : static_cast<float>(packed->size()) / static_cast<float>(records);
  compression_ratio_ = ratio;
  // The uncompressed copy is kept only for the ratio above.
  if (pool_) pool_->give(std::move(uncompressed_));
  std::vector<uint8_t>().swap(uncompressed_);
  return ratio;
}

std::vector<std::shared_ptr<producer_batch>> producer_batch::split(int32_t split_batch_size, float ratio_estimate) {
  std::vector<std::shared_ptr<producer_batch>> out;
  const auto bytes = encode();
  auto view = common::record_batch_view::parse(bytes);
  if (!view) return out;
  auto it = view->records(std::numeric_limits<uint32_t>::max());
  if (!it) return out;
  std::shared_ptr<producer_batch> current;
  for (size_t i = 0; i < records_.size(); ++i) {
    auto next = it->next();
    if (!next || !next->has_value()) break;
    const auto& rv = **next;
    std::optional<std::string> key, value;
    if (rv.key) key.emplace(reinterpret_cast<const char*>(rv.key->data()), rv.key->size());
    if (rv.value) value.emplace(reinterpret_cast<const char*>(rv.value->data()), rv.value->size());
    std::vector<header> headers;
    for (const auto& h : rv.headers) {
      header copy{std::string(h.key), std::nullopt};
      if (h.value) copy.value.emplace(reinterpret_cast<const char*>(h.value->data()), h.value->size());
      headers.push_back(std::move(copy));
    }
    const int64_t timestamp = records_[i].timestamp;
    if (!current || !current->try_append(timestamp, key, value, headers, std::move(records_[i].callback))) {
      const int32_t limit = std::max(split_batch_size, batch_size_upper_bound(key, value, headers));
      current = std::make_shared<producer_batch>(tp_, codec_, compression_level_, limit, created_ms_, ratio_estimate);
      current->try_append(timestamp, key, value, headers, std::move(records_[i].callback));
      out.push_back(current);
    }
  }
  if (has_sequence()) {
    int32_t sequence = state_.base_sequence;
    for (const auto& b : out) {
      b->set_producer_state(state_.producer_id, state_.producer_epoch, sequence);
      sequence = increment_sequence(sequence, b->record_count());
    }
  }
  done_ = true;  // the callbacks now belong to the new batches
  return out;
}

std::vector<uint8_t> producer_batch::encode() const {
  std::vector<uint8_t> out = section_.empty() ? std::vector<uint8_t>(header_size) : section_;  // open: header only
  write_header(out.data(), out.size());
  return out;
}

std::span<uint8_t> producer_batch::encode_in_place() {
  if (section_.empty()) section_.resize(header_size);  // not closed: a header only, as encode() gives
  write_header(section_.data(), section_.size());
  return section_;
}

void producer_batch::write_header(uint8_t* batch, size_t size) const {
  namespace layout = common::batch_layout;
  common::batch_header_fields h;
  h.base_offset = 0;
  h.partition_leader_epoch = -1;
  h.attributes = static_cast<int16_t>(static_cast<uint16_t>(codec_) & common::batch_layout::compression_mask);
  h.last_offset_delta = std::max(0, record_count() - 1);
  h.base_timestamp = base_timestamp_;
  h.max_timestamp = max_timestamp_;
  h.producer_id = state_.producer_id;
  h.producer_epoch = state_.producer_epoch;
  h.base_sequence = state_.base_sequence;
  h.record_count = record_count();
  // The header as common::encode_batch writes it for an empty section; then batchLength and the CRC for the
  // records that follow.
  const auto header = common::encode_batch(h, {});
  std::copy(header.begin(), header.end(), batch);
  const uint32_t batch_length = static_cast<uint32_t>(size - layout::log_overhead);
  for (int i = 0; i < 4; ++i) batch[layout::batch_length + i] = static_cast<uint8_t>(batch_length >> (24 - 8 * i));
  const uint32_t crc = common::crc32c(std::span<const uint8_t>(batch + layout::attributes, size - layout::attributes));
  for (int i = 0; i < 4; ++i) batch[layout::crc + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

bool producer_batch::complete(int64_t base_offset, int64_t log_append_time) {
  if (done_.exchange(true)) return false;
  // One report for the batch (its topic string copied once), updated per record.
  delivery_report report;
  report.topic = tp_.topic;
  report.partition = tp_.partition;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (!records_[i].callback) continue;
    report.offset = base_offset < 0 ? -1 : base_offset + static_cast<int64_t>(i);
    report.timestamp = log_append_time >= 0 ? log_append_time : records_[i].timestamp;
    records_[i].callback(report);
  }
  return true;
}

bool producer_batch::fail(const common::error& e, const std::vector<std::pair<int32_t, common::error>>& record_errors) {
  if (done_.exchange(true)) return false;
  for (size_t i = 0; i < records_.size(); ++i) {
    if (!records_[i].callback) continue;
    delivery_report report;
    report.topic = tp_.topic;
    report.partition = tp_.partition;
    report.offset = -1;
    report.timestamp = records_[i].timestamp;
    report.error = e;
    for (const auto& [index, record_error] : record_errors)
      if (index == static_cast<int32_t>(i)) report.error = record_error;
    records_[i].callback(report);
  }
  return true;
}

}  // namespace brook::client::producing
