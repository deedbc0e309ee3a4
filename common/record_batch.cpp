#include "common/record_batch.hpp"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/compression.hpp"
#include "common/crc32c.hpp"

namespace brook::common {

namespace layout = batch_layout;

namespace {

template <class T>
T load_be(const uint8_t* p) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | p[i]);
  return static_cast<T>(v);
}

template <class T>
void store_be(uint8_t* p, T value) {
  using U = std::make_unsigned_t<T>;
  U v = static_cast<U>(value);
  for (size_t i = sizeof(T); i-- > 0;) {
    p[i] = static_cast<uint8_t>(v & 0xFF);
    v = static_cast<U>(v >> 8);
  }
}

template <class T>
void append_be(std::vector<uint8_t>& out, T value) {
  size_t at = out.size();
  out.resize(at + sizeof(T));
  store_be(out.data() + at, value);
}

// Decodes a zig-zag varint of at most max_bytes bytes; false on truncation or overlong encoding.
bool read_zigzag(bytes_view data, size_t& pos, int max_bytes, int64_t& out) {
  uint64_t raw = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (pos >= data.size()) return false;
    uint8_t b = data[pos++];
    raw |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      out = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
      return true;
    }
  }
  return false;
}

bool read_varint(bytes_view data, size_t& pos, int32_t& out) {
  int64_t v = 0;
  if (!read_zigzag(data, pos, 5, v) || v < std::numeric_limits<int32_t>::min() ||
      v > std::numeric_limits<int32_t>::max())
    return false;
  out = static_cast<int32_t>(v);
  return true;
}

bool read_varlong(bytes_view data, size_t& pos, int64_t& out) { return read_zigzag(data, pos, 10, out); }

// A length-prefixed byte field; length -1 is null.
bool read_bytes(bytes_view data, size_t& pos, std::optional<bytes_view>& out) {
  int32_t len = 0;
  if (!read_varint(data, pos, len) || len < -1) return false;
  if (len == -1) {
    out.reset();
    return true;
  }
  if (static_cast<size_t>(len) > data.size() - pos) return false;
  out = data.subspan(pos, static_cast<size_t>(len));
  pos += static_cast<size_t>(len);
  return true;
}

void append_zigzag(std::vector<uint8_t>& out, uint64_t zz) {
  while (zz >= 0x80) {
    out.push_back(static_cast<uint8_t>(zz | 0x80));
    zz >>= 7;
  }
  out.push_back(static_cast<uint8_t>(zz));
}

void append_field(std::vector<uint8_t>& out, const std::optional<std::string>& s) {
  if (!s) {
    append_varint(out, -1);
    return;
  }
  append_varint(out, static_cast<int32_t>(s->size()));
  out.insert(out.end(), s->begin(), s->end());
}

error corrupt(std::string what) { return error{kafka_error::corrupt_message, std::move(what)}; }

}  // namespace

std::string_view codec_name(compression_codec c) {
  switch (c) {
    case compression_codec::none: return "none";
    case compression_codec::gzip: return "gzip";
    case compression_codec::snappy: return "snappy";
    case compression_codec::lz4: return "lz4";
    case compression_codec::zstd: return "zstd";
  }
  return "unknown";
}

void append_varint(std::vector<uint8_t>& out, int32_t v) {
  append_zigzag(out, (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void append_varlong(std::vector<uint8_t>& out, int64_t v) {
  append_zigzag(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// ---- compression ----

namespace {

result<std::vector<uint8_t>> deflate_gzip(bytes_view in, int level) {
  z_stream zs{};
  // 15 + 16: a gzip wrapper, as java.util.zip.GZIPOutputStream writes.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return error{kafka_error::unknown_server_error, "gzip: deflateInit failed"};
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return error{kafka_error::unknown_server_error, "gzip: deflate failed"};
  out.resize(produced);
  return out;
}

std::vector<uint8_t> deflate_snappy(bytes_view in) {
  // snappy-java's SnappyOutputStream: magic, version 1, compatible version 1, then chunks of at most 32 KiB
  // of input, each an int32 big-endian length and a raw snappy block.
  static constexpr uint8_t header[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  static constexpr size_t chunk = 32 * 1024;
  std::vector<uint8_t> out(header, header + sizeof header);
  std::string block;
  for (size_t pos = 0; pos < in.size(); pos += chunk) {
    size_t n = std::min(chunk, in.size() - pos);
    block.clear();
    snappy::Compress(reinterpret_cast<const char*>(in.data() + pos), n, &block);
    append_be<uint32_t>(out, static_cast<uint32_t>(block.size()));
    out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

result<std::vector<uint8_t>> deflate_lz4(bytes_view in, int level) {
  LZ4F_preferences_t prefs{};
  prefs.compressionLevel = level;
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  std::vector<uint8_t> out(LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) return error{kafka_error::unknown_server_error, std::string("lz4: ") + LZ4F_getErrorName(n)};
  out.resize(n);
  return out;
}

result<std::vector<uint8_t>> deflate_zstd(bytes_view in, int level) {
  std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  if (ZSTD_isError(n)) return error{kafka_error::unknown_server_error, std::string("zstd: ") + ZSTD_getErrorName(n)};
  out.resize(n);
  return out;
}

void append_bytes_field(std::vector<uint8_t>& out, const std::optional<bytes_view>& b) {
  if (!b) {
    append_varint(out, -1);
    return;
  }
  append_varint(out, static_cast<int32_t>(b->size()));
  out.insert(out.end(), b->begin(), b->end());
}

}  // namespace

result<std::vector<uint8_t>> compress(compression_codec codec, bytes_view plain, std::optional<int32_t> level) {
  switch (codec) {
    case compression_codec::none: return std::vector<uint8_t>(plain.begin(), plain.end());
    case compression_codec::gzip: return deflate_gzip(plain, level.value_or(Z_DEFAULT_COMPRESSION));
    case compression_codec::snappy: return deflate_snappy(plain);
    case compression_codec::lz4: return deflate_lz4(plain, level.value_or(0));
    case compression_codec::zstd: return deflate_zstd(plain, level.value_or(3));
  }
  return error{kafka_error::unsupported_compression_type, "unknown compression codec"};
}

void append_record(std::vector<uint8_t>& out, int8_t attributes, int64_t timestamp_delta, int32_t offset_delta,
                   const std::optional<bytes_view>& key, const std::optional<bytes_view>& value,
                   std::span<const record_header_view> headers) {
  std::vector<uint8_t> body;
  body.push_back(static_cast<uint8_t>(attributes));
  append_varlong(body, timestamp_delta);
  append_varint(body, offset_delta);
  append_bytes_field(body, key);
  append_bytes_field(body, value);
  append_varint(body, static_cast<int32_t>(headers.size()));
  for (const auto& h : headers) {
    append_bytes_field(body, bytes_view(reinterpret_cast<const uint8_t*>(h.key.data()), h.key.size()));
    append_bytes_field(body, h.value);
  }
  append_varint(out, static_cast<int32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
}

std::vector<uint8_t> encode_batch(const batch_header_fields& h, bytes_view section) {
  std::vector<uint8_t> out;
  out.reserve(layout::header_size + section.size());
  append_be<int64_t>(out, h.base_offset);
  append_be<int32_t>(out, static_cast<int32_t>(layout::header_size - layout::log_overhead + section.size()));
  append_be<int32_t>(out, h.partition_leader_epoch);
  out.push_back(static_cast<uint8_t>(layout::current_magic));
  append_be<uint32_t>(out, 0);  // crc, filled below
  append_be<int16_t>(out, h.attributes);
  append_be<int32_t>(out, h.last_offset_delta);
  append_be<int64_t>(out, h.base_timestamp);
  append_be<int64_t>(out, h.max_timestamp);
  append_be<int64_t>(out, h.producer_id);
  append_be<int16_t>(out, h.producer_epoch);
  append_be<int32_t>(out, h.base_sequence);
  append_be<int32_t>(out, h.record_count);
  out.insert(out.end(), section.begin(), section.end());
  store_be(out.data() + layout::crc, crc32c(bytes_view(out).subspan(layout::attributes)));
  return out;
}

// ---- record_batch_view ----

std::optional<size_t> record_batch_view::peek_size(bytes_view bytes) {
  if (bytes.size() < layout::log_overhead) return std::nullopt;
  int32_t len = load_be<int32_t>(bytes.data() + layout::batch_length);
  if (len < static_cast<int32_t>(layout::header_size - layout::log_overhead)) return std::nullopt;
  return layout::log_overhead + static_cast<size_t>(len);
}

result<record_batch_view> record_batch_view::parse(bytes_view bytes) {
  if (bytes.size() < layout::header_size) return corrupt("record batch shorter than its header");
  auto size = peek_size(bytes);
  if (!size) return corrupt("record batch length below the header size");
  int8_t magic = static_cast<int8_t>(bytes[layout::magic]);
  if (magic != layout::current_magic)
    return corrupt("unsupported record batch magic " + std::to_string(magic) + " (only v2 is accepted)");
  if (*size > bytes.size()) return corrupt("record batch truncated");
  return record_batch_view(bytes.first(*size));
}

int64_t record_batch_view::base_offset() const { return load_be<int64_t>(bytes_.data() + layout::base_offset); }
int32_t record_batch_view::batch_length() const { return load_be<int32_t>(bytes_.data() + layout::batch_length); }
int32_t record_batch_view::partition_leader_epoch() const {
  return load_be<int32_t>(bytes_.data() + layout::partition_leader_epoch);
}
int8_t record_batch_view::magic() const { return static_cast<int8_t>(bytes_[layout::magic]); }
uint32_t record_batch_view::crc() const { return load_be<uint32_t>(bytes_.data() + layout::crc); }
int16_t record_batch_view::attributes() const { return load_be<int16_t>(bytes_.data() + layout::attributes); }
compression_codec record_batch_view::compression() const {
  return static_cast<compression_codec>(static_cast<uint16_t>(attributes()) & layout::compression_mask);
}
timestamp_type record_batch_view::ts_type() const {
  return (static_cast<uint16_t>(attributes()) & layout::timestamp_type_bit) ? timestamp_type::log_append_time
                                                                            : timestamp_type::create_time;
}
bool record_batch_view::is_transactional() const {
  return static_cast<uint16_t>(attributes()) & layout::transactional_bit;
}
bool record_batch_view::is_control() const { return static_cast<uint16_t>(attributes()) & layout::control_bit; }
bool record_batch_view::has_delete_horizon() const {
  return static_cast<uint16_t>(attributes()) & layout::delete_horizon_bit;
}
int32_t record_batch_view::last_offset_delta() const {
  return load_be<int32_t>(bytes_.data() + layout::last_offset_delta);
}
int64_t record_batch_view::base_timestamp() const {
  return load_be<int64_t>(bytes_.data() + layout::base_timestamp);
}
int64_t record_batch_view::max_timestamp() const { return load_be<int64_t>(bytes_.data() + layout::max_timestamp); }
int64_t record_batch_view::producer_id() const { return load_be<int64_t>(bytes_.data() + layout::producer_id); }
int16_t record_batch_view::producer_epoch() const {
  return load_be<int16_t>(bytes_.data() + layout::producer_epoch);
}
int32_t record_batch_view::base_sequence() const { return load_be<int32_t>(bytes_.data() + layout::base_sequence); }
int32_t record_batch_view::record_count() const { return load_be<int32_t>(bytes_.data() + layout::record_count); }

uint32_t record_batch_view::compute_crc() const { return crc32c(bytes_.subspan(layout::attributes)); }

result<void> record_batch_view::validate() const {
  if (bytes_.size() < layout::header_size) return corrupt("record batch shorter than its header");
  if (peek_size(bytes_) != bytes_.size()) return corrupt("record batch length does not match its bytes");
  if (magic() != layout::current_magic) return corrupt("unsupported record batch magic");
  uint32_t actual = compute_crc();
  if (actual != crc())
    return corrupt("record batch CRC mismatch (stored " + std::to_string(crc()) + ", computed " +
                   std::to_string(actual) + ")");
  return {};
}

result<record_iterator> record_batch_view::records(uint64_t max_uncompressed_bytes) const {
  record_iterator it;
  auto codec_bits = static_cast<uint16_t>(attributes()) & layout::compression_mask;
  if (codec_bits > static_cast<uint16_t>(compression_codec::zstd))
    return error{kafka_error::unsupported_compression_type, "unknown compression codec " + std::to_string(codec_bits)};
  auto section = bytes_.subspan(layout::records);
  if (compression() == compression_codec::none) {
    it.data_ = section;
  } else {
    auto plain = decompress(compression(), section, max_uncompressed_bytes);
    if (!plain) return plain.err();
    it.decompressed_ = std::move(plain).value();
    it.data_ = it.decompressed_;
  }
  it.remaining_ = std::max(record_count(), 0);
  it.base_offset_ = base_offset();
  it.base_timestamp_ = base_timestamp();
  if (ts_type() == timestamp_type::log_append_time) it.log_append_time_ = max_timestamp();
  return it;
}

// ---- record_iterator ----

result<std::optional<record_view>> record_iterator::next() {
  if (remaining_ == 0) {
    if (pos_ != data_.size()) return corrupt("record batch has bytes after its last record");
    return std::optional<record_view>{};
  }
  int32_t length = 0;
  if (!read_varint(data_, pos_, length) || length < 0 || static_cast<size_t>(length) > data_.size() - pos_)
    return corrupt("record length out of range");
  auto body = data_.subspan(pos_, static_cast<size_t>(length));
  size_t p = 0;
  record_view r;
  if (body.empty()) return corrupt("empty record");
  r.attributes = static_cast<int8_t>(body[p++]);
  int32_t header_count = 0;
  if (!read_varlong(body, p, r.timestamp_delta) || !read_varint(body, p, r.offset_delta) ||
      !read_bytes(body, p, r.key) || !read_bytes(body, p, r.value) || !read_varint(body, p, header_count) ||
      header_count < 0)
    return corrupt("malformed record");
  for (int32_t i = 0; i < header_count; ++i) {
    std::optional<bytes_view> key, value;
    if (!read_bytes(body, p, key) || !key || !read_bytes(body, p, value)) return corrupt("malformed record header");
    r.headers.push_back({std::string_view(reinterpret_cast<const char*>(key->data()), key->size()), value});
  }
  if (p != body.size()) return corrupt("record length does not match its fields");
  pos_ += static_cast<size_t>(length);
  --remaining_;
  // Wrapping as Java's long arithmetic does: the deltas come from the client.
  r.offset = static_cast<int64_t>(static_cast<uint64_t>(base_offset_) + static_cast<uint64_t>(int64_t{r.offset_delta}));
  r.timestamp = log_append_time_ ? *log_append_time_
                                 : static_cast<int64_t>(static_cast<uint64_t>(base_timestamp_) +
                                                        static_cast<uint64_t>(r.timestamp_delta));
  return std::optional<record_view>(std::move(r));
}

// ---- rewrites ----

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  store_be(batch.data() + layout::base_offset, base_offset);
}

void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  store_be(batch.data() + layout::partition_leader_epoch, epoch);
}

void set_log_append_time(std::span<uint8_t> batch, int64_t append_time) {
  auto attrs = static_cast<uint16_t>(load_be<int16_t>(batch.data() + layout::attributes));
  store_be(batch.data() + layout::attributes, static_cast<int16_t>(attrs | layout::timestamp_type_bit));
  store_be(batch.data() + layout::max_timestamp, append_time);
  store_be(batch.data() + layout::crc, crc32c(bytes_view(batch).subspan(layout::attributes)));
}

// ---- builder ----

record_batch_builder& record_batch_builder::add(record r) {
  records_.push_back(std::move(r));
  return *this;
}

record_batch_builder& record_batch_builder::add(std::optional<std::string> key, std::optional<std::string> value,
                                                int64_t timestamp, std::vector<header> headers) {
  return add(record{std::move(key), std::move(value), timestamp, std::move(headers)});
}

std::vector<uint8_t> record_batch_builder::encode_records() const {
  std::vector<uint8_t> out;
  int64_t base_ts = records_.empty() ? 0 : records_.front().timestamp;
  std::vector<uint8_t> body;
  for (size_t i = 0; i < records_.size(); ++i) {
    const auto& r = records_[i];
    body.clear();
    body.push_back(0);  // attributes
    append_varlong(body, r.timestamp - base_ts);
    append_varint(body, static_cast<int32_t>(i));
    append_field(body, r.key);
    append_field(body, r.value);
    append_varint(body, static_cast<int32_t>(r.headers.size()));
    for (const auto& h : r.headers) {
      append_field(body, std::optional<std::string>(h.key));
      append_field(body, h.value);
    }
    append_varint(out, static_cast<int32_t>(body.size()));
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

std::vector<uint8_t> record_batch_builder::build() const {
  auto section = encode_records();
  return build_with_records(compression_codec::none, section);
}

std::vector<uint8_t> record_batch_builder::build_with_records(compression_codec codec, bytes_view section) const {
  int64_t base_ts = records_.empty() ? -1 : records_.front().timestamp;
  int64_t max_ts = -1;
  for (const auto& r : records_) max_ts = std::max(max_ts, r.timestamp);
  uint16_t attrs = static_cast<uint16_t>(codec) & layout::compression_mask;
  if (opts_.ts_type == timestamp_type::log_append_time) attrs |= layout::timestamp_type_bit;
  if (opts_.transactional) attrs |= layout::transactional_bit;
  if (opts_.control) attrs |= layout::control_bit;

  std::vector<uint8_t> out;
  out.reserve(layout::header_size + section.size());
  append_be<int64_t>(out, opts_.base_offset);
  append_be<int32_t>(out, static_cast<int32_t>(layout::header_size - layout::log_overhead + section.size()));
  append_be<int32_t>(out, opts_.partition_leader_epoch);
  out.push_back(static_cast<uint8_t>(layout::current_magic));
  append_be<uint32_t>(out, 0);  // crc, filled below
  append_be<int16_t>(out, static_cast<int16_t>(attrs));
  append_be<int32_t>(out, static_cast<int32_t>(records_.empty() ? 0 : records_.size() - 1));
  append_be<int64_t>(out, base_ts);
  append_be<int64_t>(out, max_ts);
  append_be<int64_t>(out, opts_.producer_id);
  append_be<int16_t>(out, opts_.producer_epoch);
  append_be<int32_t>(out, opts_.base_sequence);
  append_be<int32_t>(out, static_cast<int32_t>(records_.size()));
  out.insert(out.end(), section.begin(), section.end());
  store_be(out.data() + layout::crc, crc32c(bytes_view(out).subspan(layout::attributes)));
  return out;
}


std::vector<uint8_t> encode_end_txn_marker(const marker_batch_fields& fields, const end_txn_marker& marker) {
  std::vector<uint8_t> key, value;
  append_be<int16_t>(key, control_record::key_version);
  append_be<int16_t>(key, static_cast<int16_t>(marker.type));
  append_be<int16_t>(value, control_record::value_version);
  append_be<int32_t>(value, marker.coordinator_epoch);
  std::vector<uint8_t> section;
  append_record(section, 0, 0, 0, bytes_view(key), bytes_view(value), {});
  batch_header_fields h;
  h.base_offset = fields.base_offset;
  h.partition_leader_epoch = fields.partition_leader_epoch;
  h.attributes = static_cast<int16_t>(layout::control_bit | layout::transactional_bit);
  h.last_offset_delta = 0;
  h.base_timestamp = fields.timestamp;
  h.max_timestamp = fields.timestamp;
  h.producer_id = fields.producer_id;
  h.producer_epoch = fields.producer_epoch;
  h.base_sequence = -1;
  h.record_count = 1;
  return encode_batch(h, section);
}

result<control_record_type> parse_control_record_type(bytes_view key) {
  if (key.size() < control_record::key_size)
    return error{kafka_error::corrupt_message, "control record key of " + std::to_string(key.size()) + " bytes"};
  const auto version = static_cast<int16_t>(load_be<uint16_t>(key.data()));
  if (version < 0) return error{kafka_error::corrupt_message, "control record key of version " + std::to_string(version)};
  const auto type = static_cast<int16_t>(load_be<uint16_t>(key.data() + 2));
  switch (type) {
    case 0: return control_record_type::abort;
    case 1: return control_record_type::commit;
    default: return control_record_type::unknown;
  }
}

result<std::optional<end_txn_marker>> decode_end_txn_marker(const record_batch_view& batch) {
  if (!batch.is_control()) return error{kafka_error::invalid_record, "not a control batch"};
  if (batch.record_count() == 0) return std::optional<end_txn_marker>{};
  auto records = batch.records(batch.size_bytes() + 1024);
  if (!records) return records.err();
  auto rec = records->next();
  if (!rec) return rec.err();
  if (!*rec) return std::optional<end_txn_marker>{};
  const record_view& r = **rec;
  if (!r.key) return error{kafka_error::corrupt_message, "control record without a key"};
  auto type = parse_control_record_type(*r.key);
  if (!type) return type.err();
  if (*type == control_record_type::unknown) return std::optional<end_txn_marker>{};
  if (!r.value || r.value->size() < control_record::value_size)
    return error{kafka_error::corrupt_message, "transaction marker value shorter than 6 bytes"};
  const auto version = static_cast<int16_t>(load_be<uint16_t>(r.value->data()));
  if (version < 0)
    return error{kafka_error::corrupt_message, "transaction marker value of version " + std::to_string(version)};
  end_txn_marker m;
  m.type = *type;
  m.coordinator_epoch = static_cast<int32_t>(load_be<uint32_t>(r.value->data() + 2));
  return std::optional<end_txn_marker>{m};
}

}  // namespace brook::common
