#include "common/compression.hpp"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace brook::common {

namespace {

error corrupt_input(std::string what) { return error{kafka_error::corrupt_message, std::move(what)}; }

error too_large(uint64_t limit) {
  return error{kafka_error::message_too_large,
               "the records decompress to more than " + std::to_string(limit) +
                   " bytes, the most their record count and max.message.bytes allow"};
}

// How much of `out` a read may fill: one byte past the limit at most, so that passing it is seen.
size_t allowed(size_t want, uint64_t produced, uint64_t limit) {
  uint64_t left = limit - produced + 1;  // produced <= limit always holds
  return static_cast<size_t>(std::min<uint64_t>(want, left));
}

class gzip_stream final : public decompression_stream {
 public:
  gzip_stream(bytes_view in, uint64_t limit) : decompression_stream(limit) {
    zs_.next_in = const_cast<Bytef*>(in.data());
    zs_.avail_in = static_cast<uInt>(in.size());
  }
  ~gzip_stream() override {
    if (started_) inflateEnd(&zs_);
  }
  result<void> start() {
    if (inflateInit2(&zs_, 15 + 32) != Z_OK) return corrupt_input("gzip: inflateInit failed");  // 15+32: gzip or zlib
    started_ = true;
    return {};
  }
  result<size_t> read(std::span<uint8_t> out) override {
    if (failed_) return *failed_;
    if (done_ || out.empty()) return size_t{0};
    size_t room = allowed(out.size(), produced_, limit_);
    zs_.next_out = out.data();
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(room, std::numeric_limits<uInt>::max()));
    const uInt asked = zs_.avail_out;
    while (zs_.avail_out > 0) {
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        done_ = true;
        break;
      }
      if (rc == Z_BUF_ERROR && zs_.avail_in == 0) return fail(corrupt_input("gzip: truncated stream"));
      if (rc != Z_OK) return fail(corrupt_input("gzip: bad compressed data"));
    }
    size_t n = asked - zs_.avail_out;
    produced_ += n;
    if (produced_ > limit_) return fail(too_large(limit_));
    return n;
  }

 private:
  result<size_t> fail(error e) {
    failed_ = e;
    return e;
  }
  z_stream zs_{};
  bool started_ = false;
  bool done_ = false;
  std::optional<error> failed_;
};

class lz4_stream final : public decompression_stream {
 public:
  lz4_stream(bytes_view in, uint64_t limit) : decompression_stream(limit), in_(in) {}
  ~lz4_stream() override {
    if (ctx_) LZ4F_freeDecompressionContext(ctx_);
  }
  result<void> start() {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION))) return corrupt_input("lz4: no context");
    return {};
  }
  result<size_t> read(std::span<uint8_t> out) override {
    if (failed_) return *failed_;
    if (done_ || out.empty()) return size_t{0};
    size_t room = allowed(out.size(), produced_, limit_);
    size_t filled = 0;
    while (filled < room && !done_) {
      size_t dst = room - filled, src = in_.size() - consumed_;
      size_t hint = LZ4F_decompress(ctx_, out.data() + filled, &dst, in_.data() + consumed_, &src, nullptr);
      if (LZ4F_isError(hint)) return fail(corrupt_input(std::string("lz4: ") + LZ4F_getErrorName(hint)));
      filled += dst;
      consumed_ += src;
      if (hint == 0) done_ = true;  // frame complete
      else if (dst == 0 && src == 0) return fail(corrupt_input("lz4: truncated frame"));  // no input left, no output
    }
    produced_ += filled;
    if (produced_ > limit_) return fail(too_large(limit_));
    return filled;
  }

 private:
  result<size_t> fail(error e) {
    failed_ = e;
    return e;
  }
  bytes_view in_;
  size_t consumed_ = 0;
  LZ4F_dctx* ctx_ = nullptr;
  bool done_ = false;
  std::optional<error> failed_;
};

class zstd_stream final : public decompression_stream {
 public:
  zstd_stream(bytes_view in, uint64_t limit) : decompression_stream(limit), src_{in.data(), in.size(), 0} {}
  ~zstd_stream() override { ZSTD_freeDCtx(ctx_); }
  result<void> start() {
    ctx_ = ZSTD_createDCtx();
    if (!ctx_) return corrupt_input("zstd: no context");
    // zstd's own default (128 MiB windows, what level 22 writes), stated so that it cannot silently grow;
    // the window fills only as output is produced, and output stops at the limit.
    ZSTD_DCtx_setParameter(ctx_, ZSTD_d_windowLogMax, 27);
    return {};
  }
  result<size_t> read(std::span<uint8_t> out) override {
    if (failed_) return *failed_;
    if (done_ || out.empty()) return size_t{0};
    ZSTD_outBuffer dst{out.data(), allowed(out.size(), produced_, limit_), 0};
    while (dst.pos < dst.size) {
      size_t rc = ZSTD_decompressStream(ctx_, &dst, &src_);
      if (ZSTD_isError(rc)) return fail(corrupt_input(std::string("zstd: ") + ZSTD_getErrorName(rc)));
      if (rc == 0 && src_.pos == src_.size) {  // last frame complete
        done_ = true;
        break;
      }
      if (src_.pos == src_.size && dst.pos < dst.size) {
        // All input consumed and room left: the decoder can make no more progress.
        return fail(corrupt_input("zstd: truncated frame"));
      }
    }
    produced_ += dst.pos;
    if (produced_ > limit_) return fail(too_large(limit_));
    return dst.pos;
  }

 private:
  result<size_t> fail(error e) {
    failed_ = e;
    return e;
  }
  ZSTD_DCtx* ctx_ = nullptr;
  ZSTD_inBuffer src_;
  bool done_ = false;
  std::optional<error> failed_;
};

// Snappy: raw blocks reference anywhere in their own output, so a block is decoded whole into a buffer
// of its declared length; that length is checked against the limit first.
class snappy_stream final : public decompression_stream {
 public:
  snappy_stream(bytes_view in, uint64_t limit) : decompression_stream(limit), in_(in) {
    static constexpr uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    // Java clients (snappy-java's SnappyOutputStream) write a 16-byte header (magic, version, compatible
    // version) and then chunks, each an int32 big-endian length followed by a raw snappy block.
    xerial_ = in.size() >= 16 && std::memcmp(in.data(), xerial_magic, sizeof xerial_magic) == 0;
    pos_ = xerial_ ? 16 : 0;
  }
  result<size_t> read(std::span<uint8_t> out) override {
    if (failed_) return *failed_;
    size_t filled = 0;
    while (filled < out.size()) {
      if (block_pos_ == block_.size()) {
        auto more = next_block();
        if (!more) return fail(more.err());
        if (!*more) break;
        continue;
      }
      size_t n = std::min(out.size() - filled, block_.size() - block_pos_);
      std::memcpy(out.data() + filled, block_.data() + block_pos_, n);
      filled += n;
      block_pos_ += n;
    }
    return filled;
  }

 private:
  // Decodes the next block into block_; false at the end of the input.
  result<bool> next_block() {
    if (pos_ == in_.size() && (xerial_ || raw_done_)) return false;
    bytes_view block;
    if (xerial_) {
      if (in_.size() - pos_ < 4) return corrupt_input("snappy: truncated chunk length");
      const uint8_t* p = in_.data() + pos_;
      uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
      pos_ += 4;
      if (len > in_.size() - pos_) return corrupt_input("snappy: truncated chunk");
      block = in_.subspan(pos_, len);
      pos_ += len;
    } else {
      if (raw_done_) return false;
      block = in_;
      pos_ = in_.size();
      raw_done_ = true;
    }
    size_t len = 0;
    auto src = reinterpret_cast<const char*>(block.data());
    if (!snappy::GetUncompressedLength(src, block.size(), &len)) return corrupt_input("snappy: bad block header");
    if (len > limit_ - produced_) return too_large(limit_);
    // Cheap structural check before the buffer is allocated and filled.
    if (!snappy::IsValidCompressedBuffer(src, block.size())) return corrupt_input("snappy: bad compressed data");
    if (len > block_.capacity()) {  // exactly the block's size: never more than the limit allows
      std::vector<uint8_t> fresh;
      fresh.reserve(len);
      block_.swap(fresh);
    }
    block_.resize(len);
    peak_buffer_ = std::max(peak_buffer_, block_.capacity());
    if (!snappy::RawUncompress(src, block.size(), reinterpret_cast<char*>(block_.data())))
      return corrupt_input("snappy: bad compressed data");
    block_pos_ = 0;
    produced_ += len;
    return true;
  }
  result<size_t> fail(error e) {
    failed_ = e;
    return e;
  }
  bytes_view in_;
  bool xerial_ = false;
  bool raw_done_ = false;
  size_t pos_ = 0;
  std::vector<uint8_t> block_;
  size_t block_pos_ = 0;
  std::optional<error> failed_;
};

template <class Stream>
result<std::unique_ptr<decompression_stream>> start(std::unique_ptr<Stream> s) {
  if (auto ok = s->start(); !ok) return ok.err();
  return std::unique_ptr<decompression_stream>(std::move(s));
}

}  // namespace

uint64_t uncompressed_limit(int32_t record_count, int32_t max_message_bytes) {
  const uint64_t per_record = static_cast<uint64_t>(std::max<int32_t>(max_message_bytes, 1));
  const uint64_t records = static_cast<uint64_t>(std::max<int32_t>(record_count, 1));
  return std::min<uint64_t>(records * per_record, std::numeric_limits<int32_t>::max());
}

result<std::unique_ptr<decompression_stream>> decompression_stream::open(compression_codec codec,
                                                                          bytes_view compressed, uint64_t limit) {
  switch (codec) {
    case compression_codec::gzip: return start(std::make_unique<gzip_stream>(compressed, limit));
    case compression_codec::lz4: return start(std::make_unique<lz4_stream>(compressed, limit));
    case compression_codec::zstd: return start(std::make_unique<zstd_stream>(compressed, limit));
    case compression_codec::snappy:
      return std::unique_ptr<decompression_stream>(std::make_unique<snappy_stream>(compressed, limit));
    case compression_codec::none: break;
  }
  return error{kafka_error::unsupported_compression_type,
               "unknown compression codec " + std::to_string(static_cast<int>(codec))};
}

result<std::vector<uint8_t>> decompress(compression_codec codec, bytes_view compressed, uint64_t limit) {
  if (codec == compression_codec::none) {
    if (compressed.size() > limit) return too_large(limit);
    return std::vector<uint8_t>(compressed.begin(), compressed.end());
  }
  auto stream = decompression_stream::open(codec, compressed, limit);
  if (!stream) return stream.err();
  // Grows with the output, a chunk at a time: never more than the limit (plus one probe byte).
  std::vector<uint8_t> out;
  size_t produced = 0;
  while (true) {
    const uint64_t left = limit - (*stream)->produced() + 1;
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(64 * 1024, out.size() / 2), left));
    out.resize(produced + chunk);
    auto n = (*stream)->read(std::span<uint8_t>(out).subspan(produced));
    if (!n) return n.err();
    if (*n == 0) break;
    produced += *n;
  }
  out.resize(produced);
  return out;
}

}  // namespace brook::common
