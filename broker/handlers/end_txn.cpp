// EndTxn v0-5: commits or aborts the producer's transaction. The transaction coordinator answers once
// PrepareCommit/PrepareAbort is on disk; the markers follow. v5 (KIP-890, transaction version 2)
// bumps the epoch at every end and answers the producer id and epoch to use next.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace et = proto::end_txn;

awaitable<et::response> end_txn(request_context& ctx, et::request& req) {
  broker& b = ctx.owner;
  et::response resp;
  // As Kafka's KafkaApis: WRITE on the transactional id.
  if (!security::authorized(ctx, security::acl_operation::write, security::resource_type::transactional_id,
                            req.transactional_id)) {
    resp.error_code = common::wire_code(common::kafka_error::transactional_id_authorization_failed);
    resp.producer_id = -1;
    resp.producer_epoch = -1;
    co_return resp;
  }
  const int16_t client_version =
      ctx.version() >= 5 ? transaction::transaction_version_2 : transaction::transaction_version_0;
  auto answer = co_await b.transactions().end_txn(req.transactional_id, req.producer_id, req.producer_epoch,
                                                  req.committed, client_version);
  resp.error_code = common::wire_code(transaction::error_for_version(answer.error, et::api_key, ctx.version()));
  resp.producer_id = answer.producer_id;
  resp.producer_epoch = answer.producer_epoch;
  co_return resp;
}

}  // namespace brook::broker::handlers
