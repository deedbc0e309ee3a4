// Commits and committed-offset lookups against a scripted coordinator on loopback: OffsetCommit and
// OffsetFetch v10 name topics by the ids the client learnt from Metadata (as Java's consumer does when
// it knows every id), an id the broker does not know (UNKNOWN_TOPIC_ID: the topic was created again)
// sends the client for fresh metadata and a retry, and a topic without a known id is named at v9.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "brook/client/async_consumer.hpp"
#include "client/core/fake_broker.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/offset_commit.hpp"
#include "common/protocol/messages/offset_fetch.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
namespace oc = proto::offset_commit;
namespace of = proto::offset_fetch;
using brook::client::async_consumer;
using brook::client::offset_and_metadata;
using brook::client::topic_partition;
using brook::common::kafka_error;
using brook::common::uuid;
using brook::common::wire_code;
using brook::test::encoded;
using brook::test::fake_broker;
using brook::test::run_until_done;

uuid topic_id_of(uint8_t n) {
  uuid id;
  id.bytes[0] = n;
  return id;
}

// Topic "t" has id 1 until `recreated`, then id 2; the coordinator stores commits by topic name.
struct commit_script {
  uint16_t port = 0;
  bool recreated = false;
  std::map<std::pair<std::string, int32_t>, int64_t> committed;
  std::vector<std::pair<int16_t, oc::request>> commits;  // version, request
  std::vector<std::pair<int16_t, of::request>> fetches;

  uuid current_id() const { return recreated ? topic_id_of(2) : topic_id_of(1); }
  // The topic a request names: by id from v10 (empty when the id is not the current one).
  std::string topic_of(int16_t version, const std::string& name, const uuid& id) const {
    if (version < 10) return name;
    return id == current_id() ? "t" : "";
  }

  std::optional<fake_broker::reply> handle(const proto::request_header& h, proto::reader& body) {
    auto reply = [&](const auto& message) { return fake_broker::reply{encoded(message, h.api_version), std::nullopt}; };
    switch (h.api_key) {
      case 18:
        return fake_broker::reply{fake_broker::api_versions_body(h.api_version), std::nullopt};
      case 3: {
        proto::metadata::response r;
        r.brokers.push_back({1, "127.0.0.1", port, std::nullopt});
        proto::metadata::response_topic t;
        t.name = "t";
        t.topic_id = current_id();
        t.partitions.push_back({0, 0, 1, 0, {1}, {1}, {}});
        r.topics.push_back(t);
        return reply(r);
      }
      case 10: {
        proto::find_coordinator::request req;
        req.decode(body, h.api_version);
        proto::find_coordinator::response r;
        for (const auto& key : req.coordinator_keys) r.coordinators.push_back({key, 1, "127.0.0.1", port, 0, std::nullopt});
        return reply(r);
      }
      case 8: {
        oc::request req;
        req.decode(body, h.api_version);
        commits.emplace_back(h.api_version, req);
        oc::response r;
        for (const auto& t : req.topics) {
          auto& rt = r.topics.emplace_back();
          rt.name = t.name;
          rt.topic_id = t.topic_id;
          const std::string topic = topic_of(h.api_version, t.name, t.topic_id);
          for (const auto& p : t.partitions) {
            auto& rp = rt.partitions.emplace_back();
            rp.partition_index = p.partition_index;
            if (topic.empty()) rp.error_code = wire_code(kafka_error::unknown_topic_id);
            else committed[{topic, p.partition_index}] = p.committed_offset;
          }
        }
        return reply(r);
      }
      case 9: {
        of::request req;
        req.decode(body, h.api_version);
        fetches.emplace_back(h.api_version, req);
        of::response r;
        auto& g = r.groups.emplace_back();
        g.group_id = req.groups.at(0).group_id;
        for (const auto& t : *req.groups.at(0).topics) {
          auto& rt = g.topics.emplace_back();
          rt.name = t.name;
          rt.topic_id = t.topic_id;
          const std::string topic = topic_of(h.api_version, t.name, t.topic_id);
          for (int32_t p : t.partition_indexes) {
            auto it = committed.find({topic, p});
            const int16_t error = topic.empty() ? wire_code(kafka_error::unknown_topic_id) : int16_t{0};
            rt.partitions.push_back({p, it == committed.end() ? -1 : it->second, -1, std::string(), error});
          }
        }
        return reply(r);
      }
      case 2: {  // ListOffsets: 0 everywhere
        proto::list_offsets::request req;
        req.decode(body, h.api_version);
        proto::list_offsets::response r;
        for (const auto& t : req.topics) {
          r.topics.push_back({t.name, {}});
          for (const auto& p : t.partitions) {
            proto::list_offsets::list_offsets_partition_response pr;
            pr.partition_index = p.partition_index;
            pr.offset = 0;
            r.topics.back().partitions.push_back(pr);
          }
        }
        return reply(r);
      }
      case 1: {  // Fetch: nothing new
        proto::fetch::request req;
        req.decode(body, h.api_version);
        return reply(proto::fetch::response{});
      }
      default:
        return std::nullopt;
    }
  }
};

}  // namespace

TEST_CASE("commits name topics by id at v10, and a topic created again is committed under its new id") {
  asio::io_context io;
  commit_script s;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& body) { return s.handle(h, body); });
  s.port = broker.port();
  auto c = async_consumer::create(io.get_executor(), {{"bootstrap.servers", "127.0.0.1:" + std::to_string(broker.port())},
                                                      {"group.id", "g"},
                                                      {"enable.auto.commit", "false"},
                                                      {"fetch.max.wait.ms", "10"}});
  REQUIRE(c.ok());
  const topic_partition t0{"t", 0}, u0{"u", 0};
  REQUIRE((*c)->assign({t0}).ok());
  bool committed_ok = false, other_ok = false;
  std::optional<int64_t> read_back;
  run_until_done(io, [&]() -> asio::awaitable<void> {
    (void)co_await (*c)->poll(std::chrono::milliseconds(200));  // the client learns "t"'s id (1)
    s.recreated = true;                                        // "t" is now id 2
    // Named optionals: no temporaries inside a co_await expression (see async_consumer.hpp).
    std::optional<brook::client::topic_partition_offsets> offsets(std::in_place);
    (*offsets)[t0] = offset_and_metadata{5, std::nullopt, "m"};
    committed_ok = (co_await (*c)->commit(offsets)).ok();
    std::set<topic_partition> asked{t0};
    auto got = co_await (*c)->committed(asked);
    if (got && got->count(t0) && got->at(t0)) read_back = got->at(t0)->offset;
    std::optional<brook::client::topic_partition_offsets> other(std::in_place);
    (*other)[u0] = offset_and_metadata{1, std::nullopt, ""};
    other_ok = (co_await (*c)->commit(other)).ok();
    (void)co_await (*c)->close();
  }());
  CHECK(committed_ok);
  CHECK(other_ok);
  CHECK(read_back == std::optional<int64_t>(5));
  CHECK(s.committed[{"t", 0}] == 5);
  CHECK(s.committed[{"u", 0}] == 1);
  // The commit of "t": v10 with the id the client knew, refused; then v10 with the new id.
  REQUIRE(s.commits.size() == 3);
  CHECK(s.commits[0].first == 10);
  CHECK(s.commits[0].second.topics.at(0).topic_id == topic_id_of(1));
  CHECK(s.commits[1].first == 10);
  CHECK(s.commits[1].second.topics.at(0).topic_id == topic_id_of(2));
  // "u" has no id the client knows: named, at v9.
  CHECK(s.commits[2].first == 9);
  CHECK(s.commits[2].second.topics.at(0).name == "u");
  // Committed offsets are read by id as well.
  REQUIRE_FALSE(s.fetches.empty());
  CHECK(s.fetches.back().first == 10);
  CHECK(s.fetches.back().second.groups.at(0).topics->at(0).topic_id == topic_id_of(2));
}
