// OffsetFetch v1-10 (Kafka 4.0 removed v0): a group's committed offsets; null topics (v2+) means
// every partition the group has committed; v8+ asks for several groups at once. Offsets staged by
// open transactions (TxnOffsetCommit) are not shown; with require_stable (v7+) a partition that has
// some answers UNSTABLE_OFFSET_COMMIT (offset -1) instead of its committed offset, as Kafka's
// fetchOffsets does (a partition-level error in every version). v9+
// carries the member id and epoch of a consumer-protocol member, checked as Kafka checks them. v10+
// names topics by id: as in Kafka, an id no topic has is answered after the known topics, each of
// its partitions with UNKNOWN_TOPIC_ID.
// With an authorizer (as Kafka's KafkaApis): each group needs DESCRIBE (GROUP_AUTHORIZATION_FAILED: v1 in
// each partition asked for, v2-7 at the top, v8+ for the group) and each topic DESCRIBE: of all the
// group's topics only those are shown; a named one without it is answered TOPIC_AUTHORIZATION_FAILED.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace of = proto::offset_fetch;

namespace {

struct fetched_partition {
  int32_t partition;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int16_t error = 0;
};
using fetched = std::vector<std::pair<std::string, std::vector<fetched_partition>>>;

// The offsets of `group_id` for `wanted` (topic -> partitions), or all of them when null.
// With `require_stable`, partitions with pending transactional offsets answer UNSTABLE_OFFSET_COMMIT.
fetched lookup(broker& b, const std::string& group_id,
               const std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>& wanted,
               bool require_stable) {
  const auto& coordinator = b.groups().coordinator();
  const group::offset_map* offsets = coordinator.offsets(group_id);
  fetched out;
  auto fill = [](fetched_partition& f, const log::committed_offset& o) {
    f.offset = o.offset;
    f.leader_epoch = o.leader_epoch;
    f.metadata = o.metadata;
  };
  auto unstable = [&](fetched_partition& f, const std::string& topic) {
    if (!require_stable || !coordinator.has_pending_txn_offset(group_id, topic, f.partition)) return false;
    f.offset = -1;
    f.leader_epoch = -1;
    f.metadata = std::string();
    f.error = common::wire_code(kafka_error::unstable_offset_commit);
    return true;
  };
  if (!wanted) {
    if (!offsets) return out;
    for (const auto& [key, o] : *offsets) {
      if (!b.topics().find(key.first)) continue;  // the topic was deleted with its offsets
      if (out.empty() || out.back().first != key.first) out.emplace_back(key.first, std::vector<fetched_partition>{});
      auto& f = out.back().second.emplace_back();
      f.partition = key.second;
      if (!unstable(f, key.first)) fill(f, o);
    }
    return out;
  }
  for (const auto& [topic, partitions] : *wanted) {
    auto& t = out.emplace_back(topic, std::vector<fetched_partition>{});
    for (int32_t p : partitions) {
      auto& f = t.second.emplace_back();
      f.partition = p;
      f.metadata = std::string();
      if (!b.topics().find(topic) || unstable(f, topic) || !offsets) continue;
      auto it = offsets->find({topic, p});
      if (it != offsets->end()) fill(f, it->second);
    }
  }
  return out;
}

using wanted_topics = std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>;

// lookup() of the topics the request may describe; the named ones it may not come last, each partition
// with TOPIC_AUTHORIZATION_FAILED.
fetched authorized_lookup(request_context& ctx, const std::string& group_id, const wanted_topics& wanted,
                          bool require_stable) {
  auto may_describe = [&ctx](const std::string& topic) {
    return security::authorized(ctx, security::acl_operation::describe, security::resource_type::topic, topic);
  };
  if (!wanted) {
    fetched all = lookup(ctx.owner, group_id, wanted, require_stable);
    std::erase_if(all, [&](const auto& topic) { return !may_describe(topic.first); });
    return all;
  }
  wanted_topics allowed(std::in_place);
  fetched refused;
  for (const auto& [topic, partitions] : *wanted) {
    if (may_describe(topic)) {
      allowed->emplace_back(topic, partitions);
      continue;
    }
    auto& t = refused.emplace_back(topic, std::vector<fetched_partition>{});
    for (int32_t p : partitions)
      t.second.push_back({p, -1, -1, std::string(), common::wire_code(kafka_error::topic_authorization_failed)});
  }
  fetched out = lookup(ctx.owner, group_id, allowed, require_stable);
  for (auto& t : refused) out.push_back(std::move(t));
  return out;
}

bool may_describe_group(request_context& ctx, const std::string& group_id) {
  return security::authorized(ctx, security::acl_operation::describe, security::resource_type::group, group_id);
}

}  // namespace

awaitable<of::response> offset_fetch(request_context& ctx, of::request& req) {
  broker& b = ctx.owner;
  of::response resp;
  if (ctx.version() < 8) {
    std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> wanted;
    if (req.topics) {
      wanted.emplace();
      for (const auto& t : *req.topics) wanted->emplace_back(t.name, t.partition_indexes);
    }
    if (req.group_id.empty()) {
      resp.error_code = common::wire_code(kafka_error::invalid_group_id);
      co_return resp;
    }
    if (!may_describe_group(ctx, req.group_id)) {
      const int16_t refused = common::wire_code(kafka_error::group_authorization_failed);
      if (ctx.version() >= 2) {
        resp.error_code = refused;
      } else if (wanted) {  // v1 has no top-level error: each partition asked for carries it
        for (const auto& [topic, partitions] : *wanted) {
          auto& t = resp.topics.emplace_back();
          t.name = topic;
          for (int32_t p : partitions) t.partitions.push_back({p, -1, -1, std::string(), refused});
        }
      }
      co_return resp;
    }
    for (auto& [topic, parts] : authorized_lookup(ctx, req.group_id, wanted, req.require_stable)) {
      auto& t = resp.topics.emplace_back();
      t.name = topic;
      for (auto& f : parts) t.partitions.push_back({f.partition, f.offset, f.leader_epoch, f.metadata, f.error});
    }
    co_return resp;
  }
  for (const auto& g : req.groups) {
    auto& out = resp.groups.emplace_back();
    out.group_id = g.group_id;
    if (g.group_id.empty()) {
      out.error_code = common::wire_code(kafka_error::invalid_group_id);
      continue;
    }
    if (!may_describe_group(ctx, g.group_id)) {
      out.error_code = common::wire_code(kafka_error::group_authorization_failed);
      continue;
    }
    if (ctx.version() >= 9) {
      // A consumer-protocol member fetches with its id and current epoch.
      kafka_error check = b.groups().coordinator().validate_fetch(g.group_id, g.member_id, g.member_epoch);
      if (check != kafka_error::none) {
        out.error_code = common::wire_code(check);
        continue;
      }
    }
    const bool by_id = ctx.version() >= 10;
    std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> wanted;
    std::vector<of::offset_fetch_response_topics> unknown_ids;
    if (g.topics) {
      wanted.emplace();
      for (const auto& t : *g.topics) {
        if (!by_id) {
          wanted->emplace_back(t.name, t.partition_indexes);
        } else if (const topic_info* info = b.topics().find(t.topic_id)) {
          wanted->emplace_back(info->record.name, t.partition_indexes);
        } else {
          auto& u = unknown_ids.emplace_back();
          u.topic_id = t.topic_id;
          for (int32_t p : t.partition_indexes)
            u.partitions.push_back({p, -1, -1, std::string(), common::wire_code(kafka_error::unknown_topic_id)});
        }
      }
    }
    for (auto& [topic, parts] : authorized_lookup(ctx, g.group_id, wanted, req.require_stable)) {
      auto& t = out.topics.emplace_back();
      t.name = topic;
      if (const topic_info* info = by_id ? b.topics().find(topic) : nullptr) t.topic_id = info->record.id;
      for (auto& f : parts) t.partitions.push_back({f.partition, f.offset, f.leader_epoch, f.metadata, f.error});
    }
    for (auto& u : unknown_ids) out.topics.push_back(std::move(u));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
