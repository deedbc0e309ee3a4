// What the consumer is subscribed to and where it stands in each assigned partition (Java's
// SubscriptionState): the subscription (topics, a regex, or partitions assigned by the user; the
// three exclude each other), the assigned partitions, each one's position (next offset to fetch and
// the leader epoch of the record before it, and the leader it was last checked against), pause flag,
// pending offset reset (auto.offset.reset: earliest, latest or none), pending validation of the
// position against a new leader (KIP-320: OffsetForLeaderEpoch finds log truncation), pending revocation (cooperative rebalances), the offsets last read
// from the broker's log (high watermark, last stable offset, log start), and a cache of committed
// offsets.
//
// Owned by the consumer; touched only by the consumer's thread (as Java's consumer, not thread-safe).
// Invariants: positions, pauses and resets exist only for assigned partitions; a partition is
// fetchable only with a position, not paused, not awaiting a reset or a validation and not being
// revoked. A partition awaits validation only with a position carrying both the epoch of its last
// record and the leader's epoch (without them there is nothing to check, as in Java).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/consuming/consumer_config.hpp"
#include "client/consuming/topic_partition.hpp"
#include "common/error.hpp"

namespace re2 {
class RE2;
}

namespace brook::client::consuming {

enum class subscription_type { none, topics, pattern, user_assigned };

// A consumer's place in a partition: the next offset and the leader epoch of the last record
// consumed (Java's FetchPosition offset and offsetEpoch), plus the leader's epoch and broker id when
// it was set or last validated (Java's currentLeader).
struct fetch_offset {
  int64_t offset = 0;
  std::optional<int32_t> offset_epoch;
  std::optional<int32_t> current_leader_epoch;
  std::optional<int32_t> current_leader;
  bool operator==(const fetch_offset&) const = default;
};

// A truncated log found by validation or a diverging epoch without a reset policy (Java's
// LogTruncation): the position that was checked and, when the leader knows it, the first offset
// (with its epoch) known to diverge.
struct log_truncation {
  topic_partition tp;
  int64_t fetch_offset = 0;
  std::optional<int64_t> divergent_offset;
  std::optional<int32_t> divergent_epoch;
};

struct committed_offset {
  int64_t offset = -1;
  std::optional<int32_t> leader_epoch;
  std::string metadata;
  bool operator==(const committed_offset&) const = default;
};

class subscription_state {
 public:
  explicit subscription_state(offset_reset_strategy default_reset = offset_reset_strategy::latest);
  ~subscription_state();
  subscription_state(subscription_state&&) noexcept;
  subscription_state& operator=(subscription_state&&) noexcept;

  // ---- subscription ------------------------------------------------------------------------
  // A topic list (an empty one unsubscribes); errors if partitions were assigned by hand or a
  // pattern is in use.
  common::result<void> subscribe(const std::set<std::string>& topics);
  // A regex matched against whole topic names (RE2, as Java's Pattern.matches); the matching topics
  // come from metadata through set_pattern_topics().
  common::result<void> subscribe_pattern(const std::string& regex);
  bool matches_pattern(std::string_view topic) const;
  // The topics the pattern matches now; true when that changed the subscription.
  bool set_pattern_topics(const std::set<std::string>& topics);
  // Partitions chosen by the user (no group management); an empty set unsubscribes.
  common::result<void> assign_from_user(const std::set<topic_partition>& partitions);
  void unsubscribe();

  subscription_type type() const { return type_; }
  bool has_auto_assigned_partitions() const {
    return type_ == subscription_type::topics || type_ == subscription_type::pattern;
  }
  const std::set<std::string>& subscription() const { return subscription_; }
  const std::string& pattern() const { return pattern_text_; }

  // ---- assignment --------------------------------------------------------------------------
  // The group's assignment; partitions kept keep their state, new ones start without a position.
  // Errors if a partition's topic is not subscribed.
  common::result<void> assign_from_subscribed(const std::set<topic_partition>& partitions);
  std::set<topic_partition> assigned_partitions() const;
  bool is_assigned(const topic_partition& tp) const { return partitions_.count(tp) != 0; }
  size_t assigned_count() const { return partitions_.size(); }
  // Cooperative rebalances: these stop being fetched until they are revoked.
  void mark_pending_revocation(const std::set<topic_partition>& partitions);

  // ---- positions ---------------------------------------------------------------------------
  // A position taken as valid (Java's seekValidated): fetching goes on from it.
  void seek(const topic_partition& tp, fetch_offset position);
  // A position to check against its leader first (Java's seekUnvalidated: seek with a leader epoch,
  // a committed offset with its epoch): it awaits validation when it carries both epochs.
  void seek_unvalidated(const topic_partition& tp, fetch_offset position);
  // The valid position (none while a reset or a validation is pending).
  std::optional<fetch_offset> position(const topic_partition& tp) const;
  // The position whatever its state (also while it awaits validation).
  std::optional<fetch_offset> current_position(const topic_partition& tp) const;
  bool has_valid_position(const topic_partition& tp) const;
  // After a fetch returned records up to `position`.
  void set_position(const topic_partition& tp, fetch_offset position) { seek(tp, position); }

  // ---- pause -------------------------------------------------------------------------------
  void pause(const topic_partition& tp);
  void resume(const topic_partition& tp);
  bool is_paused(const topic_partition& tp) const;
  std::set<topic_partition> paused_partitions() const;

  // ---- offset resets -----------------------------------------------------------------------
  offset_reset_strategy default_reset_strategy() const { return default_reset_; }
  // Asks for a reset by `strategy` (earliest/latest), or by auto.offset.reset when none is given.
  void request_offset_reset(const topic_partition& tp, std::optional<offset_reset_strategy> strategy = std::nullopt);
  bool is_offset_reset_needed(const topic_partition& tp) const;
  std::optional<offset_reset_strategy> reset_strategy(const topic_partition& tp) const;
  // Partitions with neither a position nor a pending reset (they need their committed offset).
  std::vector<topic_partition> initializing_partitions() const;
  // Puts every given partition still without a position on auto.offset.reset; with "none", an
  // error (offset_out_of_range, as Java's NoOffsetForPartitionException) names them.
  common::result<void> reset_to_default(const std::vector<topic_partition>& partitions);
  // Partitions awaiting a reset, for the ListOffsets to send.
  std::vector<topic_partition> partitions_needing_reset() const;
  // A ListOffsets answer: applied only if the partition is still assigned and still awaits the
  // reset it was asked for (a seek meanwhile wins).
  void maybe_seek_after_reset(const topic_partition& tp, offset_reset_strategy strategy, fetch_offset position);

  // ---- validation (KIP-320) -------------------------------------------------------------------
  // The leader (broker id, epoch) metadata now shows for the partition. When it differs from the
  // one the position was last checked against, the position awaits validation (if it has the
  // epochs for it). `validation_supported` false: the leader cannot answer OffsetForLeaderEpoch for
  // consumers, the position just takes the new leader. True when the partition awaits validation.
  bool maybe_validate_position_for_current_leader(const topic_partition& tp, std::optional<int32_t> leader,
                                                  std::optional<int32_t> leader_epoch, bool validation_supported = true);
  bool awaits_validation(const topic_partition& tp) const;
  // Partitions awaiting validation whose next attempt is due at `now`.
  std::vector<topic_partition> partitions_needing_validation(std::chrono::steady_clock::time_point now) const;
  // No validation attempt for these before `when` (a request is out, or one failed).
  void set_next_allowed_retry(const std::vector<topic_partition>& partitions, std::chrono::steady_clock::time_point when);
  // The leader cannot validate (too old for OffsetForLeaderEpoch v3): fetching goes on unchecked.
  void complete_validation(const topic_partition& tp);
  // An OffsetForLeaderEpoch answer (the end offset of the position's epoch on the leader) for the
  // position `requested`; ignored unless the partition still awaits validation at that position.
  // End offset below the position: the log was truncated; with a reset policy the position moves to
  // the end offset (the first offset known to diverge), as Java's; with auto.offset.reset=none the
  // truncation is returned (and the partition keeps awaiting validation until the user seeks).
  // Unknown epoch or offset (-1): reset by the policy, or a truncation without a divergent offset.
  std::optional<log_truncation> maybe_complete_validation(const topic_partition& tp, const fetch_offset& requested,
                                                          int32_t end_epoch, int64_t end_offset);
  // A Fetch answer's diverging epoch for a position being fetched (the broker compared the epoch
  // of our last record with its log): handled as the answer of a validation of that position.
  std::optional<log_truncation> handle_diverging_epoch(const topic_partition& tp, const fetch_offset& requested,
                                                       int32_t end_epoch, int64_t end_offset);

  // ---- fetching ----------------------------------------------------------------------------
  std::vector<topic_partition> fetchable_partitions() const;
  void update_high_watermark(const topic_partition& tp, int64_t v);
  void update_last_stable_offset(const topic_partition& tp, int64_t v);
  void update_log_start_offset(const topic_partition& tp, int64_t v);
  std::optional<int64_t> high_watermark(const topic_partition& tp) const;
  std::optional<int64_t> last_stable_offset(const topic_partition& tp) const;
  std::optional<int64_t> log_start_offset(const topic_partition& tp) const;
  // Records left to read: high watermark (or last stable offset for read_committed) minus position.
  std::optional<int64_t> lag(const topic_partition& tp, isolation_level level) const;

  // ---- commits -----------------------------------------------------------------------------
  // Every assigned partition with a valid position: what a commit of "everything consumed" sends.
  std::map<topic_partition, committed_offset> all_consumed() const;
  void set_committed(const topic_partition& tp, committed_offset c);
  std::optional<committed_offset> committed(const topic_partition& tp) const;

 private:
  enum class fetch_state { initializing, fetching, await_reset, await_validation };
  struct partition_state {
    fetch_state state = fetch_state::initializing;
    std::chrono::steady_clock::time_point next_validation{};  // no validation request before
    std::optional<fetch_offset> position;
    std::optional<offset_reset_strategy> reset;
    bool paused = false;
    bool pending_revocation = false;
    std::optional<int64_t> high_watermark, last_stable_offset, log_start_offset;
  };
  common::result<void> set_type(subscription_type t);
  void replace_assignment(const std::set<topic_partition>& partitions);
  partition_state* find(const topic_partition& tp);
  const partition_state* find(const topic_partition& tp) const;
  // Java's validatePosition: await validation when the position carries both epochs, else fetch.
  static void validate_position(partition_state& s, fetch_offset position);
  std::optional<log_truncation> apply_end_offset(const topic_partition& tp, partition_state& s, int32_t end_epoch,
                                                 int64_t end_offset);

  offset_reset_strategy default_reset_;
  subscription_type type_ = subscription_type::none;
  std::set<std::string> subscription_;
  std::string pattern_text_;
  std::unique_ptr<re2::RE2> pattern_;
  std::map<topic_partition, partition_state> partitions_;
  std::map<topic_partition, committed_offset> committed_;
};

}  // namespace brook::client::consuming
