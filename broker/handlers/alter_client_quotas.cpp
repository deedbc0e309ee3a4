// AlterClientQuotas v0-1 (KIP-546): sets and removes quota values of user, client-id and ip entities
// (and their defaults), validated as Kafka's controller does, stored in one batch, then visible to
// DescribeClientQuotas; validate_only stops after the checks. One answer per distinct entity. A change
// is enforced from the next request on (broker/quota/client_quota_manager.hpp). With an authorizer the
// request needs ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED for each entry), as on Kafka's
// controller.
#include <netdb.h>

#include <set>

#include "broker/blocking.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace acq = proto::alter_client_quotas;

namespace {
// The names among `hosts` that resolve (Kafka accepts an ip entity that InetAddress can resolve).
std::set<std::string> resolve_all(const std::set<std::string>& hosts) {
  std::set<std::string> out;
  for (const auto& h : hosts) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    addrinfo* found = nullptr;
    if (getaddrinfo(h.c_str(), nullptr, &hints, &found) == 0) {
      out.insert(h);
      freeaddrinfo(found);
    }
  }
  return out;
}
}  // namespace

awaitable<acq::response> alter_client_quotas(request_context& ctx, acq::request& req) {
  broker& b = ctx.owner;
  if (!security::authorized_on_cluster(ctx, security::acl_operation::alter_configs)) {
    acq::response refused;
    for (const auto& e : req.entries) {
      auto& out = refused.entries.emplace_back();
      out.error_code = common::wire_code(common::kafka_error::cluster_authorization_failed);
      out.error_message = acl_apis::needs_permission("AlterClientQuotas", security::acl_operation::alter_configs);
      out.entity = e.entity;
    }
    co_return refused;
  }
  std::vector<quota_alteration> alterations;
  std::set<std::string> hosts;
  for (const auto& e : req.entries) {
    quota_alteration a;
    for (const auto& part : e.entity) {
      a.entity[part.entity_type] = part.entity_name;
      if (part.entity_type == "ip" && part.entity_name && !part.entity_name->empty() && !is_ip_literal(*part.entity_name))
        hosts.insert(*part.entity_name);
    }
    for (const auto& op : e.ops) a.ops.emplace_back(op.key, op.remove ? std::nullopt : std::optional<double>(op.value));
    alterations.push_back(std::move(a));
  }
  std::set<std::string> resolvable;
  if (!hosts.empty()) {
    auto work = [hosts] { return resolve_all(hosts); };
    resolvable = co_await run_blocking(b.blocking_pool(), work);
  }
  auto change = b.quotas().alter(alterations, [&](const std::string& h) { return resolvable.count(h) > 0; });

  common::result<void> stored;
  if (!req.validate_only && !change.updates.empty()) {
    std::vector<log::client_quota_record> records;
    for (const auto& [entity, values] : change.updates) records.push_back(client_quotas::to_record(entity, values));
    auto work = [&store = b.store(), records] { return store.put_client_quotas(records); };
    stored = co_await run_blocking(b.blocking_pool(), work);
    if (stored) b.quotas().apply(change.updates);
  }

  acq::response resp;
  for (const auto& r : change.results) {
    acq::entry_result out;
    common::result<void> outcome = r.outcome;
    if (outcome && !stored && change.updates.count(r.entity)) outcome = stored;
    out.error_message = std::nullopt;
    if (!outcome) {
      out.error_code = common::wire_code(outcome.code());
      out.error_message = outcome.err().message;
    }
    for (const auto& [type, name] : r.entity) out.entity.push_back({type, name});
    resp.entries.push_back(std::move(out));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
