#include "client/consuming/fetch_session.hpp"

#include <climits>

namespace brook::client::consuming {

namespace proto = common::protocol;

namespace {

int32_t following_epoch(int32_t epoch) {
  if (epoch < 0) return fetch_session::final_epoch;
  if (epoch == INT32_MAX) return 1;  // wraps past 0, which means "open a session"
  return epoch + 1;
}

}  // namespace

fetch_request_data fetch_session::build(const std::map<topic_partition, fetch_position>& wanted) {
  fetch_request_data d;
  d.use_topic_ids = !wanted.empty();
  for (const auto& [tp, pos] : wanted)
    if (pos.topic_id.is_zero()) d.use_topic_ids = false;
  // A session opened with topic names cannot go on with ids, nor the other way round.
  if (!next_is_full() && d.use_topic_ids != session_uses_ids_ && !session_partitions_.empty()) {
    next_epoch_ = initial_epoch;  // close this session and open a new one (same id, epoch 0)
  }
  if (next_is_full()) {
    d.full = true;
    d.session_id = session_id_;
    d.session_epoch = initial_epoch;
    d.to_send = wanted;
    session_partitions_ = wanted;
    session_uses_ids_ = d.use_topic_ids;
    d.session = session_partitions_;
    return d;
  }
  d.full = false;
  d.session_id = session_id_;
  d.session_epoch = next_epoch_;
  for (auto it = session_partitions_.begin(); it != session_partitions_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end()) {
      d.to_forget.emplace(it->first, it->second.topic_id);
      it = session_partitions_.erase(it);
      continue;
    }
    if (!(w->second == it->second)) {
      if (w->second.topic_id != it->second.topic_id)  // the topic was recreated: replace it
        d.to_forget.emplace(it->first, it->second.topic_id);
      d.to_send.emplace(w->first, w->second);
      it->second = w->second;
    }
    ++it;
  }
  for (const auto& [tp, pos] : wanted)
    if (!session_partitions_.count(tp)) {
      d.to_send.emplace(tp, pos);
      session_partitions_.emplace(tp, pos);
    }
  d.session = session_partitions_;
  return d;
}

proto::fetch::request fetch_session::to_request(const fetch_request_data& data, int16_t version, int32_t max_wait_ms,
                                                int32_t min_bytes, int32_t max_bytes, int8_t isolation_level,
                                                const std::string& rack_id) {
  proto::fetch::request r;
  r.replica_id = -1;
  r.max_wait_ms = max_wait_ms;
  r.min_bytes = min_bytes;
  r.max_bytes = max_bytes;
  r.isolation_level = isolation_level;
  r.session_id = data.session_id;
  r.session_epoch = data.session_epoch;
  r.rack_id = rack_id;
  const bool by_id = version >= 13;
  auto same_topic = [&](const auto& t, const topic_partition& tp, const common::uuid& id) {
    return by_id ? t.topic_id == id : t.topic == tp.topic;
  };
  for (const auto& [tp, pos] : data.to_send) {
    if (r.topics.empty() || !same_topic(r.topics.back(), tp, pos.topic_id)) {
      proto::fetch::fetch_topic t;
      t.topic = tp.topic;
      t.topic_id = pos.topic_id;
      r.topics.push_back(std::move(t));
    }
    proto::fetch::fetch_partition p;
    p.partition = tp.partition;
    p.current_leader_epoch = pos.current_leader_epoch;
    p.fetch_offset = pos.fetch_offset;
    p.last_fetched_epoch = pos.last_fetched_epoch;
    p.log_start_offset = pos.log_start_offset;
    p.partition_max_bytes = pos.max_bytes;
    r.topics.back().partitions.push_back(p);
  }
  for (const auto& [tp, id] : data.to_forget) {
    auto it = r.forgotten_topics_data.begin();
    for (; it != r.forgotten_topics_data.end(); ++it)
      if (same_topic(*it, tp, id)) break;
    if (it == r.forgotten_topics_data.end()) {
      proto::fetch::forgotten_topic f;
      f.topic = tp.topic;
      f.topic_id = id;
      r.forgotten_topics_data.push_back(std::move(f));
      it = std::prev(r.forgotten_topics_data.end());
    }
    it->partitions.push_back(tp.partition);
  }
  return r;
}

std::optional<std::string> fetch_session::topic_name(const common::uuid& id) const {
  for (const auto& [tp, pos] : session_partitions_)
    if (pos.topic_id == id) return tp.topic;
  return std::nullopt;
}

bool fetch_session::handle_response(const fetch_request_data& sent, const proto::fetch::response& response,
                                    int16_t version) {
  const auto top_error = static_cast<common::kafka_error>(response.error_code);
  if (top_error != common::kafka_error::none) {
    if (top_error == common::kafka_error::fetch_session_id_not_found) {
      session_id_ = invalid_session_id;  // the broker forgot it: open a new one
    }
    next_epoch_ = initial_epoch;  // otherwise (INVALID_FETCH_SESSION_EPOCH, ...): close and reopen
    return false;
  }
  // Every partition answered must be one the session covers.
  bool unknown = false;
  for (const auto& topic : response.responses) {
    std::optional<std::string> name =
        version >= 13 ? topic_name(topic.topic_id) : std::optional<std::string>(topic.topic);
    if (!name) {
      unknown = true;
      break;
    }
    for (const auto& p : topic.partitions)
      if (!sent.session.count({*name, p.partition_index})) unknown = true;
  }
  if (unknown) {
    if (sent.full) session_id_ = invalid_session_id;
    next_epoch_ = initial_epoch;
    return false;
  }
  if (response.session_id == invalid_session_id) {
    // No session (the broker has no room, or it closed ours): every request stays full.
    session_id_ = invalid_session_id;
    next_epoch_ = initial_epoch;
    return true;
  }
  if (sent.full) {
    session_id_ = response.session_id;
    next_epoch_ = 1;
  } else {
    next_epoch_ = following_epoch(next_epoch_);
  }
  return true;
}

void fetch_session::handle_error() { next_epoch_ = initial_epoch; }

std::optional<fetch_request_data> fetch_session::close_request() const {
  if (session_id_ == invalid_session_id) return std::nullopt;
  fetch_request_data d;
  d.full = false;
  d.session_id = session_id_;
  d.session_epoch = final_epoch;
  d.use_topic_ids = session_uses_ids_;
  return d;
}

}  // namespace brook::client::consuming
