#include "broker/transaction/transaction_state.hpp"

namespace brook::broker::transaction {

std::optional<txn_state> state_from_id(int8_t id) {
  if (id < 0 || id > state_id(txn_state::prepare_epoch_fence)) return std::nullopt;
  return static_cast<txn_state>(id);
}

std::string_view state_name(txn_state s) {
  switch (s) {
    case txn_state::empty: return "Empty";
    case txn_state::ongoing: return "Ongoing";
    case txn_state::prepare_commit: return "PrepareCommit";
    case txn_state::prepare_abort: return "PrepareAbort";
    case txn_state::complete_commit: return "CompleteCommit";
    case txn_state::complete_abort: return "CompleteAbort";
    case txn_state::dead: return "Dead";
    case txn_state::prepare_epoch_fence: return "PrepareEpochFence";
  }
  return "Unknown";
}

std::optional<txn_state> state_from_name(std::string_view name) {
  for (auto s : all_txn_states)
    if (state_name(s) == name) return s;
  return std::nullopt;
}

bool valid_transition(txn_state from, txn_state to) {
  using enum txn_state;
  switch (to) {
    case empty: return from == empty || from == complete_commit || from == complete_abort;
    case ongoing:
      return from == ongoing || from == empty || from == complete_commit || from == complete_abort;
    case prepare_commit: return from == ongoing;
    // Transaction version 2 lets a producer abort from Empty and Complete* (it may not know
    // whether its transaction reached the coordinator).
    case prepare_abort:
      return from == ongoing || from == prepare_epoch_fence || from == empty || from == complete_commit ||
             from == complete_abort;
    case complete_commit: return from == prepare_commit;
    case complete_abort: return from == prepare_abort;
    case dead: return from == empty || from == complete_abort || from == complete_commit;
    case prepare_epoch_fence: return from == ongoing;
  }
  return false;
}

bool expiration_allowed(txn_state s) {
  return s == txn_state::empty || s == txn_state::complete_commit || s == txn_state::complete_abort;
}

}  // namespace brook::broker::transaction
