#include "broker/features.hpp"

#include <array>

#include "broker/api_table.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/list_offsets.hpp"

namespace brook::broker {

namespace proto = common::protocol;

namespace {

// From Kafka 4.4's MetadataVersion (fetchRequestVersion, listOffsetRequestVersion): each level where
// either changes; between two of these the versions stay those of the earlier one.
constexpr std::array<metadata_version_level, 9> steps{{
    {7, "3.3-IV3", 13, 7},
    {9, "3.5-IV0", 14, 8},
    {10, "3.5-IV1", 15, 8},
    {19, "3.7-IV4", 16, 8},
    {21, "3.9-IV0", 17, 9},
    {25, "4.0-IV3", 17, 10},
    {27, "4.1-IV1", 18, 10},
    {29, "4.2-IV1", 18, 11},
    {33, "4.4-IV2", 18, 11},  // Kafka 4.4's newest production level
}};

int16_t served_min(int16_t api_key) {
  const api_entry* e = find_api(api_key);
  return e ? e->min_version : -1;
}

int16_t served_max(int16_t api_key) {
  const api_entry* e = find_api(api_key);
  return e ? e->max_version : -1;
}

std::array<feature, 7> build_table() {
  const int16_t metadata_version =
      metadata_version_for(served_max(proto::fetch::api_key), served_max(proto::list_offsets::api_key));
  const int16_t oldest_metadata_version =
      oldest_metadata_version_for(served_min(proto::fetch::api_key), served_min(proto::list_offsets::api_key));
  // Each feature with the range of levels Brook serves, as Kafka lists a feature: level 0 is the
  // feature off, and a feature finalized at 0 goes unlisted.
  return {{
      // The levels whose protocol versions Brook serves, and the newest of them.
      {"metadata.version", oldest_metadata_version, metadata_version, metadata_version},
      // Level 1 is KRaft's dynamic controller quorum (KIP-853); Brook has no quorum.
      {"kraft.version", 0, 0, 0},
      // Level 0 is the classic group protocol, level 1 the consumer group protocol (KIP-848); Brook
      // serves both.
      {"group.version", 0, 1, 1},
      // Level 2 is KIP-890's second part: an epoch bump at every commit or abort (EndTxn v5), partitions
      // added to the transaction by the produce requests (v12+) and TxnOffsetCommits (v5+) themselves.
      // Finalized at 2, as in a new Kafka 4.4 cluster; clients that do not run it (librdkafka) keep the
      // earlier protocol, which Brook serves too (AddPartitionsToTxn, verified produce batches).
      {"transaction.version", 0, 2, 2},
      // Level 1 is eligible leader replicas (KIP-966), on in a new Kafka 4.4 cluster. With one replica
      // per partition the election rules change nothing, but its config rules apply: Brook follows
      // them (min.insync.replicas stored cluster-wide, not per broker; see broker/config/).
      {"eligible.leader.replicas.version", 0, 1, 1},
      // Levels 1 and 2 are share groups (KIP-932), which Brook does not serve.
      {"share.version", 0, 0, 0},
      // Level 1 is the streams group protocol (KIP-1071), which Brook does not serve.
      {"streams.version", 0, 0, 0},
  }};
}

}  // namespace

std::span<const metadata_version_level> metadata_version_steps() { return steps; }

int16_t metadata_version_for(int16_t fetch_max_version, int16_t list_offsets_max_version) {
  int16_t level = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].fetch_version > fetch_max_version || steps[i].list_offsets_version > list_offsets_max_version) break;
    level = i + 1 < steps.size() ? static_cast<int16_t>(steps[i + 1].level - 1) : steps[i].level;
  }
  return level;
}

int16_t oldest_metadata_version_for(int16_t fetch_min_version, int16_t list_offsets_min_version) {
  for (const auto& step : steps)
    if (step.fetch_version >= fetch_min_version && step.list_offsets_version >= list_offsets_min_version)
      return step.level;
  return 0;
}

std::span<const feature> features() {
  static const std::array<feature, 7> table = build_table();
  return table;
}

int64_t finalized_features_epoch() {
  int64_t sum = 0;
  for (const auto& f : features()) sum += f.finalized_level;
  return sum;
}

}  // namespace brook::broker
