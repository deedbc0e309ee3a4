// Brook's Kafka consumer, behaving as Java's KafkaConsumer: created from Kafka's consumer properties,
// subscribe (topics or a regex, with a rebalance listener) or assign, poll for records, commit
// offsets (synchronously or not, with metadata), seek, pause and resume, close. Group membership
// speaks the classic protocol (JoinGroup/SyncGroup with client-side assignors) or, with
// group.protocol=consumer, KIP-848's ConsumerGroupHeartbeat.
//
// Thread: like Java's consumer, one thread at a time uses it; behind it a private I/O thread keeps
// the group's heartbeats going between polls. Rebalance listener callbacks and commit callbacks
// run on the thread calling poll() (or commit_sync/close): an eager rebalance's revocation and
// close()'s run before the member leaves or rejoins, so the listener may commit there, as in Java;
// a cooperative revocation runs before the member rejoins to hand the partitions over. Errors are
// values; nothing throws. wakeup() may be called from any thread to end a blocked poll().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "brook/client/types.hpp"
#include "common/error.hpp"

namespace brook::client {

namespace consuming {
class consumer_engine;
}
namespace core {
class io_thread;
}

// A header of a consumed record: views into the record's bytes, as the record's own key and value.
struct consumer_header {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: a null header value
};

// A record as poll() hands it out. The topic, key, value and headers are views into the bytes the record
// was fetched in (the Fetch response, or the decompressed batch), which `storage` keeps alive: they are
// valid as long as this record or a copy of it lives, wherever it is moved or copied. Nothing is copied
// per record (as librdkafka hands out pointers into its fetch buffer); the price is that a record kept
// pins the whole response it came in (up to max.partition.fetch.bytes of its partition), so copy out
// what you keep for long (`std::string(*r.value)`).
struct consumer_record {
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;
  bool log_append_time = false;  // the timestamp is the broker's LogAppendTime, not CreateTime
  std::optional<std::string_view> key;    // nullopt: a null key
  std::optional<std::string_view> value;  // nullopt: a null value (a tombstone)
  std::vector<consumer_header> headers;
  std::optional<int32_t> leader_epoch;
  std::shared_ptr<const void> storage;  // owns the bytes the views above point into
};

struct offset_and_timestamp {
  int64_t offset = -1;
  int64_t timestamp = -1;
  std::optional<int32_t> leader_epoch;
};

using topic_partition_offsets = std::map<topic_partition, offset_and_metadata>;

// Told of partitions changing hands around a rebalance (Java's ConsumerRebalanceListener). Eager
// rebalances revoke everything before rejoining; cooperative ones revoke only what moves.
// on_partitions_lost: the partitions were taken away without a chance to commit (the member was
// fenced or its session expired); by default the same as revoked, as in Java.
class rebalance_listener {
 public:
  virtual ~rebalance_listener() = default;
  virtual void on_partitions_revoked(const std::vector<topic_partition>& partitions) {}
  virtual void on_partitions_assigned(const std::vector<topic_partition>& partitions) {}
  virtual void on_partitions_lost(const std::vector<topic_partition>& partitions) {
    on_partitions_revoked(partitions);
  }
};

using commit_callback = std::function<void(const topic_partition_offsets&, const common::error&)>;

class consumer {
 public:
  // Errors: invalid_config naming the bad or unknown key.
  static common::result<std::unique_ptr<consumer>> create(const properties& config);
  ~consumer();
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  common::result<void> subscribe(const std::vector<std::string>& topics,
                                 std::shared_ptr<rebalance_listener> listener = nullptr);
  // A regex matched against whole topic names (RE2 syntax), re-checked at each metadata refresh.
  common::result<void> subscribe_pattern(const std::string& regex, std::shared_ptr<rebalance_listener> listener = nullptr);
  common::result<void> assign(const std::vector<topic_partition>& partitions);
  common::result<void> unsubscribe();
  std::set<topic_partition> assignment() const;
  std::set<std::string> subscription() const;

  // Records fetched since the last poll, at most max.poll.records; waits up to `timeout` for some.
  // Runs the group's rebalances, offset resets and auto commits.
  common::result<std::vector<consumer_record>> poll(std::chrono::milliseconds timeout);

  // Commits the positions of every assigned partition, or the given offsets (the next offset to read).
  common::result<void> commit_sync(std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  common::result<void> commit_sync(const topic_partition_offsets& offsets,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  // The callback runs on the thread of a later poll(), commit_sync() or close().
  void commit_async(commit_callback callback = nullptr);
  void commit_async(const topic_partition_offsets& offsets, commit_callback callback = nullptr);

  common::result<void> seek(const topic_partition& tp, int64_t offset);
  // With a leader epoch (of the record before the offset) the position is first checked against the
  // partition's leader with OffsetForLeaderEpoch, as committed offsets restored with theirs are and
  // every position whose partition changes leader: a truncated log moves it back to the first
  // divergent offset, or with auto.offset.reset=none makes poll() return offset_out_of_range naming it.
  common::result<void> seek(const topic_partition& tp, const offset_and_metadata& position);
  common::result<void> seek_to_beginning(const std::vector<topic_partition>& partitions);
  common::result<void> seek_to_end(const std::vector<topic_partition>& partitions);
  // The next offset to be read; resolves a pending reset or committed offset first.
  common::result<int64_t> position(const topic_partition& tp,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  // The group's committed offsets (nullopt where none).
  common::result<std::map<topic_partition, std::optional<offset_and_metadata>>> committed(
      const std::set<topic_partition>& partitions, std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  // For each partition, the first offset whose timestamp is at or after the given one (nullopt: none).
  common::result<std::map<topic_partition, std::optional<offset_and_timestamp>>> offsets_for_times(
      const std::map<topic_partition, int64_t>& timestamps,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  common::result<std::map<topic_partition, int64_t>> beginning_offsets(
      const std::vector<topic_partition>& partitions, std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  common::result<std::map<topic_partition, int64_t>> end_offsets(
      const std::vector<topic_partition>& partitions, std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

  common::result<void> pause(const std::vector<topic_partition>& partitions);
  common::result<void> resume(const std::vector<topic_partition>& partitions);
  std::set<topic_partition> paused() const;

  // The group's member id and generation (or member epoch); empty and -1 outside a group.
  std::string member_id() const;
  int32_t generation() const;

  // Any thread (the one exception to one-thread-at-a-time): the poll() blocked now, or else the next
  // poll(), commit_sync() or position(), returns the error `wakeup` (Java's WakeupException), once. A
  // poll() waiting for records returns at once; one waiting on a group answer once that answer is in.
  void wakeup();

  // Commits (with enable.auto.commit), revokes the assignment through the listener, leaves the group
  // and closes the connections. Idempotent.
  common::result<void> close(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));

 private:
  consumer();
  void run_callbacks();
  std::unique_ptr<core::io_thread> io_;
  std::unique_ptr<consuming::consumer_engine> engine_;
  bool closed_ = false;
};

}  // namespace brook::client
