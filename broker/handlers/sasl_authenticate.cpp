// SaslAuthenticate v0-2: one SASL token each way, after a SaslHandshake v1. The exchange is the
// connection's authenticator's (broker/security/sasl_authenticator.hpp); success sets the connection's
// principal and, from v1, tells the client its session lifetime (KIP-368). A failure answers
// SASL_AUTHENTICATION_FAILED with Kafka's message, which never says which part was wrong, after
// connection.failed.authentication.delay.ms, is logged with the client's address, and closes the
// connection. On a listener without SASL, or after success, the answer is ILLEGAL_SASL_STATE.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

namespace sa = proto::sasl_authenticate;

awaitable<void> hold_failed_authentication(request_context& ctx) {
  const auto delay = std::chrono::milliseconds(ctx.owner.config().get_int("connection.failed.authentication.delay.ms"));
  if (delay.count() <= 0 || !ctx.conn) co_return;
  auto timer = std::make_shared<boost::asio::steady_timer>(ctx.owner.io(), delay);
  if (!ctx.conn->waits.add(timer)) co_return;  // the connection is closing
  co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  ctx.conn->waits.remove(timer);
}

awaitable<sa::response> sasl_authenticate(request_context& ctx, sa::request& req) {
  sa::response resp;
  if (!ctx.conn || !ctx.conn->sasl) {
    resp.error_code = common::wire_code(common::kafka_error::illegal_sasl_state);
    resp.error_message = "SaslAuthenticate request received after successful authentication";
    co_return resp;
  }
  auto answer = ctx.conn->sasl->authenticate(req.auth_bytes, ctx.version(), std::chrono::steady_clock::now());
  resp.error_code = common::wire_code(answer.error);
  resp.error_message = std::nullopt;  // Kafka's success carries no message
  if (answer.error != common::kafka_error::none) resp.error_message = std::move(answer.message);
  resp.auth_bytes.assign(answer.token.begin(), answer.token.end());
  resp.session_lifetime_ms = answer.session_lifetime_ms;
  if (answer.authenticated) ctx.conn->principal = *ctx.conn->sasl->principal();
  if (answer.close_after) {
    spdlog::info("Failed authentication with {} ({})", ctx.conn->peer, *resp.error_message);
    co_await hold_failed_authentication(ctx);
    ctx.conn->close_after_response = true;
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
