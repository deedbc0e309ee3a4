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
