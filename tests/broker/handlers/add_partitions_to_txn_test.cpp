// AddPartitionsToTxn: v0-3 from a transactional producer (unknown partitions refuse the whole request,
// a fenced or unknown producer gets Kafka's errors per version), and v4+'s batched form with
// verify_only, as partition leaders send it.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "txn_test_util.hpp"
#include "acl_test_util.hpp"

namespace proto = brook::common::protocol;
namespace apt = proto::add_partitions_to_txn;
using brook::common::kafka_error;
using brook::common::wire_code;

TEST_CASE("AddPartitionsToTxn adds existing partitions, an unknown one refuses the whole request",
          "[handlers][add_partitions_to_txn]") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t", 2);
  auto p = brook::test::init_txn(b, "tx");
  CHECK(p.epoch == 0);

  apt::request req;
  req.v3_and_below_transactional_id = "tx";
  req.v3_and_below_producer_id = p.id;
  req.v3_and_below_producer_epoch = p.epoch;
  req.v3_and_below_topics = {{"t", {0, 5}}, {"missing", {0}}};
  auto refused = b.call<apt::response>(apt::api_key, 3, req);
  REQUIRE(refused.results_by_topic_v3_and_below.size() == 2);
  const auto& t = refused.results_by_topic_v3_and_below[0].results_by_partition;
  REQUIRE(t.size() == 2);
  CHECK(t[0].partition_error_code == wire_code(kafka_error::operation_not_attempted));
  CHECK(t[1].partition_error_code == wire_code(kafka_error::unknown_topic_or_partition));
  CHECK(refused.results_by_topic_v3_and_below[1].results_by_partition[0].partition_error_code ==
        wire_code(kafka_error::unknown_topic_or_partition));

  CHECK(brook::test::add_partitions(b, p, "t", {0, 1}) == 0);
  CHECK(brook::test::add_partitions(b, p, "t", {1}) == 0);  // again: no change

  // A producer id the transactional id does not have, and a fenced epoch.
  brook::test::txn_producer wrong = p;
  wrong.id = p.id + 1000;
  CHECK(brook::test::add_partitions(b, wrong, "t", {0}) == wire_code(kafka_error::invalid_producer_id_mapping));
  auto newer = brook::test::init_txn(b, "tx");  // aborts the open transaction, bumps the epoch
  CHECK(newer.id == p.id);
  CHECK(newer.epoch > p.epoch);
  CHECK(brook::test::add_partitions(b, p, "t", {0}, 3) == wire_code(kafka_error::producer_fenced));
  CHECK(brook::test::add_partitions(b, p, "t", {0}, 1) == wire_code(kafka_error::invalid_producer_epoch));
}

TEST_CASE("AddPartitionsToTxn v4+ verify_only tells which partitions are in the transaction",
          "[handlers][add_partitions_to_txn]") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t", 3);
  auto p = brook::test::init_txn(b, "tx");
  REQUIRE(brook::test::add_partitions(b, p, "t", {0}) == 0);

  apt::request req;
  auto& txn = req.transactions.emplace_back();
  txn.transactional_id = "tx";
  txn.producer_id = p.id;
  txn.producer_epoch = p.epoch;
  txn.verify_only = true;
  txn.topics = {{"t", {0, 2}}};
  auto resp = b.call<apt::response>(apt::api_key, 5, req);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.results_by_transaction.size() == 1);
  CHECK(resp.results_by_transaction[0].transactional_id == "tx");
  const auto& parts = resp.results_by_transaction[0].topic_results.at(0).results_by_partition;
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].partition_error_code == 0);
  CHECK(parts[1].partition_error_code == wire_code(kafka_error::transaction_abortable));

  // Verification adds nothing: partition 2 is still not in the transaction.
  auto again = b.call<apt::response>(apt::api_key, 5, req);
  CHECK(again.results_by_transaction[0].topic_results.at(0).results_by_partition[1].partition_error_code ==
        wire_code(kafka_error::transaction_abortable));
}

TEST_CASE("with an authorizer AddPartitionsToTxn needs WRITE on the transactional id and topics, v4 CLUSTER_ACTION") {
  namespace t = brook::test;
  namespace apt = brook::common::protocol::add_partitions_to_txn;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::transactional_id, "tx", acl_operation::write),
               t::allowing(resource_type::topic, "t", acl_operation::write)});
  t::create_topic(b.client(), "t");
  t::create_topic(b.client(), "u");
  auto p = t::init_txn(b, "tx");
  apt::request req;
  req.v3_and_below_transactional_id = p.transactional_id;
  req.v3_and_below_producer_id = p.id;
  req.v3_and_below_producer_epoch = p.epoch;
  req.v3_and_below_topics = {{"t", {0}}, {"u", {0}}};
  auto refused = b.call<apt::response>(apt::api_key, 3, req);
  REQUIRE(refused.results_by_topic_v3_and_below.size() == 2);
  CHECK(refused.results_by_topic_v3_and_below[0].results_by_partition.at(0).partition_error_code ==
        wire_code(kafka_error::operation_not_attempted));
  CHECK(refused.results_by_topic_v3_and_below[1].results_by_partition.at(0).partition_error_code ==
        wire_code(kafka_error::topic_authorization_failed));
  CHECK(t::add_partitions(b, p, "t", {0}) == 0);
  // Another transactional id: every partition refused.
  t::txn_producer other{"other", p.id, p.epoch};
  CHECK(t::add_partitions(b, other, "t", {0}) == wire_code(kafka_error::transactional_id_authorization_failed));
  // v4 comes from brokers: CLUSTER_ACTION on the cluster.
  apt::request batched;
  batched.transactions.push_back({p.transactional_id, p.id, p.epoch, true, {{"t", {0}}}});
  auto denied = b.call<apt::response>(apt::api_key, 4, batched);
  CHECK(denied.error_code == wire_code(kafka_error::cluster_authorization_failed));
  CHECK(denied.results_by_transaction.empty());
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::cluster_action)});
  auto verified = b.call<apt::response>(apt::api_key, 4, batched);
  CHECK(verified.error_code == 0);
  REQUIRE(verified.results_by_transaction.size() == 1);
  CHECK(verified.results_by_transaction[0].topic_results.at(0).results_by_partition.at(0).partition_error_code == 0);
}
