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

// Length of a string/bytes field: -1 for null. Classic strings use int16, classic bytes int32,
// compact forms a uvarint of length+1 (0 is null).
int64_t reader::length(bool flexible, bool nullable, bool wide) {
  int64_t n = flexible ? static_cast<int64_t>(uvarint()) - 1 : (wide ? int32() : int16());
  if (n < -1) throw decode_error(fmt::format("negative length {}", n));
  if (n == -1 && !nullable) throw decode_error("null where the field is not nullable");
  if (n > static_cast<int64_t>(remaining()))
    throw decode_error(fmt::format("length {} exceeds the {} bytes left", n, remaining()));
  return n;
}

std::string reader::string(bool flexible) {
  auto n = length(flexible, false, false);
  auto s = take(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

std::optional<std::string> reader::nullable_string(bool flexible) {
  auto n = length(flexible, true, false);
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
  int64_t n = flexible ? static_cast<int64_t>(uvarint()) - 1 : int32();
  if (n < -1) throw decode_error(fmt::format("negative array length {}", n));
  if (n > static_cast<int64_t>(remaining()))
    throw decode_error(fmt::format("array of {} elements cannot fit in the {} bytes left", n, remaining()));
  return static_cast<int32_t>(n);
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

void writer::records(const record_set& r, bool flexible) {
  if (!r.file) return byte_array(r.memory(), flexible);
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
  if (flexible)
    uvarint(static_cast<uint32_t>(n + 1));
  else
    int32(n);
}

void writer::patch_int32(size_t at, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) buf_[at + i] = static_cast<uint8_t>(u >> (8 * (3 - i)));
}

}  // namespace brook::common::protocol
