// The transaction coordinator as the broker runs it: the pure transaction_coordinator plus what it
// asks its owner to do — persist each transition's record in the metadata store before it takes
// effect, write transaction markers, and run its timeouts — and awaitable wrappers that answer a
// client's InitProducerId / AddPartitionsToTxn / AddOffsetsToTxn / EndTxn once its transition is
// on disk.
//
// Owner: the broker; everything runs on the broker's network thread except the store writes (the
// blocking pool) and the marker writes (the marker writer's business). The coordinator allows one
// pending transition per transactional id, so an id's records are written in order; requests
// arriving meanwhile are answered CONCURRENT_TRANSACTIONS by the coordinator, as in Kafka.
// Markers are written after EndTxn is answered (as Kafka's marker channel does), retried until
// written; the Complete* record follows. A transition whose record could not be written is
// reverted (the client hears NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE and retries); a Complete*
// record is retried until written. One timer runs advance() at the coordinator's next deadline
// (timed-out transactions are aborted, idle transactional ids expire); it and every background
// completion end with stop().
//
// Clocks: the coordinator's `now` is wall-clock milliseconds (it persists start and update times,
// compared after a restart, as Kafka does); the timer waits on steady_clock for the difference.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/config/server_config.hpp"
#include "broker/transaction/transaction_coordinator.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker::transaction {

class transaction_service {
 public:
  // Writes one transaction's markers (every partition of it) and returns once they are durable as
  // the partitions' appends are; an error makes the service try again later.
  using marker_writer = std::function<boost::asio::awaitable<common::result<void>>(const marker_request&)>;
  // Hands out a new producer id (the broker's allocator, shared with idempotent producers).
  using producer_id_source = std::function<boost::asio::awaitable<common::result<int64_t>>()>;

  transaction_service(boost::asio::io_context& io, boost::asio::thread_pool& pool, log::metadata_store& store,
                      transaction_config config, int32_t offsets_topic_partitions, producer_id_source ids,
                      marker_writer markers);

  // Reads every stored transaction state (before start, on any thread). Transactions found between
  // PrepareCommit/PrepareAbort and Complete* are finished by start().
  common::result<void> load();
  void start();
  // Stops the timer and the background completions (network thread); the coordinator's state stays
  // as the store has it.
  void stop();

  // Forgets every transactional id (a broker reset) and holds new state writes until
  // writes_released(): the caller waits for persisted(), clears the store, then releases them, so the
  // store ends up holding exactly the new state. Completions under way end without touching it.
  void reset();
  // Returns once no transaction state write is under way (network thread).
  boost::asio::awaitable<void> persisted();
  void release_writes();

  transaction_coordinator& coordinator() { return coordinator_; }
  // The partition of __consumer_offsets that holds `group_id`'s offsets in Kafka (Java's
  // String.hashCode of the id, made non-negative, modulo offsets.topic.num.partitions): what
  // AddOffsetsToTxn adds to a transaction, and what DescribeTransactions shows for it.
  topic_partition group_offsets_partition(const std::string& group_id) const;
  static constexpr std::string_view offsets_topic = "__consumer_offsets";
  int32_t offsets_topic_partitions() const { return offsets_topic_partitions_; }
  static int64_t wall_now();

  boost::asio::awaitable<txn_answer> init_producer_id(init_producer_id_request request);
  boost::asio::awaitable<txn_answer> add_partitions(std::string transactional_id, int64_t producer_id,
                                                    int16_t producer_epoch, partition_set partitions,
                                                    int16_t client_transaction_version);
  boost::asio::awaitable<txn_answer> end_txn(std::string transactional_id, int64_t producer_id,
                                             int16_t producer_epoch, bool commit, int16_t client_transaction_version);

  // KIP-890's second part (transaction version 2): a produce request (v12+) or a TxnOffsetCommit
  // (v5+) adds its partitions to the producer's transaction itself. Answers at once, without a write,
  // when they are all in the open transaction already; otherwise adds them (a transaction starts if
  // none is open), retrying CONCURRENT_TRANSACTIONS for up to add_partitions_retry_max_ms as Kafka's
  // partition leaders do. The coordinator's error, for the caller to map.
  // One transactional id's calls answer in the order they were made: while one is adding, the later
  // ones wait for it, even those whose partitions are all in, so that a producer's pipelined produce
  // requests still reach each partition in request order (Kafka reads a connection's next request
  // only once the last is answered). The next one resumes after the caller of the last has run on to
  // its next suspension (the produce handler queues its appends before that). A call that fails hands
  // its error to the calls of the same producer and epoch that waited behind it: their batches follow
  // the failed one's sequence numbers, so the client must send them again after it, in order, rather
  // than have a later batch appended past the gap (OUT_OF_ORDER_SEQUENCE_NUMBER).
  boost::asio::awaitable<kafka_error> add_partitions_implicitly(std::string transactional_id, int64_t producer_id,
                                                               int16_t producer_epoch, partition_set partitions);
  // add.partitions.to.txn.retry.backoff.ms and .max.ms (Kafka's defaults).
  static constexpr int64_t add_partitions_retry_backoff_ms = 20;
  static constexpr int64_t add_partitions_retry_max_ms = 100;

  // Tests: how many background completions (marker writes, Complete* records) are under way.
  size_t completions_in_flight() const { return in_flight_; }

 private:
  // Persists `request` (its record, or its removal) on the blocking pool.
  boost::asio::awaitable<common::result<void>> persist(const persist_request& request);
  // Persists a request's transition, completes it and returns the client's answer; what follows the
  // answer (markers, further records) continues in the background.
  boost::asio::awaitable<txn_answer> settle(const std::string& transactional_id, txn_result result);
  // Runs a completion's follow-ups to the end: markers, then the records after them.
  boost::asio::awaitable<void> finish(txn_completion completion);
  void spawn_finish(txn_completion completion);
  // Keeps enough producer ids at hand for the coordinator's synchronous allocator.
  boost::asio::awaitable<common::result<void>> top_up_producer_ids();
  boost::asio::awaitable<void> run_timer();
  boost::asio::awaitable<void> sleep_ms(int64_t ms);

  // The calls of add_partitions_implicitly waiting for an earlier one of the same transactional id.
  struct implicit_add_waiter {
    explicit implicit_add_waiter(boost::asio::io_context& io) : timer(io, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer timer;  // cancelled when its turn comes
    bool granted = false;
    // Set with the turn: the error of the call before, when it was of the same producer and epoch.
    kafka_error inherited = kafka_error::none;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
  };
  // An id is here while one of its calls is adding; the waiting ones are owned by their coroutines.
  std::map<std::string, std::deque<std::weak_ptr<implicit_add_waiter>>> implicit_adds_;
  // The call holding `transactional_id`'s turn is done: the next waiting one (if any) takes it.
  // `failed`: the error the passing call answered, for the next one of the same producer and epoch.
  void pass_implicit_add_turn(const std::string& transactional_id, kafka_error failed, int64_t producer_id,
                              int16_t producer_epoch);

  boost::asio::io_context& io_;
  boost::asio::thread_pool& pool_;
  log::metadata_store& store_;
  producer_id_source ids_;
  marker_writer write_markers_;
  int32_t offsets_topic_partitions_;
  std::deque<int64_t> spare_producer_ids_;
  transaction_coordinator coordinator_;
  std::vector<txn_completion> recovered_;  // load()'s completions, run by start()
  std::shared_ptr<boost::asio::steady_timer> timer_;
  size_t in_flight_ = 0;
  size_t writes_in_flight_ = 0;  // persist() calls on the blocking pool
  std::shared_ptr<boost::asio::steady_timer> writes_done_;  // persisted()'s waiters; cancelled at zero
  bool writes_held_ = false;                                 // from reset() to release_writes()
  std::shared_ptr<boost::asio::steady_timer> writes_release_;  // held writes wait on it; cancelled at release
  uint64_t generation_ = 0;  // bumped by reset(): older completions stop
  bool stopped_ = false;
};

// The transaction settings of a broker config (transaction.max.timeout.ms and the rest).
transaction_config transaction_config_from(const server_config& config);

}  // namespace brook::broker::transaction
