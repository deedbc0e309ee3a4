// DeleteTopics v0-6: by name (topic_names, v0-5) or by name or id (topics, v6+).
// With an authorizer (as Kafka's controller): DELETE on the cluster, else on each topic;
// TOPIC_AUTHORIZATION_FAILED otherwise, and a topic asked for by id keeps its name hidden unless the
// principal may DESCRIBE it.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dt = proto::delete_topics;

awaitable<dt::response> delete_topics(request_context& ctx, dt::request& req) {
  broker& b = ctx.owner;
  std::vector<dt::delete_topic_state> wanted = std::move(req.topics);
  if (ctx.version() < 6)
    for (auto& name : req.topic_names) wanted.push_back({name, {}});

  using security::acl_operation;
  using security::resource_type;
  const bool cluster_delete = security::authorized_on_cluster(ctx, acl_operation::delete_, false);
  dt::response resp;
  for (const auto& w : wanted) {
    dt::deletable_topic_result r;
    r.topic_id = w.topic_id;
    std::optional<std::string> name = w.name;
    if (!name) {
      if (const topic_info* info = b.topics().find(w.topic_id)) {
        name = info->record.name;
      } else {
        r.error_code = common::wire_code(kafka_error::unknown_topic_id);
        r.error_message = "This server does not host this topic ID.";
        resp.responses.push_back(std::move(r));
        continue;
      }
    }
    if (!cluster_delete && !security::authorized(ctx, acl_operation::delete_, resource_type::topic, *name)) {
      const bool shown = w.name || security::authorized(ctx, acl_operation::describe, resource_type::topic, *name,
                                                        true, false);
      r.name = shown ? name : std::nullopt;
      r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      r.error_message = "Topic authorization failed.";
      resp.responses.push_back(std::move(r));
      continue;
    }
    r.name = name;
    if (const topic_info* info = b.topics().find(*name)) r.topic_id = info->record.id;
    auto done = co_await delete_topic(b, *name);
    if (!done) {
      r.error_code = common::wire_code(done.code());
      r.error_message = done.err().message;
    }
    resp.responses.push_back(std::move(r));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
