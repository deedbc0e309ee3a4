// The group coordinator: every group of this broker (classic groups and consumer-protocol groups,
// KIP-848) plus their committed offsets, as pure state driven with an explicit `now` (monotonic
// milliseconds: every deadline). Wall-clock time (`wall_now`) enters only where Kafka keeps
// timestamps: offsets' commit and expiry times, and the persisted "state since" of a group, which
// is stored as wall-clock time and kept in memory on the monotonic scale (converted with the
// wall - monotonic difference read at the time). A group id names at most one group of either kind.
//
// Owner: group_service, on the network thread. The metadata store is the durable copy; this is its
// in-memory view: offsets enter the cache only after the store has written them, and groups whose
// `dirty` flag is set are written out by the service. A group that exists only through committed
// offsets is an Empty group without a protocol type, as in Kafka.
//
// Persisted form: one group_metadata_record per group (common/protocol/records/), its `classic` or
// its `consumer` part set; to_record() builds it, load() reads it back. Session and rebalance
// deadlines are not stored: they restart from load time. state_since_ms and assignment_time_ms are
// stored as wall-clock milliseconds. A classic member's protocol list holds only the group's selected
// protocol (what Kafka's GroupMetadataValue keeps as the member's subscription); records holding
// every protocol still load. A classic group's stored record is bounded by
// group_limits::max_record_bytes.
//
// Transactional offsets (TxnOffsetCommit, KIP-98 / KIP-447), as Kafka's OffsetMetadataManager keeps
// them: a producer's staged offsets are pending per (group, producer id) until its transaction's
// marker; OffsetFetch does not show them (require_stable answers UNSTABLE_OFFSET_COMMIT for their
// partitions instead). A commit marker makes each the committed offset of its partition unless that
// one was written later (every offset write takes a place in one write order, `sequence`, as Kafka
// compares record offsets in __consumer_offsets): a plain OffsetCommit after the staging wins, one
// before it loses. An abort marker drops them. They are persisted (the store's txn_offsets keyspace)
// when staged, so an open transaction's offsets survive a restart. Expiry keeps an offset whose
// partition has pending ones and a group with pending ones; deleting a group or a partition's offsets
// (DeleteGroups, OffsetDelete, a deleted topic) drops its pending ones, as Kafka's tombstones do.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/group/consumer_group.hpp"
#include "broker/group/group.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker::group {

using offset_key = std::pair<std::string, int32_t>;  // topic, partition
using offset_map = std::map<offset_key, log::committed_offset>;

struct coordinator_config {
  group_limits limits;
  consumer_limits consumer;
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t offsets_retention_check_interval_ms = 600000;
};

// Offsets that expired and must be removed from the store (then the group, if `remove_group`).
struct expired_offsets {
  std::string group;
  std::map<std::string, std::vector<int32_t>> partitions;  // topic -> partitions
  bool remove_group = false;
};

// A new classic member's id, as Kafka builds it: group.instance.id (static members) or client id,
// "-", a random uuid; the prefix is cut so that the id fits a protocol string (32767 bytes).
std::string classic_member_id(std::string_view prefix, std::string_view uuid);

class group_coordinator {
 public:
  explicit group_coordinator(coordinator_config config, int64_t now);

  const coordinator_config& config() const { return config_; }
  // message.max.bytes changed at run time: bounds every group's next metadata record.
  void set_max_record_bytes(int64_t bytes);

  // A group's own consumer-protocol timing (its GROUP configs: consumer.session.timeout.ms,
  // consumer.heartbeat.interval.ms and consumer.assignment.interval.ms), or nullopt for the broker's.
  // Applies to the consumer group of that id now and to one created later; kept while the group comes
  // and goes, as Kafka keeps group configs after a group is deleted.
  struct consumer_timing {
    int32_t session_timeout_ms = 0;
    int32_t heartbeat_interval_ms = 0;
    int32_t assignment_interval_ms = 0;
  };
  void set_consumer_timing(const std::string& group_id, std::optional<consumer_timing> timing);
  // The broker's group.consumer.assignment.interval.ms changed (a dynamic config): groups without
  // timing of their own (set_consumer_timing) follow it at once.
  void set_default_assignment_interval(int32_t ms);
  // Ids handed to new members are "<instance or client id>-<this>"; tests replace the random source.
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
  // For a consumer-protocol group `generation` is the member epoch (OffsetCommit v9+).
  kafka_error validate_commit(const std::string& group_id, const std::string& member_id,
                              const std::optional<std::string>& instance_id, int32_t generation, int64_t now,
                              int16_t api_version = 9, std::span<const committed_partition> partitions = {});
  // OffsetFetch v9+ from a consumer-protocol member: its id and epoch must be current.
  kafka_error validate_fetch(const std::string& group_id, const std::optional<std::string>& member_id,
                             int32_t member_epoch) const;
  // Records offsets the store has durably written.
  void apply_commit(const std::string& group_id, const std::vector<log::partition_offset>& offsets, int64_t now);
  const offset_map* offsets(const std::string& group_id) const;
  void remove_offsets(const std::string& group_id, const std::string& topic, const std::vector<int32_t>& partitions);
  // Forgets every group's offsets for a deleted topic.
  void forget_topic(const std::string& topic);

  // ---- transactional offsets ----
  // TxnOffsetCommit: may this committer stage offsets for the group now? Kafka 4.4's
  // validateTransactionalOffsetCommit: an unknown group with generation < 0 is created (an Empty
  // classic group, as a plain commit creates one); with a generation it is GROUP_ID_NOT_FOUND from v6,
  // ILLEGAL_GENERATION before. Classic groups: group::validate_txn_commit; consumer-protocol groups:
  // consumer_group::validate_txn_commit (`generation` is the member epoch; `partitions` matter for an
  // older epoch, KIP-1251), whose STALE_MEMBER_EPOCH is ILLEGAL_GENERATION before v6.
  kafka_error validate_txn_commit(const std::string& group_id, const std::string& member_id,
                                  const std::optional<std::string>& instance_id, int32_t generation,
                                  int16_t api_version, int64_t now, std::span<const committed_partition> partitions = {});
  // The next place in the write order; every committed or staged offset takes one when its write is
  // issued (offsets of one group are written in issue order).
  int64_t next_sequence() { return next_sequence_++; }
  // Records pending offsets the store has durably staged (metadata_store::stage_txn_offsets); a
  // producer's new offset for a partition replaces its earlier one.
  void apply_txn_stage(const std::vector<log::txn_offset>& offsets, int64_t now);
  // Records a transaction marker the store has applied to `group_id`
  // (metadata_store::complete_txn_offsets): the producer's pending offsets of the group leave; on
  // commit each becomes the committed offset unless the committed one has a higher sequence.
  void apply_txn_completion(const std::string& group_id, int64_t producer_id, bool commit);
  // The groups holding pending offsets of the producer (where its marker applies), sorted.
  std::vector<std::string> txn_groups(int64_t producer_id) const;
  // Whether some open transaction has staged an offset for the partition / anything for the group.
  bool has_pending_txn_offset(const std::string& group_id, const std::string& topic, int32_t partition) const;
  bool has_pending_txn_offsets(const std::string& group_id) const;
  // A group's pending offsets by producer id, or nullptr.
  const std::map<int64_t, offset_map>* pending_txn_offsets(const std::string& group_id) const;
  // Start-up: the stored pending offsets (after load()).
  void load_txn_offsets(const std::vector<log::txn_offset>& pending, int64_t now);

  // DeleteGroups' check: none (deletable), group_id_not_found or non_empty_group.
  kafka_error can_delete(const std::string& group_id) const;
  void mark_dead(const std::string& group_id);
  void erase(const std::string& group_id);

  // Timers: the earliest group deadline or retention check; advance() handles what is due and
  // returns the offsets that expired.
  std::optional<int64_t> next_deadline() const;
  // `wall_now` (wall clock) judges offset expiry; `now` (monotonic) everything else.
  std::vector<expired_offsets> advance(int64_t now, int64_t wall_now);
  // Fake clocks in tests: monotonic and wall clock read alike.
  std::vector<expired_offsets> advance(int64_t now) { return advance(now, now); }

  // Groups whose persisted form changed since the last call (clears their dirty flags), with their
  // records.
  // (`now`, `wall_now`: the two clocks read together, to store state times as wall-clock time.)
  std::vector<std::pair<std::string, log::group_metadata_record>> take_dirty(int64_t now, int64_t wall_now);
  std::vector<std::pair<std::string, log::group_metadata_record>> take_dirty() { return take_dirty(0, 0); }
  // A write of take_dirty()'s output failed: these groups must be written again by the next pass.
  void mark_dirty(const std::vector<std::pair<std::string, log::group_metadata_record>>& unwritten);

  // Start-up: groups from their stored records and offsets. Returns the ids whose record breaks the
  // groups' invariants (not loaded).
  std::vector<std::string> load(const std::vector<log::group_entry>& metadata,
                                const std::map<std::string, std::vector<log::partition_offset>>& offsets, int64_t now,
                                int64_t wall_now);
  std::vector<std::string> load(const std::vector<log::group_entry>& metadata,
                                const std::map<std::string, std::vector<log::partition_offset>>& offsets, int64_t now) {
    return load(metadata, offsets, now, now);
  }

  void abort_all(kafka_error error);
  // Forgets every group of both kinds, every committed offset and every group's timing (a broker reset);
  // classic members parked in JoinGroup/SyncGroup are answered with COORDINATOR_NOT_AVAILABLE, as erase() answers them.
  void clear();

  // The persisted form of a group. `wall_offset_ms`: wall clock minus monotonic clock, to store state
  // times as wall-clock time.
  static log::group_metadata_record to_record(const group& g, int64_t wall_offset_ms = 0);
  static log::group_metadata_record to_record(const consumer_group& g, int64_t wall_offset_ms = 0);
  // The bytes the metadata store keeps for g (its record as stored).
  static size_t encoded_size(const group& g);

  // ---- consumer-protocol groups (KIP-848) ----
  // v0 member ids the coordinator generates (Kafka's Uuid text); tests replace it.
  std::function<std::string()> new_member_id;
  consumer_group* find_consumer(const std::string& id);
  const consumer_group* find_consumer(const std::string& id) const;
  const std::map<std::string, std::unique_ptr<consumer_group>>& consumer_groups() const { return consumer_groups_; }
  // The topics that exist now; a change re-targets the consumer groups subscribed to them.
  void set_topics(const topic_catalog& topics, int64_t now);
  const topic_catalog& topics() const { return topics_; }
  // Regex subscriptions to resolve (off the network thread: resolve_regex), and their answers.
  std::vector<regex_job> take_regex_jobs() const;
  bool regex_jobs_pending() const;
  // Keeps only the matches `topic_visible` allows for the job's identity (set with an authorizer).
  void apply_regex(const regex_job& job, std::set<std::string> matched, int64_t now);
  // With an authorizer: whether a principal at a host may describe a topic. Regex matches are kept
  // only where the identity that last heartbeated with the pattern may describe them.
  using topic_visibility =
      std::function<bool(const std::string& principal, const std::string& host, const std::string& topic)>;
  void set_regex_topic_filter(topic_visibility visible) { regex_topic_visible_ = std::move(visible); }
  // Every regex is resolved again (ACLs changed: what each identity may describe changed too).
  void refresh_regexes();
  // Tests: resolves every pending regex on the calling thread.
  void resolve_regexes_inline(int64_t now);
  // ConsumerGroupHeartbeat: the request checks of Kafka's coordinator, then the group's answer.
  consumer_heartbeat_result consumer_heartbeat(const std::string& group_id, consumer_heartbeat_request req,
                                               int16_t api_version, int64_t now);

 private:
  group& get_or_create(const std::string& id, int64_t now);
  consumer_group& create_consumer(const std::string& id, int64_t now);

  coordinator_config config_;
  std::map<std::string, std::unique_ptr<group>> groups_;
  std::map<std::string, std::unique_ptr<consumer_group>> consumer_groups_;
  topic_visibility regex_topic_visible_;  // null: no authorizer
  std::map<std::string, consumer_timing> consumer_timings_;  // group id -> its GROUP configs' timing
  std::map<std::string, offset_map> offsets_;
  std::map<std::string, std::map<int64_t, offset_map>> pending_;  // group -> producer id -> staged offsets
  int64_t next_sequence_ = 0;
  topic_catalog topics_;
  bool topics_known_ = false;
  int64_t next_retention_check_ms_;
};

}  // namespace brook::broker::group
