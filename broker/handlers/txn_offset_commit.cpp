// TxnOffsetCommit v0-6 (KIP-98; v3+ carries group membership, KIP-447; v6 names topics by id,
// KIP-1319): a transactional producer stages a group's offsets inside its open transaction. They
// stay pending (invisible to OffsetFetch) until the transaction's marker commits or aborts them
// (group_service::complete_transaction). As Kafka 4.4 (KafkaApis.handleTxnOffsetCommitRequest,
// GroupCoordinatorService.commitTransactionalOffsets, OffsetMetadataManager.commitTransactionalOffset):
// an unknown topic answers UNKNOWN_TOPIC_OR_PARTITION (v6: an unknown topic id UNKNOWN_TOPIC_ID) and
// an unknown partition UNKNOWN_TOPIC_OR_PARTITION; the other partitions share one answer for an empty
// group id (INVALID_GROUP_ID), the producer check (group_service::check_txn_producer, the transaction
// coordinator's) and the group check (group_coordinator::validate_txn_commit); then each partition
// whose metadata exceeds offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE and the rest are
// staged: written to the metadata store before the response (a failed write answers NOT_COORDINATOR).

#include "broker/broker.hpp"
#include "broker/handlers/group_common.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace toc = proto::txn_offset_commit;

awaitable<toc::response> txn_offset_commit(request_context& ctx, toc::request& req) {
  broker& b = ctx.owner;
  auto& groups = b.groups();
  const int64_t commit_ms = groups.wall_now();
  const bool by_id = ctx.version() >= 6;
  toc::response resp;
  // As Kafka's KafkaApis: WRITE on the transactional id, then READ on the group, answered for every
  // partition; then READ on each topic.
  std::optional<kafka_error> refused;
  if (!security::authorized(ctx, security::acl_operation::write, security::resource_type::transactional_id,
                            req.transactional_id))
    refused = kafka_error::transactional_id_authorization_failed;
  else if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::group, req.group_id))
    refused = kafka_error::group_authorization_failed;
  if (refused) {
    for (const auto& topic : req.topics) {
      auto& out = resp.topics.emplace_back();
      out.name = topic.name;
      out.topic_id = topic.topic_id;
      for (const auto& part : topic.partitions) out.partitions.push_back({part.partition_index, common::wire_code(*refused)});
    }
    co_return resp;
  }
  std::vector<std::string> names;  // each request topic's name (empty when unknown)
  names.reserve(req.topics.size());
  size_t valid = 0;
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    const topic_info* info = by_id ? b.topics().find(topic.topic_id) : b.topics().find(topic.name);
    names.push_back(info ? info->record.name : std::string());
    out.name = by_id ? names.back() : topic.name;
    out.topic_id = topic.topic_id;
    out.partitions.reserve(topic.partitions.size());
    const bool readable = (by_id && !info) ||
                          security::authorized(ctx, security::acl_operation::read, security::resource_type::topic,
                                               by_id ? names.back() : topic.name, true, true,
                                               static_cast<int>(topic.partitions.size()));
    for (const auto& part : topic.partitions) {
      auto& r = out.partitions.emplace_back();
      r.partition_index = part.partition_index;
      if (!readable)
        r.error_code = common::wire_code(kafka_error::topic_authorization_failed);
      else if (const kafka_error e = commit_partition_error(info, by_id, part.partition_index); e != kafka_error::none)
        r.error_code = common::wire_code(e);
      else
        ++valid;
    }
  }
  if (valid == 0) co_return resp;
  // The partitions that passed the topic checks, answered together from here on.
  auto answer_valid = [&](kafka_error e) {
    for (auto& t : resp.topics)
      for (auto& p : t.partitions)
        if (p.error_code == 0) p.error_code = common::wire_code(e);
  };
  if (req.group_id.empty()) {
    answer_valid(kafka_error::invalid_group_id);
    co_return resp;
  }
  // A named object: GCC mis-destroys a braced temporary inside a co_await expression.
  const group::txn_commit_producer who{req.transactional_id, req.producer_id, req.producer_epoch, req.group_id,
                                       ctx.version()};
  const kafka_error producer = co_await groups.check_txn_producer(who);
  if (producer != kafka_error::none) {
    answer_valid(producer);
    co_return resp;
  }
  // By topic id, for a consumer-protocol member committing with an older epoch (KIP-1251).
  std::vector<group::committed_partition> committing;
  for (size_t t = 0; t < req.topics.size(); ++t) {
    const topic_info* info = names[t].empty() ? nullptr : b.topics().find(names[t]);
    for (size_t p = 0; p < req.topics[t].partitions.size(); ++p)
      if (info && resp.topics[t].partitions[p].error_code == 0)
        committing.push_back({info->record.id, req.topics[t].partitions[p].partition_index});
  }
  const kafka_error check = groups.coordinator().validate_txn_commit(
      req.group_id, req.member_id, req.group_instance_id, req.generation_id_or_member_epoch, ctx.version(),
      groups.now(), committing);
  groups.changed();
  if (check != kafka_error::none) {
    answer_valid(check);
    co_return resp;
  }
  std::vector<log::txn_offset> staged;
  std::vector<toc::txn_offset_commit_response_partition*> slots;  // parallel to `staged`
  const auto max_metadata = static_cast<size_t>(b.config().offset_metadata_max_bytes());
  for (size_t t = 0; t < req.topics.size(); ++t) {
    for (size_t p = 0; p < req.topics[t].partitions.size(); ++p) {
      auto* slot = &resp.topics[t].partitions[p];
      if (slot->error_code != 0) continue;
      const auto& part = req.topics[t].partitions[p];
      if (part.committed_metadata && part.committed_metadata->size() > max_metadata) {
        slot->error_code = common::wire_code(kafka_error::offset_metadata_too_large);
        continue;
      }
      log::txn_offset o;
      o.group = req.group_id;
      o.topic = names[t];
      o.partition = part.partition_index;
      o.producer_id = req.producer_id;
      o.offset.offset = part.committed_offset;
      o.offset.leader_epoch = part.committed_leader_epoch;
      o.offset.metadata = part.committed_metadata.value_or("");
      o.offset.commit_ms = commit_ms;
      o.offset.sequence = groups.coordinator().next_sequence();
      staged.push_back(std::move(o));
      slots.push_back(slot);
    }
  }
  if (staged.empty()) co_return resp;
  auto written = co_await groups.stage_txn_offsets(req.group_id, std::move(staged));
  if (!written) {
    const kafka_error failed = group::store_failure_error("TxnOffsetCommit", req.group_id, written.err());
    for (auto* slot : slots) slot->error_code = common::wire_code(failed);
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
