// The consumer's position validation (KIP-320) and wakeup() against a scripted broker on loopback: a
// leader epoch change fences the fetch, metadata shows the new epoch, the position awaits validation
// and OffsetForLeaderEpoch finds whether the log was truncated below it; a Fetch answer's diverging
// epoch does the same; wakeup() from another thread ends a blocked poll.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "brook/client/async_consumer.hpp"
#include "brook/client/consumer.hpp"
#include "client/core/fake_broker.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/offset_for_leader_epoch.hpp"
#include "common/record_batch.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
using brook::client::async_consumer;
using brook::client::consumer_record;
using brook::client::offset_and_metadata;
using brook::client::topic_partition;
using brook::common::kafka_error;
using brook::test::encoded;
using brook::test::fake_broker;
using brook::test::run_until_done;

brook::common::uuid validation_topic_id() {
  brook::common::uuid id;
  id.bytes[15] = 7;
  return id;
}

// One broker (node 1) leading "t" partition 0 at `leader_epoch`. The partition's log is `log` (one
// record per offset, with the leader epoch it was written in). A Fetch made with an older leader
// epoch is answered FENCED_LEADER_EPOCH, as Kafka does; OffsetForLeaderEpoch answers come from
// `epoch_answer`, Fetch answers may carry `diverging` instead of records.
struct scripted_leader {
  struct entry {
    int32_t epoch;
    std::string value;
  };
  std::vector<entry> log;
  int32_t leader_epoch = 3;
  std::function<proto::offset_for_leader_epoch::epoch_end_offset(const proto::offset_for_leader_epoch::offset_for_leader_partition&)>
      epoch_answer;
  std::optional<proto::fetch::epoch_end_offset> diverging;  // answered once to the next Fetch
  std::vector<proto::offset_for_leader_epoch::offset_for_leader_partition> epoch_requests;
  std::vector<proto::fetch::fetch_partition> fetched;  // every partition every Fetch asked for
  bool hang_fetches = false;
  uint16_t port = 0;

  proto::bytes records_from(int64_t offset) const {
    proto::bytes all;
    for (size_t i = static_cast<size_t>(offset); i < log.size(); ++i) {
      brook::common::record_batch_builder::options o;
      o.base_offset = static_cast<int64_t>(i);
      o.partition_leader_epoch = log[i].epoch;
      brook::common::record_batch_builder b(o);
      b.add(std::nullopt, log[i].value, 1000);
      auto bytes = b.build();
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
    return all;
  }

  std::optional<fake_broker::reply> handle(const proto::request_header& h, proto::reader& body) {
    switch (h.api_key) {
      case 18:
        return fake_broker::reply{fake_broker::api_versions_body(h.api_version), std::nullopt};
      case 3: {
        proto::metadata::response r;
        r.brokers.push_back({1, "127.0.0.1", port, std::nullopt});
        r.controller_id = 1;
        proto::metadata::response_topic t;
        t.name = "t";
        t.topic_id = validation_topic_id();
        proto::metadata::response_partition p;
        p.partition_index = 0;
        p.leader_id = 1;
        p.leader_epoch = leader_epoch;
        p.replica_nodes = {1};
        p.isr_nodes = {1};
        t.partitions.push_back(p);
        r.topics.push_back(t);
        return fake_broker::reply{encoded(r, h.api_version), std::nullopt};
      }
      case 2: {
        proto::list_offsets::request req;
        req.decode(body, h.api_version);
        proto::list_offsets::response r;
        for (const auto& t : req.topics) {
          r.topics.push_back({t.name, {}});
          for (const auto& p : t.partitions) {
            proto::list_offsets::list_offsets_partition_response pr;
            pr.partition_index = p.partition_index;
            pr.offset = p.timestamp == -2 ? 0 : static_cast<int64_t>(log.size());
            pr.leader_epoch = leader_epoch;
            r.topics.back().partitions.push_back(pr);
          }
        }
        return fake_broker::reply{encoded(r, h.api_version), std::nullopt};
      }
      case 23: {
        proto::offset_for_leader_epoch::request req;
        req.decode(body, h.api_version);
        proto::offset_for_leader_epoch::response r;
        for (const auto& t : req.topics) {
          r.topics.push_back({t.topic, {}});
          for (const auto& p : t.partitions) {
            epoch_requests.push_back(p);
            auto answer = epoch_answer(p);
            answer.partition = p.partition;
            r.topics.back().partitions.push_back(answer);
          }
        }
        return fake_broker::reply{encoded(r, h.api_version), std::nullopt};
      }
      case 1: {
        proto::fetch::request req;
        req.decode(body, h.api_version);
        if (hang_fetches && !req.topics.empty()) return std::nullopt;
        proto::fetch::response r;
        r.session_id = 0;  // no session: every fetch is a full one
        for (const auto& t : req.topics) {
          proto::fetch::fetchable_topic_response tr;
          tr.topic = "t";
          tr.topic_id = validation_topic_id();
          for (const auto& p : t.partitions) {
            fetched.push_back(p);
            proto::fetch::partition_data d;
            d.partition_index = p.partition;
            d.high_watermark = static_cast<int64_t>(log.size());
            d.last_stable_offset = d.high_watermark;
            d.log_start_offset = 0;
            if (p.current_leader_epoch >= 0 && p.current_leader_epoch < leader_epoch) {
              d.error_code = brook::common::wire_code(kafka_error::fenced_leader_epoch);
            } else if (diverging) {
              d.diverging_epoch = *std::exchange(diverging, std::nullopt);
            } else {
              d.records = proto::record_set(records_from(p.fetch_offset));
            }
            tr.partitions.push_back(d);
          }
          r.responses.push_back(tr);
        }
        return fake_broker::reply{encoded(r, h.api_version), std::nullopt};
      }
      default:
        return std::nullopt;
    }
  }
};

brook::client::properties validation_props(uint16_t port, std::map<std::string, std::string> extra = {}) {
  extra.emplace("bootstrap.servers", "127.0.0.1:" + std::to_string(port));
  extra.emplace("fetch.max.wait.ms", "10");
  extra.emplace("retry.backoff.ms", "10");
  return brook::client::properties(extra.begin(), extra.end());
}

// Polls until `want` records came, or an error (returned), or 40 polls.
asio::awaitable<brook::common::result<std::vector<consumer_record>>> poll_until(async_consumer& c, size_t want) {
  std::vector<consumer_record> got;
  for (int i = 0; i < 40 && got.size() < want; ++i) {
    auto r = co_await c.poll(std::chrono::milliseconds(100));
    if (!r) co_return r.err();
    got.insert(got.end(), r->begin(), r->end());
  }
  co_return got;
}

std::vector<std::string> values(const std::vector<consumer_record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.value ? std::string(*r.value) : std::string("<null>"));
  return out;
}

// The leader's log after a leader change that truncated it: offsets 0-2 kept from epoch 3, offsets
// 3 on written anew in epoch 4.
void truncate_and_rewrite(scripted_leader& leader) {
  leader.leader_epoch = 4;
  leader.log.resize(3);
  for (const auto* v : {"b3", "b4", "b5"}) leader.log.push_back({4, v});
}

}  // namespace

TEST_CASE("a leader change with a truncated log moves the position back to the first divergent offset") {
  asio::io_context io;
  scripted_leader leader;
  for (const auto* v : {"a0", "a1", "a2", "a3", "a4"}) leader.log.push_back({3, v});
  leader.epoch_answer = [](const proto::offset_for_leader_epoch::offset_for_leader_partition& p) {
    proto::offset_for_leader_epoch::epoch_end_offset e;
    e.leader_epoch = p.leader_epoch;
    e.end_offset = p.leader_epoch == 3 ? 3 : -1;  // epoch 3 ended at offset 3 on the new leader
    return e;
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return leader.handle(h, body); });
  leader.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), validation_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<consumer_record> before, after;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    auto first = co_await poll_until(**c, 5);
    REQUIRE(first.ok());
    before = *first;
    truncate_and_rewrite(leader);
    auto second = co_await poll_until(**c, 3);
    REQUIRE(second.ok());
    after = *second;
    (void)co_await (*c)->close();
  }());
  CHECK(values(before) == std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"});
  CHECK(before.back().leader_epoch == std::optional<int32_t>(3));
  // Fenced at offset 5 with epoch 3, validated against epoch 4, moved back to offset 3.
  REQUIRE(leader.epoch_requests.size() == 1);
  CHECK(leader.epoch_requests[0].leader_epoch == 3);
  CHECK(leader.epoch_requests[0].current_leader_epoch == 4);
  CHECK(values(after) == std::vector<std::string>{"b3", "b4", "b5"});
  CHECK(after.front().offset == 3);
  CHECK(after.front().leader_epoch == std::optional<int32_t>(4));
  // No Fetch was made while the position awaited validation: after the fenced one at 5 (epoch 3),
  // the next is at the divergent offset under epoch 4.
  std::vector<std::pair<int64_t, int32_t>> fetched;
  for (const auto& p : leader.fetched)
    if (fetched.empty() || fetched.back() != std::pair<int64_t, int32_t>{p.fetch_offset, p.current_leader_epoch})
      fetched.emplace_back(p.fetch_offset, p.current_leader_epoch);
  REQUIRE(fetched.size() >= 3);
  CHECK(fetched[0] == std::pair<int64_t, int32_t>{0, 3});
  CHECK(fetched[1] == std::pair<int64_t, int32_t>{5, 3});
  CHECK(fetched[2] == std::pair<int64_t, int32_t>{3, 4});
}

TEST_CASE("with auto.offset.reset none a truncated log is an error naming the divergent offset, until a seek") {
  asio::io_context io;
  scripted_leader leader;
  for (const auto* v : {"a0", "a1", "a2", "a3", "a4"}) leader.log.push_back({3, v});
  leader.epoch_answer = [](const proto::offset_for_leader_epoch::offset_for_leader_partition& p) {
    proto::offset_for_leader_epoch::epoch_end_offset e;
    e.leader_epoch = 3;
    e.end_offset = 3;
    return e;
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return leader.handle(h, body); });
  leader.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), validation_props(broker.port(), {{"auto.offset.reset", "none"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  REQUIRE((*c)->seek({"t", 0}, 0).ok());
  std::optional<brook::common::error> failure;
  std::vector<consumer_record> after_error, after_seek;
  size_t fetches_at_error = 0;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    auto first = co_await poll_until(**c, 5);
    REQUIRE(first.ok());
    truncate_and_rewrite(leader);
    auto second = co_await poll_until(**c, 1);
    REQUIRE_FALSE(second.ok());
    failure = second.err();
    fetches_at_error = leader.fetched.size();
    // Still awaiting validation: nothing is fetched for it, nothing returned.
    auto third = co_await (*c)->poll(std::chrono::milliseconds(200));
    REQUIRE(third.ok());
    after_error = *third;
    // The application decides: here, from the divergent offset.
    REQUIRE((*c)->seek({"t", 0}, 3).ok());
    auto fourth = co_await poll_until(**c, 3);
    REQUIRE(fourth.ok());
    after_seek = *fourth;
    (void)co_await (*c)->close();
  }());
  REQUIRE(failure);
  CHECK(failure->code == kafka_error::offset_out_of_range);
  CHECK_THAT(failure->message, Catch::Contains("t-0 at fetch offset 5") && Catch::Contains("divergent offset 3"));
  CHECK(after_error.empty());
  CHECK(leader.fetched.size() >= fetches_at_error);
  for (size_t i = fetches_at_error; i < leader.fetched.size(); ++i) CHECK(leader.fetched[i].fetch_offset != 5);
  CHECK(values(after_seek) == std::vector<std::string>{"b3", "b4", "b5"});
}

TEST_CASE("a validation answered UNKNOWN_LEADER_EPOCH is retried, and an intact log keeps the position") {
  asio::io_context io;
  scripted_leader leader;
  for (const auto* v : {"a0", "a1"}) leader.log.push_back({3, v});
  int answers = 0;
  leader.epoch_answer = [&](const proto::offset_for_leader_epoch::offset_for_leader_partition& p) {
    proto::offset_for_leader_epoch::epoch_end_offset e;
    if (answers++ == 0) {
      e.error_code = brook::common::wire_code(kafka_error::unknown_leader_epoch);
      return e;
    }
    e.leader_epoch = 3;
    e.end_offset = 2;  // epoch 3 ended where our position is: nothing was lost
    return e;
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return leader.handle(h, body); });
  leader.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), validation_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<consumer_record> after;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    auto first = co_await poll_until(**c, 2);
    REQUIRE(first.ok());
    leader.leader_epoch = 4;
    leader.log.push_back({4, "b2"});
    auto second = co_await poll_until(**c, 1);
    REQUIRE(second.ok());
    after = *second;
    (void)co_await (*c)->close();
  }());
  CHECK(leader.epoch_requests.size() == 2);
  CHECK(values(after) == std::vector<std::string>{"b2"});
  CHECK(after.front().offset == 2);
}

TEST_CASE("a seek with a leader epoch is validated before fetching") {
  asio::io_context io;
  scripted_leader leader;
  for (const auto* v : {"a0", "a1", "a2"}) leader.log.push_back({3, v});
  for (const auto* v : {"b3", "b4"}) leader.log.push_back({4, v});
  leader.leader_epoch = 4;
  leader.epoch_answer = [](const proto::offset_for_leader_epoch::offset_for_leader_partition& p) {
    proto::offset_for_leader_epoch::epoch_end_offset e;
    e.leader_epoch = 3;
    e.end_offset = 3;
    return e;
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return leader.handle(h, body); });
  leader.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), validation_props(broker.port(), {{"auto.offset.reset", "latest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<consumer_record> got;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    // Offset 4 after a record of epoch 3 (a position from another replica's history). Sought before
    // metadata is known, as a committed offset restored with its epoch: validated once it is.
    const topic_partition tp{"t", 0};
    const offset_and_metadata position{4, 3, ""};
    REQUIRE((*c)->seek(tp, position).ok());
    auto r = co_await poll_until(**c, 2);
    REQUIRE(r.ok());
    got = *r;
    (void)co_await (*c)->close();
  }());
  REQUIRE(leader.epoch_requests.size() == 1);
  CHECK(leader.epoch_requests[0].leader_epoch == 3);
  CHECK(leader.epoch_requests[0].current_leader_epoch == 4);
  REQUIRE_FALSE(leader.fetched.empty());
  CHECK(leader.fetched.front().fetch_offset == 3);  // the divergent offset, not 4 nor the end (latest)
  CHECK(values(got) == std::vector<std::string>{"b3", "b4"});
}

TEST_CASE("a Fetch answer's diverging epoch moves the position back to the divergent offset") {
  asio::io_context io;
  scripted_leader leader;
  for (const auto* v : {"a0", "a1", "a2", "a3", "a4"}) leader.log.push_back({3, v});
  leader.epoch_answer = [](const proto::offset_for_leader_epoch::offset_for_leader_partition&) {
    return proto::offset_for_leader_epoch::epoch_end_offset{};
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return leader.handle(h, body); });
  leader.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), validation_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<consumer_record> after;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    auto first = co_await poll_until(**c, 5);
    REQUIRE(first.ok());
    // Same leader epoch in metadata; the broker itself says epoch 3 ends at 3 in its log.
    leader.log.resize(3);
    for (const auto* v : {"b3", "b4"}) leader.log.push_back({3, v});
    leader.diverging = proto::fetch::epoch_end_offset{3, 3};
    auto second = co_await poll_until(**c, 2);
    REQUIRE(second.ok());
    after = *second;
    (void)co_await (*c)->close();
  }());
  CHECK(leader.epoch_requests.empty());
  CHECK(values(after) == std::vector<std::string>{"b3", "b4"});
  bool asked_with_last_epoch = false;
  for (const auto& p : leader.fetched)
    if (p.fetch_offset == 5 && p.last_fetched_epoch == 3) asked_with_last_epoch = true;
  CHECK(asked_with_last_epoch);
}

TEST_CASE("wakeup from another thread ends a blocked poll with the error wakeup, once") {
  asio::io_context io;
  scripted_leader leader;
  leader.log.push_back({3, "a0"});
  leader.hang_fetches = true;
  std::mutex m;
  std::condition_variable cv;
  bool fetch_seen = false;
  leader.epoch_answer = [](const proto::offset_for_leader_epoch::offset_for_leader_partition&) {
    return proto::offset_for_leader_epoch::epoch_end_offset{};
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) {
    if (h.api_key == 1) {
      std::lock_guard lock(m);
      fetch_seen = true;
      cv.notify_all();
    }
    return leader.handle(h, body);
  });
  leader.port = broker.port();
  auto work = asio::make_work_guard(io);
  std::thread broker_thread([&] { io.run(); });

  auto c = brook::client::consumer::create(validation_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  // Woken before any poll: the next call returns wakeup, the one after it does not.
  (*c)->wakeup();
  auto early = (*c)->poll(std::chrono::milliseconds(10));
  REQUIRE_FALSE(early.ok());
  CHECK(early.code() == kafka_error::wakeup);

  std::optional<brook::common::result<std::vector<consumer_record>>> blocked;
  const auto started = std::chrono::steady_clock::now();
  std::thread poller([&] { blocked.emplace((*c)->poll(std::chrono::seconds(60))); });
  {
    std::unique_lock lock(m);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return fetch_seen; }));
  }
  (*c)->wakeup();
  poller.join();
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE(blocked);
  REQUIRE_FALSE(blocked->ok());
  CHECK(blocked->code() == kafka_error::wakeup);
  CHECK(took < std::chrono::seconds(10));
  // Consumed: the next poll is an ordinary one (its Fetch is still out, so it returns nothing).
  auto next = (*c)->poll(std::chrono::milliseconds(50));
  CHECK(next.ok());
  // commit_sync and position are woken too.
  (*c)->wakeup();
  auto position = (*c)->position({"t", 0}, std::chrono::seconds(5));
  CHECK(position.code() == kafka_error::wakeup);
  CHECK((*c)->close(std::chrono::milliseconds(500)).ok());
  c->reset();
  work.reset();
  io.stop();
  broker_thread.join();
}
