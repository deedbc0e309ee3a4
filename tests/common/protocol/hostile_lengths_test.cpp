// The generated decoders bound every length a request declares before allocating for it, with
// Kafka 4.4's limits (its generated readers and ByteBufferAccessor): an array of more elements than
// bytes left or of more than 1,000,000 elements, a string over 32767 bytes, bytes or records longer
// than what is left, and a tagged-field section of more fields than bytes left or of more than 10,000
// fields are refused; negative lengths are null, which only nullable fields accept.
#include <catch2/catch.hpp>

#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/protocol/wire.hpp"

using namespace brook::common::protocol;

namespace {

template <class Message>
Message decode_whole(const bytes& data, int16_t version) {
  reader r(data);
  Message m;
  m.decode(r, version);
  CHECK(r.remaining() == 0);
  return m;
}

template <class Message>
void check_refused(const bytes& data, int16_t version) {
  reader r(data);
  Message m;
  CHECK_THROWS_AS(m.decode(r, version), decode_error);
}

// A Produce v3 request's fields before its topic array: null transactional id, acks, timeout.
writer produce_v3_prefix() {
  writer w;
  w.int16(-1);
  w.int16(1);
  w.int32(1000);
  return w;
}

// A Fetch v7 request up to its forgotten topics' partition array, naming one forgotten topic.
writer fetch_v7_up_to_forgotten_partitions() {
  writer w;
  w.int32(-1);     // replica_id
  w.int32(500);    // max_wait_ms
  w.int32(1);      // min_bytes
  w.int32(1 << 20);  // max_bytes
  w.int8(0);       // isolation_level
  w.int32(7);      // session_id
  w.int32(3);      // session_epoch
  w.int32(0);      // topics: none
  w.int32(1);      // forgotten_topics_data: one topic
  w.string("t", false);
  return w;
}

// Metadata v9's flags: allow_auto_topic_creation and both include_*_authorized_operations.
void metadata_v9_flags(writer& w) {
  w.boolean(true);
  w.boolean(false);
  w.boolean(false);
}

// A Metadata v9 request with no topics, and `present` unknown empty tagged fields at the end
// (announced as `count`).
bytes metadata_v9_with_tags(uint32_t count, uint32_t present) {
  writer w;
  w.uvarint(1);  // topics: an empty compact array
  metadata_v9_flags(w);
  w.uvarint(count);
  for (uint32_t i = 0; i < present; ++i) {
    w.uvarint(100);  // a tag Metadata does not define
    w.uvarint(0);    // of no bytes
  }
  return w.take();
}

}  // namespace

TEST_CASE("an array count larger than the bytes left is refused before allocating") {
  for (int16_t v : {int16_t{3}, int16_t{9}}) {
    INFO("Produce v" << v);
    writer w;
    if (v >= 9) {
      w.uvarint(0);  // null transactional id
      w.int16(1);
      w.int32(1000);
      w.uvarint(0x7fffffff);  // 2^31 - 2 topics
    } else {
      w = produce_v3_prefix();
      w.int32(INT32_MAX);
    }
    w.raw(bytes(64, 0));
    check_refused<produce::request>(w.take(), v);
  }
}

TEST_CASE("an array of more than 1,000,000 elements is refused even when its bytes are there") {
  auto forgotten_partitions = [](int32_t count) {
    writer w = fetch_v7_up_to_forgotten_partitions();
    w.int32(count);
    for (int32_t i = 0; i < count; ++i) w.int32(i);
    return w.take();
  };
  auto fine = decode_whole<fetch::request>(forgotten_partitions(max_array_elements), 7);
  REQUIRE(fine.forgotten_topics_data.size() == 1);
  CHECK(fine.forgotten_topics_data[0].partitions.size() == static_cast<size_t>(max_array_elements));
  CHECK(fine.forgotten_topics_data[0].partitions.back() == max_array_elements - 1);
  check_refused<fetch::request>(forgotten_partitions(max_array_elements + 1), 7);
}

TEST_CASE("a tagged-field section is bounded by the bytes left and by 10,000 fields") {
  auto ok = decode_whole<metadata::request>(metadata_v9_with_tags(max_tagged_fields, max_tagged_fields), 9);
  CHECK(ok.topics.has_value());
  CHECK(ok.topics->empty());
  check_refused<metadata::request>(metadata_v9_with_tags(max_tagged_fields + 1, max_tagged_fields + 1), 9);
  check_refused<metadata::request>(metadata_v9_with_tags(50, 3), 9);           // more than the bytes left
  check_refused<metadata::request>(metadata_v9_with_tags(0x80000000u, 10), 9);  // negative as Kafka reads it
  // One unknown tagged field claiming more bytes than there are.
  writer w;
  w.uvarint(1);
  metadata_v9_flags(w);
  w.uvarint(1);
  w.uvarint(100);
  w.uvarint(1000);
  w.raw(bytes(10, 0));
  check_refused<metadata::request>(w.take(), 9);
}

TEST_CASE("bytes, records and strings longer than the bytes left are refused") {
  SECTION("records") {
    writer w = produce_v3_prefix();
    w.int32(1);  // one topic
    w.string("t", false);
    w.int32(1);  // one partition
    w.int32(0);
    w.int32(INT32_MAX);  // its records' length
    w.raw(bytes(100, 0));
    check_refused<produce::request>(w.take(), 3);
  }
  SECTION("a compact string") {
    writer w;
    w.uvarint(1000);  // transactional id of 999 bytes
    w.raw(bytes(10, 'x'));
    check_refused<produce::request>(w.take(), 9);
  }
  SECTION("a string over 32767 bytes, although they are there") {
    writer w;
    w.uvarint(0x8000 + 1);
    w.raw(bytes(0x8000, 'x'));
    w.int16(1);
    w.int32(1000);
    w.uvarint(1);
    w.uvarint(0);
    check_refused<produce::request>(w.take(), 9);
  }
}

TEST_CASE("a negative length is null, as Kafka reads it, which only a nullable field accepts") {
  SECTION("a classic nullable string of length -2") {
    writer w;
    w.int16(-2);  // transactional id
    w.int16(1);
    w.int32(1000);
    w.int32(0);
    auto r = decode_whole<produce::request>(w.take(), 3);
    CHECK_FALSE(r.transactional_id.has_value());
  }
  SECTION("a compact length whose uvarint is over 2^31 (negative once one is taken)") {
    // Metadata v10+: a topic asked by id has a null name.
    brook::common::uuid id{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    auto with_name_length = [&](int16_t version, uint32_t name_length) {
      writer w;
      w.uvarint(2);  // one topic
      if (version >= 10) w.uuid(id);
      w.uvarint(name_length);
      w.uvarint(0);  // the topic's tagged fields
      metadata_v9_flags(w);
      w.uvarint(0);
      return w.take();
    };
    auto r = decode_whole<metadata::request>(with_name_length(10, 0xffffffffu), 10);
    REQUIRE(r.topics);
    REQUIRE(r.topics->size() == 1);
    CHECK((*r.topics)[0].topic_id == id);
    CHECK_FALSE((*r.topics)[0].name.has_value());
    // v9's names are not nullable: such a length is refused.
    check_refused<metadata::request>(with_name_length(9, 0xffffffffu), 9);
  }
  SECTION("a negative array count for a non-nullable array") {
    writer w = produce_v3_prefix();
    w.int32(-5);
    check_refused<produce::request>(w.take(), 3);
  }
  SECTION("a negative array count for a nullable array") {
    writer w;
    w.int32(-7);  // Metadata v1+: null topics ask for every topic
    auto r = decode_whole<metadata::request>(w.take(), 1);
    CHECK_FALSE(r.topics.has_value());
  }
}
