// InitProducerId v0-6 for idempotent producers (no transactional id). As in Kafka, every such
// request gets a freshly allocated producer id with epoch 0, whatever id and epoch the client
// passes: the id/epoch pair only carries meaning for a transactional id (KIP-360), and trusting it
// here would let two producers share one id (one fencing the other, or a batch being taken for a
// duplicate and never written). A half-set pair (only one of id and epoch is -1) is INVALID_REQUEST,
// checked first, as Kafka does. v6's two-phase commit flags (KIP-939) only concern transactional ids;
// the ongoing transaction's id and epoch are always -1.
// Transactional ids are not served yet, and they are answered as a Kafka broker without
// transaction.two.phase.commit.enable answers them: an empty id is INVALID_REQUEST, then
// enable2_pc is TRANSACTIONAL_ID_AUTHORIZATION_FAILED, then keep_prepared_txn is UNSUPPORTED_VERSION
// (Kafka 4.4 refuses it in any case); every other transactional id is
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED too, which clients report as a fatal, explained error.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace ipi = proto::init_producer_id;

awaitable<ipi::response> init_producer_id(request_context& ctx, ipi::request& req) {
  broker& b = ctx.owner;
  ipi::response resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  if ((req.producer_id == -1) != (req.producer_epoch == -1)) {
    resp.error_code = common::wire_code(kafka_error::invalid_request);
    co_return resp;
  }
  if (req.transactional_id) {
    kafka_error e = kafka_error::transactional_id_authorization_failed;
    if (req.transactional_id->empty()) e = kafka_error::invalid_request;
    else if (!req.enable2_pc && req.keep_prepared_txn) e = kafka_error::unsupported_version;
    resp.error_code = common::wire_code(e);
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
