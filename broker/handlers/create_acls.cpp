// CreateAcls v1-3 (Kafka 4.0 removed v0; v1 adds pattern types, v2 is flexible, v3 allows the USER
// resource type): needs ALTER on the cluster. Each ACL is checked as Kafka's broker and controller
// check it (INVALID_REQUEST with Kafka's message); the valid ones not yet present are stored in one
// batch and then put in force. An ACL that exists already, or twice in the request, succeeds once.
#include <set>

#include "broker/blocking.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace ca = proto::create_acls;
using security::acl_binding;

awaitable<ca::response> create_acls(request_context& ctx, ca::request& req) {
  for (const auto& c : req.creations)
    acl_apis::refuse_unknown_codes("CreateAcls", c.resource_type, c.resource_pattern_type, c.operation,
                                   c.permission_type);
  ca::response resp;
  auto answer_all = [&](common::kafka_error code, std::string_view message) {
    for (size_t i = 0; i < req.creations.size(); ++i)
      resp.results.push_back({common::wire_code(code), std::string(message)});
  };
  if (auto refused = acl_apis::refuse(ctx, "CreateAcls", security::acl_operation::alter, acl_apis::no_authorizer)) {
    answer_all(refused->code, refused->message);
    co_return resp;
  }
  broker& b = ctx.owner;
  security::authorizer* auth = b.authorizer();

  std::vector<std::optional<std::string>> invalid;
  std::set<acl_binding> adding;
  std::vector<log::acl_record> records;
  for (const auto& c : req.creations) {
    acl_binding acl{security::resource_type_of(c.resource_type), security::pattern_type_of(c.resource_pattern_type),
                    c.resource_name,                              c.principal,
                    c.host,                                       security::operation_of(c.operation),
                    security::permission_type_of(c.permission_type)};
    invalid.push_back(security::invalid_acl_reason(acl));
    if (!invalid.back() && !auth->contains(acl) && adding.insert(acl).second) records.push_back(security::to_record(acl));
  }
  common::result<void> stored;
  if (!records.empty()) {
    auto work = [&store = b.store(), records] { return store.update_acls(records, {}); };
    stored = co_await run_on(b.acl_writes(), work);
    if (stored) {
      for (const auto& acl : adding) auth->add(acl);
      b.groups().coordinator().refresh_regexes();  // what regex subscriptions may match changed
      b.groups().changed();
    }
  }
  for (const auto& reason : invalid) {
    ca::acl_creation_result r;
    r.error_code = 0;
    r.error_message = "";
    if (reason) {
      r.error_code = common::wire_code(common::kafka_error::invalid_request);
      r.error_message = *reason;
    } else if (!stored) {
      r.error_code = common::wire_code(stored.code());
      r.error_message = stored.err().message;
    }
    resp.results.push_back(std::move(r));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
