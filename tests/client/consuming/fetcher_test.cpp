// The consumer's fetching against a scripted broker on loopback: read_committed skips aborted
// transactions and control batches, an out-of-range position is reset by auto.offset.reset, and
// fetches after the first are incremental in the broker's session.
#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "brook/client/async_consumer.hpp"
#include "client/core/fake_broker.hpp"
#include "common/crc32c.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/record_batch.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
using brook::client::async_consumer;
using brook::client::consumer_record;
using brook::test::fake_broker;
using brook::test::encoded;
using brook::test::run_until_done;

brook::common::uuid fetch_topic_id() {
  brook::common::uuid id;
  id.bytes[15] = 42;
  return id;
}

// One broker (node 1) leading topic "t", partition 0; Fetch answers come from `fetch_answer`.
struct fetch_cluster {
  std::function<proto::fetch::response(const proto::fetch::request&)> fetch_answer;
  std::vector<proto::fetch::request> fetches;
  std::vector<int64_t> list_offsets_asked;
  int64_t earliest = 0, latest = 0;
  uint16_t port = 0;

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
        t.topic_id = fetch_topic_id();
        proto::metadata::response_partition p;
        p.partition_index = 0;
        p.leader_id = 1;
        p.leader_epoch = 3;
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
            list_offsets_asked.push_back(p.timestamp);
            proto::list_offsets::list_offsets_partition_response pr;
            pr.partition_index = p.partition_index;
            pr.offset = p.timestamp == -2 ? earliest : latest;
            r.topics.back().partitions.push_back(pr);
          }
        }
        return fake_broker::reply{encoded(r, h.api_version), std::nullopt};
      }
      case 1: {
        proto::fetch::request req;
        req.decode(body, h.api_version);
        fetches.push_back(req);
        auto r = fetch_answer(req);
        return fake_broker::reply{encoded(r, h.api_version), std::nullopt};
      }
      default:
        return std::nullopt;
    }
  }
};

proto::fetch::response answer(const proto::fetch::request& req, int16_t error, std::optional<proto::bytes> records,
                              int64_t high_watermark, std::vector<proto::fetch::aborted_transaction> aborted = {}) {
  proto::fetch::response r;
  r.session_id = 77;
  proto::fetch::fetchable_topic_response t;
  t.topic = "t";
  t.topic_id = fetch_topic_id();
  proto::fetch::partition_data p;
  p.partition_index = 0;
  p.error_code = error;
  p.high_watermark = high_watermark;
  p.last_stable_offset = high_watermark;
  p.log_start_offset = 0;
  if (!aborted.empty()) p.aborted_transactions = aborted;
  if (records) p.records = proto::record_set(*records);
  t.partitions.push_back(p);
  if (!req.topics.empty()) r.responses.push_back(t);  // an incremental fetch with nothing new: no partitions
  return r;
}

proto::bytes batch(int64_t base, std::vector<std::string> values, int64_t producer_id = -1, bool control = false,
                   bool commit = false) {
  brook::common::record_batch_builder::options o;
  o.base_offset = base;
  o.partition_leader_epoch = 3;
  o.producer_id = producer_id;
  o.producer_epoch = producer_id >= 0 ? 0 : -1;
  o.transactional = producer_id >= 0;
  o.control = control;
  brook::common::record_batch_builder b(o);
  if (control) {
    // Control record key: version 0, type (0 abort, 1 commit); value: version 0, coordinator epoch 0.
    b.add(std::string("\0\0\0", 3) + std::string(1, commit ? '\1' : '\0'), std::string(6, '\0'), 1000);
  } else {
    for (auto& v : values) b.add(std::nullopt, v, 1000);
  }
  return b.build();
}

brook::client::properties fetcher_props(uint16_t port, std::map<std::string, std::string> extra = {}) {
  extra.emplace("bootstrap.servers", "127.0.0.1:" + std::to_string(port));
  extra.emplace("fetch.max.wait.ms", "10");
  return brook::client::properties(extra.begin(), extra.end());
}

asio::awaitable<std::vector<consumer_record>> poll_records(async_consumer& c, size_t want) {
  std::vector<consumer_record> got;
  for (int i = 0; i < 20 && got.size() < want; ++i) {
    auto r = co_await c.poll(std::chrono::milliseconds(100));
    REQUIRE(r.ok());
    got.insert(got.end(), r->begin(), r->end());
  }
  co_return got;
}

}  // namespace

TEST_CASE("read_committed skips aborted transactions and control batches, later fetches are incremental") {
  asio::io_context io;
  fetch_cluster cluster;
  cluster.fetch_answer = [&](const proto::fetch::request& req) {
    if (req.topics.empty() || req.topics[0].partitions[0].fetch_offset != 0) return answer(req, 0, std::nullopt, 8);
    proto::bytes all;
    for (auto b : {batch(0, {"a0", "a1"}), batch(2, {"x2", "x3"}, 7), batch(4, {}, 7, true, false),
                   batch(5, {"c5", "c6"}, 8), batch(7, {}, 8, true, true)})
      all.insert(all.end(), b.begin(), b.end());
    return answer(req, 0, all, 8, {{7, 2}});
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return cluster.handle(h, body); });
  cluster.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), fetcher_props(broker.port(), {{"isolation.level", "read_committed"},
                                                                           {"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<consumer_record> got;
  std::optional<int64_t> position;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    got = co_await poll_records(**c, 4);
    // A named argument: GCC 12 destroys a braced temporary in a co_await expression twice.
    const brook::client::topic_partition tp{"t", 0};
    auto p = co_await (*c)->position(tp);
    if (p) position = *p;
    (void)co_await (*c)->poll(std::chrono::milliseconds(100));
    (void)co_await (*c)->close();
  }());
  REQUIRE(got.size() == 4);
  CHECK(got[0].value == std::optional<std::string>("a0"));
  CHECK(got[1].offset == 1);
  CHECK(got[2].offset == 5);
  CHECK(got[3].value == std::optional<std::string>("c6"));
  CHECK(got[3].leader_epoch == std::optional<int32_t>(3));
  CHECK(position == std::optional<int64_t>(8));  // past the commit marker
  CHECK(cluster.list_offsets_asked == std::vector<int64_t>{-2});
  REQUIRE(cluster.fetches.size() >= 2);
  CHECK(cluster.fetches[0].session_epoch == 0);  // full: opens a session
  CHECK(cluster.fetches[0].isolation_level == 1);
  CHECK(cluster.fetches[0].topics[0].partitions[0].current_leader_epoch == 3);
  CHECK(cluster.fetches[1].session_id == 77);  // incremental, with the moved offset
  CHECK(cluster.fetches[1].session_epoch == 1);
  REQUIRE(cluster.fetches[1].topics.size() == 1);
  CHECK(cluster.fetches[1].topics[0].partitions[0].fetch_offset == 8);
  CHECK(cluster.fetches[1].topics[0].partitions[0].last_fetched_epoch == 3);
}

TEST_CASE("read_uncommitted returns transactional records but never control records") {
  asio::io_context io;
  fetch_cluster cluster;
  cluster.fetch_answer = [&](const proto::fetch::request& req) {
    if (req.topics.empty() || req.topics[0].partitions[0].fetch_offset != 0) return answer(req, 0, std::nullopt, 5);
    proto::bytes all;
    for (auto b : {batch(0, {"x0", "x1"}, 7), batch(2, {}, 7, true, false), batch(3, {"y3"})})
      all.insert(all.end(), b.begin(), b.end());
    return answer(req, 0, all, 4);
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return cluster.handle(h, body); });
  cluster.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), fetcher_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<consumer_record> got;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    got = co_await poll_records(**c, 3);
    (void)co_await (*c)->close();
  }());
  REQUIRE(got.size() == 3);
  CHECK(got[0].offset == 0);
  CHECK(got[1].offset == 1);
  CHECK(got[2].offset == 3);
}

TEST_CASE("an out-of-range position is reset by auto.offset.reset, or is an error with none") {
  for (std::string policy : {"latest", "none"}) {
    INFO("auto.offset.reset=" << policy);
    asio::io_context io;
    fetch_cluster cluster;
    cluster.earliest = 0;
    cluster.latest = 3;
    cluster.fetch_answer = [&](const proto::fetch::request& req) {
      if (req.topics.empty()) return answer(req, 0, std::nullopt, 5);
      auto offset = req.topics[0].partitions[0].fetch_offset;
      if (offset == 100) return answer(req, 1, std::nullopt, 5);  // OFFSET_OUT_OF_RANGE
      if (offset == 3) return answer(req, 0, batch(3, {"v3", "v4"}), 5);
      return answer(req, 0, std::nullopt, 5);
    };
    fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return cluster.handle(h, body); });
    cluster.port = broker.port();
    auto c = async_consumer::create(io.get_executor(), fetcher_props(broker.port(), {{"auto.offset.reset", policy}}));
    REQUIRE(c.ok());
    REQUIRE((*c)->assign({{"t", 0}}).ok());
    REQUIRE((*c)->seek({"t", 0}, 100).ok());
    std::vector<consumer_record> got;
    std::optional<brook::common::kafka_error> error;
    run_until_done(io, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 20 && got.empty() && !error; ++i) {
        auto r = co_await (*c)->poll(std::chrono::milliseconds(100));
        if (!r) error = r.code();
        else got.insert(got.end(), r->begin(), r->end());
      }
      (void)co_await (*c)->close();
    }());
    if (policy == "latest") {
      REQUIRE(got.size() == 2);
      CHECK(got[0].offset == 3);
      CHECK(cluster.list_offsets_asked == std::vector<int64_t>{-1});
    } else {
      CHECK(got.empty());
      CHECK(error == std::optional<brook::common::kafka_error>(brook::common::kafka_error::offset_out_of_range));
    }
  }
}

TEST_CASE("records point into the fetched bytes and stay valid after the consumer is gone, compressed or not") {
  asio::io_context io;
  fetch_cluster cluster;
  cluster.fetch_answer = [&](const proto::fetch::request& req) {
    if (req.topics.empty() || req.topics[0].partitions[0].fetch_offset != 0) return answer(req, 0, std::nullopt, 4);
    // Offsets 0-1 uncompressed; 2-3 an lz4 batch, whose records live in its decompressed bytes.
    brook::common::record_batch_builder::options o;
    o.partition_leader_epoch = 3;
    brook::common::record_batch_builder plain(o);
    plain.add(std::string("k0"), std::string("value zero, longer than a short string"), 1000,
              {{"h", std::string("hv")}, {"null", std::nullopt}});
    plain.add(std::nullopt, std::nullopt, 1001);
    o.base_offset = 2;
    brook::common::record_batch_builder packed(o);
    packed.add(std::string("k2"), std::string(300, 'z'), 1002);
    packed.add(std::string("k3"), std::string("v3"), 1003);
    auto section = brook::common::compress(brook::common::compression_codec::lz4, packed.encode_records());
    REQUIRE(section.ok());
    proto::bytes all = plain.build();
    auto second = packed.build_with_records(brook::common::compression_codec::lz4, *section);
    all.insert(all.end(), second.begin(), second.end());
    return answer(req, 0, all, 4);
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return cluster.handle(h, body); });
  cluster.port = broker.port();
  std::vector<consumer_record> got;
  {
    auto c = async_consumer::create(io.get_executor(), fetcher_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
    REQUIRE(c.ok());
    REQUIRE((*c)->assign({{"t", 0}}).ok());
    run_until_done(io, [&]() -> asio::awaitable<void> {
      got = co_await poll_records(**c, 4);
      (void)co_await (*c)->close();
    }());
  }  // the consumer, its connection and every response frame's other owner are gone
  REQUIRE(got.size() == 4);
  // Copies share the bytes too: the originals go first.
  std::vector<consumer_record> copies = got;
  got.clear();
  CHECK(copies[0].topic == "t");
  CHECK(copies[0].key == std::optional<std::string_view>("k0"));
  CHECK(copies[0].value == std::optional<std::string_view>("value zero, longer than a short string"));
  REQUIRE(copies[0].headers.size() == 2);
  CHECK(copies[0].headers[0].key == "h");
  CHECK(copies[0].headers[0].value == std::optional<std::string_view>("hv"));
  CHECK(copies[0].headers[1].key == "null");
  CHECK_FALSE(copies[0].headers[1].value.has_value());
  CHECK_FALSE(copies[1].key.has_value());
  CHECK_FALSE(copies[1].value.has_value());
  CHECK(copies[2].offset == 2);
  CHECK(copies[2].key == std::optional<std::string_view>("k2"));
  CHECK(copies[2].value == std::optional<std::string_view>(std::string(300, 'z')));
  CHECK(copies[3].value == std::optional<std::string_view>("v3"));
  CHECK(copies[3].timestamp == 1003);
  for (const auto& r : copies) CHECK(r.storage != nullptr);
}

TEST_CASE("records are decoded as polls hand them out: max.poll.records across batches, positions, a seek") {
  asio::io_context io;
  fetch_cluster cluster;
  cluster.fetch_answer = [&](const proto::fetch::request& req) {
    if (req.topics.empty()) return answer(req, 0, std::nullopt, 10);
    const int64_t from = req.topics[0].partitions[0].fetch_offset;
    if (from >= 10) return answer(req, 0, std::nullopt, 10);
    // Offsets 0-4 uncompressed, 5-9 an lz4 batch; the broker answers from the batch holding `from`.
    brook::common::record_batch_builder::options o;
    o.partition_leader_epoch = 3;
    brook::common::record_batch_builder plain(o);
    for (int i = 0; i < 5; ++i) plain.add(std::nullopt, "v" + std::to_string(i), 1000 + i);
    o.base_offset = 5;
    o.partition_leader_epoch = 4;
    brook::common::record_batch_builder packed(o);
    for (int i = 5; i < 10; ++i) packed.add(std::nullopt, "v" + std::to_string(i), 1000 + i);
    auto section = brook::common::compress(brook::common::compression_codec::lz4, packed.encode_records());
    REQUIRE(section.ok());
    proto::bytes all;
    if (from < 5) all = plain.build();
    auto second = packed.build_with_records(brook::common::compression_codec::lz4, *section);
    all.insert(all.end(), second.begin(), second.end());
    return answer(req, 0, all, 10);
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return cluster.handle(h, body); });
  cluster.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), fetcher_props(broker.port(), {{"auto.offset.reset", "earliest"},
                                                                                   {"max.poll.records", "3"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<std::vector<int64_t>> polls;
  std::vector<int64_t> positions;
  std::vector<std::string> values;
  std::vector<std::optional<int32_t>> epochs;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    const brook::client::topic_partition tp{"t", 0};
    auto take = [&](const std::vector<consumer_record>& rs) {
      polls.emplace_back();
      for (const auto& r : rs) {
        polls.back().push_back(r.offset);
        values.emplace_back(r.value.value_or("?"));
        epochs.push_back(r.leader_epoch);
      }
    };
    for (int i = 0; i < 20 && polls.size() < 3; ++i) {
      auto r = co_await (*c)->poll(std::chrono::milliseconds(100));
      REQUIRE(r.ok());
      if (r->empty()) continue;
      take(*r);
      auto p = co_await (*c)->position(tp);
      positions.push_back(p ? *p : -1);
    }
    // Record 9 is still buffered: a seek drops it, and the next records come from the new position.
    REQUIRE((*c)->seek(tp, 1).ok());
    for (int i = 0; i < 20 && polls.size() < 4; ++i) {
      auto r = co_await (*c)->poll(std::chrono::milliseconds(100));
      REQUIRE(r.ok());
      if (!r->empty()) take(*r);
    }
    (void)co_await (*c)->close();
  }());
  REQUIRE(polls.size() == 4);
  CHECK(polls[0] == std::vector<int64_t>{0, 1, 2});
  CHECK(polls[1] == std::vector<int64_t>{3, 4, 5});  // across the two batches
  CHECK(polls[2] == std::vector<int64_t>{6, 7, 8});
  CHECK(positions == std::vector<int64_t>{3, 6, 9});
  CHECK(polls[3] == std::vector<int64_t>{1, 2, 3});
  CHECK(values[5] == "v5");
  CHECK(values[8] == "v8");
  CHECK(epochs[4] == std::optional<int32_t>(3));
  CHECK(epochs[5] == std::optional<int32_t>(4));
  REQUIRE(cluster.fetches.size() >= 2);
}

TEST_CASE("a record that does not decode: the records before it are handed out, then its error at each poll") {
  asio::io_context io;
  fetch_cluster cluster;
  // Three records in a batch whose header says four (offsets 0-3), with a correct CRC: the fourth is missing.
  proto::bytes bad = batch(0, {"r0", "r1", "r2"});
  bad[26] = 3;  // lastOffsetDelta (big-endian int32 at 23)
  bad[60] = 4;  // recordCount (big-endian int32 at 57)
  const uint32_t crc = brook::common::crc32c(std::span<const uint8_t>(bad).subspan(21));
  for (int i = 0; i < 4; ++i) bad[17 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  cluster.fetch_answer = [&](const proto::fetch::request& req) {
    if (req.topics.empty()) return answer(req, 0, std::nullopt, 4);
    return answer(req, 0, bad, 4);
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return cluster.handle(h, body); });
  cluster.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), fetcher_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<int64_t> got;
  std::vector<std::optional<brook::common::kafka_error>> errors;
  std::optional<int64_t> position;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 20 && errors.size() < 2; ++i) {
      auto r = co_await (*c)->poll(std::chrono::milliseconds(100));
      if (!r) {
        errors.push_back(r.code());
        continue;
      }
      for (const auto& rec : *r) got.push_back(rec.offset);
    }
    const brook::client::topic_partition tp{"t", 0};
    auto p = co_await (*c)->position(tp);
    if (p) position = *p;
    (void)co_await (*c)->close();
  }());
  CHECK(got == std::vector<int64_t>{0, 1, 2});
  REQUIRE(errors.size() == 2);  // the position stays at the record that does not decode
  CHECK(errors[0] == std::optional<brook::common::kafka_error>(brook::common::kafka_error::corrupt_message));
  CHECK(errors[1] == std::optional<brook::common::kafka_error>(brook::common::kafka_error::corrupt_message));
  CHECK(position == std::optional<int64_t>(3));
}

TEST_CASE("a poll that returns records sends the next Fetch ahead when more records wait, and the next poll takes its answer") {
  asio::io_context io;
  fetch_cluster cluster;
  cluster.fetch_answer = [&](const proto::fetch::request& req) {
    if (req.topics.empty()) return answer(req, 0, std::nullopt, 4);
    const int64_t from = req.topics[0].partitions[0].fetch_offset;
    if (from == 0) return answer(req, 0, batch(0, {"v0", "v1"}), 4);
    if (from == 2) return answer(req, 0, batch(2, {"v2", "v3"}), 4);
    return answer(req, 0, std::nullopt, 4);
  };
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return cluster.handle(h, body); });
  cluster.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), fetcher_props(broker.port(), {{"auto.offset.reset", "earliest"}}));
  REQUIRE(c.ok());
  REQUIRE((*c)->assign({{"t", 0}}).ok());
  std::vector<int64_t> first, second;
  size_t fetches_after_first = 0, fetches_after_second = 0;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 20 && first.empty(); ++i) {
      auto r = co_await (*c)->poll(std::chrono::milliseconds(100));
      REQUIRE(r.ok());
      for (const auto& rec : *r) first.push_back(rec.offset);
    }
    // Offsets 2-3 wait below the high watermark (4): their Fetch goes out without another poll.
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < 250 && cluster.fetches.size() < 2; ++i) {
      t.expires_after(std::chrono::milliseconds(20));
      co_await t.async_wait(asio::use_awaitable);
    }
    fetches_after_first = cluster.fetches.size();
    for (int i = 0; i < 20 && second.empty(); ++i) {
      auto r = co_await (*c)->poll(std::chrono::milliseconds(100));
      REQUIRE(r.ok());
      for (const auto& rec : *r) second.push_back(rec.offset);
    }
    // At the high watermark: nothing is fetched ahead (a Fetch there would wait fetch.max.wait.ms at the broker).
    fetches_after_second = cluster.fetches.size();
    (void)co_await (*c)->close();
  }());
  CHECK(first == std::vector<int64_t>{0, 1});
  CHECK(second == std::vector<int64_t>{2, 3});
  REQUIRE(fetches_after_first == 2);
  CHECK(cluster.fetches[1].topics[0].partitions[0].fetch_offset == 2);
  CHECK(fetches_after_second == 2);  // the second poll took the answer of the Fetch sent ahead
}
