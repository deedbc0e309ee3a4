#include "broker/fetch_session.hpp"

#include <algorithm>

namespace brook::broker {

void fetch_session::upsert(const fetch_session_partition& p) {
  key k{p.topic, p.partition};
  auto it = index_.find(k);
  if (it != index_.end()) {
    it->second->fetch_offset = p.fetch_offset;
    it->second->max_bytes = p.max_bytes;
    it->second->topic_id = p.topic_id;
    return;
  }
  ordered_.push_back(p);
  index_.emplace(k, std::prev(ordered_.end()));
}

void fetch_session::forget(const std::string& topic, int32_t partition) {
  auto it = index_.find(key{topic, partition});
  if (it == index_.end()) return;
  ordered_.erase(it->second);
  index_.erase(it);
}

std::vector<fetch_session_partition*> fetch_session::partitions() {
  std::vector<fetch_session_partition*> out;
  for (auto& p : ordered_) out.push_back(&p);
  return out;
}

std::shared_ptr<fetch_session> fetch_session_cache::create(std::chrono::steady_clock::time_point now) {
  if (max_sessions_ == 0) return nullptr;
  if (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second->last_used_ < b.second->last_used_;
    });
    sessions_.erase(oldest);
  }
  std::uniform_int_distribution<int32_t> dist(1, INT32_MAX);
  int32_t id;
  do id = dist(ids_);
  while (sessions_.count(id));
  auto s = std::make_shared<fetch_session>();
  s->id_ = id;
  s->last_used_ = now;
  sessions_.emplace(id, s);
  return s;
}

std::shared_ptr<fetch_session> fetch_session_cache::find(int32_t id, std::chrono::steady_clock::time_point now) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  it->second->last_used_ = now;
  return it->second;
}

bool fetch_session_cache::is_current(const fetch_session& s, int32_t epoch) const {
  auto it = sessions_.find(s.id_);
  return it != sessions_.end() && it->second.get() == &s && s.epoch_ == epoch;
}

void fetch_session_cache::remove(int32_t id) { sessions_.erase(id); }

}  // namespace brook::broker
