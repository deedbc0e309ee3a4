// AddPartitionsToTxn v0-5. v0-3: a transactional producer adds partitions to its transaction
// (transaction version 1 clients; version 2 clients add them implicitly with their produce
// requests). Every named partition must exist: unknown ones get UNKNOWN_TOPIC_OR_PARTITION and the
// others OPERATION_NOT_ATTEMPTED, with nothing added, as in Kafka; otherwise the transaction
// coordinator's answer goes to every partition. v4+ (KIP-890, sent by partition leaders) batches
// several transactions; verify_only ones only check that the partitions are in the transaction
// (TRANSACTION_ABORTABLE per partition that is not).
// With an authorizer (as Kafka's KafkaApis): v0-3 need WRITE on the transactional id (every partition
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED otherwise) and on each topic (TOPIC_AUTHORIZATION_FAILED, the
// others OPERATION_NOT_ATTEMPTED, nothing added); v4+ come from brokers and need CLUSTER_ACTION on the
// cluster (CLUSTER_AUTHORIZATION_FAILED at the top otherwise), then WRITE on each transactional id.
#include <map>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace apt = proto::add_partitions_to_txn;

namespace {

std::vector<apt::add_partitions_to_txn_topic_result> txn_topic_results(
    const std::vector<apt::add_partitions_to_txn_topic>& topics,
    const std::function<kafka_error(const std::string&, int32_t)>& error_of) {
  std::vector<apt::add_partitions_to_txn_topic_result> out;
  for (const auto& t : topics) {
    auto& r = out.emplace_back();
    r.name = t.name;
    for (int32_t p : t.partitions) r.results_by_partition.push_back({p, common::wire_code(error_of(t.name, p))});
  }
  return out;
}

// The partitions that may not be added (topics the client may not write: v0-3 only) or do not exist,
// each with its error; empty when all may.
std::map<transaction::topic_partition, kafka_error> refused_txn_partitions(
    request_context& ctx, const std::vector<apt::add_partitions_to_txn_topic>& topics) {
  std::map<transaction::topic_partition, kafka_error> refused;
  for (const auto& t : topics) {
    const topic_info* info = ctx.owner.topics().find(t.name);
    const bool writable = ctx.version() >= 4 ||
                          security::authorized(ctx, security::acl_operation::write, security::resource_type::topic,
                                               t.name, true, true, static_cast<int>(t.partitions.size()));
    for (int32_t p : t.partitions)
      if (!writable)
        refused.emplace(transaction::topic_partition{t.name, p}, kafka_error::topic_authorization_failed);
      else if (!info || p < 0 || p >= info->record.partitions)
        refused.emplace(transaction::topic_partition{t.name, p}, kafka_error::unknown_topic_or_partition);
  }
  return refused;
}

awaitable<std::vector<apt::add_partitions_to_txn_topic_result>> add_txn_partitions(
    request_context& ctx, const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
    bool verify_only, const std::vector<apt::add_partitions_to_txn_topic>& topics, int16_t version) {
  broker& b = ctx.owner;
  if (!security::authorized(ctx, security::acl_operation::write, security::resource_type::transactional_id,
                            transactional_id))
    co_return txn_topic_results(
        topics, [](const std::string&, int32_t) { return kafka_error::transactional_id_authorization_failed; });
  auto refused = refused_txn_partitions(ctx, topics);
  if (!refused.empty())
    co_return txn_topic_results(topics, [&](const std::string& t, int32_t p) {
      auto it = refused.find({t, p});
      return it != refused.end() ? it->second : kafka_error::operation_not_attempted;
    });
  transaction::partition_set partitions;
  for (const auto& t : topics)
    for (int32_t p : t.partitions) partitions.insert({t.name, p});
  if (verify_only) {
    auto verdicts = b.transactions().coordinator().verify_partitions(transactional_id, producer_id, producer_epoch,
                                                                      partitions);
    co_return txn_topic_results(topics, [&](const std::string& t, int32_t p) {
      auto it = verdicts.find({t, p});
      return it == verdicts.end() ? kafka_error::none : it->second;
    });
  }
  auto answer = co_await b.transactions().add_partitions(transactional_id, producer_id, producer_epoch, partitions,
                                                         transaction::transaction_version_0);
  const kafka_error e = transaction::error_for_version(answer.error, apt::api_key, version);
  co_return txn_topic_results(topics, [&](const std::string&, int32_t) { return e; });
}

}  // namespace

awaitable<apt::response> add_partitions_to_txn(request_context& ctx, apt::request& req) {
  broker& b = ctx.owner;
  apt::response resp;
  if (ctx.version() < 4) {
    resp.results_by_topic_v3_and_below =
        co_await add_txn_partitions(ctx, req.v3_and_below_transactional_id, req.v3_and_below_producer_id,
                                    req.v3_and_below_producer_epoch, false, req.v3_and_below_topics, ctx.version());
    co_return resp;
  }
  if (!security::authorized_on_cluster(ctx, security::acl_operation::cluster_action)) {
    resp.error_code = common::wire_code(kafka_error::cluster_authorization_failed);
    co_return resp;
  }
  for (const auto& txn : req.transactions) {
    auto& r = resp.results_by_transaction.emplace_back();
    r.transactional_id = txn.transactional_id;
    r.topic_results = co_await add_txn_partitions(ctx, txn.transactional_id, txn.producer_id, txn.producer_epoch,
                                                  txn.verify_only, txn.topics, ctx.version());
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
