// Fetch sessions (KIP-227): a consumer's set of partitions cached between Fetch requests, so that
// incremental requests carry only what changed and incremental responses only the partitions with
// news (records, a moved high watermark or log start offset, or an error).
//
// Owned by the broker, network thread only. Invariants: session ids are positive and unique among
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
  fetch_session* create(std::chrono::steady_clock::time_point now);
  fetch_session* find(int32_t id, std::chrono::steady_clock::time_point now);
  void remove(int32_t id);
  size_t size() const { return sessions_.size(); }

 private:
  size_t max_sessions_;
  std::map<int32_t, std::unique_ptr<fetch_session>> sessions_;
  std::mt19937 ids_{std::random_device{}()};
};

}  // namespace brook::broker
