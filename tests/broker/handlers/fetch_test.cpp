#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/fetch.hpp"

namespace proto = brook::common::protocol;
namespace fe = proto::fetch;

namespace {
constexpr int16_t version = 12;  // sessions, topics by name

fe::request fetch_of(int32_t session_id, int32_t epoch, int32_t max_wait_ms, bool name_partition) {
  fe::request req;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = 1;
  req.session_id = session_id;
  req.session_epoch = epoch;
  if (name_partition) {
    auto& t = req.topics.emplace_back();
    t.topic = "t";
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.fetch_offset = 0;
    p.partition_max_bytes = 1 << 20;
  }
  return req;
}

proto::bytes encode(const fe::request& req) {
  proto::writer w;
  req.encode(w, version);
  return w.take();
}
}  // namespace

// Build with -fsanitize=address: before the session was held by the request, the parked fetch read
// (and wrote) the session a reconnecting consumer had freed meanwhile.
TEST_CASE("a fetch session freed by a reconnecting consumer during a long poll is not used by the parked fetch") {
  brook::test::broker_fixture b;
  proto::create_topics::request create;
  auto& topic = create.topics.emplace_back();
  topic.name = "t";
  topic.num_partitions = 1;
  topic.replication_factor = 1;
  auto created = b.call<proto::create_topics::response>(proto::create_topics::api_key, 5, create);
  REQUIRE(created.topics.at(0).error_code == 0);

  auto consumer = b.connect();
  auto full = consumer.call<fe::response>(fe::api_key, version, fetch_of(0, 0, 0, true));
  REQUIRE(full.error_code == 0);
  const int32_t session = full.session_id;
  REQUIRE(session > 0);

  // An incremental fetch of the session parks: nothing to read yet.
  consumer.send_raw(fe::api_key, version, encode(fetch_of(session, 1, 1000, false)));
  // The consumer reconnects and starts over on the old id: the session is freed and replaced.
  auto reconnected = b.connect();
  auto fresh = reconnected.call<fe::response>(fe::api_key, version, fetch_of(session, 0, 0, true));
  REQUIRE(fresh.error_code == 0);
  CHECK(fresh.session_id != session);

  auto parked = consumer.receive_body(fe::api_key, version, std::chrono::seconds(5));
  REQUIRE(parked);
  proto::reader r(*parked);
  fe::response resp;
  resp.decode(r, version);
  CHECK(resp.error_code == 0);
  CHECK(resp.session_id == 0);  // answered without the session it no longer has
  // The replacement session is intact and usable.
  auto next = reconnected.call<fe::response>(fe::api_key, version, fetch_of(fresh.session_id, 1, 0, false));
  CHECK(next.error_code == 0);
  CHECK(next.session_id == fresh.session_id);
}
