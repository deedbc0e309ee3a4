// What the consumer is subscribed to and where it stands in each assigned partition (Java's
// SubscriptionState): the subscription (topics, a regex, or partitions assigned by the user; the
// three exclude each other), the assigned partitions, each one's position (next offset to fetch and
// the leader epoch of the record before it), pause flag, pending offset reset (auto.offset.reset:
// earliest, latest or none), pending revocation (cooperative rebalances), the offsets last read
// from the broker's log (high watermark, last stable offset, log start), and a cache of committed
// offsets.
//
// Owned by the consumer; touched only by the consumer's thread (as Java's consumer, not thread-safe).
// Invariants: positions, pauses and resets exist only for assigned partitions; a partition is
// fetchable only with a position, not paused, not awaiting a reset and not being revoked.
#pragma once

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
// consumed (Java's FetchPosition offset and offsetEpoch), plus the leader's epoch when it was set.
struct fetch_offset {
  int64_t offset = 0;
  std::optional<int32_t> offset_epoch;
  std::optional<int32_t> current_leader_epoch;
  bool operator==(const fetch_offset&) const = default;
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
  void seek(const topic_partition& tp, fetch_offset position);
  std::optional<fetch_offset> position(const topic_partition& tp) const;
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
  enum class fetch_state { initializing, fetching, await_reset };
  struct partition_state {
    fetch_state state = fetch_state::initializing;
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

  offset_reset_strategy default_reset_;
  subscription_type type_ = subscription_type::none;
  std::set<std::string> subscription_;
  std::string pattern_text_;
  std::unique_ptr<re2::RE2> pattern_;
  std::map<topic_partition, partition_state> partitions_;
  std::map<topic_partition, committed_offset> committed_;
};

}  // namespace brook::client::consuming
