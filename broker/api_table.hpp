// The one table from API keys to handlers. ApiVersions answers from it, so the versions the broker
// advertises are exactly the ones it has handlers for.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "broker/quota/throttle.hpp"
#include "broker/request_context.hpp"
#include "common/protocol/wire.hpp"

namespace brook::broker {

// Decodes the body, serves it and returns the encoded response body; nullopt when the request gets
// no response (Produce with acks=0). Throws protocol::decode_error for a body that does not decode.
using handler_fn = boost::asio::awaitable<std::optional<common::protocol::encoded_message>> (*)(
    request_context&, common::protocol::reader&);

struct api_entry {
  int16_t key;
  std::string_view name;
  int16_t min_version;
  int16_t max_version;
  handler_fn handle;
};

std::span<const api_entry> api_table();
const api_entry* find_api(int16_t key);

// Bytes after a request body are ignored, as Kafka ignores them (its request parsing reads what the
// schema names and never checks the remainder): some clients send them (librdkafka 2.15's Metadata
// v12 null topic array). Logged at debug, once per connection.
void note_trailing_bytes(request_context& ctx, size_t count);

// Adapts a typed handler `awaitable<Api::response> fn(request_context&, Api::request)`. A request that
// a request_percentage quota meters has its handling time recorded once the handler has answered, and
// a throttle goes into the response's throttle_time_ms (when it has one; the connection is muted
// either way), as Kafka's sendResponseMaybeThrottle does.
template <class Request, class Response, boost::asio::awaitable<Response> (*Fn)(request_context&, Request&)>
boost::asio::awaitable<std::optional<common::protocol::encoded_message>> typed_handler(
    request_context& ctx, common::protocol::reader& body) {
  Request request;
  request.decode(body, ctx.version());
  if (body.remaining() != 0) note_trailing_bytes(ctx, body.remaining());
  Response response = co_await Fn(ctx, request);
  if (ctx.meter) {
    const int32_t throttle = quota::record_request_time(ctx);
    if constexpr (requires { response.throttle_time_ms; }) {
      if (throttle > response.throttle_time_ms) response.throttle_time_ms = throttle;
    }
  }
  common::protocol::writer w;
  response.encode(w, ctx.version());
  co_return w.finish();
}

}  // namespace brook::broker
