// Fetch sessions (KIP-227) from the client's side, after Kafka's FetchSessionHandlerTest.
#include <catch2/catch.hpp>

#include "client/consuming/fetch_session.hpp"

using namespace brook::client::consuming;
namespace fetch = brook::common::protocol::fetch;
using brook::common::kafka_error;
using brook::common::uuid;

namespace {

fetch_position at(int64_t offset, uuid id = {}) {
  fetch_position p;
  p.topic_id = id;
  p.fetch_offset = offset;
  p.max_bytes = 1024;
  return p;
}

uuid id_of(uint8_t b) {
  uuid u;
  u.bytes[15] = b;
  return u;
}

fetch::response answer(int32_t session_id, std::vector<topic_partition> partitions, int16_t error = 0,
                       std::map<std::string, uuid> ids = {}) {
  fetch::response r;
  r.error_code = error;
  r.session_id = session_id;
  for (const auto& tp : partitions) {
    if (r.responses.empty() || r.responses.back().topic != tp.topic) {
      fetch::fetchable_topic_response t;
      t.topic = tp.topic;
      if (ids.count(tp.topic)) t.topic_id = ids[tp.topic];
      r.responses.push_back(t);
    }
    fetch::partition_data p;
    p.partition_index = tp.partition;
    r.responses.back().partitions.push_back(p);
  }
  return r;
}

}  // namespace

TEST_CASE("the first fetch is full and opens a session, later ones send only changes") {
  fetch_session s(1);
  CHECK(s.next_is_full());
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0)}, {{"foo", 1}, at(10)}};
  auto first = s.build(want);
  CHECK(first.full);
  CHECK(first.session_id == 0);
  CHECK(first.session_epoch == 0);
  CHECK(first.to_send.size() == 2);
  REQUIRE(s.handle_response(first, answer(123, {{"foo", 0}, {"foo", 1}}), 12));
  CHECK(s.session_id() == 123);
  CHECK(s.next_epoch() == 1);

  // Nothing changed: an incremental fetch with nothing to send.
  auto second = s.build(want);
  CHECK_FALSE(second.full);
  CHECK(second.session_id == 123);
  CHECK(second.session_epoch == 1);
  CHECK(second.to_send.empty());
  CHECK(second.to_forget.empty());
  REQUIRE(s.handle_response(second, answer(123, {}), 12));
  CHECK(s.next_epoch() == 2);

  // foo-0 advanced, foo-1 dropped, bar-0 added.
  want = {{{"foo", 0}, at(5)}, {{"bar", 0}, at(0)}};
  auto third = s.build(want);
  CHECK_FALSE(third.full);
  CHECK(third.session_epoch == 2);
  CHECK(third.to_send.size() == 2);
  CHECK(third.to_send.count({"foo", 0}));
  CHECK(third.to_send.count({"bar", 0}));
  CHECK(third.to_forget.size() == 1);
  CHECK(third.to_forget.count({"foo", 1}));
  auto request = fetch_session::to_request(third, 12, 500, 1, 1000, 0, "");
  CHECK(request.session_id == 123);
  CHECK(request.session_epoch == 2);
  REQUIRE(request.forgotten_topics_data.size() == 1);
  CHECK(request.forgotten_topics_data[0].topic == "foo");
  CHECK(request.forgotten_topics_data[0].partitions == std::vector<int32_t>{1});
  REQUIRE(request.topics.size() == 2);
  CHECK(request.topics[0].topic == "bar");
  CHECK(request.topics[1].partitions[0].fetch_offset == 5);
  CHECK(s.partitions().size() == 2);
}

TEST_CASE("FETCH_SESSION_ID_NOT_FOUND opens a new session with a full fetch") {
  fetch_session s(1);
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0)}};
  auto first = s.build(want);
  REQUIRE(s.handle_response(first, answer(7, {{"foo", 0}}), 12));
  auto second = s.build(want);
  CHECK_FALSE(s.handle_response(second, answer(0, {}, brook::common::wire_code(kafka_error::fetch_session_id_not_found)), 12));
  auto third = s.build(want);
  CHECK(third.full);
  CHECK(third.session_id == 0);
  CHECK(third.session_epoch == 0);
  CHECK(third.to_send.size() == 1);
}

TEST_CASE("INVALID_FETCH_SESSION_EPOCH and failed requests close the session and reopen it") {
  fetch_session s(1);
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0)}};
  REQUIRE(s.handle_response(s.build(want), answer(7, {{"foo", 0}}), 12));
  auto second = s.build(want);
  CHECK_FALSE(s.handle_response(second, answer(7, {}, brook::common::wire_code(kafka_error::invalid_fetch_session_epoch)), 12));
  auto third = s.build(want);
  CHECK(third.full);
  CHECK(third.session_id == 7);  // the old session is closed by the new one
  CHECK(third.session_epoch == 0);
  REQUIRE(s.handle_response(third, answer(8, {{"foo", 0}}), 12));
  CHECK(s.session_id() == 8);
  s.handle_error();
  CHECK(s.build(want).full);
}

TEST_CASE("a response naming partitions outside the session is rejected") {
  fetch_session s(1);
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0)}};
  auto first = s.build(want);
  CHECK_FALSE(s.handle_response(first, answer(7, {{"foo", 0}, {"bar", 3}}), 12));
  CHECK(s.build(want).full);
}

TEST_CASE("a broker without sessions (id 0) gets full fetches every time") {
  fetch_session s(1);
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0)}};
  REQUIRE(s.handle_response(s.build(want), answer(0, {{"foo", 0}}), 12));
  auto next = s.build(want);
  CHECK(next.full);
  CHECK(next.to_send.size() == 1);
}

TEST_CASE("v13+: topics by id, a recreated topic is forgotten under its old id and added under the new") {
  fetch_session s(1);
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0, id_of(1))}, {{"foo", 1}, at(0, id_of(1))}};
  auto first = s.build(want);
  CHECK(first.use_topic_ids);
  auto request = fetch_session::to_request(first, 13, 500, 1, 1000, 0, "");
  REQUIRE(request.topics.size() == 1);
  CHECK(request.topics[0].topic_id == id_of(1));
  REQUIRE(s.handle_response(first, answer(9, {{"foo", 0}}, 0, {{"foo", id_of(1)}}), 13));
  CHECK(s.topic_name(id_of(1)) == std::optional<std::string>("foo"));

  want = {{{"foo", 0}, at(0, id_of(2))}, {{"foo", 1}, at(0, id_of(2))}};
  auto second = s.build(want);
  CHECK_FALSE(second.full);
  CHECK(second.to_forget.size() == 2);
  CHECK(second.to_forget.at({"foo", 0}) == id_of(1));
  CHECK(second.to_send.size() == 2);
  request = fetch_session::to_request(second, 13, 500, 1, 1000, 0, "");
  REQUIRE(request.forgotten_topics_data.size() == 1);
  CHECK(request.forgotten_topics_data[0].topic_id == id_of(1));
  CHECK(request.topics[0].topic_id == id_of(2));
}

TEST_CASE("a partition without a topic id takes the session back to topic names with a full fetch") {
  fetch_session s(1);
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0, id_of(1))}};
  REQUIRE(s.handle_response(s.build(want), answer(9, {{"foo", 0}}, 0, {{"foo", id_of(1)}}), 13));
  want.emplace(topic_partition{"bar", 0}, at(0));
  auto next = s.build(want);
  CHECK(next.full);
  CHECK_FALSE(next.use_topic_ids);
  CHECK(next.session_id == 9);
  CHECK(next.session_epoch == 0);
}

TEST_CASE("closing an open session sends epoch -1") {
  fetch_session s(1);
  CHECK_FALSE(s.close_request());
  std::map<topic_partition, fetch_position> want{{{"foo", 0}, at(0)}};
  REQUIRE(s.handle_response(s.build(want), answer(9, {{"foo", 0}}), 12));
  auto close = s.close_request();
  REQUIRE(close);
  CHECK(close->session_id == 9);
  CHECK(close->session_epoch == -1);
}
