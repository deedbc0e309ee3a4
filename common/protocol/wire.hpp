// Kafka's primitive wire types (protocol.html, "Protocol Primitive Types"): big-endian integers,
// unsigned/zig-zag varints, classic (int16/int32 length) and compact (KIP-482, uvarint length+1)
// strings, bytes and arrays, UUIDs and tagged-field sections. The schema-generated codecs are
// written in terms of these; nothing else should need to touch bytes of a message body.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/os/file_io.hpp"
#include "common/uuid.hpp"

namespace brook::common::protocol {

// Thrown for a body that does not decode; the server closes that connection.
class decode_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by the writer for a value whose length the wire cannot carry (a string over 32767 bytes,
// bytes or an array over INT32_MAX), as Kafka's generated serializers throw: a length is never cast
// into a wrapped value. The server fails that one request (logged) and closes that connection.
class encode_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using bytes = std::vector<uint8_t>;

// The longest string either string form may carry (Kafka checks 0x7fff for both).
inline constexpr size_t max_string_bytes = 0x7fff;

// Kafka's generated readers (4.4) bound what a message may declare before allocating for it: an array
// of more elements than bytes left, or of more than max_array_elements, and a tagged-field section of
// more fields than bytes left, or of more than max_tagged_fields, are refused; an array's storage is
// reserved for at most array_reserve_limit elements up front (the rest grows as elements decode).
inline constexpr int32_t max_array_elements = 1'000'000;
inline constexpr int32_t max_tagged_fields = 10'000;
inline constexpr int32_t array_reserve_limit = 1000;

// An error message cut to fit a string field (at a UTF-8 character boundary): the generated
// encoders pass every *error_message field through this, so a long message never fails a response.
std::string_view fit_message(std::string_view s);
inline std::string_view fit_message(const std::string& s) { return fit_message(std::string_view(s)); }
std::optional<std::string> fit_message(const std::optional<std::string>& s);

// A byte range of an open file that a response carries by reference, so that the connection can
// send it with sendfile(2) instead of copying it through user space. Holding `file` keeps the
// descriptor open (a segment deleted meanwhile stays readable until the response is sent).
struct file_slice {
  std::shared_ptr<const os::file_handle> file;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const file_slice&) const = default;
};

// The value of a `records` field, in one of three places: bytes it owns (built, or decoded by a
// copying reader); bytes borrowed from a request frame that outlives it (decoded by a borrowing
// reader: the broker appends a Produce request's batches from its frame, rewriting their offsets in
// place, without copying them); or a slice of a segment file (Fetch responses).
struct record_set {
  bytes data;
  std::span<uint8_t> borrowed;
  std::optional<file_slice> file;

  record_set() = default;
  record_set(bytes b) : data(std::move(b)) {}
  static record_set borrow(std::span<uint8_t> frame_bytes) {
    record_set r;
    r.borrowed = frame_bytes;
    return r;
  }
  bool is_borrowed() const { return borrowed.data() != nullptr; }
  // The bytes in memory (owned or borrowed); empty for a file slice.
  std::span<const uint8_t> memory() const { return is_borrowed() ? std::span<const uint8_t>(borrowed) : data; }
  std::span<uint8_t> mutable_memory() { return is_borrowed() ? borrowed : std::span<uint8_t>(data); }
  size_t size() const { return file ? file->length : memory().size(); }
  bool empty() const { return size() == 0; }
  // Equal when they hold the same bytes, wherever those live (or the same file slice).
  bool operator==(const record_set& o) const {
    auto a = memory(), b = o.memory();
    return file == o.file && std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
};

// An encoded message: its bytes, plus file slices to be sent at given positions of those bytes
// (the bytes before a position go first, then the slice).
struct encoded_message {
  bytes data;
  std::vector<std::pair<size_t, file_slice>> splices;
  size_t size() const {
    size_t n = data.size();
    for (const auto& [at, s] : splices) n += s.length;
    return n;
  }
};

// Reads primitives from a borrowed span; never reads past its end (throws decode_error instead),
// and never allocates more than the remaining input could describe. Lengths are read as Kafka's
// readers read them, as signed 32-bit values (a compact length is its uvarint minus one, wrapping):
// any negative length is null, which only a nullable field accepts.
class reader {
 public:
  explicit reader(std::span<const uint8_t> data) : data_(data) {}
  // A reader whose `records` fields borrow from `frame` instead of copying: the decoded message must
  // not outlive the frame, and whoever holds the record set may rewrite those bytes.
  static reader borrowing(std::span<uint8_t> frame) {
    reader r(frame);
    r.mutable_ = frame.data();
    return r;
  }

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

  int8_t int8() { return static_cast<int8_t>(take(1)[0]); }
  bool boolean() { return int8() != 0; }
  int16_t int16() { return static_cast<int16_t>(be<uint16_t>()); }
  uint16_t uint16() { return be<uint16_t>(); }
  int32_t int32() { return static_cast<int32_t>(be<uint32_t>()); }
  uint32_t uint32() { return be<uint32_t>(); }
  int64_t int64() { return static_cast<int64_t>(be<uint64_t>()); }
  double float64();
  uint32_t uvarint();
  int32_t varint();
  uint64_t uvarlong();
  int64_t varlong();
  common::uuid uuid();

  std::string string(bool flexible);
  std::optional<std::string> nullable_string(bool flexible);
  bytes byte_array(bool flexible);
  std::optional<bytes> nullable_byte_array(bool flexible);
  // The element count of an array; -1 for a null array (any negative count). Rejects counts that
  // the remaining input cannot hold (every element takes at least one byte) and counts over
  // max_array_elements, so hostile counts never allocate.
  int32_t array_length(bool flexible);
  // The number of tagged fields that follow (flexible versions); refuses a count over the bytes
  // left or over max_tagged_fields, as Kafka does.
  uint32_t tagged_field_count();
  record_set records(bool flexible);
  std::optional<record_set> nullable_records(bool flexible);

  std::span<const uint8_t> take(size_t n);
  void skip(size_t n) { take(n); }

 private:
  template <class T>
  T be() {
    auto s = take(sizeof(T));
    T v = 0;
    for (uint8_t b : s) v = static_cast<T>((v << 8) | b);
    return v;
  }
  int64_t length(bool flexible, bool nullable, bool wide);

  record_set take_records(int64_t n);

  std::span<const uint8_t> data_;
  uint8_t* mutable_ = nullptr;  // data_ as writable bytes, for a borrowing reader
  size_t pos_ = 0;
};

// Appends primitives to a growing buffer.
class writer {
 public:
  writer() = default;
  explicit writer(bytes&& reuse) : buf_(std::move(reuse)) { buf_.clear(); }

  void int8(int8_t v) { buf_.push_back(static_cast<uint8_t>(v)); }
  void boolean(bool v) { int8(v ? 1 : 0); }
  void int16(int16_t v) { be(static_cast<uint16_t>(v)); }
  void uint16(uint16_t v) { be(v); }
  void int32(int32_t v) { be(static_cast<uint32_t>(v)); }
  void uint32(uint32_t v) { be(v); }
  void int64(int64_t v) { be(static_cast<uint64_t>(v)); }
  void float64(double v);
  void uvarint(uint32_t v);
  void varint(int32_t v);
  void uvarlong(uint64_t v);
  void varlong(int64_t v);
  void uuid(const common::uuid& v) { raw(v.bytes); }

  void string(std::string_view s, bool flexible);
  void nullable_string(const std::optional<std::string>& s, bool flexible);
  void byte_array(std::span<const uint8_t> b, bool flexible);
  void nullable_byte_array(const std::optional<bytes>& b, bool flexible);
  void array_length(int32_t n, bool flexible);  // -1 writes a null array; n must be >= -1
  void array_size(size_t n, bool flexible);     // a present array of n elements
  // A file-backed record set is written as its length plus a splice point, not as bytes.
  void records(const record_set& r, bool flexible);
  void nullable_records(const std::optional<record_set>& r, bool flexible);

  void raw(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  size_t size() const { return buf_.size(); }
  // Overwrites a big-endian int32 written earlier (frame sizes).
  void patch_int32(size_t at, int32_t v);

  const bytes& data() const { return buf_; }
  // The bytes written; only for messages without file-backed record sets (see finish()).
  bytes take() { return std::move(buf_); }
  encoded_message finish() { return {std::move(buf_), std::move(splices_)}; }

 private:
  template <class T>
  void be(T v) {
    for (int i = sizeof(T) - 1; i >= 0; --i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  bytes buf_;
  std::vector<std::pair<size_t, file_slice>> splices_;
};

}  // namespace brook::common::protocol
