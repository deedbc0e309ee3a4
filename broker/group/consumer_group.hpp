// One consumer-protocol group (KIP-848, `group.protocol=consumer`) as a pure state machine: the
// coordinator computes the assignment and hands it out through ConsumerGroupHeartbeat.
//
// Owner: the group_coordinator, on the broker's network thread. Time is never read here: every call
// takes `now` and next_deadline() says when advance() must run next (session and rebalance timeouts),
// so tests drive a group with a fake clock. Topic metadata is handed in (set_topics), never looked up.
//
// Invariants (Kafka 4.4's GroupMetadataManager, ConsumerGroup and CurrentAssignmentBuilder):
// - a new group starts at group epoch 1 with an empty target assignment at epoch 1, so that a member
//   can be given an epoch below the group's while the first assignment is pending;
// - assignment_epoch_ <= group_epoch_. A heartbeat bumps the group epoch (once) when the member's
//   subscribed topic names change (a new member's from none), its regex changes to one already
//   resolved or to none, the preferred server assignor changes, or the subscribed topics' metadata
//   (ids and partition counts, Kafka's metadata hash) changed, which it checks only then or when a
//   topic change asked for a check (metadata_refresh_; set_topics never bumps by itself). A new regex
//   bumps once resolved, if its topics or the metadata changed. A member leaving or fenced always
//   bumps it; when the group empties, the target takes the new epoch at once (with no assignment
//   time, so that the next member's assignment is computed at once);
// - the target assignment (target_) is recomputed by a heartbeat once group_epoch_ >
//   assignment_epoch_, but no sooner than limits_.assignment_interval_ms after the previous
//   computation (Kafka's assignment batching, KIP-1263; 0 computes at once); until then members
//   reconcile towards the last target, at its epoch;
// - a member moves to the target's epoch only once it no longer owns partitions it must revoke
//   (state unrevoked_partitions until then, kept at its epoch and told only what it keeps, also when
//   a newer target makes it revoke more); partitions of topics the member no longer subscribes to are
//   never assigned to it, and a subscription change revokes them at once even before a new target; a
//   partition still owned (assigned or pending revocation) by one member is never in another member's
//   `assigned`: the receiver waits in unreleased_partitions and gets it on a later heartbeat;
// - static_ maps each instance id to the member holding it; a static member that left temporarily
//   (epoch -2) keeps its assignment until its session ends or a new instance replaces it;
// - session deadlines restart from `now` on every heartbeat (not on a leave) and on restore; a
//   rebalance deadline is set only while a member is in unrevoked_partitions, restarting whenever
//   its revocation changes;
// - regex subscriptions (RE2 syntax, as Kafka's RE2/J; full match) are compiled once per distinct
//   pattern in use (regexes_) and never evaluated here: take_regex_jobs() hands out the patterns
//   not yet resolved against the current topics (topics_version_), the owner evaluates them off the
//   network thread (resolve_regex) and hands the matches back (apply_regex), which bumps the group
//   epoch when the subscribed topics change (Kafka too resolves regexes asynchronously). Until
//   then a pattern matches nothing. Each pattern remembers who last heartbeated with it (principal
//   and host, not stored): with an authorizer the owner keeps only the matches that identity may
//   describe (Kafka's KAFKA-18813), and a pattern restored without one waits for its next heartbeat.
#pragma once

#include <memory>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/group/assignor.hpp"
#include "common/error.hpp"
#include "common/uuid.hpp"

namespace re2 {
class RE2;
}

namespace brook::broker::group {

using common::kafka_error;

// What the group knows of one topic: its id and partition count.
struct topic_metadata {
  common::uuid id;
  int32_t partitions = 0;
  bool operator==(const topic_metadata&) const = default;
};
using topic_catalog = std::map<std::string, topic_metadata>;  // topic name -> metadata

// Limits from the broker config (group.consumer.*).
struct consumer_limits {
  int32_t session_timeout_ms = 45000;
  int32_t heartbeat_interval_ms = 5000;
  int32_t max_size = 2147483647;
  std::vector<std::string> assignors{"uniform", "range"};  // the first is the default
  // The least time between two computations of the target assignment (0: none).
  int32_t assignment_interval_ms = 1000;
};

using partition_epochs = std::map<common::uuid, std::map<int32_t, int32_t>>;  // topic id -> partition -> epoch

// One partition an OffsetCommit names (its topic by id).
struct committed_partition {
  common::uuid topic;
  int32_t partition = 0;
};

enum class consumer_group_state { empty, assigning, reconciling, stable, dead };
std::string_view state_name(consumer_group_state s);  // "Empty", "Assigning", ...

enum class member_state : uint8_t { stable = 0, unrevoked_partitions = 1, unreleased_partitions = 2 };
std::string_view state_name(member_state s);

struct consumer_member {
  std::string id;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::string client_id;
  std::string client_host;
  int32_t member_epoch = 0;
  int32_t previous_member_epoch = -1;
  member_state state = member_state::stable;
  int32_t rebalance_timeout_ms = 0;
  std::vector<std::string> subscribed_topic_names;  // sorted, unique
  std::optional<std::string> subscribed_topic_regex;
  std::optional<std::string> server_assignor;
  topic_partitions assigned;            // what the member may consume now
  topic_partitions pending_revocation;  // what it must give up before moving on
  // Every partition of `assigned` and `pending_revocation` with the member epoch at which this member
  // got it (Kafka's assignment epochs, KIP-1251): an OffsetCommit with an older member epoch is still
  // accepted for partitions the member has held since that epoch (0 after a static member's leave).
  partition_epochs assignment_epochs;
  // Runtime only (not persisted): restarted from `now` on restore.
  int64_t session_deadline_ms = 0;
  std::optional<int64_t> rebalance_deadline_ms;
};

// One ConsumerGroupHeartbeat, already checked field by field (group_coordinator::consumer_heartbeat);
// null / -1 mean "unchanged since the previous heartbeat".
struct consumer_heartbeat_request {
  std::string member_id;
  int32_t member_epoch = 0;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  int32_t rebalance_timeout_ms = -1;
  std::optional<std::vector<std::string>> subscribed_topic_names;
  std::optional<std::string> subscribed_topic_regex;
  // subscribed_topic_regex compiled by the coordinator's check, reused for the subscription.
  std::shared_ptr<const re2::RE2> compiled_regex;
  std::optional<std::string> server_assignor;
  std::optional<topic_partitions> owned;
  std::string client_id;
  std::string client_host;
  // Who heartbeats, as ACLs name them: the principal ("User:alice") and the client's address.
  std::string principal;
  std::string acl_host;
};

struct consumer_heartbeat_result {
  kafka_error error = kafka_error::none;
  std::optional<std::string> error_message;
  std::string member_id;
  int32_t member_epoch = 0;
  int32_t heartbeat_interval_ms = 0;
  std::optional<topic_partitions> assignment;  // null: unchanged
};

// One regex subscription to evaluate against a snapshot of the topic names (off the network thread).
struct regex_job {
  std::string group;
  std::string pattern;
  std::shared_ptr<const re2::RE2> compiled;  // null: the pattern does not compile (matches nothing)
  std::vector<std::string> topics;
  uint64_t topics_version = 0;
  // Who last heartbeated with the pattern: its matches are kept only where this identity may
  // describe them, when the broker authorizes.
  std::string principal;
  std::string host;
};
// The topic names `job.pattern` fully matches (RE2: linear time in the names' length).
std::set<std::string> resolve_regex(const regex_job& job);
// Compiles a subscription regex as Kafka's RE2/J would read it; null with `error` set if it does not compile.
std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern, std::string* error = nullptr);

// Everything persisted of a consumer group (the coordinator encodes it).
struct consumer_group_snapshot {
  int32_t group_epoch = 1;
  int32_t assignment_epoch = 1;
  // When the target was last computed (the owner stores it as wall-clock time); null: not since the
  // group was created or last emptied.
  std::optional<int64_t> assignment_time_ms;
  int64_t state_since_ms = 0;
  std::vector<consumer_member> members;
  std::map<std::string, topic_partitions> target;
  topic_catalog subscribed_metadata;
};

class consumer_group {
 public:
  consumer_group(std::string id, const consumer_limits& limits, int64_t now);

  // Restores a persisted group; sessions start afresh at `now`.
  void restore(consumer_group_snapshot snapshot, int64_t now);
  consumer_group_snapshot snapshot() const;

  const std::string& id() const { return id_; }
  // The group's session timeout, heartbeat interval and assignment interval changed (its GROUP
  // configs): each member's next heartbeat is answered with the new interval and restarts its session
  // with the new timeout; the next target waits for the new assignment interval.
  void set_timing(int32_t session_timeout_ms, int32_t heartbeat_interval_ms, int32_t assignment_interval_ms) {
    limits_.session_timeout_ms = session_timeout_ms;
    limits_.heartbeat_interval_ms = heartbeat_interval_ms;
    limits_.assignment_interval_ms = assignment_interval_ms;
  }
  const consumer_limits& limits() const { return limits_; }
  consumer_group_state state() const;
  int32_t group_epoch() const { return group_epoch_; }
  int32_t assignment_epoch() const { return assignment_epoch_; }
  std::optional<int64_t> assignment_time_ms() const { return assignment_time_ms_; }
  const std::map<std::string, consumer_member>& members() const { return members_; }
  const consumer_member* find_member(const std::string& id) const;
  const topic_partitions& target_of(const std::string& member_id) const;
  // The assignor the next target assignment uses: the one most members ask for, else the default.
  std::string preferred_assignor() const;
  // Topic names the members subscribe to (by name or through their regex, against the topics
  // known now).
  std::set<std::string> subscribed_topics() const;
  bool is_empty() const { return members_.empty(); }
  // When the group last became Empty (or was created): offsets of an Empty group expire from here.
  int64_t state_since_ms() const { return state_since_ms_; }
  const topic_catalog& topics() const { return topics_; }

  // A heartbeat (join with epoch 0, leave with -1 / -2, or a plain heartbeat). A joining member's id
  // must already be set (the coordinator generates it for v0 requests).
  consumer_heartbeat_result heartbeat(const consumer_heartbeat_request& req, int64_t now);

  // The topics that exist now. A change asks the next heartbeat to check the subscribed topics'
  // metadata (which bumps the group epoch if it changed); regexes are resolved again.
  void set_topics(const topic_catalog& topics, int64_t now);

  // Regex subscriptions not yet resolved against the current topics (see the header comment).
  // `need_identity`: leave out patterns no heartbeat has given an identity yet (see above).
  std::vector<regex_job> take_regex_jobs(bool need_identity = false) const;
  bool regexes_pending(bool need_identity = false) const;
  // Resolves every pattern again (the ACLs changed).
  void refresh_regexes();
  // The matches of a job; ignored when the topics or the subscriptions moved on since.
  void apply_regex(const std::string& pattern, uint64_t topics_version, std::set<std::string> matched, int64_t now);
  // The compiled form of a pattern in use, or null.
  std::shared_ptr<const re2::RE2> compiled_regex(const std::string& pattern) const;

  // OffsetCommit (v9+: the generation field is the member epoch) and OffsetFetch (v9+) checks.
  // Kafka 4.4's check of an OffsetCommit (ConsumerGroup.validateOffsetCommit, KIP-1251): the current
  // member epoch commits anything; a newer one is STALE_MEMBER_EPOCH; an older one only partitions the
  // member has held (assigned or pending revocation) since that epoch or before, else the whole commit
  // is STALE_MEMBER_EPOCH.
  kafka_error validate_commit(const std::string& member_id, int32_t member_epoch, int16_t api_version,
                              std::span<const committed_partition> partitions = {}) const;
  kafka_error validate_fetch(const std::optional<std::string>& member_id, int32_t member_epoch) const;
  // TxnOffsetCommit's check (ConsumerGroup.validateOffsetCommit with isTransactional): as
  // OffsetCommit's, plus a commit with epoch -1 and neither member id nor instance id is accepted
  // while the group has members (a transactional producer outside the group), and no version is
  // required of the member.
  kafka_error validate_txn_commit(const std::string& member_id, const std::optional<std::string>& instance_id,
                                  int32_t member_epoch, std::span<const committed_partition> partitions = {}) const;

  std::optional<int64_t> next_deadline() const;
  // Fences members whose session or rebalance timeout passed.
  void advance(int64_t now);

  void mark_dead() { dead_ = true; }
  bool dead() const { return dead_; }

  // Set whenever something persisted changed; the owner clears it after writing the group out.
  bool dirty = false;

 private:
  void fence_member(const std::string& member_id, int64_t now);
  void bump_group_epoch();
  // Computes the target for the group epoch if it is newer than the target's and the assignment
  // interval allows it.
  void maybe_compute_target(int64_t now);
  topic_catalog compute_subscribed_metadata() const;
  bool refresh_subscribed_metadata();
  std::set<common::uuid> subscribed_ids(const consumer_member& m) const;
  // CurrentAssignmentBuilder: moves `m` towards its target given what it reports to own;
  // `subscription_changed` also revokes, at once, the partitions of topics it no longer subscribes to.
  void reconcile(consumer_member& m, const std::optional<topic_partitions>& owned, bool subscription_changed) const;
  // computeNextAssignment: towards the target; `epoch` is the member's while it must revoke.
  void move_towards_target(consumer_member& m, const std::optional<topic_partitions>& owned, int32_t epoch) const;
  // updateCurrentAssignment: only what the member no longer subscribes to is revoked.
  void drop_unsubscribed(consumer_member& m, const std::optional<topic_partitions>& owned) const;
  bool owned_by_other(const std::string& member_id, const common::uuid& topic, int32_t p) const;
  void note_state(consumer_group_state before, int64_t now);
  // Keeps regexes_ to the patterns the members use (compiling new ones once).
  void track_regexes(const std::shared_ptr<const re2::RE2>& fresh = nullptr);

  std::string id_;
  consumer_limits limits_;
  int32_t group_epoch_ = 1;
  int32_t assignment_epoch_ = 1;
  std::optional<int64_t> assignment_time_ms_;
  // A topic changed (or the group was just created or loaded): the next heartbeat checks the
  // subscribed topics' metadata. Not persisted.
  bool metadata_refresh_ = true;
  int64_t state_since_ms_ = 0;
  std::map<std::string, consumer_member> members_;
  std::map<std::string, std::string> static_;  // instance id -> member id
  std::map<std::string, topic_partitions> target_;
  topic_catalog topics_;               // every topic that exists
  topic_catalog subscribed_metadata_;  // the subscribed ones, when the group epoch was last set
  uint64_t topics_version_ = 1;        // moves on with every change of topics_
  struct regex_subscription {
    std::shared_ptr<const re2::RE2> compiled;  // null: does not compile
    std::set<std::string> matched;             // topic names, as of resolved_version
    uint64_t resolved_version = 0;             // 0: never resolved since created or restored
    bool resolved = false;                     // resolved once (or restored), even if not since
    std::string principal;                     // who last heartbeated with it ("": nobody since restore)
    std::string host;
  };
  std::map<std::string, regex_subscription> regexes_;  // pattern -> its resolution
  bool dead_ = false;
};

bool is_subset(const topic_partitions& a, const topic_partitions& b);

}  // namespace brook::broker::group
