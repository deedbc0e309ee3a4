// Kafka 4.4's transaction states: ids, names, the transition table and which states expire.
#include <catch2/catch.hpp>

#include <set>
#include <utility>

#include "broker/transaction/transaction_state.hpp"

using namespace brook::broker::transaction;

TEST_CASE("every pair of transaction states is valid exactly as in Kafka's validPreviousStates", "[transaction]") {
  using enum txn_state;
  // to <- from, as Kafka 4.4's TransactionState.VALID_PREVIOUS_STATES.
  const std::set<std::pair<txn_state, txn_state>> valid{
      {empty, empty},
      {complete_commit, empty},
      {complete_abort, empty},
      {ongoing, ongoing},
      {empty, ongoing},
      {complete_commit, ongoing},
      {complete_abort, ongoing},
      {ongoing, prepare_commit},
      {ongoing, prepare_abort},
      {prepare_epoch_fence, prepare_abort},
      {empty, prepare_abort},
      {complete_commit, prepare_abort},
      {complete_abort, prepare_abort},
      {prepare_commit, complete_commit},
      {prepare_abort, complete_abort},
      {empty, dead},
      {complete_abort, dead},
      {complete_commit, dead},
      {ongoing, prepare_epoch_fence},
  };
  int checked = 0;
  for (auto from : all_txn_states)
    for (auto to : all_txn_states) {
      INFO(state_name(from) << " -> " << state_name(to));
      CHECK(valid_transition(from, to) == (valid.count({from, to}) == 1));
      ++checked;
    }
  CHECK(checked == 64);
}

TEST_CASE("transaction states carry Kafka's persisted ids and display names", "[transaction]") {
  using enum txn_state;
  const std::pair<txn_state, std::string_view> expected[] = {
      {empty, "Empty"},
      {ongoing, "Ongoing"},
      {prepare_commit, "PrepareCommit"},
      {prepare_abort, "PrepareAbort"},
      {complete_commit, "CompleteCommit"},
      {complete_abort, "CompleteAbort"},
      {dead, "Dead"},
      {prepare_epoch_fence, "PrepareEpochFence"},
  };
  int8_t id = 0;
  for (auto [state, name] : expected) {
    CHECK(state_id(state) == id);
    CHECK(state_from_id(id) == state);
    CHECK(state_name(state) == name);
    CHECK(state_from_name(name) == state);
    ++id;
  }
  CHECK_FALSE(state_from_id(8));
  CHECK_FALSE(state_from_id(-1));
  CHECK_FALSE(state_from_name("empty"));  // names are case-sensitive
  CHECK_FALSE(state_from_name("Unknown"));
}

TEST_CASE("only Empty and Complete* transactional ids may expire", "[transaction]") {
  using enum txn_state;
  for (auto s : all_txn_states)
    CHECK(expiration_allowed(s) == (s == empty || s == complete_commit || s == complete_abort));
}
