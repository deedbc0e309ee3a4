// OffsetCommit v2-10 (Kafka 4.0 removed v0-1). Group members commit with their generation and
// member id; a consumer that assigns partitions itself commits with generation -1 and no member id,
// which only an Empty group accepts. Members of consumer-protocol groups (KIP-848) commit with v9+
// and their member epoch in the generation field: an older epoch commits only partitions the member
// has held since then (KIP-1251, as Kafka 4.4), a newer one or any other is STALE_MEMBER_EPOCH. v10+
// names topics by id: an id no topic has answers UNKNOWN_TOPIC_ID for its partitions, as Kafka does;
// offsets are kept by topic name either way. Offsets are written to the metadata store (fsynced, on
// the group's write lane, so commits of one group land in order) before the response, then enter the
// coordinator's cache. A failed write answers NOT_COORDINATOR, as every group API does. Pending
// transactional offsets of the same partitions stay pending; when their transaction commits, this
// commit (written after them) is kept, as Kafka keeps the later record.
// With an authorizer (as Kafka's KafkaApis): the group needs READ (every partition is answered
// GROUP_AUTHORIZATION_FAILED otherwise) and each topic READ (TOPIC_AUTHORIZATION_FAILED, before whether
// it exists).
#include "broker/broker.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace oc = proto::offset_commit;

awaitable<oc::response> offset_commit(request_context& ctx, oc::request& req) {
  broker& b = ctx.owner;
  auto& groups = b.groups();
  const int64_t now = groups.now();            // deadlines: a commit counts as a heartbeat
  const int64_t commit_ms = groups.wall_now();  // the commit timestamp Kafka stores and reports
  oc::response resp;
  if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id)) {
    for (const auto& topic : req.topics) {
      auto& out = resp.topics.emplace_back();
      out.name = topic.name;
      out.topic_id = topic.topic_id;
      for (const auto& part : topic.partitions)
        out.partitions.push_back({part.partition_index, common::wire_code(kafka_error::group_authorization_failed)});
    }
    co_return resp;
  }
  std::vector<oc::offset_commit_response_partition*> slots;  // parallel to `to_write`
  std::vector<log::partition_offset> to_write;
  // Partitions with their own error are answered as they are; the rest wait for the group check.
  std::vector<std::pair<oc::offset_commit_response_partition*, const oc::offset_commit_request_partition*>> valid;
  const bool by_id = ctx.version() >= 10;
  // The topic name of each request topic (v10+: resolved from its id; empty when unknown).
  std::vector<std::string> names;
  names.reserve(req.topics.size());
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    const topic_info* info = by_id ? b.topics().find(topic.topic_id) : b.topics().find(topic.name);
    names.push_back(by_id ? (info ? info->record.name : std::string()) : topic.name);
    out.name = names.back();
    out.topic_id = topic.topic_id;
    out.partitions.reserve(topic.partitions.size());
    const bool readable = (by_id && !info) ||
                          security::authorized(ctx, security::acl_operation::read, security::resource_type::topic,
                                               names.back(), true, true, static_cast<int>(topic.partitions.size()));
    for (const auto& part : topic.partitions) {
      auto& r = out.partitions.emplace_back();
      r.partition_index = part.partition_index;
      if (!readable)
        r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      else if (const kafka_error e = commit_partition_error(info, by_id, part.partition_index); e != kafka_error::none)
        r.error_code = common::wire_code(e);
      else
        valid.emplace_back(&r, &part);
    }
  }
  if (valid.empty()) co_return resp;

  // As Kafka's group coordinator: the group check first (its error answers every partition that got
  // this far), then each partition's metadata size.
  const size_t metadata_max = static_cast<size_t>(b.config().offset_metadata_max_bytes());
  auto metadata_too_large = [metadata_max](const oc::offset_commit_request_partition& part) {
    return part.committed_metadata && part.committed_metadata->size() > metadata_max;
  };
  // The partitions by topic id, for a consumer-protocol member committing with an older epoch (KIP-1251).
  std::vector<group::committed_partition> committing;
  committing.reserve(valid.size());
  for (size_t t = 0; t < req.topics.size(); ++t) {
    const topic_info* info = names[t].empty() ? nullptr : b.topics().find(names[t]);
    for (size_t p = 0; p < req.topics[t].partitions.size(); ++p)
      if (info && resp.topics[t].partitions[p].error_code == 0 && !metadata_too_large(req.topics[t].partitions[p]))
        committing.push_back({info->record.id, req.topics[t].partitions[p].partition_index});
  }
  const kafka_error check =
      groups.coordinator().validate_commit(req.group_id, req.member_id, req.group_instance_id,
                                           req.generation_id_or_member_epoch, now, ctx.version(), committing);
  groups.changed();
  if (check != kafka_error::none) {
    for (auto& [r, part] : valid) r->error_code = common::wire_code(check);
    co_return resp;
  }
  for (auto& [r, part] : valid)
    if (metadata_too_large(*part)) r->error_code = common::wire_code(kafka_error::offset_metadata_too_large);
  // The topic name of each valid partition: find it through the response topic holding the slot.
  for (size_t t = 0; t < req.topics.size(); ++t) {
    for (size_t p = 0; p < req.topics[t].partitions.size(); ++p) {
      auto* slot = &resp.topics[t].partitions[p];
      if (slot->error_code != 0) continue;
      const auto& part = req.topics[t].partitions[p];
      log::partition_offset po;
      po.topic = names[t];
      po.partition = part.partition_index;
      po.offset.offset = part.committed_offset;
      po.offset.leader_epoch = part.committed_leader_epoch;
      po.offset.metadata = part.committed_metadata.value_or("");
      po.offset.commit_ms = commit_ms;
      if (ctx.version() <= 4 && req.retention_time_ms > 0) po.offset.expire_ms = commit_ms + req.retention_time_ms;
      po.offset.sequence = groups.coordinator().next_sequence();  // written after any offset staged so far
      to_write.push_back(std::move(po));
      slots.push_back(slot);
    }
  }
  auto* store = &groups.store();
  std::string group_id = req.group_id;
  auto work = [store, group_id, to_write] { return store->commit_offsets(group_id, to_write); };
  auto written = co_await groups.write(group_id, work);
  if (!written) {
    const kafka_error failed = group::store_failure_error("OffsetCommit", group_id, written.err());
    for (auto* slot : slots) slot->error_code = common::wire_code(failed);
    co_return resp;
  }
  groups.coordinator().apply_commit(group_id, to_write, now);
  groups.changed();
  co_return resp;
}

}  // namespace brook::broker::handlers
