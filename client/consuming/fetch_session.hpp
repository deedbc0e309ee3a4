// The client side of a fetch session with one broker (KIP-227, Java's FetchSessionHandler).
//
// The first Fetch to a broker is full (session id 0, epoch 0: "open a session"); the broker answers
// with a session id, and later Fetches are incremental: they carry only the partitions added or
// changed since the last request (a changed fetch offset, leader epoch, byte limit or topic id)
// and list the partitions dropped in forgotten_topics_data. The broker answers an incremental fetch
// with only the partitions that have news. FETCH_SESSION_ID_NOT_FOUND makes the next request a
// full fetch opening a new session; INVALID_FETCH_SESSION_EPOCH, any other top-level error, a
// response naming partitions outside the session, or a failed request closes this session and opens
// a new one with a full fetch (epoch 0 with the old id). Fetch v13+ names topics by id: a session
// uses ids only when every partition in it has one, and switching between ids and names restarts
// it with a full fetch.
//
// Owned by the fetcher, one per broker; touched only by the consumer's thread. Invariant: between
// build() and handle_response()/handle_error() exactly one request is in flight.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/consuming/topic_partition.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/uuid.hpp"

namespace brook::client::consuming {

// What the consumer wants fetched from one partition.
struct fetch_position {
  common::uuid topic_id;             // zero when the metadata had none
  int64_t fetch_offset = 0;
  int64_t log_start_offset = -1;     // consumers send -1
  int32_t max_bytes = 0;             // max.partition.fetch.bytes
  int32_t current_leader_epoch = -1;
  int32_t last_fetched_epoch = -1;
  bool operator==(const fetch_position&) const = default;
};

// One request's worth: what to send, what to forget, and the session's view after it.
struct fetch_request_data {
  bool full = true;
  int32_t session_id = 0;
  int32_t session_epoch = 0;
  bool use_topic_ids = false;  // send v13+ (ids) only when true; else at most v12
  std::map<topic_partition, fetch_position> to_send;
  // Partitions leaving the session, with the topic id they were fetched under.
  std::map<topic_partition, common::uuid> to_forget;
  // Every partition the session covers once this request is answered.
  std::map<topic_partition, fetch_position> session;
};

class fetch_session {
 public:
  static constexpr int32_t invalid_session_id = 0;
  static constexpr int32_t initial_epoch = 0;
  static constexpr int32_t final_epoch = -1;

  explicit fetch_session(int32_t node_id) : node_id_(node_id) {}

  int32_t node_id() const { return node_id_; }
  int32_t session_id() const { return session_id_; }
  int32_t next_epoch() const { return next_epoch_; }
  // The next request is full when no session is open (or one is being reopened).
  bool next_is_full() const { return next_epoch_ == initial_epoch || next_epoch_ == final_epoch; }

  // The partitions to fetch from this broker now; builds the next request from the difference
  // with what the session already holds.
  fetch_request_data build(const std::map<topic_partition, fetch_position>& wanted);

  // The Fetch request for `data` at `version` (v13+ requires data.use_topic_ids).
  static common::protocol::fetch::request to_request(const fetch_request_data& data, int16_t version,
                                                     int32_t max_wait_ms, int32_t min_bytes, int32_t max_bytes,
                                                     int8_t isolation_level, const std::string& rack_id);

  // Takes the answer to the request built last. Returns false when the response is unusable as a
  // whole (a top-level error or partitions outside the session); the session is then reset as above.
  bool handle_response(const fetch_request_data& sent, const common::protocol::fetch::response& response,
                       int16_t version);
  // The request failed (disconnect, timeout): the next request reopens the session.
  void handle_error();

  // The topic a v13+ response names by id, from the session's partitions.
  std::optional<std::string> topic_name(const common::uuid& id) const;
  // The partitions the session holds (after the last successful exchange).
  const std::map<topic_partition, fetch_position>& partitions() const { return session_partitions_; }

  // The request that closes the session (epoch -1) on the consumer's close; nullopt when none is open.
  std::optional<fetch_request_data> close_request() const;

 private:
  int32_t node_id_;
  int32_t session_id_ = invalid_session_id;
  int32_t next_epoch_ = initial_epoch;
  bool session_uses_ids_ = false;
  std::map<topic_partition, fetch_position> session_partitions_;
};

}  // namespace brook::client::consuming
