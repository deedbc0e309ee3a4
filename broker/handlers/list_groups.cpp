// ListGroups v0-5: every group this coordinator knows; v4+ filters by state (KIP-518), v5+ by type
// (KIP-848: "classic" or "consumer"; consumer-protocol groups report protocol type "consumer" and
// their own states: Empty, Assigning, Reconciling, Stable). Filters compare case-insensitively, as
// Kafka's do. With an authorizer (as Kafka's KafkaApis): all of them with DESCRIBE on the cluster,
// else only the groups the principal may DESCRIBE (the others are left out without a log line).
#include <algorithm>
#include <cctype>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace lgs = proto::list_groups;

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
bool matches(const std::vector<std::string>& filter, const std::string& value) {
  if (filter.empty()) return true;
  return std::any_of(filter.begin(), filter.end(), [&](const std::string& f) { return lower(f) == lower(value); });
}
}  // namespace

awaitable<lgs::response> list_groups(request_context& ctx, lgs::request& req) {
  lgs::response resp;
  const bool all_groups = security::authorized_on_cluster(ctx, security::acl_operation::describe, false);
  auto listed = [&](const std::string& id) {
    return all_groups ||
           security::authorized(ctx, security::acl_operation::describe, security::resource_type::group, id, true, false);
  };
  for (const auto& [id, g] : ctx.owner.groups().coordinator().groups()) {
    if (g->state() == group::group_state::dead || !listed(id)) continue;
    std::string state(group::state_name(g->state()));
    if (!matches(req.states_filter, state) || !matches(req.types_filter, "classic")) continue;
    auto& out = resp.groups.emplace_back();
    out.group_id = id;
    out.protocol_type = g->protocol_type().value_or("");
    out.group_state = state;
    out.group_type = "classic";
  }
  for (const auto& [id, g] : ctx.owner.groups().coordinator().consumer_groups()) {
    if (g->dead() || !listed(id)) continue;
    std::string state(group::state_name(g->state()));
    if (!matches(req.states_filter, state) || !matches(req.types_filter, "consumer")) continue;
    auto& out = resp.groups.emplace_back();
    out.group_id = id;
    out.protocol_type = "consumer";
    out.group_state = state;
    out.group_type = "consumer";
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
