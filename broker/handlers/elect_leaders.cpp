// ElectLeaders v0-2 (KIP-183, KIP-460), as Kafka's controller answers on a single node: this broker is
// every partition's only replica and its leader, so each partition already has its preferred leader
// (election type 0) and a live one (type 1, unclean): ELECTION_NOT_NEEDED for every named partition
// that exists, UNKNOWN_TOPIC_OR_PARTITION with Kafka's messages for the others. Asked for every
// partition (a null list), Kafka lists each topic and leaves out the partitions that needed no
// election, so each topic comes with no results. Another election type refuses the request with
// INVALID_REQUEST on every named partition; an empty list gets an empty answer.
#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/acl_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace el = proto::elect_leaders;

namespace {
constexpr int8_t preferred_election = 0;
constexpr int8_t unclean_election = 1;

el::partition_election_result result(int32_t partition, kafka_error code, std::string message) {
  return {partition, common::wire_code(code), std::move(message)};
}

// Every partition's answer on this broker: the leader is already the preferred replica, and live.
el::partition_election_result elect(broker& b, const std::string& topic, int32_t partition) {
  const topic_info* info = b.topics().find(topic);
  if (!info) return result(partition, kafka_error::unknown_topic_or_partition, "No such topic as " + topic);
  if (partition < 0 || partition >= info->record.partitions)
    return result(partition, kafka_error::unknown_topic_or_partition,
                  fmt::format("No such partition as {}-{}", topic, partition));
  return result(partition, kafka_error::election_not_needed, "Leader election not needed for topic partition.");
}

el::response refused(const el::request& req, kafka_error code, const std::string& message) {
  el::response resp;
  resp.error_code = common::wire_code(code);
  for (const auto& t : *req.topic_partitions) {
    auto& out = resp.replica_election_results.emplace_back();
    out.topic = t.topic;
    for (int32_t p : t.partitions) out.partition_result.push_back(result(p, code, message));
  }
  return resp;
}
}  // namespace

awaitable<el::response> elect_leaders(request_context& ctx, el::request& req) {
  broker& b = ctx.owner;
  el::response resp;
  // As Kafka's controller: ALTER on the cluster; otherwise every partition asked for, and (v1+) the
  // request, get CLUSTER_AUTHORIZATION_FAILED.
  if (!security::authorized_on_cluster(ctx, security::acl_operation::alter)) {
    const auto refused = common::wire_code(kafka_error::cluster_authorization_failed);
    const std::string message = acl_apis::needs_permission("ElectLeaders", security::acl_operation::alter);
    resp.error_code = refused;
    if (req.topic_partitions)
      for (const auto& t : *req.topic_partitions) {
        auto& out = resp.replica_election_results.emplace_back();
        out.topic = t.topic;
        for (int32_t p : t.partitions) out.partition_result.push_back({p, refused, message});
      }
    co_return resp;
  }
  if (req.topic_partitions && req.topic_partitions->empty()) co_return resp;
  if (req.election_type != preferred_election && req.election_type != unclean_election) {
    const std::string message = fmt::format("Unknown election type {}", req.election_type);
    if (!req.topic_partitions) {
      resp.error_code = common::wire_code(kafka_error::invalid_request);
      co_return resp;
    }
    co_return refused(req, kafka_error::invalid_request, message);
  }
  if (!req.topic_partitions) {
    for (const auto& [name, info] : b.topics().all()) resp.replica_election_results.push_back({name, {}});
    co_return resp;
  }
  for (const auto& t : *req.topic_partitions) {
    auto& out = resp.replica_election_results.emplace_back();
    out.topic = t.topic;
    for (int32_t p : t.partitions) out.partition_result.push_back(elect(b, t.topic, p));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
