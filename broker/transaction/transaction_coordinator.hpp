// The transaction coordinator's state machine (Kafka 4.4's TransactionCoordinator,
// TransactionMetadata and TransactionStateManager) with no IO: it owns every transactional id's
// metadata and says what to persist and which transaction markers to write; its owner does both.
//
// Owner: the broker's transaction service (one instance, on the network thread). Time is never read
// here: every call takes `now`, and next_deadline() says when advance() must run next. `now` is
// wall-clock milliseconds (Kafka's time.milliseconds()): it is persisted as the transaction's start
// and last-update times and compared with them after a restart.
//
// Two-phase transitions, as Kafka's prepareTransitionTo / completeTransitionTo: a request that
// changes an id's metadata validates it and *prepares* the new metadata (a pending transition) and
// hands back the record to persist. While a transition is pending, the id's other requests are
// answered CONCURRENT_TRANSACTIONS (where Kafka checks it). The owner persists the record and calls
// complete() (the metadata takes the new value; the answer and the next step come back), or
// abort_pending() when persisting failed (the metadata keeps its old value, except for what Kafka
// also keeps: a failed epoch fence is remembered so the epoch is not bumped twice).
//
// Ending a transaction: end_txn() persists PrepareCommit/PrepareAbort; complete() of that answers
// the client and prepares CompleteCommit/CompleteAbort, returning the markers to write; once they are
// written, markers_written() hands back the Complete* record, whose complete() finishes the
// transaction. The same path serves the coordinator's own aborts (a re-initialised producer with an
// Ongoing transaction, a timed-out transaction), which fence the producer's epoch first.
//
// Invariants:
// - at most one pending transition per transactional id; the committed metadata only changes in
//   complete() (and Kafka's failed-epoch-fence bookkeeping in abort_pending() / TV1 end_txn);
// - every committed state is reachable through valid_transition() from the previous one; Dead and
//   PrepareEpochFence are never committed (a Dead id is erased, a fence goes straight to PrepareAbort);
// - in Empty an id has no partitions and a start time of -1.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/transaction/transaction_state.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/transaction_state_record.hpp"

namespace brook::broker::transaction {

using common::kafka_error;
using transaction_state_record = common::protocol::transaction_state_record::message;

inline constexpr int64_t no_producer_id = -1;
inline constexpr int16_t no_producer_epoch = -1;

// transaction.version (Kafka's TransactionVersion): 2 (KIP-890) bumps the epoch at every end.
inline constexpr int16_t transaction_version_0 = 0;
inline constexpr int16_t transaction_version_1 = 1;
inline constexpr int16_t transaction_version_2 = 2;
constexpr bool supports_epoch_bump(int16_t transaction_version) { return transaction_version >= 2; }

// Kafka refuses new epochs from Short.MaxValue - 1 on, so that one is always left to fence with.
constexpr bool epoch_exhausted(int16_t epoch) { return epoch >= INT16_MAX - 1; }

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};
using partition_set = std::set<topic_partition>;

struct transaction_config {
  int32_t transaction_max_timeout_ms = 900000;                          // transaction.max.timeout.ms
  int64_t transactional_id_expiration_ms = 604800000;                   // transactional.id.expiration.ms
  int64_t abort_timed_out_transaction_cleanup_interval_ms = 10000;      // transaction.abort.timed.out.transaction.cleanup.interval.ms
  int64_t remove_expired_transaction_cleanup_interval_ms = 3600000;     // transaction.remove.expired.transaction.cleanup.interval.ms
  bool two_phase_commit_enable = false;                                 // transaction.two.phase.commit.enable (KIP-939)
  // The finalized transaction.version feature level: the coordinator's own aborts use it.
  int16_t transaction_version = transaction_version_2;
};

// One transactional id's metadata (Kafka's TransactionMetadata, without its runtime fields).
struct transaction_metadata {
  int64_t producer_id = no_producer_id;
  int64_t prev_producer_id = no_producer_id;  // the producer id before the last transition
  int64_t next_producer_id = no_producer_id;  // TV2: the id to move to when the epoch ran out
  int16_t producer_epoch = no_producer_epoch;
  int16_t last_producer_epoch = no_producer_epoch;  // for KIP-360 retries; not persisted
  int32_t txn_timeout_ms = 0;
  txn_state state = txn_state::empty;
  partition_set partitions;
  int64_t txn_start_timestamp = -1;
  int64_t txn_last_update_timestamp = 0;
  int16_t client_transaction_version = transaction_version_0;
  bool operator==(const transaction_metadata&) const = default;
};

// The metadata as persisted, and back (Kafka's TransactionLog.valueToBytes / readTxnRecordValue):
// an Empty record has no partitions; the last producer epoch reads back as -1. from_record fails
// (kafka_storage_error) on a state that is never persisted.
transaction_state_record to_record(const transaction_metadata& m);
common::result<transaction_metadata> from_record(const transaction_state_record& r);

// What the owner must persist for a transactional id: its new record, or its removal (null).
struct persist_request {
  std::string transactional_id;
  std::optional<transaction_state_record> record;
};

// Transaction markers to write: one per partition, for this producer id and epoch.
struct marker_request {
  std::string transactional_id;
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
  bool commit = false;
  std::vector<topic_partition> partitions;  // sorted
};

// An answer to a client's InitProducerId, AddPartitionsToTxn/AddOffsetsToTxn or EndTxn. The producer
// id and epoch are those of InitProducerId, and of EndTxn under transaction version 2 (-1 otherwise).
struct txn_answer {
  kafka_error error = kafka_error::none;
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
};

// A request's outcome: answered now (`persist` empty), or a record to persist first, after which
// complete() or abort_pending() gives the answer.
struct txn_result {
  txn_answer answer;
  std::optional<persist_request> persist;
};

// Whose request a completion answers.
enum class txn_request { none, init_producer_id, add_partitions, end_txn };

// What follows a persisted (or failed) transition.
struct txn_completion {
  txn_request origin = txn_request::none;  // none: the coordinator's own work (no answer)
  std::optional<txn_answer> answer;
  std::optional<marker_request> markers;  // write these, then call markers_written()
  std::optional<persist_request> persist;  // persist this next (then complete() / abort_pending())
};

struct init_producer_id_request {
  std::string transactional_id;
  int32_t transaction_timeout_ms = 0;
  // KIP-360: the producer id and epoch the producer had (a retry or a recovery); null when new.
  std::optional<std::pair<int64_t, int16_t>> expected;
  bool enable_two_phase_commit = false;  // KIP-939
  bool keep_prepared_txn = false;        // KIP-939 (Kafka 4.4 refuses it: UNSUPPORTED_VERSION)
};

// DescribeTransactions' data for one id.
struct txn_description {
  kafka_error error = kafka_error::none;
  std::string state;
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
  int32_t transaction_timeout_ms = 0;
  int64_t transaction_start_time_ms = -1;
  std::map<std::string, std::vector<int32_t>> topics;
};

// ListTransactions' filters and data.
struct list_filter {
  std::vector<std::string> states;     // state names; empty: all
  std::set<int64_t> producer_ids;      // empty: all
  int64_t duration_ms = -1;            // >= 0: only transactions started more than this long ago
  // KIP-1152's transactional id pattern, evaluated by the caller (RE2 full match); null: all.
  std::function<bool(const std::string&)> transactional_id_matches;
};
struct listed_transaction {
  std::string transactional_id;
  int64_t producer_id = no_producer_id;
  std::string state;
};
struct txn_listing {
  std::vector<std::string> unknown_state_filters;
  std::vector<listed_transaction> transactions;  // by transactional id
};

// The error a client gets for a failed write of the transaction state (Kafka's
// appendTransactionToLog): unavailable replicas and timeouts become COORDINATOR_NOT_AVAILABLE, a lost
// leadership or a storage error NOT_COORDINATOR, oversized records UNKNOWN_SERVER_ERROR.
kafka_error append_error(kafka_error store_error);

// KafkaApis answers INVALID_PRODUCER_EPOCH in place of PRODUCER_FENCED to clients too old to know
// it: InitProducerId (api key 22) below v4, AddPartitionsToTxn (24), AddOffsetsToTxn (25) and
// EndTxn (26) below v2.
kafka_error error_for_version(kafka_error e, int16_t api_key, int16_t api_version);

class transaction_coordinator {
 public:
  // Hands out a new producer id (Kafka's ProducerIdManager.generateProducerId), or the error.
  using producer_id_allocator = std::function<common::result<int64_t>()>;

  transaction_coordinator(transaction_config config, producer_id_allocator allocate_producer_id, int64_t now);

  const transaction_config& config() const { return config_; }

  // Replaces every id's metadata with the persisted records (start-up). A transaction found in
  // PrepareCommit/PrepareAbort is completed again: each completion carries the markers to write
  // (or, with no partitions, the Complete record to persist). Ongoing ones keep their start time, so
  // their timeout runs on. Fails on a record that cannot be loaded (nothing is replaced then).
  common::result<std::vector<txn_completion>> load(
      const std::vector<std::pair<std::string, transaction_state_record>>& records, int64_t now);

  // InitProducerId with a transactional id (the caller hands out ids for the others).
  txn_result init_producer_id(const init_producer_id_request& request, int64_t now);

  // AddPartitionsToTxn, and AddOffsetsToTxn with the group's __consumer_offsets partition.
  // `client_transaction_version` is the transaction version the request implies.
  txn_result add_partitions(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
                            const partition_set& partitions, int16_t client_transaction_version, int64_t now);

  // AddPartitionsToTxn with verify_only (a partition leader checking a transactional produce):
  // NONE per partition in the transaction, TRANSACTION_ABORTABLE per partition not in it, or one
  // error for all. Changes nothing.
  std::map<topic_partition, kafka_error> verify_partitions(const std::string& transactional_id, int64_t producer_id,
                                                           int16_t producer_epoch,
                                                           const partition_set& partitions) const;

  // EndTxn. Under transaction version 2 the answer carries the producer id and epoch to use next.
  txn_result end_txn(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch, bool commit,
                     int16_t client_transaction_version, int64_t now);

  // The pending transition of `transactional_id` was persisted: apply it and say what follows.
  // Fails (changing nothing) when none is pending.
  common::result<txn_completion> complete(const std::string& transactional_id, int64_t now);

  // Persisting the pending transition failed with `store_error`: revert it and answer with
  // append_error(store_error). A Complete* record stays pending and comes back to be persisted
  // again (Kafka retries it until it is written). Fails when none is pending.
  common::result<txn_completion> abort_pending(const std::string& transactional_id, kafka_error store_error);

  // Every marker of the pending end of `transactional_id` was written: the Complete* record to
  // persist. Fails when no end is pending.
  common::result<persist_request> markers_written(const std::string& transactional_id) const;

  // Runs what is due at `now`: every abort interval, Ongoing transactions past their timeout
  // (start + timeout < now; not KIP-939 ones) are aborted with their producer fenced; every removal
  // interval, ids idle in Empty/Complete* for transactional.id.expiration.ms are removed (a null
  // record). Returns what to persist; complete() / abort_pending() follow each.
  std::vector<persist_request> advance(int64_t now);
  int64_t next_deadline() const { return std::min(next_abort_scan_, next_expiry_scan_); }

  txn_description describe(const std::string& transactional_id) const;
  txn_listing list(const list_filter& filter, int64_t now) const;

  const transaction_metadata* find(const std::string& transactional_id) const;
  std::optional<txn_state> pending_state(const std::string& transactional_id) const;
  size_t size() const { return ids_.size(); }

 private:
  // What a pending transition is for, which decides what complete() / abort_pending() do.
  enum class purpose { init, add, end, complete, expire };
  struct pending_transition {
    transaction_metadata target;
    purpose what = purpose::init;
    txn_request origin = txn_request::none;
    bool commit = false;
    bool epoch_fence = false;  // an abort that fences the producer
    int16_t client_transaction_version = transaction_version_0;
  };
  struct entry {
    transaction_metadata meta;
    std::optional<pending_transition> pending;
    // A fencing abort failed to persist: the epoch was already bumped, do not bump it again.
    bool has_failed_epoch_fence = false;
  };

  txn_result end_transaction(const std::string& id, entry& e, int64_t producer_id, int16_t producer_epoch, bool commit,
                             bool from_client, bool epoch_fence, int16_t client_transaction_version,
                             txn_request origin, int64_t now);
  txn_result end_v1(const std::string& id, entry& e, int64_t producer_id, int16_t producer_epoch, bool commit,
                    bool from_client, bool epoch_fence, txn_request origin, int64_t now);
  txn_result end_v2(const std::string& id, entry& e, int64_t producer_id, int16_t producer_epoch, bool commit,
                    bool from_client, bool epoch_fence, int16_t client_transaction_version, txn_request origin,
                    int64_t now);
  txn_result prepare_abort_or_commit(const std::string& id, entry& e, txn_state next, int16_t client_transaction_version,
                                     int64_t next_producer_id, bool no_partition_added, bool commit, bool epoch_fence,
                                     txn_request origin, int64_t now);
  // The epoch a fence moves to (Kafka's prepareFenceProducerEpoch).
  static int16_t fenced_epoch(const entry& e);
  // Prepares CompleteCommit/CompleteAbort after a persisted PrepareCommit/PrepareAbort; the markers
  // to write, or (no partitions) the record to persist.
  void prepare_complete(const std::string& id, entry& e, bool commit, int64_t now, txn_completion& out);
  static persist_request persist_of(const std::string& id, const pending_transition& p);

  transaction_config config_;
  producer_id_allocator allocate_producer_id_;
  std::map<std::string, entry> ids_;
  int64_t next_abort_scan_;
  int64_t next_expiry_scan_;
};

}  // namespace brook::broker::transaction
