// The producer end to end against a scripted broker on loopback (tests/client/core/fake_broker.hpp): what
// goes into Produce requests (acks, producer id, epoch, sequences) and how the producer reacts to each answer
// (retries, KIP-360 epoch bumps, duplicates, fatal and final errors, delivery timeouts).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>

#include "brook/client/producer.hpp"
#include "client/core/fake_broker.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/record_batch.hpp"

namespace {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
using brook::client::delivery_report;
using brook::client::producer;
using brook::client::record;
using brook::common::kafka_error;
using brook::test::fake_broker;

// One Produce request as the broker saw it (one partition of topic "t").
struct seen_produce {
  int16_t version = -1;
  std::string topic;                 // v0-12
  brook::common::uuid topic_id{};    // v13+
  int16_t acks = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;
};

// What the broker answers to the n-th Produce: an error code and a base offset.
struct produce_answer {
  int16_t error_code = 0;
  int64_t base_offset = 0;
  int64_t log_start_offset = 0;
  bool silent = false;  // no answer at all
};

// A one-broker cluster with topic "t" (one partition) on its own thread.
class produce_cluster {
 public:
  explicit produce_cluster(std::vector<produce_answer> answers)
      : answers_(std::move(answers)),
        broker_(io_, [this](const proto::request_header& h, proto::reader& body) { return handle(h, body); }),
        thread_([this] { io_.run(); }) {}
  ~produce_cluster() {
    io_.stop();
    thread_.join();
  }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(broker_.port()); }
  std::vector<seen_produce> produces() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  // The Produce requests seen once there are at least n (or `within` has passed): with acks=0 the client
  // is done when the request is written, before the broker has read it.
  std::vector<seen_produce> produces_once(size_t n, std::chrono::milliseconds within = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    produced_.wait_for(lock, within, [&] { return seen_.size() >= n; });
    return seen_;
  }
  int init_producer_id_calls() {
    std::lock_guard lock(mutex_);
    return init_calls_;
  }
  int metadata_calls() {
    std::lock_guard lock(mutex_);
    return metadata_calls_;
  }
  // Metadata shows topic "t" with this many partitions from now on.
  void set_partition_count(int32_t n) {
    std::lock_guard lock(mutex_);
    partition_count_ = n;
  }
  // Metadata gives topic "t" this id from now on (zero: none, as a broker before Kafka 2.8).
  void set_topic_id(brook::common::uuid id) {
    std::lock_guard lock(mutex_);
    topic_id_ = id;
  }
  // Closes every connection the broker accepted (the client sees them lost).
  void drop_connections() {
    std::promise<void> done;
    asio::post(io_, [&] {
      broker_.drop_connections();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  std::optional<fake_broker::reply> handle(const proto::request_header& h, proto::reader& body) {
    std::lock_guard lock(mutex_);
    proto::writer w;
    if (h.api_key == proto::api_versions::api_key)
      return fake_broker::reply{fake_broker::api_versions_body(h.api_version), std::nullopt};
    if (h.api_key == proto::metadata::api_key) {
      ++metadata_calls_;
      proto::metadata::response resp;
      proto::metadata::response_broker b;
      b.node_id = 1;
      b.host = "127.0.0.1";
      b.port = broker_.port();
      resp.brokers.push_back(b);
      resp.controller_id = 1;
      proto::metadata::response_topic t;
      t.name = "t";
      t.topic_id = topic_id_;
      for (int32_t i = 0; i < partition_count_; ++i) {
        proto::metadata::response_partition p;
        p.partition_index = i;
        p.leader_id = 1;
        p.leader_epoch = 3;
        p.replica_nodes = {1};
        p.isr_nodes = {1};
        t.partitions.push_back(p);
      }
      resp.topics.push_back(t);
      resp.encode(w, h.api_version);
      return fake_broker::reply{w.take(), std::nullopt};
    }
    if (h.api_key == proto::init_producer_id::api_key) {
      ++init_calls_;
      proto::init_producer_id::response resp;
      resp.producer_id = 4242;
      resp.producer_epoch = 0;
      resp.encode(w, h.api_version);
      return fake_broker::reply{w.take(), std::nullopt};
    }
    if (h.api_key == proto::produce::api_key) {
      proto::produce::request req;
      req.decode(body, h.api_version);
      seen_produce seen;
      seen.version = h.api_version;
      seen.acks = req.acks;
      int32_t partition = 0;
      for (const auto& t : req.topic_data) {
        seen.topic = t.name;
        seen.topic_id = t.topic_id;
        for (const auto& p : t.partition_data) {
          partition = p.index;
          auto view = brook::common::record_batch_view::parse(p.records->memory());
          REQUIRE(view.ok());
          seen.producer_id = view->producer_id();
          seen.producer_epoch = view->producer_epoch();
          seen.base_sequence = view->base_sequence();
          seen.record_count = view->record_count();
        }
      }
      const size_t n = seen_.size();
      seen_.push_back(seen);
      produced_.notify_all();
      const produce_answer answer = n < answers_.size() ? answers_[n] : produce_answer{0, next_offset_, 0};
      if (answer.silent || req.acks == 0) return std::nullopt;
      if (answer.error_code == 0) next_offset_ = answer.base_offset + seen.record_count;
      proto::produce::response resp;
      proto::produce::topic_produce_response t;
      t.name = seen.topic;  // the answer names the topic as the request did (v13+: by id)
      t.topic_id = seen.topic_id;
      proto::produce::partition_produce_response p;
      p.index = partition;
      p.error_code = answer.error_code;
      p.base_offset = answer.error_code == 0 ? answer.base_offset : -1;
      p.log_start_offset = answer.log_start_offset;
      t.partition_responses.push_back(p);
      resp.responses.push_back(t);
      resp.encode(w, h.api_version);
      return fake_broker::reply{w.take(), std::nullopt};
    }
    return std::nullopt;
  }

  std::mutex mutex_;
  std::vector<produce_answer> answers_;
  std::vector<seen_produce> seen_;
  std::condition_variable produced_;
  int init_calls_ = 0;
  int metadata_calls_ = 0;
  int32_t partition_count_ = 1;
  brook::common::uuid topic_id_{};
  int64_t next_offset_ = 0;
  asio::io_context io_;
  fake_broker broker_;
  std::thread thread_;
};

std::unique_ptr<producer> make(produce_cluster& cluster, brook::client::properties extra = {}) {
  brook::client::properties props{{"bootstrap.servers", cluster.bootstrap()},
                                  {"linger.ms", "0"},
                                  {"retry.backoff.ms", "10"},
                                  {"retry.backoff.max.ms", "10"}};
  for (const auto& [k, v] : extra) props[k] = v;
  auto p = producer::create(props);
  REQUIRE(p.ok());
  return std::move(*p);
}

record value(std::string v) { return record{.topic = std::string("t"), .value = std::move(v)}; }

}  // namespace

TEST_CASE("producer: an idempotent batch is retried with the same id, epoch and sequence", "[producing][engine]") {
  produce_cluster cluster({{6, 0}, {7, 0}, {0, 100}});  // NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, then ok
  auto p = make(cluster);
  auto report = p->send_sync(value("a"));
  INFO(report.error.message);
  REQUIRE(report.ok());
  CHECK(report.offset == 100);
  CHECK(report.partition == 0);
  auto second = p->send_sync(value("b"));
  REQUIRE(second.ok());
  CHECK(second.offset == 101);
  p->close();
  auto seen = cluster.produces();
  REQUIRE(seen.size() == 4);
  for (int i = 0; i < 3; ++i) {
    CHECK(seen[i].acks == -1);
    CHECK(seen[i].producer_id == 4242);
    CHECK(seen[i].producer_epoch == 0);
    CHECK(seen[i].base_sequence == 0);
  }
  CHECK(seen[3].base_sequence == 1);
  CHECK(cluster.init_producer_id_calls() == 1);
}

TEST_CASE("producer: Produce v13 names the topic by the id Metadata gave, and reads the answer by it",
          "[producing][engine]") {
  produce_cluster cluster({{0, 40}, {6, 0}, {0, 41}});  // ok, then NOT_LEADER_OR_FOLLOWER and ok
  const brook::common::uuid id{{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6}};
  cluster.set_topic_id(id);
  auto p = make(cluster);
  auto first = p->send_sync(value("a"));
  INFO(first.error.message);
  REQUIRE(first.ok());
  CHECK(first.offset == 40);
  auto second = p->send_sync(value("b"));
  REQUIRE(second.ok());
  CHECK(second.offset == 41);
  p->close();
  auto seen = cluster.produces();
  REQUIRE(seen.size() == 3);
  for (const auto& s : seen) {
    CHECK(s.version == proto::produce::max_version);
    CHECK(s.version >= 13);
    CHECK(s.topic_id == id);
    CHECK(s.topic.empty());  // not on the wire from v13
  }
}

TEST_CASE("producer: without the topic's id Produce stays at v12 and names the topic", "[producing][engine]") {
  produce_cluster cluster({});  // Metadata gives no topic id
  auto p = make(cluster);
  REQUIRE(p->send_sync(value("a")).ok());
  p->close();
  auto seen = cluster.produces();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].version == 12);
  CHECK(seen[0].topic == "t");
}

TEST_CASE("producer: OUT_OF_ORDER_SEQUENCE_NUMBER bumps the epoch and restarts the sequence", "[producing][engine]") {
  produce_cluster cluster({{0, 0}, {45, 0}, {0, 1}});
  auto p = make(cluster);
  REQUIRE(p->send_sync(value("a")).ok());
  auto report = p->send_sync(value("b"));  // sequence 1 is refused as out of order
  INFO(report.error.message);
  REQUIRE(report.ok());
  p->close();
  auto seen = cluster.produces();
  REQUIRE(seen.size() == 3);
  CHECK(seen[1].producer_epoch == 0);
  CHECK(seen[1].base_sequence == 1);
  CHECK(seen[2].producer_epoch == 1);  // bumped locally (KIP-360), no new InitProducerId
  CHECK(seen[2].base_sequence == 0);
  CHECK(cluster.init_producer_id_calls() == 1);
}

TEST_CASE("producer: DUPLICATE_SEQUENCE_NUMBER is success without an offset", "[producing][engine]") {
  produce_cluster cluster({{46, 0}});
  auto p = make(cluster);
  auto report = p->send_sync(value("a"));
  REQUIRE(report.ok());
  CHECK(report.offset == -1);
  p->close();
}

TEST_CASE("producer: a non-retriable error fails the records", "[producing][engine]") {
  produce_cluster cluster({{87, 0}});  // INVALID_RECORD
  auto p = make(cluster);
  auto report = p->send_sync(value("a"));
  CHECK(report.error.code == kafka_error::invalid_record);
  CHECK(report.topic == "t");
  // The producer goes on (with a new epoch for the partition).
  auto next = p->send_sync(value("b"));
  INFO(next.error.message);
  CHECK(next.ok());
  p->close();
  auto seen = cluster.produces();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].producer_epoch == 1);
  CHECK(seen[1].base_sequence == 0);
}

TEST_CASE("producer: retries stop at retries", "[producing][engine]") {
  produce_cluster cluster({{6, 0}, {6, 0}, {6, 0}, {6, 0}});
  auto p = make(cluster, {{"retries", "2"}, {"enable.idempotence", "false"}});
  auto report = p->send_sync(value("a"));
  CHECK(report.error.code == kafka_error::not_leader_or_follower);
  p->close();
  auto seen = cluster.produces();
  CHECK(seen.size() == 3);
  CHECK(seen[0].producer_id == -1);  // not idempotent: no producer id, no sequence
  CHECK(seen[0].base_sequence == -1);
}

TEST_CASE("producer: acks=0 does not wait for an answer", "[producing][engine]") {
  produce_cluster cluster({});
  auto p = make(cluster, {{"acks", "0"}});
  CHECK_FALSE(p->idempotent());
  auto report = p->send_sync(value("a"));
  REQUIRE(report.ok());
  CHECK(report.offset == -1);
  p->close();
  auto seen = cluster.produces_once(1);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].acks == 0);
}

TEST_CASE("producer: acks=1 is sent as such", "[producing][engine]") {
  produce_cluster cluster({});
  auto p = make(cluster, {{"acks", "1"}});
  REQUIRE(p->send_sync(value("a")).ok());
  p->close();
  REQUIRE(cluster.produces().size() == 1);
  CHECK(cluster.produces()[0].acks == 1);
}

TEST_CASE("producer: records expire after delivery.timeout.ms", "[producing][engine]") {
  produce_cluster cluster({{0, 0, 0, true}, {0, 0, 0, true}, {0, 0, 0, true}, {0, 0, 0, true}, {0, 0, 0, true},
                            {0, 0, 0, true}, {0, 0, 0, true}, {0, 0, 0, true}});
  auto p = make(cluster, {{"request.timeout.ms", "200"}, {"delivery.timeout.ms", "500"}});
  const auto start = std::chrono::steady_clock::now();
  auto report = p->send_sync(value("a"));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(report.error.code == kafka_error::request_timed_out);
  CHECK(took >= std::chrono::milliseconds(450));
  CHECK(took < std::chrono::seconds(5));
  p->close(std::chrono::milliseconds(2000));
}

TEST_CASE("producer: flush waits for every record, close refuses later sends", "[producing][engine]") {
  produce_cluster cluster({});
  auto p = make(cluster, {{"linger.ms", "10000"}});
  std::atomic<int> delivered{0};
  for (int i = 0; i < 10; ++i)
    REQUIRE(p->send(value(std::to_string(i)), [&](const delivery_report& r) { delivered += r.ok(); }).ok());
  REQUIRE(p->flush().ok());  // linger.ms is long: flush sends now
  CHECK(delivered == 10);
  p->close();
  CHECK_FALSE(p->send(value("late")).ok());
  CHECK_FALSE(p->flush().ok());
}

TEST_CASE("producer: a lost connection means new metadata and a retry with the same sequence",
          "[producing][engine]") {
  produce_cluster cluster({{0, 0, 0, true}});  // the first Produce gets no answer
  auto p = make(cluster);
  auto pending = p->send_future(value("a"));
  for (int i = 0; i < 200 && cluster.produces().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(cluster.produces().size() == 1);
  const int metadata_before = cluster.metadata_calls();
  cluster.drop_connections();
  REQUIRE(pending.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto report = pending.get();
  INFO(report.error.message);
  REQUIRE(report.ok());
  p->close();
  auto seen = cluster.produces();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].base_sequence == seen[0].base_sequence);
  CHECK(seen[1].producer_epoch == seen[0].producer_epoch);
  CHECK(cluster.metadata_calls() > metadata_before);
}

TEST_CASE("producer: records that cannot be sent are refused at send()", "[producing][engine]") {
  produce_cluster cluster({});
  auto p = make(cluster, {{"max.block.ms", "500"}});
  CHECK(p->send(record{}).code() == kafka_error::invalid_topic_exception);
  CHECK(p->send(record{.topic = "t", .timestamp = -5}).code() == kafka_error::invalid_timestamp);
  CHECK(p->send(record{.topic = "t", .partition = -1}).code() == kafka_error::unknown_topic_or_partition);
  // A partition the topic does not have: no metadata shows it within max.block.ms.
  CHECK(p->send(record{.topic = "t", .partition = 7}).code() == kafka_error::request_timed_out);
  auto big = p->send(record{.topic = "t", .value = std::string(2 << 20, 'x')});
  CHECK(big.code() == kafka_error::message_too_large);
  p->close();
}

TEST_CASE("producer: a partition the cached metadata lacks makes send() ask for metadata again",
          "[producing][engine]") {
  produce_cluster cluster({});
  auto p = make(cluster, {{"max.block.ms", "10000"}});
  auto first = p->send_future(record{.topic = "t", .partition = 0, .value = std::string("a")}).get();
  REQUIRE(first.error.code == kafka_error::none);
  const int calls_before = cluster.metadata_calls();
  // The topic gained partitions (or was recreated with more) while the producer's picture was complete.
  cluster.set_partition_count(3);
  auto second = p->send_future(record{.topic = "t", .partition = 2, .value = std::string("b")}).get();
  CHECK(second.error.code == kafka_error::none);
  CHECK(second.partition == 2);
  CHECK(cluster.metadata_calls() > calls_before);
  p->close();
}

TEST_CASE("producer: configuration errors come back from create", "[producing][engine]") {
  auto p = producer::create({{"bootstrap.servers", "127.0.0.1:1"}, {"lingerms", "1"}});
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().message.find("lingerms") != std::string::npos);
}

TEST_CASE("producer: a batch refused as too large is split and sent again", "[producing][engine]") {
  produce_cluster cluster({{10, 0}});  // MESSAGE_TOO_LARGE for the first Produce
  // One request at a time, so the order of the requests is the order of the sequences.
  auto p = make(cluster, {{"compression.type", "gzip"},
                          {"batch.size", "1000"},
                          {"linger.ms", "50"},
                          {"max.in.flight.requests.per.connection", "1"}});
  REQUIRE(p->idempotent());
  std::vector<std::future<delivery_report>> reports;
  for (int i = 0; i < 40; ++i) reports.push_back(p->send_future(value(std::string(100, 'a' + i % 26))));
  std::vector<int64_t> offsets;
  for (auto& f : reports) {
    auto r = f.get();
    INFO(r.error.message);
    REQUIRE(r.ok());
    offsets.push_back(r.offset);
  }
  p->close();
  auto seen = cluster.produces();
  REQUIRE(seen.size() >= 2);
  CHECK(seen[0].record_count > 1);
  CHECK(seen[1].base_sequence == 0);  // the refused records again, with their sequences
  int32_t next_sequence = 0;
  int records = 0;
  for (size_t i = 1; i < seen.size(); ++i) {
    CHECK(seen[i].producer_epoch == 0);
    CHECK(seen[i].base_sequence == next_sequence);
    next_sequence += seen[i].record_count;
    records += seen[i].record_count;
  }
  CHECK(records == 40);
  CHECK(std::is_sorted(offsets.begin(), offsets.end()));
}
