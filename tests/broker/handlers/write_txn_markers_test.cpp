// WriteTxnMarkers, in process: what `kafka-transactions abort` (Admin.abortTransaction) asks of a
// partition leader. An abort marker ends a partition's open transaction (the last stable offset moves,
// read_committed lists the records as aborted, DescribeProducers no longer shows it); markers are checked
// against the partition's producer state (producer epoch, coordinator epoch) partition by partition; a
// marker for the group's __consumer_offsets partition ends the producer's staged offsets.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/add_offsets_to_txn.hpp"
#include "common/protocol/messages/describe_producers.hpp"
#include "common/protocol/messages/describe_transactions.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/txn_offset_commit.hpp"
#include "common/protocol/messages/write_txn_markers.hpp"
#include "txn_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
using common::kafka_error;
using common::wire_code;
namespace wtm = proto::write_txn_markers;

namespace {

struct marker_target {
  std::string topic;
  std::vector<int32_t> partitions;
};

wtm::response write_marker(test::broker_fixture& b, int64_t producer_id, int16_t producer_epoch, bool commit,
                           int32_t coordinator_epoch, std::vector<marker_target> targets, int16_t version = 1,
                           int8_t transaction_version = 0) {
  wtm::request req;
  auto& m = req.markers.emplace_back();
  m.producer_id = producer_id;
  m.producer_epoch = producer_epoch;
  m.transaction_result = commit;
  m.coordinator_epoch = coordinator_epoch;
  m.transaction_version = transaction_version;
  for (auto& t : targets) m.topics.push_back({std::move(t.topic), std::move(t.partitions)});
  return b.call<wtm::response>(wtm::api_key, version, req);
}

int16_t only_error(const wtm::response& resp) {
  REQUIRE(resp.markers.size() == 1);
  REQUIRE(resp.markers[0].topics.size() == 1);
  REQUIRE(resp.markers[0].topics[0].partitions.size() == 1);
  return resp.markers[0].topics[0].partitions[0].error_code;
}

int64_t last_stable_offset(test::broker_fixture& b, int32_t partition) {
  namespace lo = proto::list_offsets;
  lo::request req;
  req.replica_id = -1;
  req.isolation_level = 1;
  auto& t = req.topics.emplace_back();
  t.name = "t";
  t.partitions.push_back({partition, -1, -1});
  auto resp = b.call<lo::response>(lo::api_key, 7, req);
  REQUIRE(resp.topics.at(0).partitions.at(0).error_code == 0);
  return resp.topics.at(0).partitions.at(0).offset;
}

// The aborted transactions a read_committed fetch of t-0 from offset 0 lists: (producer id, first offset).
std::vector<std::pair<int64_t, int64_t>> aborted_in_t0(test::broker_fixture& b) {
  namespace fe = proto::fetch;
  fe::request req;
  req.replica_id = -1;
  req.max_wait_ms = 0;
  req.max_bytes = 1 << 20;
  req.isolation_level = 1;
  req.session_epoch = -1;
  auto& t = req.topics.emplace_back();
  t.topic = "t";
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.fetch_offset = 0;
  p.partition_max_bytes = 1 << 20;
  auto resp = b.call<fe::response>(fe::api_key, 11, req);
  const auto& part = resp.responses.at(0).partitions.at(0);
  REQUIRE(part.error_code == 0);
  std::vector<std::pair<int64_t, int64_t>> out;
  if (part.aborted_transactions)
    for (const auto& a : *part.aborted_transactions) out.emplace_back(a.producer_id, a.first_offset);
  return out;
}

// DescribeProducers of t-`partition`: (producer id, epoch, coordinator epoch, open transaction's start).
struct described_producer {
  int64_t id;
  int32_t epoch;
  int32_t coordinator_epoch;
  int64_t txn_start;
};
std::vector<described_producer> producers_of(test::broker_fixture& b, int32_t partition) {
  namespace dp = proto::describe_producers;
  dp::request req;
  req.topics.push_back({"t", {partition}});
  auto resp = b.call<dp::response>(dp::api_key, 0, req);
  const auto& part = resp.topics.at(0).partitions.at(0);
  REQUIRE(part.error_code == 0);
  std::vector<described_producer> out;
  for (const auto& s : part.active_producers)
    out.push_back({s.producer_id, s.producer_epoch, s.coordinator_epoch, s.current_txn_start_offset});
  return out;
}

}  // namespace

TEST_CASE("WriteTxnMarkers: an abort marker ends a partition's open transaction", "[handlers][write_txn_markers]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 2);
  auto p = test::init_txn(b, "tx");
  REQUIRE(test::add_partitions(b, p, "t", {0, 1}) == 0);
  REQUIRE(test::produce_txn(b, p, 0, 0, 3) == 0);  // t-0 offsets 0-2
  REQUIRE(test::produce_txn(b, p, 1, 0, 2) == 0);  // t-1 offsets 0-1
  REQUIRE(last_stable_offset(b, 0) == 0);
  auto before = producers_of(b, 0);
  REQUIRE(before.size() == 1);
  CHECK(before[0].id == p.id);
  CHECK(before[0].txn_start == 0);

  for (int16_t version = wtm::min_version; version <= wtm::max_version; ++version) {
    INFO("v" << version);
    // Only t-0: what `kafka-transactions abort --topic t --partition 0 --start-offset 0` sends.
    if (version == wtm::min_version) {
      auto resp = write_marker(b, p.id, p.epoch, false, before[0].coordinator_epoch, {{"t", {0}}}, version);
      REQUIRE(resp.markers.at(0).producer_id == p.id);
      CHECK(only_error(resp) == 0);
    } else {
      // Written again: a partition without an open transaction takes a marker of the current epoch.
      CHECK(only_error(write_marker(b, p.id, p.epoch, false, 0, {{"t", {0}}}, version)) == 0);
    }
  }
  CHECK(last_stable_offset(b, 0) == 5);  // the records, then two markers
  CHECK(last_stable_offset(b, 1) == 0);  // t-1's part of the transaction is still open
  CHECK(aborted_in_t0(b) == std::vector<std::pair<int64_t, int64_t>>{{p.id, 0}});
  auto after = producers_of(b, 0);
  REQUIRE(after.size() == 1);
  CHECK(after[0].txn_start == -1);
  CHECK(producers_of(b, 1).at(0).txn_start == 0);

  // The coordinator still holds the transaction: its own abort ends t-1 as well.
  REQUIRE(test::end_txn(b, p, false).error_code == 0);
  REQUIRE(test::eventually([&] { return last_stable_offset(b, 1) == 3; }));
  CHECK(last_stable_offset(b, 0) == 6);
}

TEST_CASE("WriteTxnMarkers: each partition is checked against its producer state", "[handlers][write_txn_markers]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto p = test::init_txn(b, "tx");
  REQUIRE(test::add_partitions(b, p, "t", {0}) == 0);
  REQUIRE(test::produce_txn(b, p, 0, 0, 1) == 0);

  SECTION("topics and partitions that are not here") {
    auto resp = write_marker(b, p.id, p.epoch, false, 0, {{"t", {0, 7}}, {"missing", {0}}});
    REQUIRE(resp.markers.at(0).topics.size() == 2);
    const auto& t = resp.markers[0].topics[0].partitions;
    REQUIRE(t.size() == 2);
    CHECK(t[0].partition_index == 0);
    CHECK(t[0].error_code == 0);
    CHECK(t[1].partition_index == 7);
    CHECK(t[1].error_code == wire_code(kafka_error::unknown_topic_or_partition));
    CHECK(resp.markers[0].topics[1].name == "missing");
    CHECK(resp.markers[0].topics[1].partitions.at(0).error_code == wire_code(kafka_error::unknown_topic_or_partition));
    CHECK(last_stable_offset(b, 0) == 2);
  }
  SECTION("an older producer epoch, and a transaction version 2 marker of the transaction's own epoch") {
    CHECK(only_error(write_marker(b, p.id, static_cast<int16_t>(p.epoch - 1), false, 0, {{"t", {0}}})) ==
          wire_code(kafka_error::invalid_producer_epoch));
    CHECK(only_error(write_marker(b, p.id, p.epoch, false, 0, {{"t", {0}}}, 2, 2)) ==
          wire_code(kafka_error::invalid_producer_epoch));
    CHECK(last_stable_offset(b, 0) == 0);
    // Transaction version 2 markers carry the epoch after the transaction's.
    CHECK(only_error(write_marker(b, p.id, static_cast<int16_t>(p.epoch + 1), false, 0, {{"t", {0}}}, 2, 2)) == 0);
    CHECK(last_stable_offset(b, 0) == 2);
  }
  SECTION("an older coordinator epoch") {
    constexpr int64_t other = 424242;  // a producer the coordinator never saw
    CHECK(only_error(write_marker(b, other, 0, false, 5, {{"t", {0}}})) == 0);
    CHECK(only_error(write_marker(b, other, 0, false, 3, {{"t", {0}}})) ==
          wire_code(kafka_error::transaction_coordinator_fenced));
    CHECK(only_error(write_marker(b, -1, 0, false, 5, {{"t", {0}}})) == wire_code(kafka_error::invalid_request));
    CHECK(last_stable_offset(b, 0) == 0);  // tx's transaction is untouched
  }
}

TEST_CASE("WriteTxnMarkers: a commit marker on the group's offsets partition commits the staged offsets",
          "[handlers][write_txn_markers]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t", 1);
  auto p = test::init_txn(b, "tx");
  REQUIRE(test::add_offsets(b, p, "g") == 0);
  auto commit = test::txn_offset_commit_request(p, "g", "t", 11);
  REQUIRE(b.call<proto::txn_offset_commit::response>(proto::txn_offset_commit::api_key, 3, commit)
              .topics.at(0)
              .partitions.at(0)
              .error_code == 0);
  REQUIRE(test::committed_offset(b.client(), "g", "t") == -1);

  // The partition of __consumer_offsets the transaction holds, as DescribeTransactions shows it.
  proto::describe_transactions::request describe;
  describe.transactional_ids = {"tx"};
  auto described = b.call<proto::describe_transactions::response>(proto::describe_transactions::api_key, 0, describe);
  const auto& topics = described.transaction_states.at(0).topics;
  REQUIRE(topics.size() == 1);
  REQUIRE(topics[0].topic == "__consumer_offsets");
  const int32_t offsets_partition = topics[0].partitions.at(0);

  CHECK(only_error(write_marker(b, p.id, p.epoch, true, 0, {{"__consumer_offsets", {-1}}})) ==
        wire_code(kafka_error::unknown_topic_or_partition));
  CHECK(test::committed_offset(b.client(), "g", "t") == -1);
  CHECK(only_error(write_marker(b, p.id, p.epoch, true, 0, {{"__consumer_offsets", {offsets_partition}}})) == 0);
  CHECK(test::committed_offset(b.client(), "g", "t") == 11);
}

TEST_CASE("with an authorizer WriteTxnMarkers needs ALTER or CLUSTER_ACTION on the cluster") {
  namespace t = brook::test;
  namespace wtm = brook::common::protocol::write_txn_markers;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create)});
  t::create_topic(b.client(), "t");
  wtm::request req;
  req.markers.push_back({});
  req.markers[0].producer_id = 12345;
  req.markers[0].producer_epoch = 0;
  req.markers[0].transaction_result = false;
  req.markers[0].topics.push_back({"t", {0}});
  auto refused = b.call<wtm::response>(wtm::api_key, 1, req);
  CHECK(refused.markers.at(0).topics.at(0).partitions.at(0).error_code ==
        wire_code(kafka_error::cluster_authorization_failed));
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::alter)});
  // Allowed: the marker is written (or refused for its own reasons, not for authorization).
  CHECK(b.call<wtm::response>(wtm::api_key, 1, req).markers.at(0).topics.at(0).partitions.at(0).error_code !=
        wire_code(kafka_error::cluster_authorization_failed));
}
