// AlterUserScramCredentials v0 (KIP-554): adds, replaces and deletes users' SCRAM credentials with
// Kafka's controller rules and messages (security::scram_credentials::alter). The client sends the
// salt and the salted password, so only the stored and server keys are derived here (cheap); the
// change is written to the metadata store in one batch on the blocking pool, then put in force for
// SCRAM authentication. One result per user named; if the store write fails, every user that had
// passed the checks gets its error. With an authorizer the request needs ALTER on the cluster
// (CLUSTER_AUTHORIZATION_FAILED for each distinct user named, by name), as on Kafka's controller.
#include "broker/blocking.hpp"
#include "broker/broker.hpp"
#include <set>

#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

namespace ausc = proto::alter_user_scram_credentials;

awaitable<ausc::response> alter_user_scram_credentials(request_context& ctx, ausc::request& req) {
  broker& b = ctx.owner;
  if (!security::authorized_on_cluster(ctx, security::acl_operation::alter)) {
    std::set<std::string> users;
    for (const auto& d : req.deletions) users.insert(d.name);
    for (const auto& u : req.upsertions) users.insert(u.name);
    ausc::response refused;
    for (const auto& user : users) {
      auto& out = refused.results.emplace_back();
      out.user = user;
      out.error_code = common::wire_code(common::kafka_error::cluster_authorization_failed);
      out.error_message = acl_apis::needs_permission("AlterUserScramCredentials", security::acl_operation::alter);
    }
    co_return refused;
  }
  std::vector<security::scram_deletion> deletions;
  for (const auto& d : req.deletions) deletions.push_back({d.name, d.mechanism});
  std::vector<security::scram_upsertion> upsertions;
  for (auto& u : req.upsertions)
    upsertions.push_back({u.name, u.mechanism, u.iterations, std::move(u.salt), std::move(u.salted_password)});
  const security::scram_change change = b.scram_credentials().alter(deletions, upsertions);

  common::result<void> stored;
  if (!change.puts.empty() || !change.deletions.empty()) {
    auto work = [&store = b.store(), puts = change.puts, dels = change.deletions] {
      return store.alter_scram_credentials(puts, dels);
    };
    stored = co_await run_blocking(b.blocking_pool(), work);
    if (stored) b.scram_credentials().apply(change);
  }

  ausc::response resp;
  for (const auto& r : change.results) {
    ausc::alter_user_scram_credentials_result out;
    out.user = r.user;
    out.error_message = std::nullopt;
    const common::result<void> outcome = r.outcome ? stored : r.outcome;
    if (!outcome) {
      out.error_code = common::wire_code(outcome.code());
      out.error_message = outcome.err().message;
    }
    resp.results.push_back(std::move(out));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
