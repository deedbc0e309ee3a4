// libFuzzer target: the bounded decompressors (common/compression.hpp) on arbitrary bytes. The first
// input byte picks the codec and the limit; the rest is the compressed data. Every stream must stop at
// its limit (never produce more, nor buffer a snappy block larger than it) and agree with decompress().
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/compression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace brook::common;
  if (size < 1) return 0;
  const auto codec = static_cast<compression_codec>(1 + data[0] % 4);  // gzip, snappy, lz4, zstd
  const uint64_t limit = uint64_t{1} << (10 + (data[0] >> 2) % 11);    // 1 KiB .. 1 MiB
  std::span<const uint8_t> compressed(data + 1, size - 1);

  auto stream = decompression_stream::open(codec, compressed, limit);
  if (!stream) return 0;
  std::vector<uint8_t> chunk(1 + data[0] % 7 * 4096);  // odd chunk sizes too
  uint64_t total = 0;
  bool failed = false;
  while (true) {
    auto n = (*stream)->read(chunk);
    if (!n) {
      failed = true;
      break;
    }
    if (*n == 0) break;
    if (*n > chunk.size()) __builtin_trap();
    total += *n;
  }
  if (total > limit || (*stream)->produced() > limit + 1) __builtin_trap();
  if ((*stream)->peak_buffer_bytes() > limit) __builtin_trap();
  // Whole or in pieces, the same bytes come out. (Whether a frame is refused may depend on the piece size:
  // zstd checks a declared content size only when it decodes straight into a large enough buffer.)
  auto whole = decompress(codec, compressed, limit);
  if (whole && !failed && whole->size() != total) __builtin_trap();
  if (!whole && whole.code() == brook::common::kafka_error::message_too_large && !failed) __builtin_trap();
  return 0;
}
