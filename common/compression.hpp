// Bounded, streaming decompression of a batch's record section.
//
// A producer chooses both the compressed bytes and what they claim to expand to, so nothing here trusts
// either: a decompression_stream hands out the plain bytes in pieces the caller asks for, never produces
// more than its limit (it fails with message_too_large once the output would pass it), and holds at
// most one codec block of output itself. gzip, LZ4 and zstd decompress straight into the caller's
// buffer; snappy blocks (raw, or in snappy-java's xerial framing) must be decoded whole, so each block's
// declared length is checked against what is left of the limit before any byte is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/error.hpp"
#include "common/record_batch.hpp"

namespace brook::common {

// The most plain record bytes a batch may expand to: every record may be as large as max.message.bytes
// (the size clients check each record against before compressing), so record_count of them, and never
// more than 2 GiB - 1 (a record length is an int32).
uint64_t uncompressed_limit(int32_t record_count, int32_t max_message_bytes);

// Owner: one thread at a time (a validator, the log cleaner). Invariants: produced() <= limit; after an
// error every further read() returns that error.
class decompression_stream {
 public:
  virtual ~decompression_stream() = default;

  // A stream over `compressed` (which must outlive it) for a compressed codec. Errors:
  // unsupported_compression_type (none or an unknown codec), corrupt_message (cannot start).
  static result<std::unique_ptr<decompression_stream>> open(compression_codec codec, bytes_view compressed,
                                                            uint64_t limit);

  // Writes the next plain bytes into `out` (up to its size) and returns how many; 0 only at the end of
  // the stream. Errors: corrupt_message (bad or truncated data), message_too_large (more than the limit).
  virtual result<size_t> read(std::span<uint8_t> out) = 0;

  uint64_t produced() const { return produced_; }
  uint64_t limit() const { return limit_; }
  // The largest buffer the stream itself has held for output (snappy blocks), for tests of the bound.
  size_t peak_buffer_bytes() const { return peak_buffer_; }

 protected:
  explicit decompression_stream(uint64_t limit) : limit_(limit) {}
  uint64_t limit_;
  uint64_t produced_ = 0;
  size_t peak_buffer_ = 0;
};

// Decompresses a whole record section into memory, within `limit` bytes, through a decompression_stream.
// Errors: corrupt_message, message_too_large, unsupported_compression_type.
result<std::vector<uint8_t>> decompress(compression_codec codec, bytes_view compressed, uint64_t limit);

}  // namespace brook::common
