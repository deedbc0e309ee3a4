// The consumer protocol's framing and fields, byte for byte as Java's ConsumerProtocol writes them.
#include <catch2/catch.hpp>

#include "client/consuming/consumer_protocol.hpp"

using namespace brook::client::consuming;
using brook::common::protocol::bytes;

TEST_CASE("a v0 subscription is an int16 version, the topics and the user data") {
  subscription s;
  s.topics = {"foo"};
  bytes got = encode_subscription(s, 0);
  bytes want{0, 0, 0, 0, 0, 1, 0, 3, 'f', 'o', 'o', 0xff, 0xff, 0xff, 0xff};
  CHECK(got == want);
  auto back = decode_subscription(got);
  REQUIRE(back.ok());
  CHECK(back->topics == std::vector<std::string>{"foo"});
  CHECK_FALSE(back->user_data);
  CHECK(back->generation_id == -1);
}

TEST_CASE("topics and owned partitions are written sorted, owned partitions grouped by topic") {
  subscription s;
  s.topics = {"b", "a"};
  s.owned_partitions = {{"b", 1}, {"a", 2}, {"b", 0}};
  s.generation_id = 7;
  s.rack_id = "r1";
  s.user_data = bytes{9};
  auto back = decode_subscription(encode_subscription(s));
  REQUIRE(back.ok());
  CHECK(back->topics == std::vector<std::string>{"a", "b"});
  CHECK(back->owned_partitions == std::vector<topic_partition>{{"a", 2}, {"b", 0}, {"b", 1}});
  CHECK(back->generation_id == 7);
  CHECK(back->rack_id == std::optional<std::string>("r1"));
  CHECK(back->user_data == std::optional<bytes>(bytes{9}));
}

TEST_CASE("each subscription version carries only its fields") {
  subscription s;
  s.topics = {"t"};
  s.owned_partitions = {{"t", 0}};
  s.generation_id = 3;
  s.rack_id = "r";
  auto v0 = decode_subscription(encode_subscription(s, 0));
  REQUIRE(v0.ok());
  CHECK(v0->owned_partitions.empty());
  auto v1 = decode_subscription(encode_subscription(s, 1));
  REQUIRE(v1.ok());
  CHECK(v1->owned_partitions.size() == 1);
  CHECK(v1->generation_id == -1);
  auto v2 = decode_subscription(encode_subscription(s, 2));
  REQUIRE(v2.ok());
  CHECK(v2->generation_id == 3);
  CHECK_FALSE(v2->rack_id);
  auto v3 = decode_subscription(encode_subscription(s, 3));
  REQUIRE(v3.ok());
  CHECK(v3->rack_id == std::optional<std::string>("r"));
}

TEST_CASE("a subscription of a future version is read as the newest known, extra bytes ignored") {
  subscription s;
  s.topics = {"t"};
  s.generation_id = 5;
  bytes b = encode_subscription(s, 3);
  b[0] = 0;
  b[1] = 100;  // version 100
  b.push_back(0x12);  // a field version 100 appended
  b.push_back(0x34);
  auto back = decode_subscription(b);
  REQUIRE(back.ok());
  CHECK(back->topics == std::vector<std::string>{"t"});
  CHECK(back->generation_id == 5);
}

TEST_CASE("an empty rack id reads as no rack, as in Java") {
  subscription s;
  s.topics = {"t"};
  s.rack_id = "";
  auto back = decode_subscription(encode_subscription(s, 3));
  REQUIRE(back.ok());
  CHECK_FALSE(back->rack_id);
}

TEST_CASE("malformed or negative-version subscriptions are errors, never exceptions") {
  CHECK_FALSE(decode_subscription(bytes{}).ok());
  CHECK_FALSE(decode_subscription(bytes{0, 0, 0, 0, 0, 1, 0}).ok());
  CHECK_FALSE(decode_subscription(bytes{0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}).ok());
}

TEST_CASE("an assignment groups partitions by topic in first-seen order") {
  assignment a;
  a.partitions = {{"b", 0}, {"a", 1}, {"b", 2}};
  bytes got = encode_assignment(a, 0);
  bytes want{0, 0,                                       // version
             0, 0, 0, 2,                                 // two topics
             0, 1, 'b', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,  // b: [0, 2]
             0, 1, 'a', 0, 0, 0, 1, 0, 0, 0, 1,              // a: [1]
             0xff, 0xff, 0xff, 0xff};                    // null user data
  CHECK(got == want);
  auto back = decode_assignment(got);
  REQUIRE(back.ok());
  CHECK(back->partitions == std::vector<topic_partition>{{"b", 0}, {"b", 2}, {"a", 1}});
}

TEST_CASE("an empty assignment buffer is an empty assignment, a future version reads as v3") {
  auto empty = decode_assignment(bytes{});
  REQUIRE(empty.ok());
  CHECK(empty->partitions.empty());
  assignment a;
  a.partitions = {{"t", 4}};
  a.user_data = bytes{1, 2};
  bytes b = encode_assignment(a);
  b[1] = 9;
  b.push_back(0);
  auto back = decode_assignment(b);
  REQUIRE(back.ok());
  CHECK(back->partitions == a.partitions);
  CHECK(back->user_data == a.user_data);
}
