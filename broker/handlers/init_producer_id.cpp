// InitProducerId v0-6 for idempotent producers (no transactional id). As in Kafka, every such
// request gets a freshly allocated producer id with epoch 0, whatever id and epoch the client
// passes: the id/epoch pair only carries meaning for a transactional id (KIP-360), and trusting it
// here would let two producers share one id (one fencing the other, or a batch being taken for a
// duplicate and never written). A half-set pair (only one of id and epoch is -1) is INVALID_REQUEST,
// checked first, as Kafka does. v6's two-phase commit flags (KIP-939) only concern transactional ids;
// the ongoing transaction's id and epoch are always -1.
// A transactional id goes to the transaction coordinator (broker/transaction/): a new id gets a
// producer id at epoch 0, a known one its epoch bumped (fencing the previous producer, and aborting
// its open transaction first: CONCURRENT_TRANSACTIONS until that is done, as in Kafka). An empty id is
// INVALID_REQUEST; v6's KIP-939 flags are refused as by a Kafka broker without
// transaction.two.phase.commit.enable. Below v4 PRODUCER_FENCED is reported as
// INVALID_PRODUCER_EPOCH, which older clients know.
// With an authorizer (as Kafka's KafkaApis, before any other check): a transactional id needs WRITE on
// it (and TWO_PHASE_COMMIT when v6 enables two-phase commit), TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// otherwise; an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic
// (authorization by resource type), CLUSTER_AUTHORIZATION_FAILED otherwise.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace ipi = proto::init_producer_id;

awaitable<ipi::response> init_producer_id(request_context& ctx, ipi::request& req) {
  broker& b = ctx.owner;
  ipi::response resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  using security::acl_operation;
  using security::resource_type;
  if (req.transactional_id) {
    if (!security::authorized(ctx, acl_operation::write, resource_type::transactional_id, *req.transactional_id) ||
        (req.enable2_pc &&
         !security::authorized(ctx, acl_operation::two_phase_commit, resource_type::transactional_id,
                               *req.transactional_id))) {
      resp.error_code = common::wire_code(kafka_error::transactional_id_authorization_failed);
      co_return resp;
    }
  } else if (!security::authorized_on_cluster(ctx, acl_operation::idempotent_write, false) &&
             !security::authorized_by_resource_type(ctx, acl_operation::write, resource_type::topic)) {
    resp.error_code = common::wire_code(kafka_error::cluster_authorization_failed);
    co_return resp;
  }
  if ((req.producer_id == -1) != (req.producer_epoch == -1)) {
    resp.error_code = common::wire_code(kafka_error::invalid_request);
    co_return resp;
  }
  if (req.transactional_id) {
    if (req.transactional_id->empty()) {
      resp.error_code = common::wire_code(kafka_error::invalid_request);
      co_return resp;
    }
    transaction::init_producer_id_request r;
    r.transactional_id = *req.transactional_id;
    r.transaction_timeout_ms = req.transaction_timeout_ms;
    if (req.producer_id != -1) r.expected = std::pair{req.producer_id, req.producer_epoch};
    r.enable_two_phase_commit = req.enable2_pc;
    r.keep_prepared_txn = req.keep_prepared_txn;
    auto answer = co_await b.transactions().init_producer_id(std::move(r));
    resp.error_code =
        common::wire_code(transaction::error_for_version(answer.error, ipi::api_key, ctx.version()));
    if (answer.error == kafka_error::none) {
      resp.producer_id = answer.producer_id;
      resp.producer_epoch = answer.producer_epoch;
    }
    co_return resp;
  }
  auto id = co_await b.allocate_producer_id();
  if (!id) {
    resp.error_code = common::wire_code(id.code());
    co_return resp;
  }
  resp.producer_id = *id;
  resp.producer_epoch = 0;
  co_return resp;
}

}  // namespace brook::broker::handlers
