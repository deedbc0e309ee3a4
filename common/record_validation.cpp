#include "common/record_validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "common/compression.hpp"

namespace brook::common {

namespace {

namespace layout = batch_layout;

// Plain bytes read front to back: either the batch's own (uncompressed) or a decompression_stream's,
// refilled a chunk at a time into a buffer reused by every batch this thread validates.
class record_source {
 public:
  explicit record_source(bytes_view plain) : cur_(plain) {}
  record_source(decompression_stream& stream, std::vector<uint8_t>& chunk) : stream_(&stream), chunk_(&chunk) {}

  // False at the end of the bytes (or on a decompression error: see failure()).
  bool byte(uint8_t& b) {
    if (pos_ == cur_.size() && !refill()) return false;
    b = cur_[pos_++];
    return true;
  }
  // False if fewer than n bytes are left.
  bool skip(uint64_t n) {
    while (n > 0) {
      if (pos_ == cur_.size() && !refill()) return false;
      size_t step = static_cast<size_t>(std::min<uint64_t>(n, cur_.size() - pos_));
      pos_ += step;
      n -= step;
    }
    return true;
  }
  bool at_end() { return pos_ == cur_.size() && !refill(); }
  // The bytes certainly left, when known without decompressing further (uncompressed batches).
  std::optional<uint64_t> known_remaining() const {
    if (stream_) return std::nullopt;
    return cur_.size() - pos_;
  }
  const std::optional<error>& failure() const { return failure_; }

 private:
  bool refill() {
    if (!stream_ || failure_) return false;
    auto n = stream_->read(*chunk_);
    if (!n) {
      failure_ = n.err();
      return false;
    }
    cur_ = bytes_view(chunk_->data(), *n);
    pos_ = 0;
    return *n > 0;
  }
  bytes_view cur_;
  size_t pos_ = 0;
  decompression_stream* stream_ = nullptr;
  std::vector<uint8_t>* chunk_ = nullptr;
  std::optional<error> failure_;
};

// Why a record does not decode; the walk stops at the first one.
struct malformed {
  std::string message;
  bool whole_batch = false;  // the batch as a whole is refused, no record named (an over-long record)
};

// Reads one record's fields within its declared length. Every read counts against `left`.
class record_reader {
 public:
  record_reader(record_source& src, int64_t length) : src_(src), left_(length), length_(length) {}

  std::optional<malformed> byte(uint8_t& b, const char* field) {
    if (left_ <= 0) return overrun(field);
    if (!src_.byte(b)) return premature_eof();
    --left_;
    return std::nullopt;
  }
  // A zig-zag varint of at most max_bytes bytes (5 for int32, 10 for int64), as Kafka's ByteUtils reads it.
  std::optional<malformed> zigzag(int64_t& out, int max_bytes, const char* field) {
    uint64_t raw = 0;
    for (int i = 0; i < max_bytes; ++i) {
      uint8_t b = 0;
      if (auto bad = byte(b, field)) return bad;
      raw |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
      if (!(b & 0x80)) {
        out = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
        if (max_bytes == 5 && (out < std::numeric_limits<int32_t>::min() || out > std::numeric_limits<int32_t>::max()))
          return malformed{fmt::format("Found invalid record structure: {} varint out of the int32 range", field)};
        return std::nullopt;
      }
    }
    return malformed{fmt::format("Found invalid record structure: {} varint is longer than {} bytes", field, max_bytes)};
  }
  // A length-prefixed field, skipped; min_length is -1 where null is allowed, else 0.
  std::optional<malformed> field(const char* name, int32_t min_length, bool& present) {
    int64_t len = 0;
    if (auto bad = zigzag(len, 5, name)) return bad;
    if (len < min_length) return malformed{fmt::format("Found invalid record structure: {} length {}", name, len)};
    present = len >= 0;
    if (len <= 0) return std::nullopt;
    if (len > left_)
      return malformed{fmt::format("Found invalid record structure: {} length {} overruns the record ({} bytes left of {})",
                                   name, len, left_, length_)};
    if (!src_.skip(static_cast<uint64_t>(len))) return premature_eof();
    left_ -= len;
    return std::nullopt;
  }
  int64_t left() const { return left_; }

 private:
  std::optional<malformed> overrun(const char* field) {
    return malformed{fmt::format("Found invalid record structure: {} overruns the record length {}", field, length_)};
  }
  std::optional<malformed> premature_eof() {
    return malformed{"Incorrect declared batch size, premature EOF reached"};
  }
  record_source& src_;
  int64_t left_;
  int64_t length_;
};

// The fields of one record the topic's rules look at.
struct record_fields {
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  bool has_key = false;
};

// Decodes one record (length prefix included) from `src`, checking only its structure.
// `max_length` bounds the record's size (Kafka's maximum record body size of compressed batches).
std::optional<malformed> read_record(record_source& src, record_fields& out, int64_t max_length) {
  // The length prefix itself: at most 5 bytes, and the record must fit in what is left.
  record_reader prefix(src, 5);
  int64_t length = 0;
  if (auto bad = prefix.zigzag(length, 5, "record length")) return bad;
  if (length <= 0) return malformed{fmt::format("Invalid record size: {}", length)};
  if (length > max_length)
    return malformed{fmt::format("Invalid record size: {} exceeds the configured maximum record size of {}.", length,
                                 max_length),
                     true};
  if (auto left = src.known_remaining(); left && static_cast<uint64_t>(length) > *left)
    return malformed{fmt::format("Invalid record size: expected {} bytes in record payload, but instead the buffer has "
                                 "only {} remaining bytes.",
                                 length, *left)};
  record_reader r(src, length);
  uint8_t attributes = 0;
  int64_t offset_delta = 0, header_count = 0;
  bool present = false;
  if (auto bad = r.byte(attributes, "attributes")) return bad;
  if (auto bad = r.zigzag(out.timestamp_delta, 10, "timestamp delta")) return bad;
  if (auto bad = r.zigzag(offset_delta, 5, "offset delta")) return bad;
  out.offset_delta = static_cast<int32_t>(offset_delta);
  if (auto bad = r.field("key", -1, out.has_key)) return bad;
  if (auto bad = r.field("value", -1, present)) return bad;
  if (auto bad = r.zigzag(header_count, 5, "header count")) return bad;
  if (header_count < 0) return malformed{fmt::format("Found invalid number of record headers {}", header_count)};
  // Each header takes at least two bytes (its two lengths).
  if (header_count > r.left() / 2)
    return malformed{fmt::format("Found invalid number of record headers. {} is larger than the remaining size of the "
                                 "buffer",
                                 header_count)};
  for (int64_t h = 0; h < header_count; ++h) {
    if (auto bad = r.field("header key", 0, present)) return bad;
    if (auto bad = r.field("header value", -1, present)) return bad;
  }
  if (r.left() != 0)
    return malformed{fmt::format("Invalid record size: expected to read {} bytes in record payload, but instead read {}",
                                 length, length - r.left())};
  return std::nullopt;
}

// The batch's last offset as the client wrote it, wrapping as Java's long arithmetic does (a client's
// base offset is any 64-bit value; it is only reported here, never used).
int64_t batch_last_offset(const record_batch_view& batch) {
  return static_cast<int64_t>(static_cast<uint64_t>(batch.base_offset()) +
                              static_cast<uint64_t>(static_cast<int64_t>(batch.last_offset_delta())));
}

// a + b without overflow (clamped), for the timestamp bounds Kafka prints.
int64_t saturating_add(int64_t a, int64_t b) {
  if (b > 0 && a > std::numeric_limits<int64_t>::max() - b) return std::numeric_limits<int64_t>::max();
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) return std::numeric_limits<int64_t>::min();
  return a + b;
}

batch_rejection whole_batch(kafka_error code, std::string message) { return {code, std::move(message), {}}; }

// The buffer compressed records are decompressed into, one per validating thread, reused.
std::vector<uint8_t>& chunk_buffer() {
  static constexpr size_t chunk_bytes = 64 * 1024;
  thread_local std::vector<uint8_t> chunk(chunk_bytes);
  return chunk;
}

// The common case at wire speed: an uncompressed batch whose records are all well-formed and pass the
// topic's rules, walked with plain pointer reads. It only ever says "accepted"; anything it does not
// accept (a malformed record, a rule broken, an unusual encoding) goes to the full walk below, which
// finds the same verdict and builds Kafka's messages. So this must accept exactly a subset of what the
// full walk accepts: every check here mirrors one of read_record's and the loop's.
namespace fast {

// A zig-zag varint within [p, end) of at most max_bytes bytes; int32 range when max_bytes is 5.
inline bool zigzag(const uint8_t*& p, const uint8_t* end, int max_bytes, int64_t& out) {
  if (p < end && !(*p & 0x80)) {  // one byte: the usual case, always in range
    const uint64_t raw = *p++;
    out = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
    return true;
  }
  uint64_t raw = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (p == end) return false;
    const uint8_t b = *p++;
    raw |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      out = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
      return max_bytes != 5 ||
             (out >= std::numeric_limits<int32_t>::min() && out <= std::numeric_limits<int32_t>::max());
    }
  }
  return false;
}

// A length-prefixed field inside the record, skipped; min_length -1 where null is allowed, else 0.
inline bool field(const uint8_t*& p, const uint8_t* end, int32_t min_length, bool& present) {
  int64_t len = 0;
  if (!zigzag(p, end, 5, len) || len < min_length) return false;
  present = len >= 0;
  if (len <= 0) return true;
  if (len > end - p) return false;
  p += len;
  return true;
}

bool accepts(bytes_view section, const record_batch_view& batch, const batch_validation_config& config,
             int64_t now_ms) {
  // A client's LogAppendTime batch is refused record by record (the full walk's rules).
  if (batch.ts_type() == timestamp_type::log_append_time) return false;
  const bool check_timestamps = !config.topic_log_append_time;
  const int64_t base_timestamp = batch.base_timestamp();
  const uint8_t* p = section.data();
  const uint8_t* const end = p + section.size();
  const int32_t count = batch.record_count();
  for (int32_t index = 0; index < count; ++index) {
    int64_t length = 0;
    if (!zigzag(p, end, 5, length) || length <= 0 || length > end - p) return false;
    const uint8_t* const record_end = p + length;
    int64_t timestamp_delta = 0, offset_delta = 0, header_count = 0;
    bool has_key = false, present = false;
    ++p;  // attributes (length > 0, so the byte is there)
    if (!zigzag(p, record_end, 10, timestamp_delta) || !zigzag(p, record_end, 5, offset_delta)) return false;
    if (offset_delta != index) return false;
    if (!field(p, record_end, -1, has_key) || !field(p, record_end, -1, present)) return false;
    if (config.compacted && !has_key) return false;
    if (!zigzag(p, record_end, 5, header_count) || header_count < 0 || header_count > (record_end - p) / 2)
      return false;
    for (int64_t h = 0; h < header_count; ++h)
      if (!field(p, record_end, 0, present) || !field(p, record_end, -1, present)) return false;
    if (p != record_end) return false;
    const int64_t timestamp =
        static_cast<int64_t>(static_cast<uint64_t>(base_timestamp) + static_cast<uint64_t>(timestamp_delta));
    if (check_timestamps && timestamp != -1) {
      const __int128 age = static_cast<__int128>(now_ms) - timestamp;
      if (age > config.timestamp_before_max_ms || -age > config.timestamp_after_max_ms) return false;
    }
  }
  return p == end;
}

}  // namespace fast

}  // namespace

namespace {

std::optional<batch_rejection> validate(bytes_view bytes, const batch_validation_config& config, int64_t now_ms,
                                        bool fast_path) {
  // Named only in messages: built when one is.
  auto where = [&config] { return fmt::format("in topic partition {}-{}", config.topic, config.partition); };
  auto parsed = record_batch_view::parse(bytes);
  if (!parsed) return whole_batch(parsed.code(), parsed.err().message);
  const record_batch_view batch = *parsed;
  if (batch.size_bytes() != bytes.size())
    return whole_batch(kafka_error::invalid_record,
                       "Produce requests with version 3 and above are only allowed to contain exactly one record batch "
                       "per partition");
  if (batch.size_bytes() > static_cast<uint64_t>(config.max_message_bytes))
    return whole_batch(kafka_error::message_too_large,
                       fmt::format("record batch of {} bytes exceeds max.message.bytes {}", batch.size_bytes(),
                                   config.max_message_bytes));
  if (auto valid = batch.validate(); !valid) return whole_batch(valid.code(), valid.err().message + " " + where());
  const auto codec_bits = static_cast<uint16_t>(batch.attributes()) & layout::compression_mask;
  if (codec_bits > static_cast<uint16_t>(compression_codec::zstd))
    return whole_batch(kafka_error::unsupported_compression_type,
                       fmt::format("Unknown compression type id: {}", codec_bits));
  if (batch.compression() == compression_codec::zstd && !config.zstd_allowed)
    return whole_batch(kafka_error::unsupported_compression_type,
                       "Produce requests with version below 7 are not allowed to use ZStandard compression");

  // LogValidator.validateBatch, for a client's batch.
  const int32_t count = batch.record_count();
  if (batch.last_offset_delta() < 0)
    return whole_batch(kafka_error::invalid_record,
                       fmt::format("Batch has an invalid offset range: [{}, {}] {}", batch.base_offset(),
                                   batch_last_offset(batch), where()));
  if (count <= 0)
    return whole_batch(kafka_error::invalid_record, fmt::format("Invalid reported count for record batch: {} {}", count, where()));
  if (static_cast<int64_t>(batch.last_offset_delta()) + 1 != count)
    return whole_batch(kafka_error::invalid_record,
                       fmt::format("Inconsistent batch offset range [{}, {}] and count of records {} {}",
                                   batch.base_offset(), batch_last_offset(batch), count, where()));
  if (batch.is_control())
    return whole_batch(kafka_error::invalid_record, "Clients are not allowed to write control records " + where());
  if (batch.producer_id() >= 0 && batch.base_sequence() < 0)
    return whole_batch(kafka_error::invalid_record,
                       fmt::format("Invalid sequence number {} in record batch with producerId {} {}",
                                   batch.base_sequence(), batch.producer_id(), where()));

  // The records, walked where they lie or through bounded decompression.
  const bytes_view section = batch.bytes().subspan(layout::records);
  std::unique_ptr<decompression_stream> stream;
  std::optional<record_source> source;
  if (batch.compression() == compression_codec::none) {
    if (fast_path && fast::accepts(section, batch, config, now_ms)) return std::nullopt;
    source.emplace(section);
  } else {
    auto opened = decompression_stream::open(batch.compression(), section,
                                             uncompressed_limit(count, config.max_message_bytes));
    if (!opened) return whole_batch(opened.code(), opened.err().message);
    stream = std::move(*opened);
    source.emplace(*stream, chunk_buffer());
  }
  // A decompression failure is the batch's fault as a whole; anything else names the record.
  auto structural = [&](int32_t index, std::string message) {
    if (const auto& failed = source->failure()) return whole_batch(failed->code, failed->message + " " + where());
    batch_rejection r{kafka_error::invalid_record, {}, {{index, message}}};
    r.message = fmt::format("{} {} (record {} of the batch)", message, where(), index);
    return r;
  };

  const int64_t max_length = batch.compression() == compression_codec::none
                                 ? std::numeric_limits<int64_t>::max()
                                 : int64_t{config.max_decompressed_record_bytes};
  const bool batch_log_append_time = batch.ts_type() == timestamp_type::log_append_time;
  const int64_t lower = saturating_add(now_ms, -config.timestamp_before_max_ms);
  const int64_t upper = saturating_add(now_ms, config.timestamp_after_max_ms);
  std::vector<record_error> errors;
  bool bad_timestamp = false;
  for (int32_t index = 0; index < count; ++index) {
    if (source->at_end()) return structural(index, "Incorrect declared batch size, premature EOF reached");
    record_fields rec;
    if (auto bad = read_record(*source, rec, max_length)) {
      if (bad->whole_batch) return whole_batch(kafka_error::invalid_record, std::move(bad->message));
      return structural(index, std::move(bad->message));
    }
    const int64_t offset = static_cast<int64_t>(static_cast<uint64_t>(batch.base_offset()) +
                                                static_cast<uint64_t>(static_cast<int64_t>(rec.offset_delta)));
    if (rec.offset_delta != index) {
      errors.push_back({index, fmt::format("Record at index {} has offset delta {} (expected {}): offset deltas must "
                                           "run 0, 1, 2, ... {}",
                                           index, rec.offset_delta, index, where())});
      continue;
    }
    if (config.compacted && !rec.has_key) {
      errors.push_back({index, "Compacted topic cannot accept message without key " + where()});
      continue;
    }
    // LogValidator.validateTimestamp.
    const int64_t timestamp =
        batch_log_append_time
            ? batch.max_timestamp()
            : static_cast<int64_t>(static_cast<uint64_t>(batch.base_timestamp()) + static_cast<uint64_t>(rec.timestamp_delta));
    if (!config.topic_log_append_time && timestamp != -1) {
      const __int128 age = static_cast<__int128>(now_ms) - timestamp;
      if (age > config.timestamp_before_max_ms || -age > config.timestamp_after_max_ms) {
        bad_timestamp = true;
        errors.push_back({index, fmt::format("Timestamp {} of message with offset {} is out of range. The timestamp "
                                             "should be within [{}, {}]",
                                             timestamp, offset, lower, upper)});
      }
    } else if (batch_log_append_time) {
      bad_timestamp = true;
      errors.push_back({index, fmt::format("Invalid timestamp type in message with offset {}. Producer should not set "
                                           "timestamp type to LogAppendTime.",
                                           offset)});
    }
  }
  if (!source->at_end()) {
    if (source->failure()) return whole_batch(source->failure()->code, source->failure()->message + " " + where());
    return whole_batch(kafka_error::invalid_record,
                       "Incorrect declared batch size, records still remaining in file " + where());
  }
  if (source->failure()) return whole_batch(source->failure()->code, source->failure()->message + " " + where());
  if (errors.empty()) return std::nullopt;

  // LogValidator.processRecordErrors.
  batch_rejection r;
  r.record_errors = std::move(errors);
  if (bad_timestamp) {
    r.code = kafka_error::invalid_timestamp;
    r.message = "One or more records have been rejected due to invalid timestamp";
  } else {
    std::string shown;
    for (size_t i = 0; i < std::min<size_t>(3, r.record_errors.size()); ++i)
      shown += fmt::format("{}RecordError(batchIndex={}, message='{}')", i ? ", " : "", r.record_errors[i].batch_index,
                           r.record_errors[i].message);
    r.code = kafka_error::invalid_record;
    r.message = fmt::format(
        "One or more records have been rejected due to {} record errors in total, and only showing the first three "
        "errors at most: [{}]",
        r.record_errors.size(), shown);
  }
  return r;
}

}  // namespace

std::optional<batch_rejection> validate_produced_batch(bytes_view batch, const batch_validation_config& config,
                                                       int64_t now_ms) {
  return validate(batch, config, now_ms, true);
}

namespace detail {
std::optional<batch_rejection> validate_produced_batch_full_walk(bytes_view batch,
                                                                 const batch_validation_config& config,
                                                                 int64_t now_ms) {
  return validate(batch, config, now_ms, false);
}
}  // namespace detail

}  // namespace brook::common
