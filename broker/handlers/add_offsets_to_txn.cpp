// AddOffsetsToTxn v0-4: adds a group's offsets to the producer's transaction, so that its
// TxnOffsetCommits become visible with the commit. Kafka adds the group's __consumer_offsets
// partition; Brook keeps offsets in its metadata store and adds the same partition
// (transaction_service::group_offsets_partition), whose marker the group coordinator applies.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace aot = proto::add_offsets_to_txn;

awaitable<aot::response> add_offsets_to_txn(request_context& ctx, aot::request& req) {
  broker& b = ctx.owner;
  aot::response resp;
  // As Kafka's KafkaApis: WRITE on the transactional id, then READ on the group.
  if (!security::authorized(ctx, security::acl_operation::write, security::resource_type::transactional_id,
                            req.transactional_id)) {
    resp.error_code = common::wire_code(kafka_error::transactional_id_authorization_failed);
    co_return resp;
  }
  if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id)) {
    resp.error_code = common::wire_code(kafka_error::group_authorization_failed);
    co_return resp;
  }
  if (req.group_id.empty()) {
    resp.error_code = common::wire_code(kafka_error::invalid_group_id);
    co_return resp;
  }
  transaction::partition_set partitions{b.transactions().group_offsets_partition(req.group_id)};
  auto answer = co_await b.transactions().add_partitions(req.transactional_id, req.producer_id, req.producer_epoch,
                                                         partitions, transaction::transaction_version_0);
  resp.error_code = common::wire_code(transaction::error_for_version(answer.error, aot::api_key, ctx.version()));
  co_return resp;
}

}  // namespace brook::broker::handlers
