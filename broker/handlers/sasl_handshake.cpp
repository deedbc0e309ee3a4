// SaslHandshake v0-1: the client names its SASL mechanism; the answer lists the listener's. v1 is
// followed by SaslAuthenticate requests, v0 by raw SASL tokens (broker/security/sasl_authenticator.hpp).
// An unsupported mechanism is answered UNSUPPORTED_SASL_MECHANISM and closes the connection, after
// connection.failed.authentication.delay.ms. On a listener without SASL, or once authenticated without
// re-authentication (KIP-368), the answer is ILLEGAL_SASL_STATE, as Kafka's.
#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

namespace hs = proto::sasl_handshake;

awaitable<hs::response> sasl_handshake(request_context& ctx, hs::request& req) {
  hs::response resp;
  if (!ctx.conn || !ctx.conn->sasl) {
    resp.error_code = common::wire_code(common::kafka_error::illegal_sasl_state);
    co_return resp;
  }
  auto answer = ctx.conn->sasl->handshake(req.mechanism, ctx.version());
  resp.error_code = common::wire_code(answer.error);
  resp.mechanisms = std::move(answer.mechanisms);
  if (answer.close_after) {
    spdlog::info("Failed authentication with {} (Unsupported SASL mechanism {})", ctx.conn->peer, req.mechanism);
    co_await hold_failed_authentication(ctx);
    ctx.conn->close_after_response = true;
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
