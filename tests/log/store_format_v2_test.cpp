// The readers of metadata store format 2's values (log/store_format_v2.hpp) on the layouts that
// tests/stored_formats/store_v2_data_dir.tar.gz does not hold: consumer-protocol group values of versions 2
// and 3 (no assignment epochs; version 2 also no assignment time), a producer state with several
// batches, an offset with an expiry, and damaged values.
#include "log/store_format_v2.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace brook::log;
using brook::common::kafka_error;

namespace {

// Builds format 2 bytes: big-endian integers, strings as u32 length + bytes.
struct v2_bytes {
  std::string out;
  v2_bytes& u8(uint8_t v) {
    out.push_back(static_cast<char>(v));
    return *this;
  }
  template <class T>
  v2_bytes& be(T v) {
    for (int i = sizeof(T) - 1; i >= 0; --i) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
    return *this;
  }
  v2_bytes& str(const std::string& s) {
    be<uint32_t>(static_cast<uint32_t>(s.size()));
    out += s;
    return *this;
  }
  v2_bytes& uuid(uint8_t fill) {
    out.append(16, static_cast<char>(fill));
    return *this;
  }
};

// A consumer-protocol group of one member "m" (epoch 5) holding partitions 1 and 0 of topic 0xAA..,
// at `version`; version 4 adds the epochs 3 and 4 (for partitions 0 and 1, in sorted order).
std::string consumer_group_value(uint8_t version) {
  v2_bytes b;
  b.u8(version).be<int32_t>(5).be<int32_t>(5);
  if (version >= 3) b.u8(1).be<int64_t>(1000);
  b.be<int64_t>(2000);
  b.be<uint32_t>(1);  // members
  b.str("m").u8(0).u8(1).str("rack").str("client").str("/127.0.0.1");
  b.be<int32_t>(5).be<int32_t>(4).u8(0).be<int32_t>(60000);
  b.be<uint32_t>(1).str("orders").u8(0).u8(1).str("uniform");
  b.be<uint32_t>(1).uuid(0xAA).be<uint32_t>(2).be<int32_t>(0).be<int32_t>(1);  // assigned
  b.be<uint32_t>(0);                                                            // pending revocation
  if (version >= 4) b.be<int32_t>(3).be<int32_t>(4);
  b.be<uint32_t>(1).str("m").be<uint32_t>(1).uuid(0xAA).be<uint32_t>(2).be<int32_t>(0).be<int32_t>(1);  // target
  b.be<uint32_t>(1).str("orders").uuid(0xAA).be<int32_t>(2);  // subscribed metadata
  return b.out;
}

}  // namespace

TEST_CASE("store format 2: consumer-protocol group values of versions 2, 3 and 4") {
  for (uint8_t version : {2, 3, 4}) {
    CAPTURE(version);
    auto r = store_format_v2::read_group_metadata(consumer_group_value(version));
    REQUIRE(r);
    REQUIRE(r->consumer);
    CHECK_FALSE(r->classic);
    const auto& g = *r->consumer;
    CHECK(g.group_epoch == 5);
    CHECK(g.assignment_time_ms == (version >= 3 ? 1000 : -1));
    CHECK(g.state_since_ms == 2000);
    REQUIRE(g.members.size() == 1);
    const auto& m = g.members[0];
    CHECK(m.member_id == "m");
    CHECK_FALSE(m.instance_id);
    CHECK(m.rack_id == std::optional<std::string>("rack"));
    CHECK(m.previous_member_epoch == 4);
    CHECK(m.server_assignor == std::optional<std::string>("uniform"));
    REQUIRE(m.assigned.size() == 1);
    CHECK(m.assigned[0].partitions == std::vector<int32_t>{0, 1});
    // Before version 4 the member epoch stands for each partition's assignment epoch.
    CHECK(m.assigned[0].assignment_epochs == (version >= 4 ? std::vector<int32_t>{3, 4} : std::vector<int32_t>{5, 5}));
    CHECK(m.pending_revocation.empty());
    REQUIRE(g.target.size() == 1);
    CHECK(g.target[0].partitions[0].assignment_epochs.empty());
    REQUIRE(g.subscribed_metadata.size() == 1);
    CHECK(g.subscribed_metadata[0].partitions == 2);
  }
}

TEST_CASE("store format 2: producer state with several batches, an offset with an expiry") {
  v2_bytes p;
  p.u8(1).be<int64_t>(40).be<uint32_t>(1).be<int64_t>(9).be<int16_t>(2).be<int64_t>(777).u8(2);
  p.be<int32_t>(0).be<int32_t>(4).be<int64_t>(10).be<int64_t>(14);
  p.be<int32_t>(5).be<int32_t>(9).be<int64_t>(30).be<int64_t>(34);
  auto ps = store_format_v2::read_producer_state(p.out);
  REQUIRE(ps);
  CHECK(ps->covered_offset == 40);
  REQUIRE(ps->producers.size() == 1);
  CHECK(ps->producers[0].producer_id == 9);
  CHECK(ps->producers[0].producer_epoch == 2);
  REQUIRE(ps->producers[0].batches.size() == 2);
  CHECK(ps->producers[0].batches[1].first_sequence == 5);
  CHECK(ps->producers[0].batches[1].last_offset == 34);

  v2_bytes o;
  o.u8(1).be<int64_t>(12).be<int32_t>(3).str("meta").be<int64_t>(100).u8(1).be<int64_t>(200);
  auto offset = store_format_v2::read_offset(o.out);
  REQUIRE(offset);
  CHECK(offset->offset == 12);
  CHECK(offset->leader_epoch == 3);
  CHECK(offset->metadata == "meta");
  CHECK(offset->commit_timestamp == 100);
  CHECK(offset->expire_timestamp == 200);
}

TEST_CASE("store format 2: damaged values are refused with kafka_storage_error, never misread") {
  const std::string value = consumer_group_value(4);
  for (size_t cut = 0; cut < value.size(); ++cut) {
    CAPTURE(cut);
    auto r = store_format_v2::read_group_metadata(value.substr(0, cut));
    REQUIRE_FALSE(r);
    CHECK(r.code() == kafka_error::kafka_storage_error);
  }
  CHECK_FALSE(store_format_v2::read_group_metadata(value + "x"));
  CHECK_FALSE(store_format_v2::read_group_metadata("\x05"));
  // A count far beyond the bytes left is refused before anything is allocated for it.
  v2_bytes huge;
  huge.u8(1).be<int64_t>(0).be<uint32_t>(0xFFFFFFF0u);
  CHECK_FALSE(store_format_v2::read_producer_state(huge.out));
  v2_bytes topic;
  topic.u8(2).uuid(1).be<int32_t>(1).be<int16_t>(1).be<int64_t>(0);  // unknown value version
  CHECK_FALSE(store_format_v2::read_topic(topic.out));
  CHECK_FALSE(store_format_v2::read_cluster_id(""));
}
