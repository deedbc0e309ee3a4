// The classic group coordinator: every consumer group of this broker plus their committed offsets,
// as pure state driven with an explicit `now` (wall-clock milliseconds; persisted timestamps use it).
//
// Owner: group_service, on the network thread. The metadata store is the durable copy; this is its
// in-memory view: offsets enter the cache only after the store has written them, and groups whose
// `dirty` flag is set are written out by the service. A group that exists only through committed
// offsets is an Empty group without a protocol type, as in Kafka.
//
// Group metadata value format (opaque to the store), version 1, big-endian:
//   u8 1 | string protocol_type | i32 generation | u8 has_protocol [| string protocol] |
//   string leader | i64 state_since_ms | u32 n | n x member
//   member: string id | u8 has_instance [| string instance_id] | string client_id |
//           string client_host | i32 session_timeout | i32 rebalance_timeout | string protocol_type |
//           u32 k | k x (string name, string metadata) | string assignment
//   (string = u32 length + bytes)
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "broker/group/group.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker::group {

using offset_key = std::pair<std::string, int32_t>;  // topic, partition
using offset_map = std::map<offset_key, log::committed_offset>;

struct coordinator_config {
  group_limits limits;
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t offsets_retention_check_interval_ms = 600000;
};

// Offsets that expired and must be removed from the store (then the group, if `remove_group`).
struct expired_offsets {
  std::string group;
  std::map<std::string, std::vector<int32_t>> partitions;  // topic -> partitions
  bool remove_group = false;
};

class group_coordinator {
 public:
  explicit group_coordinator(coordinator_config config, int64_t now);

  const coordinator_config& config() const { return config_; }
  // Ids handed to new members are "<client_id>-<this>"; tests replace the random source.
  std::function<std::string()> new_uuid;

  group* find(const std::string& id);
  const std::map<std::string, std::unique_ptr<group>>& groups() const { return groups_; }

  void join(const std::string& group_id, join_request req, int64_t now, join_callback done);
  void sync(const std::string& group_id, const sync_request& req, int64_t now, sync_callback done);
  kafka_error heartbeat(const std::string& group_id, const std::string& member_id,
                        const std::optional<std::string>& instance_id, int32_t generation, int64_t now);
  std::vector<kafka_error> leave(const std::string& group_id, const std::vector<leave_member>& leaving, int64_t now);

  // OffsetCommit: may this committer commit now? A commit with generation < 0 to an unknown group
  // creates it (a "simple" group of a consumer that assigns partitions itself).
  kafka_error validate_commit(const std::string& group_id, const std::string& member_id,
                              const std::optional<std::string>& instance_id, int32_t generation, int64_t now);
  // Records offsets the store has durably written.
  void apply_commit(const std::string& group_id, const std::vector<log::partition_offset>& offsets, int64_t now);
  const offset_map* offsets(const std::string& group_id) const;
  void remove_offsets(const std::string& group_id, const std::string& topic, const std::vector<int32_t>& partitions);
  // Forgets every group's offsets for a deleted topic.
  void forget_topic(const std::string& topic);

  // DeleteGroups' check: none (deletable), group_id_not_found or non_empty_group.
  kafka_error can_delete(const std::string& group_id) const;
  void mark_dead(const std::string& group_id);
  void erase(const std::string& group_id);

  // Timers: the earliest group deadline or retention check; advance() handles what is due and
  // returns the offsets that expired.
  std::optional<int64_t> next_deadline() const;
  std::vector<expired_offsets> advance(int64_t now);

  // Groups whose persisted form changed since the last call (clears their dirty flags), with their
  // encoded metadata.
  std::vector<std::pair<std::string, std::string>> take_dirty();

  // Start-up: groups from their stored metadata and offsets. Returns the ids that did not decode.
  std::vector<std::string> load(const std::vector<log::group_blob>& metadata,
                                const std::map<std::string, std::vector<log::partition_offset>>& offsets, int64_t now);

  void abort_all(kafka_error error);

  static std::string encode(const group& g);

 private:
  group& get_or_create(const std::string& id, int64_t now);

  coordinator_config config_;
  std::map<std::string, std::unique_ptr<group>> groups_;
  std::map<std::string, offset_map> offsets_;
  int64_t next_retention_check_ms_;
};

}  // namespace brook::broker::group
