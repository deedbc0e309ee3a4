// The features (KIP-584) this broker has, at the levels it really runs at: the one table ApiVersions
// answers from, and with it the Java AdminClient's describeFeatures and `kafka-features describe`.
// Clients decide from the finalized levels: transaction.version >= 2 turns on transactions v2
// (KIP-890) in the Java producer and franz-go; group.version >= 1 means the consumer group protocol
// (KIP-848) is served. Every feature Kafka 4.4 has is listed, with the range of levels Brook serves;
// those of features Brook does not have (transactions, share and streams groups, eligible leader
// replicas, a KRaft quorum) stay at 0, where Kafka 4.4 finalizes them higher.
//
// Stateless; the levels follow from what the broker serves and never change while it runs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace brook::broker {

struct feature {
  std::string_view name;
  // The levels the broker can run at (ApiVersions' supported features) ...
  int16_t min_level;
  int16_t max_level;
  // ... and the one it runs at (its finalized level; 0 means the feature is off and goes unlisted).
  int16_t finalized_level;
};

// Every feature, in the order ApiVersions lists them.
std::span<const feature> features();

// The epoch of the finalized levels, which clients compare to decide whether an answer is newer than
// the one they hold (the Java client and franz-go ignore finalized features at -1). A broker's levels
// only rise between releases, so their sum rises with them.
int64_t finalized_features_epoch();

// Kafka 4.4's metadata.version levels: a level ties the versions of the inter-broker Fetch and
// ListOffsets requests, which clients send too. Brook's level is the highest of Kafka 4.4's whose
// Fetch and ListOffsets versions it serves.
struct metadata_version_level {
  int16_t level;
  std::string_view release;  // Kafka's name of the level ("4.4-IV2")
  int16_t fetch_version;
  int16_t list_offsets_version;
};
// The levels at which Kafka 4.4's Fetch or ListOffsets version changes, oldest first, and the newest
// production level of Kafka 4.4 last.
std::span<const metadata_version_level> metadata_version_steps();
// The highest level whose Fetch and ListOffsets versions are at most the given ones; 0 when even the
// oldest level needs more.
int16_t metadata_version_for(int16_t fetch_max_version, int16_t list_offsets_max_version);
// The lowest level whose Fetch and ListOffsets versions are at least the given ones (the oldest
// versions served); 0 when no level is.
int16_t oldest_metadata_version_for(int16_t fetch_min_version, int16_t list_offsets_min_version);

}  // namespace brook::broker
