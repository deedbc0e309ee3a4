#include "broker/quota/throttle.hpp"

#include "broker/broker.hpp"
#include "broker/quota/request_meter.hpp"

namespace brook::broker::quota {

int32_t record_request_time(request_context& ctx) {
  if (!ctx.meter || ctx.request_time_recorded) return ctx.request_throttle_ms;
  ctx.request_time_recorded = true;
  const double percentage = client_quota_manager::nanos_to_percentage(ctx.meter->elapsed_nanos());
  ctx.request_throttle_ms = ctx.owner.quota_manager().record(quota_kind::request, identity_of(ctx), percentage);
  mute_connection(ctx, ctx.request_throttle_ms);
  return ctx.request_throttle_ms;
}

}  // namespace brook::broker::quota
