// What a handler does with a quota: whom its request is metered for, and muting the connection for
// a throttle. As Kafka does since KIP-219, for every request version, the response (carrying
// throttle_time_ms) is sent at once and the connection is then not read until the throttle ends;
// clients that do not throttle themselves (Produce before v6, Fetch before v8) are held back by that.
#pragma once

#include <algorithm>
#include <chrono>

#include "broker/quota/client_quota_manager.hpp"
#include "broker/request_context.hpp"

namespace brook::broker::quota {

inline client_identity identity_of(const request_context& ctx) {
  client_identity who;
  if (ctx.conn) who.user = principal_name(ctx.conn->principal);
  if (ctx.header.client_id) who.client_id = *ctx.header.client_id;
  return who;
}

// Records the request's handling time so far against its request_percentage quota, once (a second
// call answers what the first did), mutes the connection for the throttle and returns it; 0 when no
// request quota meters this request (ctx.meter unset). Every API's response takes it as its
// throttle_time_ms (api_table.hpp), Produce and Fetch combine it with their byte-rate throttles.
int32_t record_request_time(request_context& ctx);

// The connection is read again throttle_ms from now (or later, if already muted longer).
inline void mute_connection(request_context& ctx, int32_t throttle_ms) {
  if (!ctx.conn || throttle_ms <= 0) return;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(throttle_ms);
  ctx.conn->throttled_until = std::max(ctx.conn->throttled_until, until);
}

}  // namespace brook::broker::quota
