// DeleteAcls v1-3 (Kafka 4.0 removed v0; v1 adds pattern type filters, v2 is flexible, v3 allows the
// USER resource type): needs ALTER on the cluster. Every ACL matching any filter is removed, all in one
// store batch (Kafka's controller removes them atomically), then from the authorizer; each filter's
// answer lists the ACLs it matched (an ACL two filters match is listed by both). As Kafka's controller,
// one request removes at most 10,000 ACLs: the filter whose match would be one more is answered
// INVALID_REQUEST, and so is every later filter that matches anything, while what the earlier matches
// (its own included) gathered is still removed.
#include <set>

#include "broker/blocking.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace dla = proto::delete_acls;
using security::acl_binding;

namespace {
// Kafka's MAX_RECORDS_PER_USER_OP, as AclControlManager applies it to one DeleteAcls.
constexpr size_t max_acls_per_delete = 10000;
constexpr const char* too_many_acls = "Cannot remove more than 10000 acls in a single delete operation.";
}  // namespace

awaitable<dla::response> delete_acls(request_context& ctx, dla::request& req) {
  for (const auto& f : req.filters)
    acl_apis::refuse_unknown_codes("DeleteAcls", f.resource_type_filter, f.pattern_type_filter, f.operation,
                                   f.permission_type);
  dla::response resp;
  auto answer_all = [&](common::kafka_error code, std::string_view message) {
    for (size_t i = 0; i < req.filters.size(); ++i) {
      dla::delete_acls_filter_result r;
      r.error_code = common::wire_code(code);
      r.error_message = std::string(message);
      resp.filter_results.push_back(std::move(r));
    }
  };
  if (auto refused = acl_apis::refuse(ctx, "DeleteAcls", security::acl_operation::alter, acl_apis::no_authorizer)) {
    answer_all(refused->code, refused->message);
    co_return resp;
  }
  broker& b = ctx.owner;
  security::authorizer* auth = b.authorizer();

  std::vector<std::vector<acl_binding>> matched;
  std::vector<bool> over_limit;
  std::set<acl_binding> removing;
  for (const auto& f : req.filters) {
    security::acl_filter filter{security::resource_type_of(f.resource_type_filter),
                                f.resource_name_filter,
                                security::pattern_type_of(f.pattern_type_filter),
                                f.principal_filter,
                                f.host_filter,
                                security::operation_of(f.operation),
                                security::permission_type_of(f.permission_type)};
    auto found = auth->acls(filter);
    bool over = false;
    for (const auto& acl : found) {
      if (removing.size() >= max_acls_per_delete) {
        over = true;
        break;
      }
      removing.insert(acl);
    }
    over_limit.push_back(over);
    matched.push_back(over ? std::vector<acl_binding>{} : std::move(found));
  }
  common::result<void> stored;
  if (!removing.empty()) {
    std::vector<log::acl_record> records;
    for (const auto& acl : removing) records.push_back(security::to_record(acl));
    auto work = [&store = b.store(), records] { return store.update_acls({}, records); };
    stored = co_await run_on(b.acl_writes(), work);
    if (stored) {
      for (const auto& acl : removing) auth->remove(acl);
      b.groups().coordinator().refresh_regexes();  // what regex subscriptions may match changed
      b.groups().changed();
    }
  }
  for (size_t i = 0; i < matched.size(); ++i) {
    const auto& acls = matched[i];
    dla::delete_acls_filter_result r;
    r.error_code = 0;
    r.error_message = std::nullopt;
    if (over_limit[i]) {
      r.error_code = common::wire_code(common::kafka_error::invalid_request);
      r.error_message = too_many_acls;
    } else if (!acls.empty() && !stored) {
      r.error_code = common::wire_code(stored.code());
      r.error_message = stored.err().message;
    } else {
      for (const auto& acl : acls) {
        dla::delete_acls_matching_acl m;
        m.error_code = 0;
        m.error_message = std::nullopt;
        m.resource_type = static_cast<int8_t>(acl.type);
        m.resource_name = acl.name;
        m.pattern_type = static_cast<int8_t>(acl.pattern);
        m.principal = acl.principal;
        m.host = acl.host;
        m.operation = static_cast<int8_t>(acl.operation);
        m.permission_type = static_cast<int8_t>(acl.permission);
        r.matching_acls.push_back(std::move(m));
      }
    }
    resp.filter_results.push_back(std::move(r));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
