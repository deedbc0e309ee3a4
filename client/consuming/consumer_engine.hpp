// The consumer's engine: everything behind brook::client::consumer, as coroutines on one
// single-threaded executor (the consumer's private I/O thread).
//   - fetching (fetcher.cpp): Fetch per leader through a fetch session each, concurrently; batches
//     decoded with common/record_batch.hpp where they lie in the response frame (records point into it, or
//     into a compressed batch's decompressed bytes, and share their ownership: nothing is copied per
//     record), control batches and aborted transactions (read_committed) skipped; OFFSET_OUT_OF_RANGE handled by auto.offset.reset; ListOffsets for resets, seeks to the
//     beginning or end, and offsets_for_times;
//   - the group (group_coordinator.cpp): the coordinator, classic membership (JoinGroup with every
//     configured assignor's subscription, the leader assigning, SyncGroup, heartbeats on a timer,
//     eager or cooperative listener calls, LeaveGroup, static membership) or KIP-848's
//     ConsumerGroupHeartbeat (member epochs, revoke then assign), commits and committed offsets,
//     auto commit.
// Owner: brook::client::consumer. Thread: the executor given at construction only; the public face
// runs each call there and waits. Invariants: the subscription state is changed only here; the
// assignment follows the group's (or the user's) and positions exist only for assigned partitions;
// buffered records are handed out only while their partition is assigned and its position is where
// they were fetched from.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "brook/client/consumer.hpp"
#include "client/consuming/assignors/assignor.hpp"
#include "client/consuming/consumer_config.hpp"
#include "client/consuming/fetch_session.hpp"
#include "client/consuming/subscription_state.hpp"
#include "client/core/cluster.hpp"
#include "common/record_batch.hpp"

namespace brook::client::consuming {

namespace asio = boost::asio;
using common::result;
using clock = std::chrono::steady_clock;

class consumer_engine {
 public:
  consumer_engine(asio::any_io_executor ex, consumer_config config);
  ~consumer_engine();

  const consumer_config& config() const { return config_; }
  subscription_state& subscriptions() { return subs_; }
  const subscription_state& subscriptions() const { return subs_; }

  result<void> subscribe(const std::set<std::string>& topics, std::shared_ptr<rebalance_listener> listener);
  result<void> subscribe_pattern(const std::string& regex, std::shared_ptr<rebalance_listener> listener);
  result<void> assign(const std::set<topic_partition>& partitions);
  asio::awaitable<result<void>> unsubscribe();

  asio::awaitable<result<std::vector<consumer_record>>> poll(std::chrono::milliseconds timeout);

  asio::awaitable<result<void>> commit_sync(std::optional<topic_partition_offsets> offsets, clock::time_point deadline);
  void commit_async(std::optional<topic_partition_offsets> offsets, commit_callback callback);
  asio::awaitable<result<std::map<topic_partition, std::optional<offset_and_metadata>>>> committed(
      std::set<topic_partition> partitions, clock::time_point deadline);
  asio::awaitable<result<int64_t>> position(topic_partition tp, clock::time_point deadline);
  // timestamp -2: earliest, -1: latest, else the first offset at or after that time.
  asio::awaitable<result<std::map<topic_partition, std::optional<offset_and_timestamp>>>> list_offsets(
      std::map<topic_partition, int64_t> timestamps, clock::time_point deadline);

  result<void> seek(const topic_partition& tp, int64_t offset, std::optional<int32_t> leader_epoch);
  result<void> seek_to(const std::vector<topic_partition>& partitions, offset_reset_strategy strategy);
  result<void> pause(const std::vector<topic_partition>& partitions, bool paused);

  std::string member_id() const { return member_id_; }
  int32_t generation() const { return generation_; }

  // Close in two steps, so that the listener's on_partitions_revoked runs (on the caller's thread,
  // between the two) while the member still belongs to the group and can commit, as in Java.
  asio::awaitable<void> prepare_close(clock::time_point deadline);
  asio::awaitable<result<void>> close(clock::time_point deadline);

  // Any thread: the blocked poll (or the next poll, commit_sync or position) returns the error
  // `wakeup`, as Java's KafkaConsumer.wakeup(). A poll waiting on a timer or on Fetch answers returns
  // at once, a commit_sync between retries; a call waiting on a group or commit answer returns once
  // that answer (or its timeout) is in.
  void wakeup();
  // The pending wakeup as an error, clearing it (engine thread).
  std::optional<common::error> take_wakeup();

  // True once after a poll that returned early so that listener callbacks could run before the
  // rebalance goes on (an eager rebalance revokes everything before JoinGroup, as Java's does).
  bool take_yield() { return std::exchange(yielded_for_callbacks_, false); }

  // Listener and commit callbacks waiting for the caller's thread.
  std::vector<std::function<void()>> take_callbacks() { return std::exchange(callbacks_, {}); }

 private:
  // A timer wait in a coroutine of its own. (GCC 12 also destroys some temporaries of a co_await
  // expression twice: arguments built in place are named first throughout this engine.)
  // wakeup() cuts it short.
  asio::awaitable<void> pause_for(std::chrono::milliseconds d);
  // Waits of a poll that wakeup() cancels.
  std::set<asio::steady_timer*> interruptible_waits_;
  std::atomic<bool> wakeup_requested_{false};
  bool wakeable_commit_ = false;  // a commit_sync runs: wakeup() ends its retries

  // ---- fetching (fetcher.cpp) --------------------------------------------------------------
  // What the records of one partition's fetched data point into (the topic's name, the response frame, the
  // decompressed bytes of compressed batches); every record handed out from it shares it (`storage`).
  struct fetched_bytes;
  // One partition's fetched data. Its batches are checked (CRC, aborted transactions) when the response comes
  // in, but their records are decoded only as drain() hands them out, straight into poll()'s result: a record
  // is built once, where it is returned, and only the records of one poll exist at a time.
  struct completed_fetch {
    topic_partition tp;
    int64_t fetch_offset = 0;  // the position the fetch was made from, then past the last record handed out
    std::shared_ptr<fetched_bytes> storage;
    std::vector<common::record_batch_view> batches;  // to decode, in order (no control or aborted batches)
    size_t next_batch = 0;                           // the next of `batches` to open
    std::optional<common::record_iterator> current;  // the records left of the batch opened last
    int32_t current_epoch = -1;                      // that batch's partition leader epoch
    bool current_log_append_time = false;
    int64_t next_offset = 0;   // the position once every record here is handed out
    std::optional<int32_t> next_epoch;
    bool has_records() const { return current.has_value() || next_batch < batches.size(); }
  };
  asio::awaitable<result<void>> fetch_round(clock::time_point deadline);
  // The Fetch of each leader for the fetchable partitions without buffered records, except leaders whose last
  // Fetch is still out; `ahead`: only partitions with records known to wait (below the high watermark).
  std::map<int32_t, std::map<topic_partition, fetch_position>> fetches_to_send(const core::metadata_snapshot& meta,
                                                                               bool ahead);
  // As poll() returns records, the next Fetches go out (as Java's and librdkafka's consumers fetch ahead), so
  // that the next poll finds their records in, or waits for them (fetch_landed_) rather than sending its own.
  void fetch_ahead();
  struct fetch_round_state;
  asio::awaitable<void> fetch_from(int32_t node, std::map<topic_partition, fetch_position> wanted,
                                   int32_t max_wait_ms, std::shared_ptr<fetch_round_state> round);
  result<void> take_partition_data(const topic_partition& tp, int64_t fetch_offset,
                                   const common::protocol::fetch::partition_data& data,
                                   const std::shared_ptr<uint8_t[]>& frame);
  // Decodes up to `max` records of `cf` into `out` (see completed_fetch); errors: a record that does not decode
  // (corrupt_message), or a compressed batch that does not decompress.
  result<void> decode_into(completed_fetch& cf, std::vector<consumer_record>& out, size_t max);
  asio::awaitable<result<void>> update_positions(clock::time_point deadline);
  // KIP-320: positions whose leader changed since they were set are checked with OffsetForLeaderEpoch
  // against the leader; a truncated log moves them back (or, with auto.offset.reset=none, is
  // returned as offset_out_of_range naming the divergent offsets, as Java's LogTruncationException).
  asio::awaitable<result<void>> validate_positions(clock::time_point deadline);
  void validate_positions_on_metadata_change();
  // A position at `offset` (epoch of the record before it: `epoch`) under the leader metadata shows.
  fetch_offset position_under_current_leader(const topic_partition& tp, int64_t offset, std::optional<int32_t> epoch) const;
  static common::error truncation_error(const std::vector<log_truncation>& truncations);
  asio::awaitable<result<void>> reset_offsets(clock::time_point deadline);
  // The buffered records, at most `max`. A record that does not decode ends the partition's buffered data; the
  // records before it are returned and its error is the next poll's (its error when there are none).
  result<std::vector<consumer_record>> drain(size_t max);
  bool has_buffered() const;
  std::set<std::string> wanted_topics() const;
  asio::awaitable<result<std::shared_ptr<const core::metadata_snapshot>>> metadata_for_assignment();

  // ---- the group (group_coordinator.cpp) -----------------------------------------------------
  bool in_group() const { return config_.group_id.has_value() && subs_.has_auto_assigned_partitions(); }
  asio::awaitable<result<int32_t>> coordinator();
  void coordinator_lost();
  asio::awaitable<result<void>> poll_group(clock::time_point deadline);
  // classic
  asio::awaitable<result<void>> join_group(clock::time_point deadline);
  asio::awaitable<result<assignment>> sync_group(const common::protocol::join_group::response& joined, int16_t version);
  asio::awaitable<void> heartbeat_loop(uint64_t session);
  asio::awaitable<void> leave_group(const std::string& reason);
  void on_join_complete(const assignment& a, const std::string& protocol);
  assignors::rebalance_protocol protocol_kind() const;
  // KIP-848
  asio::awaitable<result<void>> consumer_heartbeat(bool leaving);
  asio::awaitable<void> consumer_heartbeat_loop(uint64_t session);
  asio::awaitable<result<void>> reconcile(const common::protocol::consumer_group_heartbeat::member_assignment& target);
  // both
  void reset_generation(bool lost);
  void revoke(const std::vector<topic_partition>& partitions, bool lost);
  void assigned(const std::vector<topic_partition>& partitions);
  asio::awaitable<result<void>> commit(topic_partition_offsets offsets, clock::time_point deadline);
  asio::awaitable<result<std::map<topic_partition, std::optional<offset_and_metadata>>>> fetch_committed(
      const std::set<topic_partition>& partitions, clock::time_point deadline);
  asio::awaitable<void> maybe_auto_commit(bool force, clock::time_point deadline);
  void start_heartbeats();
  void stop_heartbeats();

  asio::any_io_executor ex_;
  consumer_config config_;
  std::unique_ptr<core::cluster> cluster_;
  subscription_state subs_;
  std::shared_ptr<rebalance_listener> listener_;
  std::vector<std::function<void()>> callbacks_;
  std::optional<common::error> pending_error_;  // raised by the next poll (a failed reset, a fatal group error)

  // fetching
  std::map<int32_t, fetch_session> sessions_;
  std::deque<completed_fetch> buffer_;
  bool metadata_refresh_needed_ = false;
  std::set<int32_t> fetching_from_;  // brokers with a Fetch in flight
  asio::steady_timer fetch_landed_{ex_};  // cancelled as each Fetch is done
  // The metadata positions were last checked against for leader changes.
  std::shared_ptr<const core::metadata_snapshot> validated_against_;

  // group
  std::vector<std::unique_ptr<assignors::assignor>> assignors_;
  std::string member_id_;
  int32_t generation_ = -1;  // classic generation, or KIP-848 member epoch
  std::string protocol_name_;
  bool rejoin_needed_ = true;
  bool joined_ = false;
  bool rebalancing_ = false;
  bool partitions_lost_ = false;
  std::optional<int32_t> coordinator_;
  uint64_t heartbeat_session_ = 0;  // bumps to stop the heartbeat coroutine of an older membership
  std::chrono::milliseconds heartbeat_interval_{3000};
  clock::time_point last_poll_ = clock::now();
  clock::time_point next_auto_commit_;
  std::unique_ptr<asio::steady_timer> heartbeat_wakeup_;
  std::set<std::string> last_subscribed_topics_;  // KIP-848: what the broker was last told
  bool heartbeat_in_flight_ = false;
  clock::time_point next_pattern_refresh_{};
  bool closed_ = false;
  bool revoked_for_close_ = false;
  bool yielded_for_callbacks_ = false;
  // False once the engine is destroyed: its detached coroutines (heartbeats) check it after every
  // wait before touching the engine again.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace brook::client::consuming
