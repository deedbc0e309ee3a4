// The states of a transactional id at the transaction coordinator and the transitions between them,
// as Kafka 4.4's TransactionState: the ids it persists, the names DescribeTransactions and
// ListTransactions show, which states may follow which, and which may expire.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace brook::broker::transaction {

// The value is the id Kafka persists (TransactionLogValue.TransactionStatus).
enum class txn_state : int8_t {
  empty = 0,                // no transaction yet (after InitProducerId)
  ongoing = 1,              // partitions added, not ended
  prepare_commit = 2,       // EndTxn(commit) persisted, markers being written
  prepare_abort = 3,        // EndTxn(abort) or a coordinator abort persisted, markers being written
  complete_commit = 4,      // markers written
  complete_abort = 5,       // markers written
  dead = 6,                 // the transactional id is being removed (never persisted)
  prepare_epoch_fence = 7,  // the epoch is being bumped to fence a producer (never persisted)
};

inline constexpr std::array<txn_state, 8> all_txn_states{
    txn_state::empty,           txn_state::ongoing,        txn_state::prepare_commit,
    txn_state::prepare_abort,   txn_state::complete_commit, txn_state::complete_abort,
    txn_state::dead,            txn_state::prepare_epoch_fence};

constexpr int8_t state_id(txn_state s) { return static_cast<int8_t>(s); }
std::optional<txn_state> state_from_id(int8_t id);

// Kafka's names: "Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
// "CompleteAbort", "Dead", "PrepareEpochFence".
std::string_view state_name(txn_state s);
std::optional<txn_state> state_from_name(std::string_view name);

// Whether `to` may follow `from` (Kafka's validPreviousStates of `to` holds `from`).
bool valid_transition(txn_state from, txn_state to);

// Whether a transactional id in this state may expire (transactional.id.expiration.ms):
// Empty, CompleteCommit and CompleteAbort.
bool expiration_allowed(txn_state s);

}  // namespace brook::broker::transaction
