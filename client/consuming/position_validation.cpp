// The consumer engine's position validation (KIP-320, Java's OffsetFetcher.validatePositionsIfNeeded
// with OffsetsForLeaderEpochUtils): when metadata shows a partition's leader (or its epoch) changed
// since its position was set, the position awaits validation and is not fetched; an
// OffsetForLeaderEpoch request asks the leader for the end offset of the position's epoch; an end
// offset below the position is a truncated log (see subscription_state::maybe_complete_validation).
// Positions sought with a leader epoch and committed offsets restored with theirs are validated too.
// See consumer_engine.hpp.
#include <map>
#include <vector>

#include "client/consuming/consumer_engine.hpp"
#include "client/core/errors.hpp"

namespace brook::client::consuming {

namespace proto = common::protocol;
using asio::awaitable;
using common::kafka_error;

fetch_offset consumer_engine::position_under_current_leader(const topic_partition& tp, int64_t offset,
                                                            std::optional<int32_t> epoch) const {
  fetch_offset out{offset, epoch, std::nullopt, std::nullopt};
  const auto meta = cluster_->metadata();
  const auto* topic = meta->topic(tp.topic);
  auto leader = meta->leader_for(tp.topic, tp.partition);
  if (topic && leader) {
    out.current_leader = leader;
    const int32_t leader_epoch = topic->partitions[static_cast<size_t>(tp.partition)].leader_epoch;
    if (leader_epoch >= 0) out.current_leader_epoch = leader_epoch;
  }
  return out;
}

void consumer_engine::validate_positions_on_metadata_change() {
  const auto meta = cluster_->metadata();
  if (meta == validated_against_) return;
  validated_against_ = meta;
  for (const auto& tp : subs_.assigned_partitions()) {
    auto current = position_under_current_leader(tp, 0, std::nullopt);
    subs_.maybe_validate_position_for_current_leader(tp, current.current_leader, current.current_leader_epoch);
  }
}

common::error consumer_engine::truncation_error(const std::vector<log_truncation>& truncations) {
  std::string text;
  for (const auto& t : truncations) {
    text += (text.empty() ? "" : ", ") + to_string(t.tp) + " at fetch offset " + std::to_string(t.fetch_offset);
    if (t.divergent_offset)
      text += " (divergent offset " + std::to_string(*t.divergent_offset) + ", leader epoch " +
              std::to_string(t.divergent_epoch.value_or(-1)) + ")";
    else
      text += " (divergent offset unknown)";
  }
  // Java's LogTruncationException is an OffsetOutOfRangeException.
  return common::error{kafka_error::offset_out_of_range,
                       "Detected truncated partitions with auto.offset.reset none: " + text};
}

awaitable<result<void>> consumer_engine::validate_positions(clock::time_point deadline) {
  (void)deadline;  // each request is bounded by request.timeout.ms, as Java's
  validate_positions_on_metadata_change();
  const auto due = subs_.partitions_needing_validation(clock::now());
  if (due.empty()) co_return result<void>{};
  std::map<int32_t, std::map<topic_partition, fetch_offset>> by_leader;
  for (const auto& tp : due) {
    auto pos = subs_.current_position(tp);
    if (!pos) continue;
    if (!pos->current_leader) {  // waits for metadata to show a leader
      metadata_refresh_needed_ = true;
      continue;
    }
    by_leader[*pos->current_leader].emplace(tp, *pos);
  }
  std::vector<log_truncation> truncations;
  for (const auto& [node, positions] : by_leader) {
    std::vector<topic_partition> asked;
    for (const auto& [tp, pos] : positions) asked.push_back(tp);
    subs_.set_next_allowed_retry(asked, clock::now() + config_.cluster.connection.request_timeout);
    auto conn = co_await cluster_->connection_to(node);
    if (!conn) {
      subs_.set_next_allowed_retry(asked, clock::now() + config_.cluster.retry_backoff);
      metadata_refresh_needed_ = true;
      continue;
    }
    // Consumers need v3 (replica id -1); an older leader cannot validate and fetching goes on, as Java's.
    auto version = (*conn)->version_for<proto::offset_for_leader_epoch::request>(3);
    if (!version) {
      for (const auto& tp : asked) subs_.complete_validation(tp);
      continue;
    }
    proto::offset_for_leader_epoch::request req;
    req.replica_id = -1;
    for (const auto& [tp, pos] : positions) {
      if (req.topics.empty() || req.topics.back().topic != tp.topic) req.topics.push_back({tp.topic, {}});
      proto::offset_for_leader_epoch::offset_for_leader_partition p;
      p.partition = tp.partition;
      p.current_leader_epoch = pos.current_leader_epoch.value_or(-1);
      p.leader_epoch = pos.offset_epoch.value_or(-1);
      req.topics.back().partitions.push_back(p);
    }
    auto resp = co_await (*conn)->call_at(req, *version);
    if (!resp) {
      subs_.set_next_allowed_retry(asked, clock::now() + config_.cluster.retry_backoff);
      metadata_refresh_needed_ = true;
      continue;
    }
    std::vector<topic_partition> retry;
    for (const auto& t : resp->topics)
      for (const auto& p : t.partitions) {
        topic_partition tp{t.topic, p.partition};
        auto sent = positions.find(tp);
        if (sent == positions.end()) continue;
        const auto e = static_cast<kafka_error>(p.error_code);
        if (e == kafka_error::none) {
          if (auto truncated = subs_.maybe_complete_validation(tp, sent->second, p.leader_epoch, p.end_offset))
            truncations.push_back(*truncated);
        } else if (e == kafka_error::topic_authorization_failed) {
          co_return common::error{e, "Not authorized to validate the position of " + to_string(tp)};
        } else {
          // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH / NOT_LEADER_OR_FOLLOWER / ...: metadata is
          // refreshed and the validation retried (after which the new leader may already be known).
          retry.push_back(tp);
        }
      }
    if (!retry.empty()) {
      subs_.set_next_allowed_retry(retry, clock::now() + config_.cluster.retry_backoff);
      metadata_refresh_needed_ = true;
    }
  }
  if (!truncations.empty()) co_return truncation_error(truncations);
  co_return result<void>{};
}

}  // namespace brook::client::consuming
