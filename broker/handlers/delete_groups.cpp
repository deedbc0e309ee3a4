// DeleteGroups v0-3: removes Empty groups (classic or consumer-protocol) with their committed offsets
// (NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for unknown groups). The store deletes
// metadata and offsets in one batch before the answer, on the group's write lane: after every write
// of that group issued before it. A failed delete answers NOT_COORDINATOR, with the store's error as
// the v3+ error message; as in Kafka, the other answers carry no message. With an authorizer each
// group needs DELETE (GROUP_AUTHORIZATION_FAILED otherwise), as in Kafka.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dg = proto::delete_groups;

awaitable<dg::response> delete_groups(request_context& ctx, dg::request& req) {
  auto& groups = ctx.owner.groups();
  dg::response resp;
  for (const auto& id : req.groups_names) {
    auto& out = resp.results.emplace_back();
    out.group_id = id;
    if (!security::authorized(ctx, security::acl_operation::delete_, security::resource_type::group, id)) {
      out.error_code = common::wire_code(kafka_error::group_authorization_failed);
      continue;
    }
    kafka_error check = groups.coordinator().can_delete(id);
    if (check != kafka_error::none) {
      out.error_code = common::wire_code(check);
      continue;
    }
    // Dead first: joins meanwhile are told to look for the coordinator again.
    groups.coordinator().mark_dead(id);
    auto* store = &groups.store();
    std::string group_id = id;
    auto work = [store, group_id] { return store->delete_group(group_id); };
    auto deleted = co_await groups.write(group_id, work);
    groups.coordinator().erase(id);
    groups.changed();
    if (!deleted) {
      out.error_code = common::wire_code(group::store_failure_error("DeleteGroups", group_id, deleted.err()));
      out.error_message = deleted.err().message;
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
