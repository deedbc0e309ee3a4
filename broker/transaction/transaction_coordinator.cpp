#include "broker/transaction/transaction_coordinator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>

namespace brook::broker::transaction {

namespace {

using enum txn_state;

txn_result txn_now(kafka_error e, int64_t producer_id = no_producer_id, int16_t epoch = no_producer_epoch) {
  return txn_result{txn_answer{e, producer_id, epoch}, std::nullopt};
}

// The metadata a transition starts from: the current one, whose producer id becomes the previous
// one (Kafka's prepareTransitionTo).
transaction_metadata txn_transit_of(const transaction_metadata& m) {
  transaction_metadata t = m;
  t.prev_producer_id = m.producer_id;
  return t;
}

// A KIP-939 transaction has no timeout (Kafka marks it with Int.MaxValue).
bool txn_is_two_phase_commit(const transaction_metadata& m) { return m.txn_timeout_ms == INT32_MAX; }

}  // namespace

transaction_state_record to_record(const transaction_metadata& m) {
  transaction_state_record r;
  r.producer_id = m.producer_id;
  r.previous_producer_id = m.prev_producer_id;
  r.next_producer_id = m.next_producer_id;
  r.producer_epoch = m.producer_epoch;
  r.transaction_timeout_ms = m.txn_timeout_ms;
  r.transaction_status = state_id(m.state);
  if (m.state == empty) {
    r.transaction_partitions.reset();
  } else {
    std::vector<common::protocol::transaction_state_record::partitions_data> topics;
    for (const auto& tp : m.partitions) {  // sorted: one entry per topic
      if (topics.empty() || topics.back().topic != tp.topic) {
        topics.emplace_back();
        topics.back().topic = tp.topic;
      }
      topics.back().partition_ids.push_back(tp.partition);
    }
    r.transaction_partitions = std::move(topics);
  }
  r.transaction_last_update_timestamp_ms = m.txn_last_update_timestamp;
  r.transaction_start_timestamp_ms = m.txn_start_timestamp;
  r.client_transaction_version = m.client_transaction_version;
  return r;
}

common::result<transaction_metadata> from_record(const transaction_state_record& r) {
  auto state = state_from_id(r.transaction_status);
  if (!state || *state == dead || *state == prepare_epoch_fence)
    return {kafka_error::kafka_storage_error,
            fmt::format("transaction state record with state id {}", static_cast<int>(r.transaction_status))};
  transaction_metadata m;
  m.producer_id = r.producer_id;
  m.prev_producer_id = r.previous_producer_id;
  m.next_producer_id = r.next_producer_id;
  m.producer_epoch = r.producer_epoch;
  m.last_producer_epoch = no_producer_epoch;
  m.txn_timeout_ms = r.transaction_timeout_ms;
  m.state = *state;
  if (*state != empty && r.transaction_partitions)
    for (const auto& t : *r.transaction_partitions)
      for (int32_t p : t.partition_ids) m.partitions.insert({t.topic, p});
  m.txn_last_update_timestamp = r.transaction_last_update_timestamp_ms;
  m.txn_start_timestamp = r.transaction_start_timestamp_ms;
  m.client_transaction_version = r.client_transaction_version;
  return m;
}

kafka_error append_error(kafka_error store_error) {
  switch (store_error) {
    case kafka_error::unknown_topic_or_partition:
    case kafka_error::not_enough_replicas:
    case kafka_error::not_enough_replicas_after_append:
    case kafka_error::request_timed_out: return kafka_error::coordinator_not_available;
    case kafka_error::not_leader_or_follower:
    case kafka_error::kafka_storage_error: return kafka_error::not_coordinator;
    case kafka_error::message_too_large:
    case kafka_error::record_list_too_large: return kafka_error::unknown_server_error;
    case kafka_error::none: return kafka_error::unknown_server_error;  // a failure must answer an error
    default: return store_error;
  }
}

kafka_error error_for_version(kafka_error e, int16_t api_key, int16_t api_version) {
  if (e != kafka_error::producer_fenced) return e;
  if (api_key == 22 && api_version < 4) return kafka_error::invalid_producer_epoch;
  if ((api_key == 24 || api_key == 25 || api_key == 26) && api_version < 2) return kafka_error::invalid_producer_epoch;
  return e;
}

transaction_coordinator::transaction_coordinator(transaction_config config, producer_id_allocator allocate_producer_id,
                                                 int64_t now)
    : config_(config),
      allocate_producer_id_(std::move(allocate_producer_id)),
      next_abort_scan_(now + std::max<int64_t>(1, config.abort_timed_out_transaction_cleanup_interval_ms)),
      next_expiry_scan_(now + std::max<int64_t>(1, config.remove_expired_transaction_cleanup_interval_ms)) {}

persist_request transaction_coordinator::persist_of(const std::string& id, const pending_transition& p) {
  if (p.what == purpose::expire) return persist_request{id, std::nullopt};
  return persist_request{id, to_record(p.target)};
}

common::result<std::vector<txn_completion>> transaction_coordinator::load(
    const std::vector<std::pair<std::string, transaction_state_record>>& records, int64_t now) {
  std::map<std::string, entry> loaded;
  for (const auto& [id, record] : records) {
    auto m = from_record(record);
    if (!m) return common::error{m.code(), fmt::format("transactional id '{}': {}", id, m.err().message)};
    loaded[id].meta = std::move(*m);  // a later record of the same id replaces the earlier one
  }
  ids_ = std::move(loaded);
  std::vector<txn_completion> out;
  for (auto& [id, e] : ids_) {
    if (e.meta.state != prepare_commit && e.meta.state != prepare_abort) continue;
    txn_completion c;
    prepare_complete(id, e, e.meta.state == prepare_commit, now, c);
    out.push_back(std::move(c));
  }
  return out;
}

txn_result transaction_coordinator::init_producer_id(const init_producer_id_request& request, int64_t now) {
  const std::string& id = request.transactional_id;
  if (id.empty()) return txn_now(kafka_error::invalid_request);
  if (request.enable_two_phase_commit && !config_.two_phase_commit_enable)
    return txn_now(kafka_error::transactional_id_authorization_failed);
  if (request.keep_prepared_txn) return txn_now(kafka_error::unsupported_version);
  if (!request.enable_two_phase_commit &&
      (request.transaction_timeout_ms > config_.transaction_max_timeout_ms || request.transaction_timeout_ms <= 0))
    return txn_now(kafka_error::invalid_transaction_timeout);
  const int32_t timeout = request.enable_two_phase_commit ? INT32_MAX : request.transaction_timeout_ms;

  auto it = ids_.find(id);
  if (it == ids_.end()) {
    // A new id: its metadata exists from now on, even if persisting its first epoch fails (as in Kafka).
    auto producer_id = allocate_producer_id_();
    if (!producer_id) return txn_now(producer_id.code());
    entry e;
    e.meta.producer_id = *producer_id;
    e.meta.txn_timeout_ms = timeout;
    e.meta.txn_last_update_timestamp = now;
    it = ids_.emplace(id, std::move(e)).first;
  }
  entry& e = it->second;
  const transaction_metadata& m = e.meta;
  if (e.pending) return txn_now(kafka_error::concurrent_transactions);

  const auto& expected = request.expected;
  if (expected) {
    // KIP-360: fence the producer unless the metadata is new, the producer id is the current one
    // (its epoch is checked below), or it is the previous one with an exhausted epoch (a retry after
    // the id was rotated).
    auto [expected_id, expected_epoch] = *expected;
    bool valid = m.producer_epoch == no_producer_epoch || expected_id == m.producer_id ||
                 (expected_id == m.prev_producer_id && epoch_exhausted(expected_epoch));
    if (!valid) return txn_now(kafka_error::producer_fenced);
  }

  switch (m.state) {
    case prepare_abort:
    case prepare_commit: return txn_now(kafka_error::concurrent_transactions);
    case empty:
    case complete_abort:
    case complete_commit: {
      transaction_metadata t = txn_transit_of(m);
      if (epoch_exhausted(m.producer_epoch) && (!expected || expected->second == m.producer_epoch)) {
        // prepareProducerIdRotation: a new producer id at epoch 0.
        auto producer_id = allocate_producer_id_();
        if (!producer_id) return txn_now(producer_id.code());
        t.producer_id = *producer_id;
        t.producer_epoch = 0;
        t.last_producer_epoch = expected ? m.producer_epoch : no_producer_epoch;
      } else {
        // prepareIncrementProducerEpoch.
        if (epoch_exhausted(m.producer_epoch))
          return txn_now(kafka_error::unknown_server_error);  // Kafka: IllegalStateException
        const auto bumped = static_cast<int16_t>(m.producer_epoch + 1);
        if (!expected) {
          t.producer_epoch = bumped;
          t.last_producer_epoch = no_producer_epoch;
        } else if (m.producer_epoch == no_producer_epoch || expected->second == m.producer_epoch) {
          // The producer continues after an error and nobody else initialised since.
          t.producer_epoch = bumped;
          t.last_producer_epoch = m.producer_epoch;
        } else if (expected->second == m.last_producer_epoch) {
          // A retry of an InitProducerId that succeeded: the same epoch again.
        } else {
          return txn_now(kafka_error::producer_fenced);
        }
      }
      t.state = empty;
      t.txn_timeout_ms = timeout;
      t.partitions.clear();
      t.txn_start_timestamp = -1;
      t.txn_last_update_timestamp = now;
      e.pending = pending_transition{std::move(t), purpose::init, txn_request::init_producer_id};
      return txn_result{{}, persist_of(id, *e.pending)};
    }
    case ongoing:
      // Abort the transaction with the producer's epoch fenced and answer CONCURRENT_TRANSACTIONS:
      // the producer retries, which bumps the epoch once more (or rotates the id if the fence used up
      // the epochs). The fenced epoch is never handed out.
      return end_transaction(id, e, m.producer_id, fenced_epoch(e), false, false, true, config_.transaction_version,
                             txn_request::init_producer_id, now);
    case dead:
    case prepare_epoch_fence: break;
  }
  return txn_now(kafka_error::unknown_server_error);  // never committed (Kafka: IllegalStateException)
}

txn_result transaction_coordinator::add_partitions(const std::string& id, int64_t producer_id, int16_t producer_epoch,
                                                   const partition_set& partitions,
                                                   int16_t client_transaction_version, int64_t now) {
  if (id.empty()) return txn_now(kafka_error::invalid_request);
  auto it = ids_.find(id);
  if (it == ids_.end()) return txn_now(kafka_error::invalid_producer_id_mapping);
  entry& e = it->second;
  const transaction_metadata& m = e.meta;
  if (e.pending) return txn_now(kafka_error::concurrent_transactions);
  if (m.producer_id != producer_id) return txn_now(kafka_error::invalid_producer_id_mapping);
  if (m.producer_epoch != producer_epoch) return txn_now(kafka_error::producer_fenced);
  if (m.state == prepare_commit || m.state == prepare_abort) return txn_now(kafka_error::concurrent_transactions);
  if (m.state == ongoing && std::includes(m.partitions.begin(), m.partitions.end(), partitions.begin(), partitions.end()))
    return txn_now(kafka_error::none);  // already in the transaction: nothing to persist
  if (!valid_transition(m.state, ongoing)) return txn_now(kafka_error::unknown_server_error);

  transaction_metadata t = txn_transit_of(m);
  t.state = ongoing;
  // A transaction starts with its first partition.
  if (m.state == empty || m.state == complete_abort || m.state == complete_commit) t.txn_start_timestamp = now;
  t.partitions.insert(partitions.begin(), partitions.end());
  t.txn_last_update_timestamp = now;
  t.client_transaction_version = client_transaction_version;
  e.pending = pending_transition{std::move(t), purpose::add, txn_request::add_partitions};
  return txn_result{{}, persist_of(id, *e.pending)};
}

std::map<topic_partition, kafka_error> transaction_coordinator::verify_partitions(const std::string& id,
                                                                                  int64_t producer_id,
                                                                                  int16_t producer_epoch,
                                                                                  const partition_set& partitions) const {
  auto all = [&](kafka_error err) {
    std::map<topic_partition, kafka_error> out;
    for (const auto& tp : partitions) out[tp] = err;
    return out;
  };
  if (id.empty()) return all(kafka_error::invalid_request);
  auto it = ids_.find(id);
  if (it == ids_.end()) return all(kafka_error::invalid_producer_id_mapping);
  // No pending check: the partition leader's append validates again.
  const transaction_metadata& m = it->second.meta;
  if (m.producer_id != producer_id) return all(kafka_error::invalid_producer_id_mapping);
  if (m.producer_epoch != producer_epoch) return all(kafka_error::producer_fenced);
  if (m.state == prepare_commit || m.state == prepare_abort) return all(kafka_error::concurrent_transactions);
  std::map<topic_partition, kafka_error> out;
  for (const auto& tp : partitions)
    out[tp] = m.partitions.count(tp) ? kafka_error::none : kafka_error::transaction_abortable;
  return out;
}

txn_result transaction_coordinator::end_txn(const std::string& id, int64_t producer_id, int16_t producer_epoch,
                                            bool commit, int16_t client_transaction_version, int64_t now) {
  if (id.empty()) return txn_now(kafka_error::invalid_request);
  auto it = ids_.find(id);
  if (it == ids_.end()) return txn_now(kafka_error::invalid_producer_id_mapping);
  return end_transaction(id, it->second, producer_id, producer_epoch, commit, true, false, client_transaction_version,
                         txn_request::end_txn, now);
}

int16_t transaction_coordinator::fenced_epoch(const entry& e) {
  // After a fence that failed to persist the epoch is already bumped; at Short.MaxValue it stays.
  const int16_t epoch = e.meta.producer_epoch;
  if (e.has_failed_epoch_fence || epoch == INT16_MAX) return epoch;
  return static_cast<int16_t>(epoch + 1);
}

txn_result transaction_coordinator::end_transaction(const std::string& id, entry& e, int64_t producer_id,
                                                    int16_t producer_epoch, bool commit, bool from_client,
                                                    bool epoch_fence, int16_t client_transaction_version,
                                                    txn_request origin, int64_t now) {
  if (!supports_epoch_bump(client_transaction_version))
    return end_v1(id, e, producer_id, producer_epoch, commit, from_client, epoch_fence, origin, now);
  return end_v2(id, e, producer_id, producer_epoch, commit, from_client, epoch_fence, client_transaction_version,
                origin, now);
}

txn_result transaction_coordinator::end_v1(const std::string& id, entry& e, int64_t producer_id,
                                           int16_t producer_epoch, bool commit, bool from_client, bool epoch_fence,
                                           txn_request origin, int64_t now) {
  transaction_metadata& m = e.meta;
  if (m.producer_id != producer_id) return txn_now(kafka_error::invalid_producer_id_mapping);
  // A client must send the current epoch; the coordinator's own abort may send a higher (fencing) one.
  if ((from_client && producer_epoch != m.producer_epoch) || producer_epoch < m.producer_epoch)
    return txn_now(kafka_error::producer_fenced);
  if (e.pending) return txn_now(kafka_error::concurrent_transactions);
  switch (m.state) {
    case ongoing: {
      const txn_state next = commit ? prepare_commit : prepare_abort;
      if (next == prepare_abort && epoch_fence) {
        // Kafka writes the fenced epoch into the metadata before persisting the abort and does not
        // take it back if persisting fails (has_failed_epoch_fence then stops a second bump).
        m.producer_epoch = producer_epoch;
        m.last_producer_epoch = no_producer_epoch;
      }
      // Kafka records transaction version 0 for every end under version 1.
      return prepare_abort_or_commit(id, e, next, transaction_version_0, no_producer_id, false, commit, epoch_fence,
                                     origin, now);
    }
    case complete_commit: return txn_now(commit ? kafka_error::none : kafka_error::invalid_txn_state);
    case complete_abort: return txn_now(!commit ? kafka_error::none : kafka_error::invalid_txn_state);
    case prepare_commit: return txn_now(commit ? kafka_error::concurrent_transactions : kafka_error::invalid_txn_state);
    case prepare_abort: return txn_now(!commit ? kafka_error::concurrent_transactions : kafka_error::invalid_txn_state);
    case empty: return txn_now(kafka_error::invalid_txn_state);
    case dead:
    case prepare_epoch_fence: break;
  }
  return txn_now(kafka_error::unknown_server_error);
}

// Transaction version 2 (KIP-890): every end bumps the epoch, so a retried EndTxn carries the epoch
// before the bump. Empty, CompleteCommit and CompleteAbort answer (PF: PRODUCER_FENCED, ITS:
// INVALID_TXN_STATE, NONE: nothing to do, EB: a new abort with an epoch bump):
//                   abort retry / current   commit retry / current
//   Empty               PF      EB             PF       ITS
//   CompleteAbort       NONE    EB             ITS      ITS
//   CompleteCommit      ITS     EB             NONE     ITS
txn_result transaction_coordinator::end_v2(const std::string& id, entry& e, int64_t producer_id,
                                           int16_t producer_epoch, bool commit, bool from_client, bool epoch_fence,
                                           int16_t client_transaction_version, txn_request origin, int64_t now) {
  const transaction_metadata& m = e.meta;
  // A retry of an end whose epoch overflowed: the id moved on to the next producer id at epoch 0.
  const bool retry_on_overflow = !epoch_fence && m.prev_producer_id == producer_id &&
                                 producer_epoch == INT16_MAX - 1 && m.producer_epoch == 0;
  // A retry of an end that bumped the epoch.
  const bool retry_on_epoch_bump = !epoch_fence && m.producer_epoch == producer_epoch + 1;
  bool valid_epoch = false;
  if (!epoch_fence) {
    switch (m.state) {
      case ongoing:
      case empty:
      case dead:
      case prepare_epoch_fence: valid_epoch = producer_epoch == m.producer_epoch; break;
      case prepare_commit:
      case prepare_abort: valid_epoch = retry_on_epoch_bump; break;
      case complete_commit:
      case complete_abort:
        valid_epoch = retry_on_epoch_bump || retry_on_overflow || producer_epoch == m.producer_epoch;
        break;
    }
  } else {
    valid_epoch = (!from_client || producer_epoch == m.producer_epoch) && producer_epoch >= m.producer_epoch;
  }
  const bool is_retry = retry_on_epoch_bump || retry_on_overflow;

  if (e.pending) return txn_now(kafka_error::concurrent_transactions);
  if (m.producer_id != producer_id && !retry_on_overflow) return txn_now(kafka_error::invalid_producer_id_mapping);
  if (!valid_epoch) return txn_now(kafka_error::producer_fenced);

  // The end's answer when there is nothing to do: the current producer id and epoch.
  auto done = [&] { return txn_now(kafka_error::none, m.producer_id, m.producer_epoch); };
  auto prepare = [&](txn_state next, bool no_partition_added) {
    // The epoch would run out: the transaction completes onto a new producer id.
    int64_t next_producer_id = no_producer_id;
    if (epoch_exhausted(m.producer_epoch)) {
      auto allocated = allocate_producer_id_();
      if (!allocated) return txn_now(allocated.code());
      next_producer_id = *allocated;
    }
    return prepare_abort_or_commit(id, e, next, client_transaction_version, next_producer_id, no_partition_added,
                                   next == prepare_commit, epoch_fence, origin, now);
  };
  switch (m.state) {
    case ongoing: return prepare(commit ? prepare_commit : prepare_abort, false);
    case complete_commit:
      if (commit) return is_retry ? done() : txn_now(kafka_error::invalid_txn_state);
      return is_retry ? txn_now(kafka_error::invalid_txn_state) : prepare(prepare_abort, true);
    case complete_abort:
      if (!commit) return is_retry ? done() : prepare(prepare_abort, true);
      return txn_now(kafka_error::invalid_txn_state);
    case prepare_commit: return txn_now(commit ? kafka_error::concurrent_transactions : kafka_error::invalid_txn_state);
    case prepare_abort: return txn_now(!commit ? kafka_error::concurrent_transactions : kafka_error::invalid_txn_state);
    case empty: return !commit ? prepare(prepare_abort, true) : txn_now(kafka_error::invalid_txn_state);
    case dead:
    case prepare_epoch_fence: break;
  }
  return txn_now(kafka_error::unknown_server_error);
}

txn_result transaction_coordinator::prepare_abort_or_commit(const std::string& id, entry& e, txn_state next,
                                                            int16_t client_transaction_version,
                                                            int64_t next_producer_id, bool no_partition_added,
                                                            bool commit, bool epoch_fence, txn_request origin,
                                                            int64_t now) {
  const transaction_metadata& m = e.meta;
  if (!valid_transition(m.state, next)) return txn_now(kafka_error::unknown_server_error);
  transaction_metadata t = txn_transit_of(m);
  t.state = next;
  if (supports_epoch_bump(client_transaction_version)) {
    // An abort at Short.MaxValue goes through unbumped so that the id can recover.
    if (!(m.producer_epoch == INT16_MAX && next == prepare_abort))
      t.producer_epoch = static_cast<int16_t>(m.producer_epoch + 1);
    t.last_producer_epoch = m.producer_epoch;
  }
  if (t.producer_epoch < 0) return txn_now(kafka_error::unknown_server_error);  // Kafka: IllegalArgumentException
  // Under version 2 an abort may come with no partition added: it starts now.
  t.txn_start_timestamp = no_partition_added ? now : m.txn_start_timestamp;
  t.next_producer_id = next_producer_id;
  t.txn_last_update_timestamp = now;
  t.client_transaction_version = client_transaction_version;
  e.pending = pending_transition{std::move(t), purpose::end, origin, commit, epoch_fence, client_transaction_version};
  return txn_result{{}, persist_of(id, *e.pending)};
}

void transaction_coordinator::prepare_complete(const std::string& id, entry& e, bool commit, int64_t now,
                                               txn_completion& out) {
  // The end is persisted: a failed fence before it no longer matters.
  e.has_failed_epoch_fence = false;
  const transaction_metadata& m = e.meta;
  transaction_metadata t = txn_transit_of(m);
  t.state = m.state == prepare_commit ? complete_commit : complete_abort;
  if (supports_epoch_bump(m.client_transaction_version) && m.next_producer_id != no_producer_id) {
    // The epoch overflowed: continue on the next producer id (the client saw MaxValue - 1, then 0).
    t.producer_id = m.next_producer_id;
    t.producer_epoch = 0;
  }
  t.next_producer_id = no_producer_id;
  t.partitions.clear();
  t.txn_last_update_timestamp = now;
  e.pending = pending_transition{std::move(t), purpose::complete, txn_request::none, commit};
  if (m.partitions.empty()) {
    out.persist = persist_of(id, *e.pending);  // no marker to write
  } else {
    out.markers = marker_request{id, m.producer_id, m.producer_epoch, commit,
                                 std::vector<topic_partition>(m.partitions.begin(), m.partitions.end())};
  }
}

common::result<txn_completion> transaction_coordinator::complete(const std::string& id, int64_t now) {
  auto it = ids_.find(id);
  if (it == ids_.end() || !it->second.pending)
    return common::error{kafka_error::unknown_server_error,
                         fmt::format("transactional id '{}' has no pending transition", id)};
  entry& e = it->second;
  pending_transition p = std::move(*e.pending);
  e.pending.reset();
  txn_completion out;
  out.origin = p.origin;
  if (p.what == purpose::expire) {
    ids_.erase(it);
    return out;
  }
  e.meta = std::move(p.target);
  switch (p.what) {
    case purpose::init: out.answer = txn_answer{kafka_error::none, e.meta.producer_id, e.meta.producer_epoch}; break;
    case purpose::add: out.answer = txn_answer{}; break;
    case purpose::end:
      prepare_complete(id, e, p.commit, now, out);
      if (p.origin == txn_request::init_producer_id) {
        out.answer = txn_answer{kafka_error::concurrent_transactions};
      } else if (p.origin == txn_request::end_txn) {
        out.answer = txn_answer{};
        if (supports_epoch_bump(p.client_transaction_version)) {
          // What the producer continues with: the bumped epoch, or the next producer id at 0.
          out.answer->producer_id = e.pending->target.producer_id;
          out.answer->producer_epoch = e.pending->target.producer_epoch;
        }
      }
      break;
    case purpose::complete:
    case purpose::expire: break;
  }
  return out;
}

common::result<txn_completion> transaction_coordinator::abort_pending(const std::string& id, kafka_error store_error) {
  auto it = ids_.find(id);
  if (it == ids_.end() || !it->second.pending)
    return common::error{kafka_error::unknown_server_error,
                         fmt::format("transactional id '{}' has no pending transition", id)};
  entry& e = it->second;
  const kafka_error err = append_error(store_error);
  txn_completion out;
  out.origin = e.pending->origin;
  switch (e.pending->what) {
    case purpose::complete:
      // The markers are written: the Complete* record must be persisted, however long it takes.
      out.persist = persist_of(id, *e.pending);
      return out;
    case purpose::end:
      if (e.pending->epoch_fence) e.has_failed_epoch_fence = true;
      break;
    case purpose::init:
    case purpose::add:
    case purpose::expire: break;
  }
  e.pending.reset();
  if (out.origin != txn_request::none) out.answer = txn_answer{err};
  return out;
}

common::result<persist_request> transaction_coordinator::markers_written(const std::string& id) const {
  auto it = ids_.find(id);
  if (it == ids_.end() || !it->second.pending || it->second.pending->what != purpose::complete)
    return common::error{kafka_error::unknown_server_error,
                         fmt::format("transactional id '{}' has no transaction waiting for markers", id)};
  return persist_of(id, *it->second.pending);
}

std::vector<persist_request> transaction_coordinator::advance(int64_t now) {
  std::vector<persist_request> out;
  if (now >= next_abort_scan_) {
    const int64_t interval = std::max<int64_t>(1, config_.abort_timed_out_transaction_cleanup_interval_ms);
    next_abort_scan_ += interval;
    if (next_abort_scan_ <= now) next_abort_scan_ = now + interval;
    for (auto& [id, e] : ids_) {
      const transaction_metadata& m = e.meta;
      if (e.pending || m.state != ongoing || txn_is_two_phase_commit(m)) continue;
      if (m.txn_start_timestamp + m.txn_timeout_ms >= now) continue;
      // Kafka's abortTimedOutTransactions: fence the producer and abort with the cluster's version.
      auto r = end_transaction(id, e, m.producer_id, fenced_epoch(e), false, false, true, config_.transaction_version,
                               txn_request::none, now);
      if (r.persist) out.push_back(std::move(*r.persist));
    }
  }
  if (now >= next_expiry_scan_) {
    const int64_t interval = std::max<int64_t>(1, config_.remove_expired_transaction_cleanup_interval_ms);
    next_expiry_scan_ += interval;
    if (next_expiry_scan_ <= now) next_expiry_scan_ = now + interval;
    for (auto& [id, e] : ids_) {
      const transaction_metadata& m = e.meta;
      if (e.pending || !expiration_allowed(m.state)) continue;
      if (m.txn_last_update_timestamp > now - config_.transactional_id_expiration_ms) continue;
      // prepareDead: removed once its tombstone is persisted.
      transaction_metadata t = txn_transit_of(m);
      t.state = dead;
      t.partitions.clear();
      e.pending = pending_transition{std::move(t), purpose::expire, txn_request::none};
      out.push_back(persist_of(id, *e.pending));
    }
  }
  return out;
}

txn_description transaction_coordinator::describe(const std::string& id) const {
  txn_description d;
  if (id.empty()) {
    d.error = kafka_error::invalid_request;
    return d;
  }
  auto it = ids_.find(id);
  if (it == ids_.end() || it->second.meta.state == dead) {
    d.error = kafka_error::transactional_id_not_found;
    return d;
  }
  const transaction_metadata& m = it->second.meta;
  d.state = std::string(state_name(m.state));
  d.producer_id = m.producer_id;
  d.producer_epoch = m.producer_epoch;
  d.transaction_timeout_ms = m.txn_timeout_ms;
  d.transaction_start_time_ms = m.txn_start_timestamp;
  for (const auto& tp : m.partitions) d.topics[tp.topic].push_back(tp.partition);
  return d;
}

txn_listing transaction_coordinator::list(const list_filter& filter, int64_t now) const {
  txn_listing out;
  std::set<txn_state> states;
  for (const auto& name : filter.states) {
    if (auto s = state_from_name(name)) states.insert(*s);
    else out.unknown_state_filters.push_back(name);
  }
  for (const auto& [id, e] : ids_) {
    const transaction_metadata& m = e.meta;
    if (m.state == dead) continue;
    if (!filter.producer_ids.empty() && !filter.producer_ids.count(m.producer_id)) continue;
    // Only unknown state names match nothing.
    if (!filter.states.empty() && !states.count(m.state)) continue;
    if (filter.duration_ms >= 0 && now - m.txn_start_timestamp <= filter.duration_ms) continue;
    if (filter.transactional_id_matches && !filter.transactional_id_matches(id)) continue;
    out.transactions.push_back(listed_transaction{id, m.producer_id, std::string(state_name(m.state))});
  }
  return out;
}

const transaction_metadata* transaction_coordinator::find(const std::string& id) const {
  auto it = ids_.find(id);
  return it == ids_.end() ? nullptr : &it->second.meta;
}

std::optional<txn_state> transaction_coordinator::pending_state(const std::string& id) const {
  auto it = ids_.find(id);
  if (it == ids_.end() || !it->second.pending) return std::nullopt;
  return it->second.pending->target.state;
}

}  // namespace brook::broker::transaction
