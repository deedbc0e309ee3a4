// DescribeAcls v1-3 (Kafka 4.0 removed v0; v1 adds pattern type filters, v2 is flexible, v3 allows the
// USER resource type): needs DESCRIBE on the cluster; answers the ACLs matching the filter, one entry
// per resource pattern (sorted by resource type, pattern type and name, each one's ACLs in order).
#include "broker/broker.hpp"
#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace da = proto::describe_acls;

awaitable<da::response> describe_acls(request_context& ctx, da::request& req) {
  acl_apis::refuse_unknown_codes("DescribeAcls", req.resource_type_filter, req.pattern_type_filter, req.operation,
                                 req.permission_type);
  da::response resp;
  resp.error_code = 0;
  resp.error_message = "";
  if (auto refused = acl_apis::refuse(ctx, "DescribeAcls", security::acl_operation::describe,
                                      acl_apis::no_authorizer_on_broker)) {
    resp.error_code = common::wire_code(refused->code);
    resp.error_message = std::move(refused->message);
    co_return resp;
  }
  const security::authorizer* auth = ctx.owner.authorizer();
  security::acl_filter filter{security::resource_type_of(req.resource_type_filter),
                              req.resource_name_filter,
                              security::pattern_type_of(req.pattern_type_filter),
                              req.principal_filter,
                              req.host_filter,
                              security::operation_of(req.operation),
                              security::permission_type_of(req.permission_type)};
  // The authorizer lists ACLs sorted by (type, pattern, name, ...): each resource's are adjacent.
  for (const auto& acl : auth->acls(filter)) {
    const auto type = static_cast<int8_t>(acl.type), pattern = static_cast<int8_t>(acl.pattern);
    if (resp.resources.empty() || resp.resources.back().resource_type != type ||
        resp.resources.back().pattern_type != pattern || resp.resources.back().resource_name != acl.name) {
      da::describe_acls_resource r;
      r.resource_type = type;
      r.resource_name = acl.name;
      r.pattern_type = pattern;
      resp.resources.push_back(std::move(r));
    }
    resp.resources.back().acls.push_back(
        {acl.principal, acl.host, static_cast<int8_t>(acl.operation), static_cast<int8_t>(acl.permission)});
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
