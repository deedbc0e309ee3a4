// TxnOffsetCommit, in process: the group side alone. These tests call the handler on the broker's
// network thread with a request context of their own, with the producer check (the transaction
// coordinator's, KIP-890) replaced by one of their own or none, and end transactions through
// group_service::complete_transaction as the transaction coordinator's markers do. OffsetFetch goes over
// the wire. The whole path (InitProducerId, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) over the wire is
// in end_txn_test.cpp.
#include <catch2/catch.hpp>
#include <map>
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/write_txn_markers.hpp"
#include "common/protocol/messages/list_transactions.hpp"
#include "common/protocol/messages/describe_transactions.hpp"
#include "common/protocol/messages/end_txn.hpp"
#include "common/protocol/messages/add_partitions_to_txn.hpp"
#include "common/protocol/messages/add_offsets_to_txn.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <future>

#include "broker/handlers/handlers.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"
#include "txn_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace toc = proto::txn_offset_commit;
using common::kafka_error;
using common::wire_code;

namespace {

// Runs `make()`'s awaitable on the broker's network thread and waits for its result.
template <class Make>
auto txn_test_on_network(test::broker_fixture& b, Make make) {
  using result_t = typename decltype(make())::value_type;
  std::promise<result_t> done;
  boost::asio::co_spawn(
      b.server().io(), [&]() -> boost::asio::awaitable<void> { done.set_value(co_await make()); },
      boost::asio::detached);
  return done.get_future().get();
}

toc::response txn_test_commit(test::broker_fixture& b, int16_t version, toc::request req) {
  return txn_test_on_network(b, [&b, version, req]() mutable -> boost::asio::awaitable<toc::response> {
    proto::request_header header;
    header.api_key = toc::api_key;
    header.api_version = version;
    broker::request_context ctx{b.server(), header};
    co_return co_await broker::handlers::txn_offset_commit(ctx, req);
  });
}

common::result<void> txn_test_end(test::broker_fixture& b, int64_t producer_id, bool commit) {
  return txn_test_on_network(b, [&b, producer_id, commit]() -> boost::asio::awaitable<common::result<void>> {
    co_return co_await b.server().groups().complete_transaction(producer_id, commit);
  });
}

toc::request txn_test_request(const std::string& group, int64_t producer_id, const std::string& topic,
                              std::vector<std::pair<int32_t, int64_t>> offsets) {
  toc::request req;
  req.transactional_id = "tx";
  req.group_id = group;
  req.producer_id = producer_id;
  req.producer_epoch = 0;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  for (auto [p, o] : offsets) {
    auto& part = t.partitions.emplace_back();
    part.partition_index = p;
    part.committed_offset = o;
  }
  return req;
}

// OffsetFetch v7 of partitions 0 and 1: (offset, error) per partition.
std::vector<std::pair<int64_t, int16_t>> txn_test_fetch(test::broker_fixture& b, const std::string& group,
                                                        bool require_stable) {
  namespace of = proto::offset_fetch;
  of::request req;
  req.group_id = group;
  req.require_stable = require_stable;
  auto& t = req.topics->emplace_back();
  t.name = "t";
  t.partition_indexes = {0, 1};
  auto resp = b.call<of::response>(of::api_key, 7, req);
  REQUIRE(resp.topics.size() == 1);
  std::vector<std::pair<int64_t, int16_t>> out;
  for (const auto& p : resp.topics[0].partitions) out.emplace_back(p.committed_offset, p.error_code);
  return out;
}

// The group side alone: no producer check (the broker's checks the transaction coordinator).
void txn_test_group_side_only(test::broker_fixture& b) { b.server().groups().set_txn_producer_check(nullptr); }

}  // namespace

TEST_CASE("staged offsets stay invisible until the commit marker, require_stable answers UNSTABLE_OFFSET_COMMIT",
          "[handlers][txn_offset_commit]") {
  test::broker_fixture b;
  txn_test_group_side_only(b);
  test::create_topic(b.client(), "t", 2);
  auto resp = txn_test_commit(b, 3, txn_test_request("g", 42, "t", {{0, 10}, {1, 11}}));
  REQUIRE(resp.topics.size() == 1);
  CHECK(resp.topics[0].name == "t");
  for (const auto& p : resp.topics[0].partitions) CHECK(p.error_code == 0);

  using fetched = std::vector<std::pair<int64_t, int16_t>>;
  CHECK(txn_test_fetch(b, "g", false) == fetched{{-1, 0}, {-1, 0}});
  const int16_t unstable = wire_code(kafka_error::unstable_offset_commit);
  CHECK(txn_test_fetch(b, "g", true) == fetched{{-1, unstable}, {-1, unstable}});

  REQUIRE(txn_test_end(b, 42, true));
  CHECK(txn_test_fetch(b, "g", true) == fetched{{10, 0}, {11, 0}});

  // An aborted transaction leaves the committed offsets as they were.
  txn_test_commit(b, 3, txn_test_request("g", 43, "t", {{0, 99}}));
  REQUIRE(txn_test_end(b, 43, false));
  CHECK(txn_test_fetch(b, "g", true) == fetched{{10, 0}, {11, 0}});
}

TEST_CASE("pending transactional offsets survive a restart", "[handlers][txn_offset_commit]") {
  test::broker_fixture b;
  txn_test_group_side_only(b);
  test::create_topic(b.client(), "t", 2);
  REQUIRE(test::committed_offset(b.client(), "g", "t") == -1);
  b.call<proto::offset_commit::response>(proto::offset_commit::api_key, 8, test::commit_request("g", "", -1, "t", 5));
  txn_test_commit(b, 3, txn_test_request("g", 42, "t", {{0, 10}}));
  b.restart();
  txn_test_group_side_only(b);
  using fetched = std::vector<std::pair<int64_t, int16_t>>;
  CHECK(txn_test_fetch(b, "g", true) == fetched{{-1, wire_code(kafka_error::unstable_offset_commit)}, {-1, 0}});
  CHECK(txn_test_fetch(b, "g", false) == fetched{{5, 0}, {-1, 0}});
  // A plain commit after the restart comes later in the write order than the reloaded staging: it wins.
  b.call<proto::offset_commit::response>(proto::offset_commit::api_key, 8, test::commit_request("g", "", -1, "t", 7));
  REQUIRE(txn_test_end(b, 42, true));
  CHECK(txn_test_fetch(b, "g", true) == fetched{{7, 0}, {-1, 0}});
  b.restart();
  txn_test_group_side_only(b);
  CHECK(txn_test_fetch(b, "g", true) == fetched{{7, 0}, {-1, 0}});
}

TEST_CASE("a committed transaction's offsets are stored and outlive a restart", "[handlers][txn_offset_commit]") {
  test::broker_fixture b;
  txn_test_group_side_only(b);
  test::create_topic(b.client(), "t", 2);
  b.call<proto::offset_commit::response>(proto::offset_commit::api_key, 8, test::commit_request("g", "", -1, "t", 5));
  txn_test_commit(b, 3, txn_test_request("g", 42, "t", {{0, 10}}));
  REQUIRE(txn_test_end(b, 42, true));
  b.restart();
  txn_test_group_side_only(b);
  using fetched = std::vector<std::pair<int64_t, int16_t>>;
  CHECK(txn_test_fetch(b, "g", true) == fetched{{10, 0}, {-1, 0}});
}

TEST_CASE("TxnOffsetCommit answers per partition: unknown topics, group checks, metadata size",
          "[handlers][txn_offset_commit]") {
  test::broker_fixture b;
  txn_test_group_side_only(b);
  test::create_topic(b.client(), "t", 2);
  SECTION("unknown topic and partition, whatever the group") {
    auto req = txn_test_request("g", 1, "t", {{0, 1}, {5, 1}});
    auto& missing = req.topics.emplace_back();
    missing.name = "missing";
    missing.partitions.emplace_back().partition_index = 0;
    auto resp = txn_test_commit(b, 3, req);
    CHECK(resp.topics[0].partitions[0].error_code == 0);
    CHECK(resp.topics[0].partitions[1].error_code == wire_code(kafka_error::unknown_topic_or_partition));
    CHECK(resp.topics[1].partitions[0].error_code == wire_code(kafka_error::unknown_topic_or_partition));
  }
  SECTION("v6 names topics by id: an unknown id is UNKNOWN_TOPIC_ID") {
    const common::uuid id = b.server().topics().find("t")->record.id;
    toc::request req = txn_test_request("g", 1, "", {{0, 3}});
    req.topics[0].topic_id = id;
    auto& unknown = req.topics.emplace_back();
    unknown.topic_id = common::uuid::random();
    unknown.partitions.emplace_back().partition_index = 0;
    auto resp = txn_test_commit(b, 6, req);
    CHECK(resp.topics[0].topic_id == id);
    CHECK(resp.topics[0].partitions[0].error_code == 0);
    CHECK(resp.topics[1].partitions[0].error_code == wire_code(kafka_error::unknown_topic_id));
    REQUIRE(txn_test_end(b, 1, true));
    CHECK(test::committed_offset(b.client(), "g", "t") == 3);
  }
  SECTION("a generation for an unknown group: ILLEGAL_GENERATION before v6, GROUP_ID_NOT_FOUND from v6") {
    auto req = txn_test_request("nobody", 1, "t", {{0, 1}});
    req.generation_id_or_member_epoch = 4;
    req.member_id = "m";
    CHECK(txn_test_commit(b, 5, req).topics[0].partitions[0].error_code == wire_code(kafka_error::illegal_generation));
    req.topics[0].topic_id = b.server().topics().find("t")->record.id;  // v6 names topics by id
    CHECK(txn_test_commit(b, 6, req).topics[0].partitions[0].error_code == wire_code(kafka_error::group_id_not_found));
  }
  SECTION("an empty group id is INVALID_GROUP_ID") {
    CHECK(txn_test_commit(b, 3, txn_test_request("", 1, "t", {{0, 1}})).topics[0].partitions[0].error_code ==
          wire_code(kafka_error::invalid_group_id));
  }
  SECTION("oversized metadata is OFFSET_METADATA_TOO_LARGE for that partition only") {
    auto req = txn_test_request("g", 1, "t", {{0, 1}, {1, 2}});
    req.topics[0].partitions[1].committed_metadata = std::string(5000, 'x');
    auto resp = txn_test_commit(b, 3, req);
    CHECK(resp.topics[0].partitions[0].error_code == 0);
    CHECK(resp.topics[0].partitions[1].error_code == wire_code(kafka_error::offset_metadata_too_large));
  }
  SECTION("the transaction coordinator's producer check answers every partition") {
    std::vector<broker::group::txn_commit_producer> seen;
    b.server().groups().set_txn_producer_check(
        [&seen](const broker::group::txn_commit_producer& p) -> boost::asio::awaitable<kafka_error> {
          seen.push_back(p);
          co_return p.producer_epoch < 3 ? kafka_error::invalid_producer_epoch : kafka_error::none;
        });
    auto req = txn_test_request("g", 9, "t", {{0, 1}, {1, 1}});
    req.producer_epoch = 2;
    auto resp = txn_test_commit(b, 3, req);
    for (const auto& p : resp.topics[0].partitions)
      CHECK(p.error_code == wire_code(kafka_error::invalid_producer_epoch));
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].transactional_id == "tx");
    CHECK(seen[0].producer_id == 9);
    CHECK(seen[0].group_id == "g");
    CHECK_FALSE(b.server().groups().coordinator().has_pending_txn_offsets("g"));
    req.producer_epoch = 3;
    CHECK(txn_test_commit(b, 3, req).topics[0].partitions[0].error_code == 0);
    CHECK(b.server().groups().coordinator().has_pending_txn_offsets("g"));
    b.server().groups().set_txn_producer_check(nullptr);
  }
}

TEST_CASE("the transactional APIs are advertised with the versions Brook serves", "[handlers][txn_offset_commit]") {
  test::broker_fixture b;
  namespace av = proto::api_versions;
  av::request req;
  req.client_software_name = "brook-test";
  req.client_software_version = "1.0";
  auto resp = b.call<av::response>(av::api_key, 3, req);
  REQUIRE(resp.error_code == 0);
  std::map<int16_t, std::pair<int16_t, int16_t>> served;
  for (const auto& k : resp.api_keys) served[k.api_key] = {k.min_version, k.max_version};
  CHECK(served[toc::api_key] == std::pair<int16_t, int16_t>{0, toc::max_version});
  CHECK(served[proto::add_partitions_to_txn::api_key] ==
        std::pair<int16_t, int16_t>{0, proto::add_partitions_to_txn::max_version});
  CHECK(served[proto::add_offsets_to_txn::api_key] == std::pair<int16_t, int16_t>{0, proto::add_offsets_to_txn::max_version});
  CHECK(served[proto::end_txn::api_key] == std::pair<int16_t, int16_t>{0, proto::end_txn::max_version});
  CHECK(served.count(proto::describe_transactions::api_key));
  CHECK(served.count(proto::list_transactions::api_key));
  // What Admin.abortTransaction sends (kafka-transactions abort), from Kafka 4.0's lowest version.
  CHECK(served[proto::write_txn_markers::api_key] == std::pair<int16_t, int16_t>{1, proto::write_txn_markers::max_version});
}

TEST_CASE("with an authorizer TxnOffsetCommit needs WRITE on the transactional id, READ on the group and topic") {
  namespace t = brook::test;
  namespace toc = brook::common::protocol::txn_offset_commit;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::transactional_id, "tx", acl_operation::write),
               t::allowing(resource_type::group, "g", acl_operation::read),
               t::allowing(resource_type::topic, "t", acl_operation::read)});
  t::create_topic(b.client(), "t");
  t::create_topic(b.client(), "u");
  auto p = t::init_txn(b, "tx");
  REQUIRE(t::add_offsets(b, p, "g") == 0);
  auto commit = [&](const t::txn_producer& who, const std::string& group, const std::string& topic) {
    return b.call<toc::response>(toc::api_key, 3, t::txn_offset_commit_request(who, group, topic, 4))
        .topics.at(0)
        .partitions.at(0)
        .error_code;
  };
  CHECK(commit(t::txn_producer{"other", p.id, p.epoch}, "g", "t") ==
        wire_code(kafka_error::transactional_id_authorization_failed));
  CHECK(commit(p, "h", "t") == wire_code(kafka_error::group_authorization_failed));
  CHECK(commit(p, "g", "u") == wire_code(kafka_error::topic_authorization_failed));
  CHECK(commit(p, "g", "t") == 0);
}
