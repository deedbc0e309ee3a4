#include "common/record_batch.hpp"

#include <catch2/catch.hpp>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/compression.hpp"
#include "common/crc32c.hpp"

using namespace brook::common;

namespace {

std::string as_string(const std::optional<bytes_view>& b) {
  REQUIRE(b.has_value());
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

record_batch_builder sample_builder(int n, int64_t ts = 1'700'000'000'000) {
  record_batch_builder b;
  for (int i = 0; i < n; ++i) {
    std::vector<record_batch_builder::header> headers;
    if (i % 2 == 0) headers.push_back({"h" + std::to_string(i), "hv" + std::to_string(i)});
    if (i % 3 == 0) headers.push_back({"null-header", std::nullopt});
    b.add(i % 4 == 3 ? std::nullopt : std::optional<std::string>("key-" + std::to_string(i)),
          i % 5 == 4 ? std::nullopt : std::optional<std::string>(std::string(50 + i, static_cast<char>('a' + i % 26))),
          ts + i * 7, std::move(headers));
  }
  return b;
}

// Decodes every record and checks it against what sample_builder(n) put in.
void check_sample_records(const record_batch_view& view, int n, int64_t base_offset, int64_t ts = 1'700'000'000'000) {
  auto it = view.records(1 << 30);
  REQUIRE(it.ok());
  for (int i = 0; i < n; ++i) {
    auto r = it->next();
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    const record_view& rec = **r;
    CHECK(rec.offset == base_offset + i);
    CHECK(rec.offset_delta == i);
    CHECK(rec.timestamp == ts + i * 7);
    if (i % 4 == 3) CHECK_FALSE(rec.key.has_value());
    else CHECK(as_string(rec.key) == "key-" + std::to_string(i));
    if (i % 5 == 4) CHECK_FALSE(rec.value.has_value());
    else CHECK(as_string(rec.value) == std::string(50 + i, static_cast<char>('a' + i % 26)));
    size_t expected_headers = (i % 2 == 0) + (i % 3 == 0);
    REQUIRE(rec.headers.size() == expected_headers);
    if (i % 2 == 0) {
      CHECK(rec.headers[0].key == "h" + std::to_string(i));
      CHECK(as_string(rec.headers[0].value) == "hv" + std::to_string(i));
    }
    if (i % 3 == 0) {
      CHECK(rec.headers.back().key == "null-header");
      CHECK_FALSE(rec.headers.back().value.has_value());
    }
  }
  auto end = it->next();
  REQUIRE(end.ok());
  CHECK_FALSE(end->has_value());
}

std::vector<uint8_t> gzip_compress(bytes_view in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::vector<uint8_t> out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<uint8_t> snappy_raw(bytes_view in) {
  std::string out;
  snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &out);
  return {out.begin(), out.end()};
}

// The framing snappy-java's SnappyOutputStream writes (what Java Kafka producers send), in chunks of `chunk`.
std::vector<uint8_t> snappy_xerial(bytes_view in, size_t chunk) {
  std::vector<uint8_t> out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  for (size_t pos = 0; pos < in.size(); pos += chunk) {
    auto block = snappy_raw(in.subspan(pos, std::min(chunk, in.size() - pos)));
    uint32_t n = static_cast<uint32_t>(block.size());
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(n >> s));
    out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

std::vector<uint8_t> lz4_frame(bytes_view in) {
  std::vector<uint8_t> out(LZ4F_compressFrameBound(in.size(), nullptr));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr);
  REQUIRE_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

std::vector<uint8_t> zstd_compress(bytes_view in) {
  std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("varints use Kafka's zig-zag encoding") {
  auto enc = [](int32_t v) {
    std::vector<uint8_t> out;
    append_varint(out, v);
    return out;
  };
  CHECK(enc(0) == std::vector<uint8_t>{0x00});
  CHECK(enc(-1) == std::vector<uint8_t>{0x01});
  CHECK(enc(1) == std::vector<uint8_t>{0x02});
  CHECK(enc(63) == std::vector<uint8_t>{0x7E});
  CHECK(enc(-64) == std::vector<uint8_t>{0x7F});
  CHECK(enc(64) == std::vector<uint8_t>{0x80, 0x01});
  CHECK(enc(std::numeric_limits<int32_t>::min()) == std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0x0F});
  std::vector<uint8_t> l;
  append_varlong(l, std::numeric_limits<int64_t>::min());
  CHECK(l == std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
}

TEST_CASE("builder lays out the v2 header at Kafka's positions") {
  record_batch_builder::options o;
  o.base_offset = 0x0102030405060708;
  o.partition_leader_epoch = 7;
  o.producer_id = 4242;
  o.producer_epoch = 3;
  o.base_sequence = 11;
  o.transactional = true;
  record_batch_builder b(o);
  b.add("k", "v", 1000).add(std::nullopt, "w", 1005);
  auto bytes = b.build();

  auto view = record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  REQUIRE(view->validate().ok());
  CHECK(bytes[0] == 0x01);
  CHECK(bytes[7] == 0x08);
  CHECK(view->base_offset() == 0x0102030405060708);
  CHECK(view->batch_length() == static_cast<int32_t>(bytes.size() - 12));
  CHECK(view->size_bytes() == bytes.size());
  CHECK(view->partition_leader_epoch() == 7);
  CHECK(view->magic() == 2);
  CHECK(view->compression() == compression_codec::none);
  CHECK(view->ts_type() == timestamp_type::create_time);
  CHECK(view->is_transactional());
  CHECK_FALSE(view->is_control());
  CHECK(view->last_offset_delta() == 1);
  CHECK(view->base_timestamp() == 1000);
  CHECK(view->max_timestamp() == 1005);
  CHECK(view->producer_id() == 4242);
  CHECK(view->producer_epoch() == 3);
  CHECK(view->base_sequence() == 11);
  CHECK(view->record_count() == 2);
  CHECK(view->crc() == crc32c(bytes_view(bytes).subspan(21)));
  // First record: length, attributes 0, timestamp delta 0, offset delta 0, key "k", value "v", no headers.
  std::vector<uint8_t> first = {0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00};
  CHECK(std::equal(first.begin(), first.end(), bytes.begin() + 61));
}

TEST_CASE("records round-trip through an uncompressed batch") {
  auto bytes = sample_builder(40).build();
  auto view = record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  REQUIRE(view->validate().ok());
  check_sample_records(*view, 40, 0);
}

TEST_CASE("validate rejects damaged batches") {
  auto bytes = sample_builder(3).build();
  SECTION("flipped payload bit") {
    bytes.back() ^= 0x01;
    auto view = record_batch_view::parse(bytes);
    REQUIRE(view.ok());
    CHECK(view->validate().code() == kafka_error::corrupt_message);
  }
  SECTION("wrong magic") {
    bytes[16] = 1;
    CHECK(record_batch_view::parse(bytes).code() == kafka_error::corrupt_message);
  }
  SECTION("truncated") {
    CHECK(record_batch_view::parse(bytes_view(bytes).first(bytes.size() - 1)).code() == kafka_error::corrupt_message);
    CHECK(record_batch_view::parse(bytes_view(bytes).first(40)).code() == kafka_error::corrupt_message);
  }
  SECTION("length below the header") {
    bytes[8] = bytes[9] = bytes[10] = 0;
    bytes[11] = 10;
    CHECK(record_batch_view::parse(bytes).code() == kafka_error::corrupt_message);
  }
  SECTION("leader epoch is outside the CRC") {
    set_partition_leader_epoch(bytes, 99);
    auto view = record_batch_view::parse(bytes);
    REQUIRE(view.ok());
    CHECK(view->validate().ok());
    CHECK(view->partition_leader_epoch() == 99);
  }
}

TEST_CASE("in-place rewrites keep the batch valid") {
  auto bytes = sample_builder(5).build();
  set_base_offset(bytes, 1234);
  auto view = record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  CHECK(view->validate().ok());
  CHECK(view->base_offset() == 1234);
  CHECK(view->last_offset() == 1238);
  check_sample_records(*view, 5, 1234);

  set_log_append_time(bytes, 99'000);
  view = record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  CHECK(view->validate().ok());
  CHECK(view->ts_type() == timestamp_type::log_append_time);
  CHECK(view->max_timestamp() == 99'000);
  auto it = view->records(1 << 30);
  REQUIRE(it.ok());
  auto r = it->next();
  REQUIRE(r.ok());
  CHECK((*r)->timestamp == 99'000);  // LogAppendTime: every record reports the batch time
}

TEST_CASE("compressed batches decompress and iterate") {
  auto builder = sample_builder(200);
  auto plain = builder.encode_records();
  struct codec_case {
    const char* name;
    compression_codec codec;
    std::vector<uint8_t> payload;
  };
  std::vector<codec_case> cases = {
      {"gzip", compression_codec::gzip, gzip_compress(plain)},
      {"snappy raw", compression_codec::snappy, snappy_raw(plain)},
      {"snappy xerial one chunk", compression_codec::snappy, snappy_xerial(plain, 1 << 20)},
      {"snappy xerial many chunks", compression_codec::snappy, snappy_xerial(plain, 1000)},
      {"lz4 frame", compression_codec::lz4, lz4_frame(plain)},
      {"zstd", compression_codec::zstd, zstd_compress(plain)},
  };
  for (auto& c : cases) {
    INFO(c.name);
    REQUIRE(c.payload.size() < plain.size());
    auto bytes = builder.build_with_records(c.codec, c.payload);
    auto view = record_batch_view::parse(bytes);
    REQUIRE(view.ok());
    REQUIRE(view->validate().ok());
    CHECK(view->compression() == c.codec);
    CHECK(view->record_count() == 200);
    check_sample_records(*view, 200, 0);
    auto again = decompress(c.codec, c.payload, 1 << 30);
    REQUIRE(again.ok());
    CHECK(*again == plain);
  }
}

TEST_CASE("corrupt compressed data is reported, not crashed on") {
  auto builder = sample_builder(20);
  auto plain = builder.encode_records();
  for (auto codec : {compression_codec::gzip, compression_codec::snappy, compression_codec::lz4, compression_codec::zstd}) {
    INFO(codec_name(codec));
    std::vector<uint8_t> payload;
    switch (codec) {
      case compression_codec::gzip: payload = gzip_compress(plain); break;
      case compression_codec::snappy: payload = snappy_xerial(plain, 1 << 20); break;
      case compression_codec::lz4: payload = lz4_frame(plain); break;
      default: payload = zstd_compress(plain); break;
    }
    auto truncated = std::vector<uint8_t>(payload.begin(), payload.begin() + payload.size() / 2);
    CHECK(decompress(codec, truncated, 1 << 30).code() == kafka_error::corrupt_message);
  }
  std::vector<uint8_t> garbage(100, 0x5A);
  CHECK(decompress(compression_codec::zstd, garbage, 1 << 30).code() == kafka_error::corrupt_message);
  CHECK(decompress(compression_codec::lz4, garbage, 1 << 30).code() == kafka_error::corrupt_message);
}

TEST_CASE("a record count larger than the records present is corrupt") {
  auto bytes = sample_builder(3).build();
  bytes[60] = 4;  // record count 3 -> 4
  auto view = record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  auto it = view->records(1 << 30);
  REQUIRE(it.ok());
  kafka_error seen = kafka_error::none;
  for (int i = 0; i < 5 && seen == kafka_error::none; ++i) {
    auto r = it->next();
    if (!r) seen = r.code();
    else if (!r->has_value()) break;
  }
  CHECK(seen == kafka_error::corrupt_message);
}

TEST_CASE("compress round-trips through decompress for every codec, in the framing Java clients write") {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "record-" + std::to_string(i % 97) + ";";  // > 32 KiB: several snappy chunks
  bytes_view plain(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  for (auto codec : {compression_codec::none, compression_codec::gzip, compression_codec::snappy,
                     compression_codec::lz4, compression_codec::zstd}) {
    INFO(codec_name(codec));
    auto packed = compress(codec, plain);
    REQUIRE(packed.ok());
    if (codec != compression_codec::none) CHECK(packed->size() < text.size());
    auto back = decompress(codec, *packed, 1 << 30);
    REQUIRE(back.ok());
    CHECK(std::string(back->begin(), back->end()) == text);
  }
  auto gz = compress(compression_codec::gzip, plain);
  REQUIRE(gz.ok());
  CHECK((*gz)[0] == 0x1f);
  CHECK((*gz)[1] == 0x8b);
  auto sn = compress(compression_codec::snappy, plain);
  REQUIRE(sn.ok());
  const uint8_t xerial[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK(std::memcmp(sn->data(), xerial, 16) == 0);
  auto empty = compress(compression_codec::zstd, bytes_view{});
  REQUIRE(empty.ok());
  auto none_back = decompress(compression_codec::zstd, *empty, 1 << 30);
  REQUIRE(none_back.ok());
  CHECK(none_back->empty());
}

TEST_CASE("encode_batch and append_record re-encode records with chosen deltas") {
  std::vector<uint8_t> section;
  std::string key = "k", value = "v", hkey = "h";
  record_header_view h{hkey, std::nullopt};
  auto as_bytes = [](const std::string& s) { return bytes_view(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  append_record(section, 0, -5, 3, as_bytes(key), as_bytes(value), std::span(&h, 1));
  append_record(section, 0, 7, 9, as_bytes(key), std::nullopt, {});
  auto packed = compress(compression_codec::lz4, section);
  REQUIRE(packed.ok());
  batch_header_fields f;
  f.base_offset = 100;
  f.attributes = static_cast<int16_t>(compression_codec::lz4) | batch_layout::delete_horizon_bit;
  f.last_offset_delta = 12;
  f.base_timestamp = 1000;
  f.max_timestamp = 1007;
  f.producer_id = 42;
  f.producer_epoch = 1;
  f.base_sequence = 10;
  f.record_count = 2;
  auto batch = encode_batch(f, *packed);
  auto view = record_batch_view::parse(batch);
  REQUIRE(view.ok());
  REQUIRE(view->validate().ok());
  CHECK(view->last_offset() == 112);
  CHECK(view->has_delete_horizon());
  CHECK(view->producer_id() == 42);
  auto it = view->records(1 << 30);
  REQUIRE(it.ok());
  auto r1 = it->next();
  REQUIRE(r1.ok());
  REQUIRE(*r1);
  CHECK((*r1)->offset == 103);
  CHECK((*r1)->timestamp == 995);
  CHECK(as_string((*r1)->value) == "v");
  REQUIRE((*r1)->headers.size() == 1);
  CHECK((*r1)->headers[0].key == "h");
  CHECK(!(*r1)->headers[0].value);
  auto r2 = it->next();
  REQUIRE(r2.ok());
  REQUIRE(*r2);
  CHECK((*r2)->offset == 109);
  CHECK((*r2)->timestamp == 1007);
  CHECK(!(*r2)->value);
  auto end = it->next();
  REQUIRE(end.ok());
  CHECK(!*end);
}

namespace {
// A control batch whose one record has the given key and value bytes.
std::vector<uint8_t> control_batch_with(std::vector<uint8_t> key, std::vector<uint8_t> value) {
  std::vector<uint8_t> section;
  append_record(section, 0, 0, 0, bytes_view(key), bytes_view(value), {});
  batch_header_fields h;
  h.attributes = static_cast<int16_t>(batch_layout::control_bit | batch_layout::transactional_bit);
  h.producer_id = 9;
  h.producer_epoch = 1;
  h.record_count = 1;
  return encode_batch(h, section);
}
}  // namespace

TEST_CASE("end transaction marker: Kafka's control batch layout") {
  marker_batch_fields f;
  f.base_offset = 40;
  f.partition_leader_epoch = 3;
  f.producer_id = 1234;
  f.producer_epoch = 7;
  f.timestamp = 1'700'000'000'123;
  auto bytes = encode_end_txn_marker(f, {control_record_type::abort, 21});
  auto view = record_batch_view::parse(bytes);
  REQUIRE(view.ok());
  REQUIRE(view->validate().ok());
  CHECK(view->is_control());
  CHECK(view->is_transactional());
  CHECK(view->attributes() == 0x30);
  CHECK(view->compression() == compression_codec::none);
  CHECK(view->base_offset() == 40);
  CHECK(view->partition_leader_epoch() == 3);
  CHECK(view->producer_id() == 1234);
  CHECK(view->producer_epoch() == 7);
  CHECK(view->base_sequence() == -1);
  CHECK(view->record_count() == 1);
  CHECK(view->last_offset_delta() == 0);
  CHECK(view->base_timestamp() == f.timestamp);
  CHECK(view->max_timestamp() == f.timestamp);
  auto it = view->records(1 << 20);
  REQUIRE(it.ok());
  auto rec = it->next();
  REQUIRE(rec.ok());
  REQUIRE(*rec);
  // Key: version 0, type ABORT (0, Kafka's ControlRecordType); value: version 0, coordinator epoch 21.
  REQUIRE((*rec)->key);
  CHECK(std::vector<uint8_t>((*rec)->key->begin(), (*rec)->key->end()) == std::vector<uint8_t>{0, 0, 0, 0});
  REQUIRE((*rec)->value);
  CHECK(std::vector<uint8_t>((*rec)->value->begin(), (*rec)->value->end()) == std::vector<uint8_t>{0, 0, 0, 0, 0, 21});
  CHECK((*rec)->timestamp == f.timestamp);
  CHECK((*rec)->offset == 40);

  auto decoded = decode_end_txn_marker(*view);
  REQUIRE(decoded.ok());
  REQUIRE(*decoded);
  CHECK(**decoded == end_txn_marker{control_record_type::abort, 21});

  auto commit = encode_end_txn_marker(f, {control_record_type::commit, -1});
  auto commit_view = record_batch_view::parse(commit);
  REQUIRE(commit_view.ok());
  auto c = decode_end_txn_marker(*commit_view);
  REQUIRE(c.ok());
  CHECK(**c == end_txn_marker{control_record_type::commit, -1});
  // COMMIT is type 1.
  auto commit_it = commit_view->records(1 << 20);
  REQUIRE(commit_it.ok());
  auto commit_rec = commit_it->next();
  REQUIRE(commit_rec.ok());
  REQUIRE(*commit_rec);
  CHECK(std::vector<uint8_t>((*commit_rec)->key->begin(), (*commit_rec)->key->end()) == std::vector<uint8_t>{0, 0, 0, 1});
}

TEST_CASE("end transaction marker: decoding newer, unknown, empty and broken control records") {
  // Newer key and value versions are read as version 0, as Kafka 4.4 does; a longer value is fine.
  auto newer = control_batch_with({0, 1, 0, 1}, {0, 3, 0, 0, 1, 0, 9, 9});
  auto m = decode_end_txn_marker(record_batch_view(newer));
  REQUIRE(m.ok());
  REQUIRE(*m);
  CHECK(**m == end_txn_marker{control_record_type::commit, 256});
  // Another control type (LEADER_CHANGE = 2): not a marker.
  auto other = control_batch_with({0, 0, 0, 2}, {0, 0});
  auto o = decode_end_txn_marker(record_batch_view(other));
  REQUIRE(o.ok());
  CHECK_FALSE(*o);
  CHECK(parse_control_record_type(std::vector<uint8_t>{0, 0, 0, 2}).value() == control_record_type::unknown);
  // Negative versions and short keys or values are corrupt.
  CHECK(decode_end_txn_marker(record_batch_view(control_batch_with({0xff, 0xff, 0, 0}, {0, 0, 0, 0, 0, 1}))).code() ==
        kafka_error::corrupt_message);
  CHECK(decode_end_txn_marker(record_batch_view(control_batch_with({0, 0, 0, 1}, {0xff, 0xfe, 0, 0, 0, 1}))).code() ==
        kafka_error::corrupt_message);
  CHECK(decode_end_txn_marker(record_batch_view(control_batch_with({0, 0, 0}, {0, 0, 0, 0, 0, 1}))).code() ==
        kafka_error::corrupt_message);
  CHECK(decode_end_txn_marker(record_batch_view(control_batch_with({0, 0, 0, 1}, {0, 0, 0, 0, 1}))).code() ==
        kafka_error::corrupt_message);
  // An emptied control batch (the cleaner's) carries no marker.
  batch_header_fields h;
  h.attributes = static_cast<int16_t>(batch_layout::control_bit | batch_layout::transactional_bit);
  h.producer_id = 9;
  auto empty = encode_batch(h, {});
  auto e = decode_end_txn_marker(record_batch_view(empty));
  REQUIRE(e.ok());
  CHECK_FALSE(*e);
  // A data batch is not a control batch.
  record_batch_builder b;
  b.add(std::string("k"), std::string("v"), 1);
  auto data = b.build();
  CHECK(decode_end_txn_marker(record_batch_view(data)).code() == kafka_error::invalid_record);
}
