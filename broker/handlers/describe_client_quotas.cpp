// DescribeClientQuotas v0-1 (KIP-546): the stored client quotas of the entities matching a filter
// (exact name, default, or any specified name per entity type; strict leaves out entities with other
// types), as Kafka's ClientQuotasImage answers it. A bad filter is a top-level error with no entries.
// With an authorizer the request needs DESCRIBE_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED).
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace dcq = proto::describe_client_quotas;

awaitable<dcq::response> describe_client_quotas(request_context& ctx, dcq::request& req) {
  std::vector<quota_filter_component> filter;
  for (const auto& c : req.components) filter.push_back({c.entity_type, c.match_type, c.match});
  dcq::response resp;
  if (!security::authorized_on_cluster(ctx, security::acl_operation::describe_configs)) {
    resp.error_code = common::wire_code(common::kafka_error::cluster_authorization_failed);
    resp.error_message = "Cluster authorization failed.";
    resp.entries = std::nullopt;
    co_return resp;
  }
  auto found = ctx.owner.quotas().describe(filter, req.strict);
  if (!found) {
    resp.error_code = common::wire_code(found.code());
    resp.error_message = found.err().message;
    resp.entries = std::nullopt;
    co_return resp;
  }
  resp.error_message = "";  // Kafka answers an empty message, not null, on success
  resp.entries.emplace();
  for (const auto& [entity, values] : *found) {
    dcq::entry_data entry;
    for (const auto& [type, name] : entity) entry.entity.push_back({type, name});
    for (const auto& [key, value] : values) entry.values.push_back({key, value});
    resp.entries->push_back(std::move(entry));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
