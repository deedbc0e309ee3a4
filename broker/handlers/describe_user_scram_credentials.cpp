// DescribeUserScramCredentials v0 (KIP-554): the mechanisms and iteration counts of users' SCRAM
// credentials (never their salts or keys), from the broker's credentials, as Kafka's ScramImage.describe
// answers: no users named (null or empty) lists every user with a credential; a user named twice is
// DUPLICATE_RESOURCE, a user without a credential RESOURCE_NOT_FOUND. Users come in the order first
// named (all of them: by name), their credentials by mechanism type. With an authorizer the request
// needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED, for it and each user named), as in Kafka.
#include <map>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace dusc = proto::describe_user_scram_credentials;

awaitable<dusc::response> describe_user_scram_credentials(request_context& ctx, dusc::request& req) {
  if (!security::authorized_on_cluster(ctx, security::acl_operation::describe)) {
    const auto refused = common::wire_code(common::kafka_error::cluster_authorization_failed);
    const std::string message = "Cluster authorization failed.";
    dusc::response resp;
    resp.error_code = refused;
    resp.error_message = message;
    if (req.users)
      for (size_t i = 0; i < req.users->size(); ++i) {
        auto& out = resp.results.emplace_back();
        out.error_code = refused;
        out.error_message = message;
      }
    co_return resp;
  }
  const auto held = ctx.owner.scram_credentials().snapshot();
  // (user, named more than once), in the order they come.
  std::vector<std::pair<std::string, bool>> users;
  if (!req.users || req.users->empty()) {
    for (const auto& [name, credentials] : *held) users.emplace_back(name, false);
  } else {
    std::map<std::string, size_t> position;
    for (const auto& u : *req.users) {
      auto [it, first] = position.emplace(u.name, users.size());
      if (first) users.emplace_back(u.name, false);
      else users[it->second].second = true;
    }
  }

  dusc::response resp;
  resp.error_message = std::nullopt;
  for (const auto& [name, repeated] : users) {
    dusc::describe_user_scram_credentials_result out;
    out.user = name;
    out.error_message = std::nullopt;
    auto found = held->find(name);
    if (repeated) {
      out.error_code = common::wire_code(common::kafka_error::duplicate_resource);
      out.error_message = "Cannot describe SCRAM credentials for the same user twice in a single request: " + name;
    } else if (found == held->end() || found->second.empty()) {
      out.error_code = common::wire_code(common::kafka_error::resource_not_found);
      out.error_message = "Attempt to describe a user credential that does not exist: " + name;
    } else {
      for (const auto& [mechanism, credential] : found->second)
        out.credential_infos.push_back({static_cast<int8_t>(mechanism), credential.iterations});
    }
    resp.results.push_back(std::move(out));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
