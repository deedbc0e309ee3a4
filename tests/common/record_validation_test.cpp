#include "common/record_validation.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <snappy.h>
#include <zstd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/compression.hpp"
#include "tests/common/hostile_batches.hpp"

// Batches are described by designated initializers that leave the other fields at their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace brook::common;
namespace h = brook::test::hostile;

namespace {

constexpr int64_t now = 1'700'000'000'000;

batch_validation_config topic_config() {
  batch_validation_config c;
  c.topic = "t";
  c.partition = 0;
  c.max_message_bytes = 1 << 20;
  return c;
}

std::optional<batch_rejection> check(const std::vector<uint8_t>& batch, const batch_validation_config& c = topic_config()) {
  return validate_produced_batch(batch, c, now);
}

// The refusal of a batch whose records are malformed: INVALID_RECORD naming record `index`.
void expect_bad_record(const std::vector<uint8_t>& batch, int32_t index, const std::string& fragment) {
  auto r = check(batch);
  REQUIRE(r);
  CHECK(r->code == kafka_error::invalid_record);
  REQUIRE(r->record_errors.size() == 1);
  CHECK(r->record_errors[0].batch_index == index);
  CHECK_THAT(r->record_errors[0].message, Catch::Contains(fragment));
  CHECK_THAT(r->message, Catch::Contains("in topic partition t-0"));
}

void expect_bad_batch(const std::vector<uint8_t>& batch, kafka_error code, const std::string& fragment) {
  auto r = check(batch);
  REQUIRE(r);
  CHECK(r->code == code);
  CHECK(r->record_errors.empty());
  CHECK_THAT(r->message, Catch::Contains(fragment));
}

// A zstd frame of `header` followed by `zeros` zero bytes, compressed as it is produced (never held whole).
std::vector<uint8_t> zstd_bomb(const std::vector<uint8_t>& header, uint64_t zeros) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(ZSTD_CStreamOutSize());
  auto feed = [&](const void* data, size_t size, ZSTD_EndDirective end) {
    ZSTD_inBuffer in{data, size, 0};
    size_t left = 0;
    do {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      left = ZSTD_compressStream2(cctx, &o, &in, end);
      REQUIRE_FALSE(ZSTD_isError(left));
      out.insert(out.end(), buf.data(), buf.data() + o.pos);
    } while (in.pos < in.size || (end == ZSTD_e_end && left != 0));
  };
  feed(header.data(), header.size(), ZSTD_e_continue);
  const std::vector<uint8_t> chunk(1 << 20, 0);
  for (uint64_t left = zeros; left > 0;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    left -= n;
    feed(chunk.data(), n, left == 0 ? ZSTD_e_end : ZSTD_e_continue);
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

// The start of one record whose value is `value_size` bytes (the value itself not included).
std::vector<uint8_t> record_prefix(int32_t value_size) {
  std::vector<uint8_t> body = {0};  // attributes
  append_varlong(body, 0);          // timestamp delta
  append_varint(body, 0);           // offset delta
  append_varint(body, -1);          // null key
  append_varint(body, value_size);
  std::vector<uint8_t> out;
  append_varint(out, static_cast<int32_t>(body.size() + value_size + 1));  // + header count
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace

TEST_CASE("well-formed batches of every codec are accepted", "[validation]") {
  CHECK_FALSE(check(h::batch({.record_count = 5}, h::records(5))));
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4, compression_codec::zstd}) {
    INFO(codec_name(codec));
    CHECK_FALSE(check(h::compressed_batch(codec, 1)));
    CHECK_FALSE(check(h::compressed_batch(codec, 300)));
  }
  // librdkafka writes raw snappy blocks, not snappy-java's framing.
  auto plain = h::records(20);
  std::string raw;
  snappy::Compress(reinterpret_cast<const char*>(plain.data()), plain.size(), &raw);
  CHECK_FALSE(check(h::batch({.record_count = 20, .attributes = 2}, h::as_bytes(raw))));
  // Records with headers, null values and null header values.
  record_batch_builder b;
  b.add("k", std::nullopt, now, {{"h1", "v"}, {"h2", std::nullopt}});
  b.add("k2", "v2", now + 1);
  CHECK_FALSE(check(b.build()));
}

TEST_CASE("a record count of 2^31-1 over one record is refused, nothing assumed", "[validation]") {
  const int32_t huge = std::numeric_limits<int32_t>::max();
  // Consistent header (lastOffsetDelta = count - 1): the records run out at the second one.
  expect_bad_record(h::batch({.record_count = huge}, h::records(1)), 1, "premature EOF");
  // The same in a compressed batch.
  auto packed = compress(compression_codec::zstd, h::records(1));
  expect_bad_record(h::batch({.record_count = huge, .attributes = 4}, *packed), 1, "premature EOF");
  // lastOffsetDelta 0: the header contradicts itself.
  expect_bad_batch(h::batch({.record_count = huge, .last_offset_delta = 0}, h::records(1)), kafka_error::invalid_record,
                   "Inconsistent batch offset range");
}

TEST_CASE("a client's extreme base offset is only reported, never overflowed", "[validation]") {
  // The base offset is the client's (the broker assigns its own later): any 64-bit value may arrive.
  // Found by the validator fuzz target: the error messages added the deltas with signed overflow.
  for (int64_t base : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    INFO(base);
    auto inconsistent = h::batch({.record_count = 3, .last_offset_delta = 7}, h::records(3));
    set_base_offset(inconsistent, base);
    expect_bad_batch(inconsistent, kafka_error::invalid_record, "Inconsistent batch offset range");
    // Timestamps out of range name each record's offset, computed from the same base.
    auto stale = h::batch({.record_count = 3, .timestamp = 1}, h::records(3));
    set_base_offset(stale, base);
    auto rules = topic_config();
    rules.timestamp_before_max_ms = 60'000;
    auto refused = check(stale, rules);
    REQUIRE(refused);
    CHECK(refused->code == kafka_error::invalid_timestamp);
    CHECK(refused->record_errors.size() == 3);
  }
}

TEST_CASE("record counts that disagree with the records present are refused", "[validation]") {
  // Fewer records than counted.
  expect_bad_record(h::batch({.record_count = 3}, h::records(2)), 2, "premature EOF");
  // More records than counted.
  expect_bad_batch(h::batch({.record_count = 1}, h::records(2)), kafka_error::invalid_record, "records still remaining");
  auto packed = compress(compression_codec::lz4, h::records(3));
  expect_bad_batch(h::batch({.record_count = 2, .attributes = 3}, *packed), kafka_error::invalid_record,
                   "records still remaining");
  // Counts that cannot be.
  expect_bad_batch(h::batch({.record_count = 0, .last_offset_delta = -1}, {}), kafka_error::invalid_record,
                   "invalid offset range");
  expect_bad_batch(h::batch({.record_count = -5, .last_offset_delta = 0}, h::records(1)), kafka_error::invalid_record,
                   "Invalid reported count");
}

TEST_CASE("lengths that overrun their record or the batch are refused", "[validation]") {
  // Record length beyond the batch.
  expect_bad_record(h::batch({}, h::concat({h::varints({500}), {0}, h::varints({0, 0, -1, -1, 0})})), 0,
                    "Invalid record size");
  // Key length beyond the record (the record says 7 bytes).
  expect_bad_record(h::batch({}, h::concat({h::varints({7}), {0}, h::varints({0, 0, 100}), {'a', 'b', 'c'}})), 0,
                    "key length 100 overruns");
  // Value length beyond the record.
  expect_bad_record(h::batch({}, h::concat({h::varints({7}), {0}, h::varints({0, 0, -1, 50}), {'a', 'b'}})), 0,
                    "value length 50 overruns");
  // Header key and header value lengths beyond the record.
  expect_bad_record(h::batch({}, h::concat({h::varints({8}), {0}, h::varints({0, 0, -1, -1, 1, 90}), {'x', 'y'}})), 0,
                    "header key length 90 overruns");
  expect_bad_record(h::batch({}, h::concat({h::varints({10}), {0}, h::varints({0, 0, -1, -1, 1, 1}), {'x'},
                                            h::varints({70}), {'y'}})),
                    0, "header value length 70 overruns");
  // A header count far above what the record can hold.
  expect_bad_record(h::batch({}, h::concat({h::varints({9}), {0}, h::varints({0, 0, -1, -1, 1000000}), {0}})), 0,
                    "invalid number of record headers");
  // Negative lengths: a record, a key below -1, a header key of -1 (null header keys do not exist).
  expect_bad_record(h::batch({}, h::varints({-3})), 0, "Invalid record size");
  expect_bad_record(h::batch({}, h::concat({h::varints({6}), {0}, h::varints({0, 0, -2, -1, 0})})), 0, "key length -2");
  expect_bad_record(h::batch({}, h::concat({h::varints({8}), {0}, h::varints({0, 0, -1, -1, 1, -1, -1})})), 0,
                    "header key length -1");
  // Fields that end before the record does (a record length that lies upward, inside the batch).
  expect_bad_record(h::batch({}, h::concat({h::varints({8}), {0}, h::varints({0, 0, -1, -1, 0}), {0, 0, 0}})), 0,
                    "expected to read 8 bytes");
  // The second record's length lies, the first is fine.
  expect_bad_record(h::batch({.record_count = 2}, h::concat({h::record(0), h::varints({1000})})), 1,
                    "Invalid record size");
}

TEST_CASE("varints longer than Kafka reads are refused", "[validation]") {
  // A 6-byte varint as the record length (Kafka reads at most 5 bytes for an int32).
  expect_bad_record(h::batch({}, std::vector<uint8_t>{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), 0, "longer than 5 bytes");
  // A 6-byte offset delta inside a record.
  std::vector<uint8_t> body = {0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 1, 0};
  expect_bad_record(h::batch({}, h::concat({h::varints({static_cast<int64_t>(body.size())}), body})), 0,
                    "offset delta varint is longer than 5 bytes");
  // An 11-byte timestamp delta.
  std::vector<uint8_t> ts = {0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 1, 1, 0};
  expect_bad_record(h::batch({}, h::concat({h::varints({static_cast<int64_t>(ts.size())}), ts})), 0,
                    "longer than 10 bytes");
}

TEST_CASE("bytes after the last record are refused", "[validation]") {
  expect_bad_batch(h::batch({.record_count = 2}, h::concat({h::records(2), {0}})), kafka_error::invalid_record,
                   "records still remaining");
  auto packed = compress(compression_codec::gzip, h::concat({h::records(2), {1, 2, 3}}));
  expect_bad_batch(h::batch({.record_count = 2, .attributes = 1}, *packed), kafka_error::invalid_record,
                   "records still remaining");
}

TEST_CASE("offset deltas must run 0, 1, 2, ...", "[validation]") {
  auto section = h::concat({h::record(0), h::record(5), h::record(2)});
  auto r = check(h::batch({.record_count = 3}, section));
  REQUIRE(r);
  CHECK(r->code == kafka_error::invalid_record);
  REQUIRE(r->record_errors.size() == 1);
  CHECK(r->record_errors[0].batch_index == 1);
  CHECK_THAT(r->message, Catch::Contains("offset delta 5"));
}

TEST_CASE("codec bits 5 to 7 are an unsupported compression type", "[validation]") {
  for (uint16_t bits : {5, 6, 7}) {
    INFO(bits);
    expect_bad_batch(h::batch({.attributes = bits}, h::records(1)), kafka_error::unsupported_compression_type,
                     "Unknown compression type id: " + std::to_string(bits));
  }
}

TEST_CASE("zstd needs Produce v7", "[validation]") {
  auto c = topic_config();
  c.zstd_allowed = false;
  auto r = check(h::compressed_batch(compression_codec::zstd, 2), c);
  REQUIRE(r);
  CHECK(r->code == kafka_error::unsupported_compression_type);
  CHECK_FALSE(check(h::compressed_batch(compression_codec::lz4, 2), c));
}

TEST_CASE("garbage compressed payloads are corrupt, whatever the codec", "[validation]") {
  std::vector<uint8_t> garbage(300);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 131 + 7);
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4, compression_codec::zstd}) {
    INFO(codec_name(codec));
    expect_bad_batch(h::batch({.attributes = static_cast<uint16_t>(codec)}, garbage), kafka_error::corrupt_message,
                     std::string(codec_name(codec)));
    // Truncated valid data.
    auto packed = *compress(codec, h::records(50));
    packed.resize(packed.size() / 2);
    auto r = check(h::batch({.record_count = 50, .attributes = static_cast<uint16_t>(codec)}, packed));
    REQUIRE(r);
    CHECK((r->code == kafka_error::corrupt_message || r->code == kafka_error::invalid_record));
  }
}

TEST_CASE("a 32 KiB zstd bomb expanding to 1 GiB stops at the bound", "[validation][bomb]") {
  const uint64_t gib = uint64_t{1} << 30;
  auto bomb = zstd_bomb(record_prefix(static_cast<int32_t>(gib - 64)), gib - 64);
  INFO("compressed size " << bomb.size());
  CHECK(bomb.size() < 64 * 1024);
  // The decompressor on its own: it stops one byte past the limit, without holding any output itself.
  auto stream = decompression_stream::open(compression_codec::zstd, bomb, 1 << 20);
  REQUIRE(stream);
  std::vector<uint8_t> chunk(64 * 1024);
  result<size_t> n = size_t{0};
  do n = (*stream)->read(chunk);
  while (n && *n > 0);
  CHECK(n.code() == kafka_error::message_too_large);
  CHECK((*stream)->produced() <= (1 << 20) + 1);
  CHECK((*stream)->peak_buffer_bytes() == 0);
  // decompress() into memory: refused at the bound.
  CHECK(decompress(compression_codec::zstd, bomb, 1 << 20).code() == kafka_error::message_too_large);
  // The validator: one record may be at most max.message.bytes (1 MiB here) of plain bytes.
  auto r = check(h::batch({.attributes = 4}, bomb));
  REQUIRE(r);
  CHECK(r->code == kafka_error::message_too_large);
}

TEST_CASE("an 82-byte snappy block declaring 2 GiB is refused before any byte is written", "[validation][bomb]") {
  std::vector<uint8_t> block;
  // Uncompressed length 2^31 as a varint, then one literal byte and copies of it (64 bytes each).
  for (uint64_t v = uint64_t{1} << 31; v >= 0x80; v >>= 7) block.push_back(static_cast<uint8_t>(v | 0x80));
  block.push_back(static_cast<uint8_t>((uint64_t{1} << 31) >> 28));
  block.push_back(0x00);  // literal of length 1
  block.push_back(0x00);
  while (block.size() + 3 <= 82) block.insert(block.end(), {0xFE, 0x01, 0x00});  // copy 64 bytes at offset 1
  while (block.size() < 82) block.push_back(0x00);
  REQUIRE(block.size() == 82);
  size_t declared = 0;
  REQUIRE(snappy::GetUncompressedLength(reinterpret_cast<const char*>(block.data()), block.size(), &declared));
  CHECK(declared == size_t{1} << 31);

  auto stream = decompression_stream::open(compression_codec::snappy, block, 1 << 20);
  REQUIRE(stream);
  std::vector<uint8_t> chunk(1024);
  CHECK((*stream)->read(chunk).code() == kafka_error::message_too_large);
  CHECK((*stream)->peak_buffer_bytes() == 0);
  auto r = check(h::batch({.attributes = 2}, block));
  REQUIRE(r);
  CHECK(r->code == kafka_error::message_too_large);
  // Even with a limit above the declared size, a block that does not decode is refused before allocating.
  auto big = decompression_stream::open(compression_codec::snappy, block, uint64_t{4} << 30);
  CHECK((*big)->read(chunk).code() == kafka_error::corrupt_message);
  CHECK((*big)->peak_buffer_bytes() == 0);
}

TEST_CASE("every codec stops at the bound, holding at most one block", "[validation][bomb]") {
  const std::vector<uint8_t> zeros(16 << 20, 0);
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4, compression_codec::zstd}) {
    INFO(codec_name(codec));
    auto packed = *compress(codec, zeros);
    auto stream = decompression_stream::open(codec, packed, 1 << 20);
    REQUIRE(stream);
    std::vector<uint8_t> chunk(64 * 1024);
    result<size_t> n = size_t{0};
    do n = (*stream)->read(chunk);
    while (n && *n > 0);
    CHECK(n.code() == kafka_error::message_too_large);
    CHECK((*stream)->produced() <= (1 << 20) + 32 * 1024);
    CHECK((*stream)->peak_buffer_bytes() <= 32 * 1024);  // snappy-java chunks; 0 for the others
    CHECK(decompress(codec, packed, 1 << 20).code() == kafka_error::message_too_large);
    CHECK(decompress(codec, packed, 16 << 20).ok());
  }
}

TEST_CASE("nested lengths that lie inside a compressed batch are refused", "[validation]") {
  // Record length 12, key length 9 inside it, value length 100: the value overruns the record.
  auto section = h::concat({h::varints({12}), {0}, h::varints({0, 0, 1}), {'k'}, h::varints({100}), {'a', 'b', 'c'}});
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4, compression_codec::zstd}) {
    INFO(codec_name(codec));
    auto packed = compress(codec, section);
    expect_bad_record(h::batch({.attributes = static_cast<uint16_t>(codec)}, *packed), 0, "value length 100 overruns");
  }
}

TEST_CASE("batch-level refusals: CRC, control batches, sequence numbers, size", "[validation]") {
  auto good = h::batch({}, h::records(1));
  auto bad_crc = good;
  bad_crc.back() ^= 0xFF;
  expect_bad_batch(bad_crc, kafka_error::corrupt_message, "CRC");
  expect_bad_batch(h::batch({.attributes = batch_layout::control_bit}, h::records(1)), kafka_error::invalid_record,
                   "Clients are not allowed to write control records");
  expect_bad_batch(h::batch({.producer_id = 7, .base_sequence = -1}, h::records(1)), kafka_error::invalid_record,
                   "Invalid sequence number -1");
  auto c = topic_config();
  c.max_message_bytes = 50;
  auto r = check(good, c);
  REQUIRE(r);
  CHECK(r->code == kafka_error::message_too_large);
  // Two batches in one record set.
  auto two = h::concat({good, good});
  expect_bad_batch(two, kafka_error::invalid_record, "exactly one record batch");
}

TEST_CASE("topic rules report every offending record", "[validation]") {
  auto c = topic_config();
  c.compacted = true;
  auto section = h::concat({h::record(0, std::nullopt), h::record(1), h::record(2, std::nullopt)});
  auto r = check(h::batch({.record_count = 3}, section), c);
  REQUIRE(r);
  CHECK(r->code == kafka_error::invalid_record);
  REQUIRE(r->record_errors.size() == 2);
  CHECK(r->record_errors[0].batch_index == 0);
  CHECK(r->record_errors[1].batch_index == 2);
  CHECK_THAT(r->message, Catch::Contains("2 record errors"));

  auto t = topic_config();
  t.timestamp_before_max_ms = 1000;
  auto old = check(h::batch({.timestamp = now - 5000}, h::records(1)), t);
  REQUIRE(old);
  CHECK(old->code == kafka_error::invalid_timestamp);
  CHECK(old->record_errors.size() == 1);
  CHECK_FALSE(check(h::batch({.timestamp = now - 500}, h::records(1)), t));
}

TEST_CASE("max.decompressed.message.bytes bounds each record of a compressed batch", "[validation]") {
  const auto section = h::concat({h::record(0), h::record(1, std::string("k"), std::string(100, 'x'))});
  const int32_t big = static_cast<int32_t>(h::record(1, std::string("k"), std::string(100, 'x')).size()) - 2;  // minus the 2-byte length
  auto c = topic_config();
  c.max_decompressed_record_bytes = big - 1;
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4, compression_codec::zstd}) {
    INFO(codec_name(codec));
    auto packed = compress(codec, section);
    REQUIRE(packed);
    auto batch = h::batch({.record_count = 2, .attributes = static_cast<uint16_t>(codec)}, *packed);
    auto r = check(batch, c);
    REQUIRE(r);
    CHECK(r->code == kafka_error::invalid_record);
    CHECK(r->record_errors.empty());
    CHECK(r->message == fmt::format("Invalid record size: {} exceeds the configured maximum record size of {}.", big,
                                    big - 1));
    auto fits = c;
    fits.max_decompressed_record_bytes = big;
    CHECK_FALSE(check(batch, fits));
  }
  // Kafka's bound applies where records are decompressed: an uncompressed batch is not held to it.
  CHECK_FALSE(check(h::batch({.record_count = 2}, section), c));
}

namespace fast_walk_cases {

// Both walks give the same verdict: accepted by both, or refused with the same code, message and records.
void expect_same_verdict(const std::vector<uint8_t>& batch, const batch_validation_config& c, const std::string& what) {
  INFO(what);
  auto fast = validate_produced_batch(batch, c, now);
  auto full = detail::validate_produced_batch_full_walk(batch, c, now);
  REQUIRE(fast.has_value() == full.has_value());
  if (!fast) return;
  CHECK(fast->code == full->code);
  CHECK(fast->message == full->message);
  REQUIRE(fast->record_errors.size() == full->record_errors.size());
  for (size_t i = 0; i < fast->record_errors.size(); ++i) {
    CHECK(fast->record_errors[i].batch_index == full->record_errors[i].batch_index);
    CHECK(fast->record_errors[i].message == full->record_errors[i].message);
  }
}

// Records with null, empty, long (multi-byte length) and plain keys and values, headers, and timestamp
// deltas of one and several varint bytes.
std::vector<uint8_t> varied_records(std::mt19937& rng, int32_t count) {
  std::vector<uint8_t> out;
  auto text = [&](size_t n) { return std::string(n, static_cast<char>('a' + rng() % 26)); };
  for (int32_t i = 0; i < count; ++i) {
    const size_t sizes[] = {0, 1, 5, 63, 64, 200, 9000};
    std::optional<std::string> key, value;
    if (rng() % 5) key = text(sizes[rng() % 6]);
    if (rng() % 7) value = text(sizes[rng() % 7]);
    std::vector<std::string> header_text;
    std::vector<record_header_view> headers;
    const int header_count = rng() % 4 == 0 ? static_cast<int>(rng() % 3) + 1 : 0;
    header_text.reserve(static_cast<size_t>(header_count) * 2);
    for (int h = 0; h < header_count; ++h) {
      header_text.push_back(text(sizes[rng() % 4]));
      header_text.push_back(text(sizes[rng() % 5]));
    }
    for (int h = 0; h < header_count; ++h) {
      record_header_view v;
      v.key = std::string_view(header_text[2 * static_cast<size_t>(h)]);
      if (rng() % 3) v.value = h::as_bytes(header_text[2 * static_cast<size_t>(h) + 1]);
      headers.push_back(v);
    }
    const int64_t deltas[] = {0, 1, 63, 64, 5000, -3, 400'000'000'000};
    std::optional<bytes_view> k, v;
    if (key) k = h::as_bytes(*key);
    if (value) v = h::as_bytes(*value);
    append_record(out, 0, deltas[rng() % 7], i, k, v, headers);
  }
  return out;
}

}  // namespace fast_walk_cases

// The fast walk of uncompressed batches only ever accepts what the full walk accepts, and leaves every
// refusal (and its message) to it: well-formed batches and every single-byte corruption of their records
// (with a correct CRC around them) get the same verdict from both, under each kind of topic rules.
TEST_CASE("the fast walk and the full walk agree on well-formed and corrupted batches") {
  using namespace fast_walk_cases;
  std::mt19937 rng(20261207);
  std::vector<batch_validation_config> configs(4, topic_config());
  configs[1].compacted = true;
  configs[2].topic_log_append_time = true;
  configs[3].timestamp_before_max_ms = 1000;
  configs[3].timestamp_after_max_ms = 1000;
  int accepted = 0, refused = 0;
  for (int round = 0; round < 12; ++round) {
    const int32_t count = 1 + static_cast<int32_t>(rng() % 6);
    const auto section = varied_records(rng, count);
    h::batch_spec spec{.record_count = count, .timestamp = round % 3 == 0 ? -1 : now};
    if (round % 4 == 3) spec.attributes = 1 << 3;  // LogAppendTime from a client: refused record by record
    const auto& c = configs[static_cast<size_t>(round) % configs.size()];
    const auto good = h::batch(spec, section);
    expect_same_verdict(good, c, "round " + std::to_string(round) + " as written");
    (validate_produced_batch(good, c, now) ? refused : accepted)++;
    for (int m = 0; m < 150; ++m) {
      auto corrupted = section;
      const size_t at = rng() % corrupted.size();
      const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xff, static_cast<uint8_t>(rng())};
      corrupted[at] = values[rng() % 6];
      if (rng() % 4 == 0) corrupted.resize(at);  // cut short, or with bytes left over:
      if (rng() % 8 == 0) corrupted.push_back(0);
      const auto bad = h::batch(spec, corrupted);
      expect_same_verdict(bad, c, "round " + std::to_string(round) + ", byte " + std::to_string(at));
      (validate_produced_batch(bad, c, now) ? refused : accepted)++;
    }
  }
  // Both verdicts were exercised.
  CHECK(accepted > 50);
  CHECK(refused > 500);
}

// Writes the fuzz targets' seed corpus (fuzz/corpus/<target>/): a few valid batches of every codec for
// the validator (first byte: the topic-rules mode), and record sections of every codec for the
// decompressors (first byte: codec and a 64 KiB limit). Hidden; run with
//   BROOK_FUZZ_CORPUS_DIR=fuzz/corpus build/bin/brook_common_tests "[fuzz-corpus]"
TEST_CASE("write the fuzz seed corpus", "[.][fuzz-corpus]") {
  const char* dir = std::getenv("BROOK_FUZZ_CORPUS_DIR");
  REQUIRE(dir != nullptr);
  namespace fs = std::filesystem;
  auto write = [&](const std::string& target, const std::string& name, uint8_t first, const std::vector<uint8_t>& body) {
    fs::create_directories(fs::path(dir) / target);
    std::ofstream out(fs::path(dir) / target / name, std::ios::binary);
    out.put(static_cast<char>(first));
    out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
    REQUIRE(out.good());
  };
  record_batch_builder with_headers;
  with_headers.add("key", "value", now, {{"h", "v"}, {"null", std::nullopt}});
  with_headers.add(std::nullopt, std::nullopt, now + 5);
  write("record_batch_validator", "none-headers", 0, with_headers.build());
  write("record_batch_validator", "none-3", 0, h::batch({.record_count = 3}, h::records(3)));
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4, compression_codec::zstd}) {
    const auto c = static_cast<uint8_t>(codec);
    write("record_batch_validator", std::string(codec_name(codec)) + "-3", 0, h::compressed_batch(codec, 3));
    write("decompress", std::string(codec_name(codec)), static_cast<uint8_t>(24 + c - 1), *compress(codec, h::records(20)));
  }
}
