#include "common/protocol/wire.hpp"

#include <bit>
#include <fmt/format.h>

namespace brook::common::protocol {

std::span<const uint8_t> reader::take(size_t n) {
  if (n > remaining())
    throw decode_error(fmt::format("needed {} bytes at offset {}, only {} left", n, pos_, remaining()));
  auto s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

double reader::float64() { return std::bit_cast<double>(be<uint64_t>()); }

uint32_t reader::uvarint() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    uint8_t b = take(1)[0];
    if (shift == 28 && (b & 0xf0)) throw decode_error("unsigned varint overflows 32 bits");
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  throw decode_error("unsigned varint longer than 5 bytes");
}

int32_t reader::varint() {
  uint32_t u = uvarint();
  return static_cast<int32_t>((u >> 1) ^ -(u & 1));
}

uint64_t reader::uvarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = take(1)[0];
    if (shift == 63 && (b & 0xfe)) throw decode_error("unsigned varlong overflows 64 bits");
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  throw decode_error("unsigned varlong longer than 10 bytes");
}

int64_t reader::varlong() {
  uint64_t u = uvarlong();
  return static_cast<int64_t>((u >> 1) ^ -(u & 1));
}

common::uuid reader::uuid() {
  common::uuid id;
  auto s = take(16);
  std::memcpy(id.bytes.data(), s.data(), 16);
  return id;
}

namespace {
// A compact length or count as Kafka reads it: the uvarint minus one, in 32-bit signed arithmetic
// (0 is -1, null; values from 2^31 + 1 up come out negative, and are null too).
int32_t compact_length(uint32_t u) { return static_cast<int32_t>(u - 1u); }
}  // namespace

// Length of a string/bytes field: -1 for null. Classic strings use int16, classic bytes int32,
// compact forms a uvarint of length+1 (0 is null). Any negative length is null, as in Kafka's readers.
int64_t reader::length(bool flexible, bool nullable, bool wide) {
  int64_t n = flexible ? compact_length(uvarint()) : (wide ? int32() : int16());
  if (n < 0) {
    if (!nullable) throw decode_error(fmt::format("null (length {}) where the field is not nullable", n));
    return -1;
  }
  if (n > static_cast<int64_t>(remaining()))
    throw decode_error(fmt::format("length {} exceeds the {} bytes left", n, remaining()));
  return n;
}

// Kafka's generated readers refuse a string longer than 0x7fff in either form (a compact length
// could say more); so does this reader, so that no request-supplied string is too long to echo.
static void check_string_length(int64_t n) {
  if (n > static_cast<int64_t>(max_string_bytes))
    throw decode_error(fmt::format("string of {} bytes is longer than {}", n, max_string_bytes));
}

std::string reader::string(bool flexible) {
  auto n = length(flexible, false, false);
  check_string_length(n);
  auto s = take(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

std::optional<std::string> reader::nullable_string(bool flexible) {
  auto n = length(flexible, true, false);
  check_string_length(n);
  if (n < 0) return std::nullopt;
  auto s = take(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

bytes reader::byte_array(bool flexible) {
  auto n = length(flexible, false, true);
  auto s = take(static_cast<size_t>(n));
  return bytes(s.begin(), s.end());
}

std::optional<bytes> reader::nullable_byte_array(bool flexible) {
  auto n = length(flexible, true, true);
  if (n < 0) return std::nullopt;
  auto s = take(static_cast<size_t>(n));
  return bytes(s.begin(), s.end());
}

int32_t reader::array_length(bool flexible) {
  const int32_t n = flexible ? compact_length(uvarint()) : int32();
  if (n < 0) return -1;
  if (static_cast<size_t>(n) > remaining())
    throw decode_error(fmt::format("array of {} elements cannot fit in the {} bytes left", n, remaining()));
  if (n > max_array_elements)
    throw decode_error(fmt::format("array of {} elements is over the limit of {}", n, max_array_elements));
  return n;
}

uint32_t reader::tagged_field_count() {
  const uint32_t n = uvarint();
  if (n > static_cast<uint32_t>(INT32_MAX)) throw decode_error(fmt::format("negative tagged field count {}", static_cast<int32_t>(n)));
  if (n > remaining())
    throw decode_error(fmt::format("{} tagged fields cannot fit in the {} bytes left", n, remaining()));
  if (n > static_cast<uint32_t>(max_tagged_fields))
    throw decode_error(fmt::format("{} tagged fields are over the limit of {}", n, max_tagged_fields));
  return n;
}

record_set reader::take_records(int64_t n) {
  const size_t at = pos_;
  auto s = take(static_cast<size_t>(n));
  if (mutable_) return record_set::borrow(std::span<uint8_t>(mutable_ + at, s.size()));
  return record_set(bytes(s.begin(), s.end()));
}

record_set reader::records(bool flexible) { return take_records(length(flexible, false, true)); }

std::optional<record_set> reader::nullable_records(bool flexible) {
  auto n = length(flexible, true, true);
  if (n < 0) return std::nullopt;
  return take_records(n);
}

namespace {
constexpr size_t max_wide_length = static_cast<size_t>(INT32_MAX);

void check_length(size_t n, size_t max, const char* what) {
  if (n > max) throw encode_error(fmt::format("{} of {} bytes is too long to be serialized (at most {})", what, n, max));
}
}  // namespace

std::string_view fit_message(std::string_view s) {
  if (s.size() <= max_string_bytes) return s;
  size_t n = max_string_bytes;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xc0) == 0x80) --n;  // s[n] starts the first byte left out
  return s.substr(0, n);
}

std::optional<std::string> fit_message(const std::optional<std::string>& s) {
  if (!s || s->size() <= max_string_bytes) return s;
  return std::string(fit_message(std::string_view(*s)));
}

void writer::records(const record_set& r, bool flexible) {
  if (!r.file) return byte_array(r.memory(), flexible);
  check_length(r.file->length, max_wide_length, "a record set");
  if (flexible)
    uvarint(static_cast<uint32_t>(r.file->length + 1));
  else
    int32(static_cast<int32_t>(r.file->length));
  splices_.emplace_back(buf_.size(), *r.file);
}

void writer::nullable_records(const std::optional<record_set>& r, bool flexible) {
  if (r) return records(*r, flexible);
  if (flexible)
    uvarint(0);
  else
    int32(-1);
}

void writer::float64(double v) { be(std::bit_cast<uint64_t>(v)); }

void writer::uvarint(uint32_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void writer::varint(int32_t v) {
  uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void writer::uvarlong(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void writer::varlong(int64_t v) {
  uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void writer::string(std::string_view s, bool flexible) {
  check_length(s.size(), max_string_bytes, "a string");
  if (flexible)
    uvarint(static_cast<uint32_t>(s.size() + 1));
  else
    int16(static_cast<int16_t>(s.size()));
  buf_.insert(buf_.end(), s.begin(), s.end());
}

void writer::nullable_string(const std::optional<std::string>& s, bool flexible) {
  if (s) return string(*s, flexible);
  if (flexible)
    uvarint(0);
  else
    int16(-1);
}

void writer::byte_array(std::span<const uint8_t> b, bool flexible) {
  check_length(b.size(), max_wide_length, "a byte array");
  if (flexible)
    uvarint(static_cast<uint32_t>(b.size() + 1));
  else
    int32(static_cast<int32_t>(b.size()));
  raw(b);
}

void writer::nullable_byte_array(const std::optional<bytes>& b, bool flexible) {
  if (b) return byte_array(*b, flexible);
  if (flexible)
    uvarint(0);
  else
    int32(-1);
}

void writer::array_length(int32_t n, bool flexible) {
  if (n < -1) throw encode_error(fmt::format("array length {} is negative", n));
  if (flexible)
    uvarint(static_cast<uint32_t>(n + 1));
  else
    int32(n);
}

void writer::array_size(size_t n, bool flexible) {
  if (n > max_wide_length)
    throw encode_error(fmt::format("an array of {} elements is too long to be serialized (at most {})", n, max_wide_length));
  array_length(static_cast<int32_t>(n), flexible);
}

void writer::patch_int32(size_t at, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) buf_[at + i] = static_cast<uint8_t>(u >> (8 * (3 - i)));
}

}  // namespace brook::common::protocol
