// ApiVersions v0-5: the versions of every API in the broker's table (KIP-35, KIP-511) and, from v3,
// the broker's features (KIP-584, broker/features.hpp): the supported ranges (before v4 without those
// whose lowest level is 0, as Kafka leaves them out) and the finalized levels (those at 0 unlisted).
// v3+ carries the client's software name and version, which must match Kafka's pattern; v5 the
// cluster and node the client means to reach (KIP-1242): both or neither (else INVALID_REQUEST), and
// REBOOTSTRAP_REQUIRED when they are not this broker's. Error answers list no APIs. A request newer
// than v5 gets UNSUPPORTED_VERSION with ApiVersions' own range in a v0 body (see connection.cpp).
#include <algorithm>
#include <re2/re2.h>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/features.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace av = proto::api_versions;

namespace {
av::response table_response(int16_t version) {
  av::response resp;
  for (const auto& e : api_table()) resp.api_keys.push_back({e.key, e.min_version, e.max_version});
  std::sort(resp.api_keys.begin(), resp.api_keys.end(),
            [](const auto& a, const auto& b) { return a.api_key < b.api_key; });  // key order, as Kafka lists them
  for (const auto& f : features()) {
    // KAFKA-17011: older clients refuse a 0 minimum; the finalized level is listed all the same.
    if (version >= 4 || f.min_level != 0)
      resp.supported_features.push_back({std::string(f.name), f.min_level, f.max_level});
    if (f.finalized_level != 0)
      resp.finalized_features.push_back({std::string(f.name), f.finalized_level, f.finalized_level});
  }
  resp.finalized_features_epoch = finalized_features_epoch();
  return resp;
}

bool valid_software_field(const std::string& s) {
  // Kafka's pattern for these fields; RE2 matches in linear time (a backtracking matcher recursed
  // once per character of a client-supplied string of up to 32767 bytes).
  static const re2::RE2 pattern("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
  return re2::RE2::FullMatch(s, pattern);
}

std::optional<kafka_error> request_error(request_context& ctx, const av::request& req) {
  if (ctx.version() >= 5 && req.cluster_id.has_value() != (req.node_id != -1)) return kafka_error::invalid_request;
  if (ctx.version() >= 3 &&
      (!valid_software_field(req.client_software_name) || !valid_software_field(req.client_software_version)))
    return kafka_error::invalid_request;
  if (ctx.version() >= 5 && req.cluster_id &&
      (*req.cluster_id != ctx.owner.cluster_id() || req.node_id != ctx.owner.node_id()))
    return kafka_error::rebootstrap_required;
  return std::nullopt;
}
}  // namespace

awaitable<av::response> api_versions(request_context& ctx, av::request& req) {
  if (auto error = request_error(ctx, req)) {
    av::response resp;
    resp.error_code = common::wire_code(*error);
    co_return resp;
  }
  auto resp = table_response(ctx.version());
  ctx.owner.faults().apply_version_caps(resp.api_keys);  // test fault rules; none in production
  co_return resp;
}

proto::bytes unsupported_api_versions_response() {
  // As Kafka does: only ApiVersions' own range, so the client can retry with a version we speak.
  av::response resp;
  const auto* self = find_api(av::api_key);
  resp.api_keys.push_back({self->key, self->min_version, self->max_version});
  resp.error_code = common::wire_code(kafka_error::unsupported_version);
  proto::writer w;
  resp.encode(w, 0);
  return w.take();
}

}  // namespace brook::broker::handlers
