// The broker's partitions: the log_manager of the data directory, one partition_log per partition,
// and the bookkeeping the request handlers need around them.
//
// Threads: a partition_log is not thread-safe, so every call into one runs on that partition's
// strand on the blocking pool (appends, reads, fsyncs: all disk work stays off the network thread).
// Everything else here (the partition map, the cached offsets, fetch waiters) belongs to the network
// thread. The cached log start/end offsets are refreshed from each result that comes back.
//
// Durability: acks=all appends are flushed before they are acknowledged. The strand queues appends
// behind a running fdatasync, and a flush whose offsets are already durable is skipped, so one fsync
// covers every batch that arrived while the previous one ran (group commit).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "broker/config/server_config.hpp"
#include "broker/config/topic_config.hpp"
#include "common/error.hpp"
#include "common/protocol/wire.hpp"
#include "common/record_validation.hpp"
#include "log/log_manager.hpp"
#include "log/metadata_store.hpp"
#include "log/producer_state.hpp"

namespace brook::broker {

struct fetched {
  // Whole batches (empty at the end of the log), by reference to the segment file so that they
  // can be sent with sendfile.
  common::protocol::record_set records;
  int64_t log_start_offset = 0;
  int64_t high_watermark = 0;
  int64_t last_stable_offset = 0;
  // read_committed: the aborted transactions overlapping the batches read (FetchResponse's
  // aborted_transactions); nullopt under read_uncommitted.
  std::optional<std::vector<log::aborted_transaction>> aborted_transactions;
};

struct offset_lookup {
  int64_t timestamp = -1;
  int64_t offset = -1;
};

class partition_manager {
 public:
  using strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;

  partition_manager(boost::asio::thread_pool& pool, std::unique_ptr<log::log_manager> logs);
  ~partition_manager();

  // The log settings a topic's effective configuration implies.
  static log::log_config to_log_config(const effective_topic_config& c);

  // Makes sure partitions [0, count) of the topic have logs, creating the missing ones empty with
  // the topic's configuration (existing logs are left alone: they may be in use on their strands).
  // Stops with a timed-out error once *cancel turns true (shutdown); the logs made so far stay, for
  // the caller to remove. Blocking: the caller runs it off the network thread or before the server starts.
  common::result<void> ensure_topic(const std::string& topic, int32_t count, const effective_topic_config& config,
                                    const std::atomic<bool>* cancel = nullptr);
  // Removes every partition directory of the topic. Blocking, as ensure_topic.
  common::result<void> remove_topic(const std::string& topic);
  // Removes the directories of partitions >= `from` of the topic (undoing an ensure_topic that failed
  // midway; the partitions must not be attached). Blocking, as ensure_topic.
  common::result<void> remove_partitions_from(const std::string& topic, int32_t from);
  // Every partition log out of the way at once (log_manager::detach: directories renamed aside, so that
  // partitions of the same names start empty), returning the directories for remove_detached(). The
  // partitions must be detached (detach_topic) by the caller. Blocking, as ensure_topic.
  common::result<std::vector<std::filesystem::path>> detach_all_logs();
  common::result<void> remove_detached(const std::vector<std::filesystem::path>& dirs);
  // log_manager::durable_extents (after the strands have stopped).
  std::vector<log::durable_extent> durable_extents() const { return logs_->durable_extents(); }
  // How many partition logs are open (each holds at least its active segment's descriptor).
  size_t open_log_count() const { return logs_->partitions().size(); }
  // The partitions on disk that no topic claims (reported at start).
  std::vector<log::topic_partition> on_disk() const { return logs_->partitions(); }

  // --- network thread ---
  bool exists(const log::topic_partition& tp) const { return partitions_.count(tp) != 0; }
  // Registers (after ensure_topic) or forgets the partitions of a topic. Attaching restores each
  // partition's idempotent-producer state from its snapshot in the store plus the log past it
  // (blocking: at start, or for partitions just created, which have none).
  void attach_topic(const std::string& topic, int32_t count, log::metadata_store* store = nullptr);
  void detach_topic(const std::string& topic);

  // One partition's share of a Produce request.
  struct append_request {
    log::topic_partition tp;
    std::span<uint8_t> batches;  // rewritten in place; must outlive append()
    std::optional<common::result<log::append_result>> result;  // set by append()
    // A producer's batch is validated on the strand, before the append (common/record_validation.hpp);
    // nullopt: the broker's own batches, appended as they are.
    std::optional<common::batch_validation_config> validation = std::nullopt;
    std::vector<common::record_error> record_errors = {};  // set by append() when validation refused records
  };
  // Validates (see append_request::validation) and appends each partition's batches. Every append is queued on its partition's strand before the
  // first suspension, so the partitions see a connection's requests in the order they were started.
  // With durable, returns once each partition's batches are fsynced (the partitions' flushes run side
  // by side), or once durable_timeout has passed: a partition appended but not yet fsynced by then
  // gets REQUEST_TIMED_OUT (Produce's timeout_ms with acks=all; its batches stay in the log, as on
  // Kafka). The appends themselves are always waited for: they read the callers' batches. An
  // idempotent producer's retried batch is not written again: the result carries the offsets it got
  // the first time. Sequence gaps and stale epochs are refused. The high watermark moves right after
  // the append, as on a Kafka leader with no followers.
  boost::asio::awaitable<void> append(std::vector<append_request>& requests, bool durable,
                                      std::chrono::milliseconds durable_timeout = std::chrono::milliseconds::max());
  // read_committed stops at the last stable offset and lists the aborted transactions read.
  boost::asio::awaitable<common::result<fetched>> read(
      const log::topic_partition& tp, int64_t offset, uint64_t max_bytes,
      log::isolation_level isolation = log::isolation_level::read_uncommitted);
  // ListOffsets by time: -2 earliest, -1 latest (read_committed: the last stable offset), -3 the max
  // timestamp, else the first offset whose
  // timestamp is at least `timestamp`.
  boost::asio::awaitable<common::result<offset_lookup>> lookup_offset(
      const log::topic_partition& tp, int64_t timestamp,
      log::isolation_level isolation = log::isolation_level::read_uncommitted);
  // Writes a transaction marker (log::partition_log::append_marker) and returns once it is fsynced (a
  // marker must be durable before the transaction's Complete record); fetches waiting on the
  // partition wake up, since the last stable offset moved.
  boost::asio::awaitable<common::result<log::append_result>> append_marker(const log::topic_partition& tp,
                                                                           int64_t producer_id, int16_t producer_epoch,
                                                                           bool commit, int32_t coordinator_epoch,
                                                                           int16_t transaction_version);
  boost::asio::awaitable<common::result<int64_t>> delete_records(const log::topic_partition& tp, int64_t before);
  // Applies a topic's changed configuration to its partitions, each on its own strand.
  boost::asio::awaitable<void> apply_config(const std::string& topic, const effective_topic_config& config);
  // Partition by partition on their strands: with `retention`, deletes segments past retention and
  // flushes logs whose flush.ms has passed (the broker does this every log.retention.check.interval.ms);
  // with `compaction`, cleans compacted logs that are due (every log.cleaner.backoff.ms).
  boost::asio::awaitable<void> enforce_retention(bool retention = true, bool compaction = true);
  // Forgets, in every partition, the idempotent producers whose last batch's timestamp is before
  // `before_ms` (wall-clock ms), as Kafka's producer id expiration does.
  boost::asio::awaitable<void> expire_producers(int64_t before_ms);

  // The log directory (the one the broker runs on) and whether it has failed.
  const std::filesystem::path& log_dir() const { return logs_->dir(); }
  bool log_dir_failed() const { return logs_->failed(); }
  // Every attached partition, sorted.
  std::vector<log::topic_partition> attached() const;
  // The size in bytes of each partition's log segments (DescribeLogDirs), read on the partitions'
  // strands; partitions that are not attached (or go meanwhile) are left out.
  boost::asio::awaitable<std::vector<std::pair<log::topic_partition, uint64_t>>> log_sizes(
      std::vector<log::topic_partition> tps);
  // A copy of the idempotent producers a partition remembers (DescribeProducers), taken on its
  // strand; nullopt for a partition that is not attached.
  boost::asio::awaitable<std::optional<std::map<int64_t, log::producer_entry>>> producers(const log::topic_partition& tp);

  // Cached offsets (network thread); nullopt for an unknown partition.
  std::optional<int64_t> high_watermark(const log::topic_partition& tp) const;
  std::optional<int64_t> last_stable_offset(const log::topic_partition& tp) const;
  std::optional<int64_t> log_start_offset(const log::topic_partition& tp) const;

  // Fetch long-polling: a waiter is woken (its timer cancelled) by the next append to any of the
  // partitions it watches.
  void watch(const log::topic_partition& tp, const std::shared_ptr<boost::asio::steady_timer>& waiter);
  void unwatch(const log::topic_partition& tp, const std::shared_ptr<boost::asio::steady_timer>& waiter);

  // Writes every partition's producer-state snapshot to the store (blocking; at shutdown, after
  // the strands have stopped).
  common::result<void> save_producer_states(log::metadata_store& store);
  // Flushes and closes every log; writes the clean-shutdown marker when all went well. Blocking;
  // call after the network thread has stopped.
  common::result<void> close();

 private:
  struct partition {
    std::shared_ptr<log::partition_log> log;
    std::shared_ptr<strand> on;
    // The log's producer state (log::partition_log::producer_state()), touched only on the strand.
    std::shared_ptr<log::producer_state_table> producers;
    bool producer_snapshot_stored = false;  // the store held (or was given) a snapshot for this partition
    // Appends posted to the strand and not yet started: a durable append with none behind it flushes
    // at once; otherwise its flush queues behind them, so that one fsync covers them all.
    std::shared_ptr<std::atomic<int>> appends_queued = std::make_shared<std::atomic<int>>(0);
    int64_t log_start_offset = 0;
    int64_t high_watermark = 0;
    int64_t last_stable_offset = 0;  // as of the last append or marker (clamped to the log start when read)
    std::set<std::shared_ptr<boost::asio::steady_timer>> waiters;
  };
  partition* find(const log::topic_partition& tp);
  void wake(partition& p);

 public:
  // Fault injection for tests: runs on the strand before each acks=all flush (it may block, standing in
  // for a slow disk). Set before any append.
  void set_before_durable_flush(std::function<void()> hook) { before_durable_flush_ = std::move(hook); }

 private:
  std::function<void()> before_durable_flush_;

  boost::asio::thread_pool& pool_;
  std::unique_ptr<log::log_manager> logs_;
  std::map<log::topic_partition, partition> partitions_;
};

}  // namespace brook::broker
