#include "broker/fault/fault_injector.hpp"

#include <algorithm>

namespace brook::broker::fault {

using common::kafka_error;

std::string_view fault_kind_name(fault_kind k) {
  switch (k) {
    case fault_kind::errors: return "errors";
    case fault_kind::delay: return "delay";
    case fault_kind::drop: return "drop";
    case fault_kind::version_cap: return "version-cap";
    case fault_kind::disk: return "disk";
  }
  return "unknown";
}

common::result<uint64_t> fault_injector::add(fault_rule rule) {
  if (rule.count && *rule.count < 1)
    return common::error{kafka_error::invalid_request, "count must be at least 1 (leave it out for no limit)"};
  if (rule.kind == fault_kind::delay && rule.delay.count() < 0)
    return common::error{kafka_error::invalid_request, "a delay cannot be negative"};
  if (rule.kind == fault_kind::version_cap && rule.max_version < 0)
    return common::error{kafka_error::invalid_request, "max_version cannot be negative"};
  if (rule.kind == fault_kind::disk && rule.sys_errno <= 0)
    return common::error{kafka_error::invalid_request, "a disk fault needs an errno"};
  if (rule.kind == fault_kind::version_cap) rule.count = std::nullopt;  // consulted, never spent
  std::lock_guard lock(mutex_);
  rule.id = next_id_++;
  rules_.push_back(std::move(rule));
  update_count();
  return rules_.back().id;
}

std::vector<fault_rule> fault_injector::rules() const {
  std::lock_guard lock(mutex_);
  return rules_;
}

bool fault_injector::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(rules_.begin(), rules_.end(), [id](const fault_rule& r) { return r.id == id; });
  if (it == rules_.end()) return false;
  rules_.erase(it);
  update_count();
  return true;
}

void fault_injector::clear_rules() {
  std::lock_guard lock(mutex_);
  rules_.clear();
  update_count();
}

void fault_injector::clear_all() {
  {
    std::lock_guard lock(mutex_);
    rules_.clear();
    log_.clear();
    update_count();
  }
  resume();
}

void fault_injector::pause() { paused_.store(true, std::memory_order_release); }

void fault_injector::resume() {
  if (!paused_.exchange(false, std::memory_order_acq_rel)) return;
  if (on_resume_) on_resume_();
}

std::vector<logged_request> fault_injector::requests() const {
  std::lock_guard lock(mutex_);
  return {log_.begin(), log_.end()};
}

void fault_injector::clear_requests() {
  std::lock_guard lock(mutex_);
  log_.clear();
}

void fault_injector::set_request_log_capacity(size_t capacity) {
  std::lock_guard lock(mutex_);
  log_capacity_ = capacity;
  while (log_.size() > log_capacity_) log_.pop_front();
}

void fault_injector::log_request(int16_t api_key, int16_t api_version, std::string_view client_id,
                                 int32_t correlation_id) {
  std::lock_guard lock(mutex_);
  if (log_capacity_ == 0) return;
  if (log_.size() >= log_capacity_) log_.pop_front();
  log_.push_back({api_key, api_version, std::string(client_id), correlation_id});
}

bool fault_injector::wants_error_check(int16_t api_key) const {
  if (!has_rules()) return false;
  std::lock_guard lock(mutex_);
  return std::any_of(rules_.begin(), rules_.end(),
                     [api_key](const fault_rule& r) { return r.kind == fault_kind::errors && r.api_key == api_key; });
}

bool fault_injector::matches_names(const fault_rule& r, const request_names* names,
                                   const std::function<std::optional<std::string>(const common::uuid&)>& topic_of_id) {
  if (!names) return false;
  if (!r.topic && !r.group) return true;
  if (r.group && std::find(names->groups.begin(), names->groups.end(), *r.group) == names->groups.end()) return false;
  if (r.topic) {
    bool named = std::find(names->topics.begin(), names->topics.end(), *r.topic) != names->topics.end();
    if (!named && topic_of_id)
      for (const auto& id : names->topic_ids)
        if (auto t = topic_of_id(id); t && *t == *r.topic) named = true;
    if (!named) return false;
  }
  return true;
}

request_faults fault_injector::take(int16_t api_key, const request_names* names,
                                    const std::function<std::optional<std::string>(const common::uuid&)>& topic_of_id) {
  request_faults out;
  if (!has_rules()) return out;
  std::lock_guard lock(mutex_);
  auto first = [&](fault_kind kind, bool by_names) {
    return std::find_if(rules_.begin(), rules_.end(), [&](const fault_rule& r) {
      return r.kind == kind && r.api_key == api_key && (!by_names || matches_names(r, names, topic_of_id));
    });
  };
  if (auto it = first(fault_kind::drop, false); it != rules_.end()) {
    out.drop = true;
    fired(it);
    return out;  // no answer: nothing else applies
  }
  if (auto it = first(fault_kind::errors, true); it != rules_.end()) {
    out.error = it->error_code;
    fired(it);
  }
  if (auto it = first(fault_kind::delay, false); it != rules_.end()) {
    out.delay = it->delay;
    fired(it);
  }
  return out;
}

void fault_injector::apply_version_caps(std::vector<common::protocol::api_versions::api_version>& keys) const {
  if (!has_rules()) return;
  std::lock_guard lock(mutex_);
  for (const auto& r : rules_) {
    if (r.kind != fault_kind::version_cap) continue;
    for (auto& k : keys)
      if (k.api_key == r.api_key) k.max_version = std::min(k.max_version, r.max_version);
  }
  std::erase_if(keys, [](const auto& k) { return k.max_version < k.min_version; });
}

int fault_injector::before_disk_op(log::disk_op op, std::string_view topic) {
  if (!has_rules()) return 0;
  std::lock_guard lock(mutex_);
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const fault_rule& r) {
    return r.kind == fault_kind::disk && r.op == op && (!r.topic || *r.topic == topic);
  });
  if (it == rules_.end()) return 0;
  const int err = it->sys_errno;
  fired(it);
  return err;
}

void fault_injector::fired(std::vector<fault_rule>::iterator it) {
  if (!it->count) return;
  if (--*it->count <= 0) {
    rules_.erase(it);
    update_count();
  }
}

void fault_injector::update_count() { rule_count_.store(rules_.size(), std::memory_order_release); }

}  // namespace brook::broker::fault
