#include <catch2/catch.hpp>

#include <limits>

#include "common/protocol/wire.hpp"

using namespace brook::common::protocol;

TEST_CASE("varints match Kafka's zig-zag encoding") {
  writer w;
  w.varint(0);
  w.varint(-1);
  w.varint(1);
  w.varint(-64);
  w.varint(64);
  CHECK(w.data() == bytes{0x00, 0x01, 0x02, 0x7f, 0x80, 0x01});
  reader r(w.data());
  CHECK(r.varint() == 0);
  CHECK(r.varint() == -1);
  CHECK(r.varint() == 1);
  CHECK(r.varint() == -64);
  CHECK(r.varint() == 64);
  CHECK(r.remaining() == 0);
}

TEST_CASE("extreme varlongs round-trip") {
  for (int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0}, std::numeric_limits<int64_t>::max()}) {
    writer w;
    w.varlong(v);
    reader r(w.data());
    CHECK(r.varlong() == v);
  }
}

TEST_CASE("compact and classic strings") {
  writer w;
  w.string("ab", true);
  w.string("ab", false);
  w.nullable_string(std::nullopt, true);
  w.nullable_string(std::nullopt, false);
  CHECK(w.data() == bytes{0x03, 'a', 'b', 0x00, 0x02, 'a', 'b', 0x00, 0xff, 0xff});
  reader r(w.data());
  CHECK(r.string(true) == "ab");
  CHECK(r.string(false) == "ab");
  CHECK_FALSE(r.nullable_string(true).has_value());
  CHECK_FALSE(r.nullable_string(false).has_value());
}

TEST_CASE("hostile lengths are rejected before allocating") {
  SECTION("array count larger than the input") {
    bytes b{0x7f, 0xff, 0xff, 0xff};
    reader r(b);
    CHECK_THROWS_AS(r.array_length(false), decode_error);
  }
  SECTION("string longer than the input") {
    bytes b{0x00, 0x10, 'x'};
    reader r(b);
    CHECK_THROWS_AS(r.string(false), decode_error);
  }
  SECTION("null where not nullable") {
    bytes b{0xff, 0xff};
    reader r(b);
    CHECK_THROWS_AS(r.string(false), decode_error);
  }
  SECTION("unterminated varint") {
    bytes b{0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    reader r(b);
    CHECK_THROWS_AS(r.uvarint(), decode_error);
  }
}

TEST_CASE("a borrowing reader's record sets point into the frame, a copying reader's own their bytes") {
  writer w;
  w.records(record_set(bytes{1, 2, 3, 4}), /*flexible=*/true);
  w.nullable_records(std::nullopt, true);
  w.nullable_records(record_set(bytes{9}), false);
  bytes frame = w.take();

  reader copying(frame);
  record_set owned = copying.records(true);
  CHECK_FALSE(owned.is_borrowed());
  CHECK(owned.data == bytes{1, 2, 3, 4});
  CHECK_FALSE(copying.nullable_records(true));
  CHECK(copying.nullable_records(false)->data == bytes{9});

  auto borrowing = reader::borrowing(frame);
  record_set view = borrowing.records(true);
  REQUIRE(view.is_borrowed());
  CHECK(view.data.empty());
  CHECK(view.borrowed.data() == frame.data() + 1);  // after the one-byte compact length
  CHECK(view.size() == 4);
  CHECK(view == owned);  // equal by content, wherever the bytes live
  view.mutable_memory()[0] = 7;  // the holder may rewrite the frame's bytes (base offsets, in the broker)
  CHECK(frame[1] == 7);
  CHECK_FALSE(view == owned);
  CHECK_FALSE(borrowing.nullable_records(true));
  auto last = borrowing.nullable_records(false);
  REQUIRE(last);
  CHECK(last->is_borrowed());
  CHECK(last->size() == 1);
  CHECK(borrowing.remaining() == 0);

  // Encoding a borrowed record set writes its bytes.
  writer again;
  again.records(view, true);
  CHECK(again.data() == bytes{5, 7, 2, 3, 4});
}

TEST_CASE("the writer refuses a string too long for its length field instead of wrapping it") {
  const std::string longest(0x7fff, 'x');
  const std::string too_long(0x7fff + 1, 'x');
  for (bool flexible : {false, true}) {
    writer ok;
    ok.string(longest, flexible);
    reader r(ok.data());
    CHECK(r.string(flexible) == longest);
    writer w;
    CHECK_THROWS_AS(w.string(too_long, flexible), encode_error);
    CHECK_THROWS_AS(w.nullable_string(std::optional<std::string>(too_long), flexible), encode_error);
  }
  // An array's element count and a length never go out negative.
  writer w;
  CHECK_THROWS_AS(w.array_size(size_t{1} << 31, false), encode_error);
  CHECK_THROWS_AS(w.array_length(-2, true), encode_error);
  CHECK(w.size() == 0);
}

TEST_CASE("the reader refuses a compact string longer than any string may be, as Kafka's readers do") {
  writer w;
  const std::string too_long(0x7fff + 1, 'x');
  w.uvarint(static_cast<uint32_t>(too_long.size() + 1));
  w.raw(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(too_long.data()), too_long.size()));
  reader r(w.data());
  CHECK_THROWS_AS(r.string(true), decode_error);
}

TEST_CASE("a long error message is cut to fit its field, at a character boundary") {
  CHECK(fit_message(std::string_view("short")) == "short");
  std::string huge = "Topic name is illegal: " + std::string(40000, 'y');
  CHECK(fit_message(huge).size() == max_string_bytes);
  // A two-byte character straddling the limit is left out whole.
  std::string accented(max_string_bytes - 1, 'a');
  accented += "\xc3\xa9tail";
  CHECK(fit_message(accented).size() == max_string_bytes - 1);
  CHECK(fit_message(std::optional<std::string>()) == std::nullopt);
}
