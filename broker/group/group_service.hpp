// The group coordinator as the broker runs it: the pure group_coordinator plus the timer that
// drives its deadlines, the writer that persists changed group metadata, and awaitable wrappers
// that park a JoinGroup/SyncGroup until its group answers.
//
// Owner: the broker; everything runs on the broker's network thread except the store writes, which
// go to the blocking pool through write_lanes (one ordered lane per group, so a group's writes land
// in the order they were issued). One steady_timer serves all groups: it sleeps until the
// coordinator's earliest deadline, and changed() re-arms it after any request that may move a
// deadline. One writer coroutine at a time writes changed groups (so an older copy never
// overwrites a newer one); flushed() lets a handler wait for it before answering. The timer and
// the writer are supervised (broker/background.hpp): an exception is logged, waiters are answered
// with a failure, and the coroutine starts again. Regex subscriptions are matched against the topic
// names on the blocking pool by one resolver coroutine, never on the network thread.
//
// Clocks: deadlines (sessions, rebalances, retention checks) run on steady_clock (now()); only what
// Kafka reports or persists as a timestamp (commit times, offset expiry by commit time, when a group
// changed state) uses the wall clock (wall_now()).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "broker/config/server_config.hpp"
#include "broker/group/coordinator.hpp"
#include "broker/group/write_lanes.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker::group {

// The one answer every group API gives when a metadata-store write (or read) failed. Kafka's
// coordinator maps storage failures (KAFKA_STORAGE_ERROR, NOT_LEADER_OR_FOLLOWER) to NOT_COORDINATOR
// (CoordinatorOperationExceptionHelper, GroupMetadataManager.appendGroupMetadataErrorToResponseError):
// clients look the coordinator up again and retry. Logs the failure.
kafka_error store_failure_error(std::string_view operation, const std::string& group_id, const common::error& e);

// The producer a TxnOffsetCommit names, for the transaction coordinator to check before its offsets
// are staged.
struct txn_commit_producer {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::string group_id;
  int16_t api_version = 0;  // of the TxnOffsetCommit request
};
// The check: NONE lets the offsets be staged; any other error answers every partition of the
// request with it (Kafka verifies the producer against the transaction coordinator through
// AddPartitionsToTxn verify-only for the group's offsets partition, KIP-890, and answers what that
// verification answered: INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE, PRODUCER_FENCED, ...).
using txn_producer_check = std::function<boost::asio::awaitable<kafka_error>(const txn_commit_producer&)>;

class group_service {
 public:
  group_service(boost::asio::io_context& io, boost::asio::thread_pool& pool, log::metadata_store& store,
                const server_config& config);

  // Reads the stored groups and offsets (before start, on any thread).
  common::result<void> load();
  void start();
  // Answers parked requests with NOT_COORDINATOR and stops the timer (network thread).
  void stop();
  // Writes out groups changed since the last write (after the network thread and the pool have ended).
  void flush_now();

  group_coordinator& coordinator() { return coordinator_; }
  log::metadata_store& store() { return store_; }
  // Monotonic milliseconds: the coordinator's `now`, for every deadline.
  static int64_t now();
  // Wall-clock milliseconds since the epoch: commit timestamps and other reported times.
  static int64_t wall_now();

  // Runs a store write for `group_id` on that group's lane of the blocking pool (in issue order).
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> write(const std::string& group_id, const F& work) {
    return lanes_.run(group_id, work);
  }

  // Forgets every group and committed offset in memory (group_coordinator::clear); the caller clears the
  // store after flushed(), so that a write pass under way cannot bring a group back.
  void reset();

  // Call after anything that may have changed deadlines or group metadata.
  void changed();

  // Waits until every group change made before the call is on disk (synced); the store's error if
  // the write failed, NOT_COORDINATOR if the service stopped.
  boost::asio::awaitable<common::result<void>> flushed();

  // ---- transactions ----
  // The transaction coordinator's check of a TxnOffsetCommit's producer; until one is set
  // (set_txn_producer_check), every producer is accepted.
  void set_txn_producer_check(txn_producer_check check);
  boost::asio::awaitable<kafka_error> check_txn_producer(const txn_commit_producer& producer);
  // Stages the pending offsets of one group (every entry's group is `group_id`): written to the
  // store on the group's lane, then recorded by the coordinator. The store's error if the write failed.
  boost::asio::awaitable<common::result<void>> stage_txn_offsets(const std::string& group_id,
                                                                 std::vector<log::txn_offset> offsets);
  // A transaction marker (what the transaction coordinator calls when the producer's transaction
  // ends, for this broker's group offsets): on commit (`commit` true) every pending offset the
  // producer staged, in every group, becomes that group's committed offset unless a later commit
  // replaced it; on abort they are dropped. Written to the store group by group (each on its group's
  // lane, so it lands in order with the group's other writes) before the coordinator records it. A
  // failure leaves the groups not yet completed pending and returns the store's error: calling again
  // finishes them (a completed group has nothing left of the producer, so a repeat is harmless).
  // Returns at once if the producer has no pending offsets.
  boost::asio::awaitable<common::result<void>> complete_transaction(int64_t producer_id, bool commit);

  boost::asio::awaitable<join_result> join(const std::string& group_id, join_request req);
  boost::asio::awaitable<sync_result> sync(const std::string& group_id, sync_request req);

 private:
  using flush_waiter = std::function<void(common::result<void>)>;
  boost::asio::awaitable<void> run_timer();
  boost::asio::awaitable<void> run_writer();
  boost::asio::awaitable<void> run_regex_resolver();
  void start_timer();
  void start_writer();
  void start_regex_resolver();
  // Answers the writer's waiters (and the ones queued behind them) with `outcome`.
  void answer_waiters(std::vector<flush_waiter>& waiters, const common::result<void>& outcome);

  boost::asio::io_context& io_;
  boost::asio::thread_pool& pool_;
  log::metadata_store& store_;
  write_lanes lanes_;
  group_coordinator coordinator_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  bool writer_running_ = false;
  std::vector<flush_waiter> flush_waiters_;     // answered by the writer's next pass
  std::vector<flush_waiter> writer_waiters_;    // the pass under way (answered on a crash too)
  std::vector<std::pair<std::string, log::group_metadata_record>> writer_in_flight_;  // groups the pass is writing
  bool regex_resolver_running_ = false;
  bool stopped_ = false;
  txn_producer_check txn_producer_check_;
};

coordinator_config coordinator_config_from(const server_config& config);

}  // namespace brook::broker::group
