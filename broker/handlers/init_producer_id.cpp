// InitProducerId v0-5 for idempotent producers (no transactional id): a new producer id with epoch
// 0, or (v3+, KIP-360) the same id with its epoch bumped when the producer passes its current id
// and epoch, and a new id when the epoch would overflow. Transactional ids are not served yet:
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients report as a fatal, explained error.
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
  if (req.transactional_id) {
    resp.error_code = common::wire_code(kafka_error::transactional_id_authorization_failed);
    co_return resp;
  }
  if (req.producer_id >= 0 && req.producer_epoch >= 0 && req.producer_epoch < INT16_MAX - 1) {
    resp.producer_id = req.producer_id;
    resp.producer_epoch = static_cast<int16_t>(req.producer_epoch + 1);
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
