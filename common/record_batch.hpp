// Kafka record batches (magic v2): a read-only view over a batch's bytes, the few in-place rewrites a broker
// makes (base offset, partition leader epoch, LogAppendTime), record iteration with decompression, a
// builder for uncompressed batches, and the lower-level encoders (compression, one record, a batch around a
// record section) that the log cleaner uses to re-encode batches exactly. Byte layout (big-endian), offsets from the start of the batch:
//   0 baseOffset i64 | 8 batchLength i32 (bytes after this field) | 12 partitionLeaderEpoch i32 | 16 magic i8
//   17 crc u32 (CRC-32C of bytes 21..end) | 21 attributes i16 | 23 lastOffsetDelta i32 | 27 baseTimestamp i64
//   35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16 | 53 baseSequence i32 | 57 recordCount i32
//   61 records (compressed as a whole when the codec bits are set)
// Record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint | keyLength varint | key |
//   valueLength varint | value | headerCount varint | headers (keyLength varint, key, valueLength varint, value)
// Lengths of -1 mean null.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace brook::common {

// Positions and sizes of the v2 batch header; the storage layer's on-disk format (log/format.hpp) uses these.
namespace batch_layout {
inline constexpr size_t base_offset = 0;
inline constexpr size_t batch_length = 8;
inline constexpr size_t partition_leader_epoch = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t crc = 17;
inline constexpr size_t attributes = 21;  // the CRC covers from here to the end
inline constexpr size_t last_offset_delta = 23;
inline constexpr size_t base_timestamp = 27;
inline constexpr size_t max_timestamp = 35;
inline constexpr size_t producer_id = 43;
inline constexpr size_t producer_epoch = 51;
inline constexpr size_t base_sequence = 53;
inline constexpr size_t record_count = 57;
inline constexpr size_t records = 61;
inline constexpr size_t header_size = 61;
// baseOffset + batchLength: what precedes the bytes that batchLength counts.
inline constexpr size_t log_overhead = 12;
inline constexpr int8_t current_magic = 2;

inline constexpr uint16_t compression_mask = 0x07;
inline constexpr uint16_t timestamp_type_bit = 0x08;
inline constexpr uint16_t transactional_bit = 0x10;
inline constexpr uint16_t control_bit = 0x20;
inline constexpr uint16_t delete_horizon_bit = 0x40;
}  // namespace batch_layout

enum class compression_codec : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };
enum class timestamp_type : uint8_t { create_time = 0, log_append_time = 1 };

std::string_view codec_name(compression_codec c);

using bytes_view = std::span<const uint8_t>;

struct record_header_view {
  std::string_view key;
  std::optional<bytes_view> value;  // nullopt: null value
};

// One record of a batch. The views point into the batch bytes or into the decompressed buffer of the
// record_iterator that produced it: they live as long as that iterator.
struct record_view {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  int64_t offset = 0;     // base offset + delta
  int64_t timestamp = 0;  // base timestamp + delta, or the batch max timestamp for LogAppendTime batches
  std::optional<bytes_view> key;    // nullopt: null key
  std::optional<bytes_view> value;  // nullopt: null value (a tombstone)
  std::vector<record_header_view> headers;
};

// Decodes the records of one batch in order. Owns the decompressed bytes of a compressed batch; the batch
// bytes of an uncompressed one must outlive it.
class record_iterator {
 public:
  // The next record; nullopt after the last one; corrupt_message when the bytes do not decode or the
  // batch holds fewer or more records than its header says.
  result<std::optional<record_view>> next();
  int32_t remaining() const { return remaining_; }
  // The decompressed bytes that the views of a compressed batch's records point into (empty for an
  // uncompressed batch, whose views point into the batch). Moving them out keeps those views valid (the
  // buffer itself does not move), so a caller may keep the records' views beyond this iterator.
  std::vector<uint8_t> take_decompressed() { return std::move(decompressed_); }

 private:
  friend class record_batch_view;
  record_iterator() = default;

  std::vector<uint8_t> decompressed_;
  bytes_view data_;
  size_t pos_ = 0;
  int32_t remaining_ = 0;
  int64_t base_offset_ = 0;
  int64_t base_timestamp_ = 0;
  std::optional<int64_t> log_append_time_;
};

// Read-only view over the bytes of one v2 batch. Accessors read the header fields; they assume the view
// holds at least batch_layout::header_size bytes, which parse() guarantees.
class record_batch_view {
 public:
  // Takes the batch at the start of `bytes`: checks that the header is complete, magic == 2, batchLength is
  // sane and the whole batch is present. The view covers exactly the batch (size_bytes()). Does not check
  // the CRC: call validate(). Errors: corrupt_message.
  static result<record_batch_view> parse(bytes_view bytes);

  // Size of the batch that starts `bytes`, from its header alone (log_overhead + batchLength), or nullopt if
  // fewer than log_overhead bytes are present or batchLength is impossible.
  static std::optional<size_t> peek_size(bytes_view bytes);

  explicit record_batch_view(bytes_view exact_batch_bytes) : bytes_(exact_batch_bytes) {}

  bytes_view bytes() const { return bytes_; }
  size_t size_bytes() const { return bytes_.size(); }

  int64_t base_offset() const;
  int32_t batch_length() const;
  int32_t partition_leader_epoch() const;
  int8_t magic() const;
  uint32_t crc() const;
  int16_t attributes() const;
  compression_codec compression() const;
  timestamp_type ts_type() const;
  bool is_transactional() const;
  bool is_control() const;
  bool has_delete_horizon() const;
  int32_t last_offset_delta() const;
  int64_t last_offset() const { return base_offset() + last_offset_delta(); }
  int64_t next_offset() const { return last_offset() + 1; }
  int64_t base_timestamp() const;
  int64_t max_timestamp() const;
  int64_t producer_id() const;
  int16_t producer_epoch() const;
  int32_t base_sequence() const;
  int32_t record_count() const;

  // CRC-32C over the bytes after the crc field.
  uint32_t compute_crc() const;
  // Length, magic and CRC. Errors: corrupt_message.
  result<void> validate() const;

  // Iterates the records, decompressing first if needed (into memory, at most max_uncompressed_bytes:
  // see uncompressed_limit() in common/compression.hpp). Errors: corrupt_message (bad compressed data),
  // message_too_large (decompresses past the bound), unsupported_compression_type (codec bits 5-7).
  result<record_iterator> records(uint64_t max_uncompressed_bytes) const;

 private:
  bytes_view bytes_;
};

// In-place rewrites of a batch held in writable memory (`batch` covers exactly one batch).
// Base offset and leader epoch are outside the CRC, so they leave it valid.
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
// Marks the batch LogAppendTime with `append_time` as its max timestamp, and recomputes the CRC.
void set_log_append_time(std::span<uint8_t> batch, int64_t append_time);

// Compresses a record section the way Kafka's Java client does, so any client can read it back: gzip with a
// gzip header (zlib), snappy in snappy-java's xerial framing (32 KiB chunks), an LZ4 frame (64 KiB
// independent blocks, no checksums), a zstd frame (level 3). `level` is Kafka's compression.<codec>.level
// (gzip -1 or 1-9, lz4 1-17, zstd as zstd accepts; snappy has none); nullopt keeps the levels above.
// Errors: unsupported_compression_type.
result<std::vector<uint8_t>> compress(compression_codec codec, bytes_view plain,
                                      std::optional<int32_t> level = std::nullopt);

// Appends one record (length prefix included) to a record section, with the given deltas and attributes.
void append_record(std::vector<uint8_t>& out, int8_t attributes, int64_t timestamp_delta, int32_t offset_delta,
                   const std::optional<bytes_view>& key, const std::optional<bytes_view>& value,
                   std::span<const record_header_view> headers);

// Every header field of a v2 batch except the two derived ones (batchLength, crc).
struct batch_header_fields {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;
};
// A complete batch: the header fields, then `record_section` (already compressed if the attributes say
// so); computes batchLength and the CRC.
std::vector<uint8_t> encode_batch(const batch_header_fields& header, bytes_view record_section);

// Builds v2 batches, for tests and the client. Records are encoded uncompressed; build_with_records() wraps
// a record section the caller compressed itself with the codec bits set.
class record_batch_builder {
 public:
  struct options {
    int64_t base_offset = 0;
    int32_t partition_leader_epoch = -1;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    bool transactional = false;
    bool control = false;
    timestamp_type ts_type = timestamp_type::create_time;
  };
  struct header {
    std::string key;
    std::optional<std::string> value;
  };
  struct record {
    std::optional<std::string> key;
    std::optional<std::string> value;
    int64_t timestamp = 0;
    std::vector<header> headers;
  };

  record_batch_builder() = default;
  explicit record_batch_builder(options opts) : opts_(opts) {}

  record_batch_builder& add(record r);
  record_batch_builder& add(std::optional<std::string> key, std::optional<std::string> value, int64_t timestamp,
                            std::vector<header> headers = {});
  size_t record_count() const { return records_.size(); }

  // The uncompressed record section (what follows recordCount in an uncompressed batch).
  std::vector<uint8_t> encode_records() const;
  // A complete uncompressed batch. Needs at least one record.
  std::vector<uint8_t> build() const;
  // A complete batch around `record_section` (already compressed with `codec`), counting this builder's
  // records for the header fields.
  std::vector<uint8_t> build_with_records(compression_codec codec, bytes_view record_section) const;

 private:
  options opts_;
  std::vector<record> records_;
};

// Transaction markers (Kafka's EndTransactionMarker, KIP-98): a control batch (control + transactional
// attribute bits) of the transaction's producer id and epoch, base sequence -1, holding one record at offset
// delta 0 whose key is the control record key, version int16 (0) | type int16 (ABORT 0, COMMIT 1), and whose
// value is version int16 (0) | coordinator epoch int32. Kafka 4.4 writes version 0 of both and reads newer
// versions of either as version 0 (a negative version is corrupt).
namespace control_record {
inline constexpr int16_t key_version = 0;
inline constexpr int16_t value_version = 0;
inline constexpr size_t key_size = 4;
inline constexpr size_t value_size = 6;
}  // namespace control_record

enum class control_record_type : int16_t { abort = 0, commit = 1, unknown = -1 };

struct end_txn_marker {
  control_record_type type = control_record_type::commit;
  int32_t coordinator_epoch = -1;
  bool operator==(const end_txn_marker&) const = default;
};

struct marker_batch_fields {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int64_t timestamp = -1;  // the record's timestamp (CreateTime), also the batch's base and max timestamp
};

// The complete, uncompressed control batch carrying `marker` (type commit or abort).
std::vector<uint8_t> encode_end_txn_marker(const marker_batch_fields& fields, const end_txn_marker& marker);

// The type of a control record from its key; unknown for types other than COMMIT and ABORT. Errors:
// corrupt_message (a key shorter than 4 bytes or of a negative version).
result<control_record_type> parse_control_record_type(bytes_view key);

// The marker of a control batch: nullopt for a control batch without records (a cleaned one), or one whose
// record is another control type. Errors: invalid_record (not a control batch), corrupt_message (the key or
// value does not decode as a marker).
result<std::optional<end_txn_marker>> decode_end_txn_marker(const record_batch_view& batch);

// Zig-zag varints as Kafka and Protobuf encode them.
void append_varint(std::vector<uint8_t>& out, int32_t v);
void append_varlong(std::vector<uint8_t>& out, int64_t v);

}  // namespace brook::common
