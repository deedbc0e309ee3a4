// Bookkeeping for an admin call over many items (topics, resources, partitions, groups): which items
// still wait for an answer, the last retriable error each one saw, and the final result of each.
//
// Owner: one running admin operation (a local in its coroutine frame); not shared.
// Invariants: an item is either pending or has its final result, never both; only pending items are
// retried, and an item stays pending only after a retriable error (or no answer yet).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "brook/client/admin.hpp"
#include "client/core/errors.hpp"

namespace brook::client::admin {

// A retriable error that is final because the call ran out of time or retries.
inline common::error item_loop_gave_up(const common::error& e) {
  if (!core::is_retriable(e.code)) return e;
  return common::error{e.code, e.message + " (still failing when the call's timeout expired)"};
}

template <class K, class T>
class item_loop {
 public:
  void add(const K& k) {
    if (!done_.count(k)) pending_.insert(k);
  }
  bool has_pending() const { return !pending_.empty(); }
  const std::set<K>& pending() const { return pending_; }
  // Whether another attempt is worth making: every pending item failed only retriably so far.
  bool retry_pending() const { return !pending_.empty(); }

  // A final result for an item.
  void fail(const K& k, common::error e) {
    pending_.erase(k);
    answered_ = true;
    done_.insert_or_assign(k, result<T>(std::move(e)));
  }
  template <class... V>
  void succeed(const K& k, V&&... value) {
    if (!pending_.erase(k)) return;
    answered_ = true;
    if constexpr (std::is_void_v<T>) done_.insert_or_assign(k, result<void>());
    else done_.insert_or_assign(k, result<T>(std::forward<V>(value)...));
  }
  // An error the broker gave for one item: retried when retriable, final otherwise.
  void item_failed(const K& k, common::error e) {
    if (!pending_.count(k)) return;
    // As Java's admin calls: an unknown topic is an answer, not a reason to wait.
    const bool final_answer =
        e.code == kafka_error::unknown_topic_or_partition || e.code == kafka_error::unknown_topic_id;
    if (core::is_retriable(e.code) && !final_answer) {
      retry_errors_.insert_or_assign(k, std::move(e));
    } else {
      fail(k, std::move(e));
    }
  }
  // No answer for the item yet, for a reason worth waiting out (e.g. no leader now).
  void retry(const K& k, common::error e) {
    if (pending_.count(k)) retry_errors_.insert_or_assign(k, std::move(e));
  }
  // A request for these items (all pending ones by default) failed as a whole.
  void call_failed(const common::error& e) { call_failed(e, std::vector<K>(pending_.begin(), pending_.end())); }
  void call_failed(const common::error& e, const std::vector<K>& batch) {
    last_call_error_ = e;
    if (core::is_retriable(e.code)) return;
    for (const auto& k : batch) {
      if (pending_.erase(k)) done_.insert_or_assign(k, result<T>(e));
    }
  }

  // Every item's result; a whole-call error when no item got any answer from a broker.
  result<results_by<K, T>> finish() {
    if (!answered_ && retry_errors_.empty() && last_call_error_) return item_loop_gave_up(*last_call_error_);
    for (const auto& k : pending_) {
      auto it = retry_errors_.find(k);
      const common::error e = it != retry_errors_.end() ? it->second
                              : last_call_error_         ? *last_call_error_
                                                         : common::error{kafka_error::request_timed_out, "no answer"};
      done_.insert_or_assign(k, result<T>(item_loop_gave_up(e)));
    }
    pending_.clear();
    return std::move(done_);
  }

 private:
  std::set<K> pending_;
  results_by<K, T> done_;
  std::map<K, common::error> retry_errors_;
  std::optional<common::error> last_call_error_;
  bool answered_ = false;
};

}  // namespace brook::client::admin
