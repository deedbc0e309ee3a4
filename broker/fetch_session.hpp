// Fetch sessions (KIP-227): a consumer's set of partitions cached between Fetch requests, so that
// incremental requests carry only what changed and incremental responses only the partitions with
// news (records, a moved high watermark or log start offset, or an error).
//
// The cache is owned by the broker, network thread only; sessions are shared: a Fetch request holds
// its session (and with it the cached partitions it points at) across its suspensions, so that a
// reconnecting consumer's epoch 0/-1 request or an eviction that drops the session meanwhile cannot
// free what the request still uses; after every suspension the request asks is_current() whether
// the session is still the live one at the epoch it expects before answering for it. Invariants: session ids are positive and unique among
// live sessions; `epoch` is the epoch the next incremental request must carry (1 after creation,
// wrapping past INT32_MAX to 1); at most `max_sessions` sessions live, the least recently used being
// evicted to make room.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "common/uuid.hpp"

namespace brook::broker {

struct fetch_session_partition {
  std::string topic;
  common::uuid topic_id;
  int32_t partition = 0;
  int64_t fetch_offset = 0;
  int32_t max_bytes = 0;
  // What the last response told the client, to decide whether an incremental response includes it.
  int64_t sent_high_watermark = -1;
  int64_t sent_log_start_offset = -1;
  int64_t sent_last_stable_offset = -1;
};

class fetch_session {
 public:
  using key = std::tuple<std::string, int32_t>;  // (topic name, partition)

  int32_t id() const { return id_; }
  int32_t epoch() const { return epoch_; }
  void advance_epoch() { epoch_ = epoch_ == INT32_MAX ? 1 : epoch_ + 1; }

  // Adds or updates a partition, keeping the order in which partitions were first added.
  void upsert(const fetch_session_partition& p);
  void forget(const std::string& topic, int32_t partition);
  std::vector<fetch_session_partition*> partitions();

 private:
  friend class fetch_session_cache;
  int32_t id_ = 0;
  int32_t epoch_ = 1;
  std::list<fetch_session_partition> ordered_;
  std::map<key, std::list<fetch_session_partition>::iterator> index_;
  std::chrono::steady_clock::time_point last_used_;
};

class fetch_session_cache {
 public:
  explicit fetch_session_cache(size_t max_sessions = 1000) : max_sessions_(max_sessions) {}

  // A new session (evicting the least recently used one when full); nullptr when max_sessions is 0.
  std::shared_ptr<fetch_session> create(std::chrono::steady_clock::time_point now);
  std::shared_ptr<fetch_session> find(int32_t id, std::chrono::steady_clock::time_point now);
  // Drops the session from the cache; holders keep it alive, but it is no longer current.
  void remove(int32_t id);
  // Drops every session (a broker reset): their next incremental request gets FETCH_SESSION_ID_NOT_FOUND.
  void clear() { sessions_.clear(); }
  // Whether `s` is still the cached session of its id and carries `epoch` (no other request has
  // used it meanwhile). Does not count as a use.
  bool is_current(const fetch_session& s, int32_t epoch) const;
  size_t size() const { return sessions_.size(); }

 private:
  size_t max_sessions_;
  std::map<int32_t, std::shared_ptr<fetch_session>> sessions_;
  std::mt19937 ids_{std::random_device{}()};
};

}  // namespace brook::broker
