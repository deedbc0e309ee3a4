// ApiVersions v0-4: the versions of every API in the broker's table (KIP-35, KIP-511). v3+ carries
// the client's software name and version, which must match Kafka's pattern. A request newer than v4
// gets UNSUPPORTED_VERSION with the full table in a v0 body (see connection.cpp).
#include <algorithm>
#include <re2/re2.h>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

using common::kafka_error;

namespace {
proto::api_versions::response table_response() {
  proto::api_versions::response resp;
  for (const auto& e : api_table()) resp.api_keys.push_back({e.key, e.min_version, e.max_version});
  std::sort(resp.api_keys.begin(), resp.api_keys.end(),
            [](const auto& a, const auto& b) { return a.api_key < b.api_key; });  // key order, as Kafka lists them
  return resp;
}

bool valid_software_field(const std::string& s) {
  // Kafka's pattern for these fields; RE2 matches in linear time (a backtracking matcher recursed
  // once per character of a client-supplied string of up to 32767 bytes).
  static const re2::RE2 pattern("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
  return re2::RE2::FullMatch(s, pattern);
}
}  // namespace

awaitable<proto::api_versions::response> api_versions(request_context& ctx, proto::api_versions::request& req) {
  auto resp = table_response();
  ctx.owner.faults().apply_version_caps(resp.api_keys);  // test fault rules; none in production
  if (ctx.version() >= 3 &&
      (!valid_software_field(req.client_software_name) || !valid_software_field(req.client_software_version)))
    resp.error_code = common::wire_code(kafka_error::invalid_request);
  co_return resp;
}

proto::bytes unsupported_api_versions_response() {
  // As Kafka does: only ApiVersions' own range, so the client can retry with a version we speak.
  proto::api_versions::response resp;
  const auto* self = find_api(proto::api_versions::api_key);
  resp.api_keys.push_back({self->key, self->min_version, self->max_version});
  resp.error_code = common::wire_code(kafka_error::unsupported_version);
  proto::writer w;
  resp.encode(w, 0);
  return w.take();
}

}  // namespace brook::broker::handlers
