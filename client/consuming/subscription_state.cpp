#include "client/consuming/subscription_state.hpp"

#include <re2/re2.h>

namespace brook::client::consuming {

using common::error;
using common::kafka_error;

subscription_state::subscription_state(offset_reset_strategy default_reset) : default_reset_(default_reset) {}
subscription_state::~subscription_state() = default;
subscription_state::subscription_state(subscription_state&&) noexcept = default;
subscription_state& subscription_state::operator=(subscription_state&&) noexcept = default;

common::result<void> subscription_state::set_type(subscription_type t) {
  if (type_ == subscription_type::none) type_ = t;
  else if (type_ != t)
    return error{kafka_error::invalid_request, "Subscription to topics, partitions and pattern are mutually exclusive"};
  return {};
}

common::result<void> subscription_state::subscribe(const std::set<std::string>& topics) {
  if (topics.empty()) {
    unsubscribe();
    return {};
  }
  for (const auto& t : topics)
    if (t.empty()) return error{kafka_error::invalid_topic_exception, "Topic collection to subscribe to cannot contain null or empty topic"};
  if (auto r = set_type(subscription_type::topics); !r) return r;
  subscription_ = topics;
  return {};
}

common::result<void> subscription_state::subscribe_pattern(const std::string& regex) {
  auto compiled = std::make_unique<re2::RE2>(regex, re2::RE2::Quiet);
  if (!compiled->ok())
    return error{kafka_error::invalid_regular_expression, "Invalid regular expression " + regex + ": " + compiled->error()};
  if (auto r = set_type(subscription_type::pattern); !r) return r;
  pattern_ = std::move(compiled);
  pattern_text_ = regex;
  return {};
}

bool subscription_state::matches_pattern(std::string_view topic) const {
  return pattern_ && re2::RE2::FullMatch(re2::StringPiece(topic.data(), topic.size()), *pattern_);
}

bool subscription_state::set_pattern_topics(const std::set<std::string>& topics) {
  if (type_ != subscription_type::pattern) return false;
  std::set<std::string> matching;
  for (const auto& t : topics)
    if (matches_pattern(t)) matching.insert(t);
  if (matching == subscription_) return false;
  subscription_ = std::move(matching);
  return true;
}

common::result<void> subscription_state::assign_from_user(const std::set<topic_partition>& partitions) {
  if (partitions.empty()) {
    unsubscribe();
    return {};
  }
  if (auto r = set_type(subscription_type::user_assigned); !r) return r;
  replace_assignment(partitions);
  return {};
}

void subscription_state::unsubscribe() {
  type_ = subscription_type::none;
  subscription_.clear();
  pattern_.reset();
  pattern_text_.clear();
  partitions_.clear();
}

common::result<void> subscription_state::assign_from_subscribed(const std::set<topic_partition>& partitions) {
  if (!has_auto_assigned_partitions())
    return error{kafka_error::invalid_request, "Attempt to assign partitions while no topics or pattern are subscribed"};
  for (const auto& tp : partitions)
    if (!subscription_.count(tp.topic) && !matches_pattern(tp.topic))
      return error{kafka_error::invalid_request, "Assigned partition " + to_string(tp) + " for non-subscribed topic"};
  replace_assignment(partitions);
  return {};
}

void subscription_state::replace_assignment(const std::set<topic_partition>& partitions) {
  std::map<topic_partition, partition_state> next;
  for (const auto& tp : partitions) {
    auto it = partitions_.find(tp);
    next[tp] = it != partitions_.end() ? it->second : partition_state{};
    next[tp].pending_revocation = false;
  }
  partitions_ = std::move(next);
}

std::set<topic_partition> subscription_state::assigned_partitions() const {
  std::set<topic_partition> out;
  for (const auto& [tp, s] : partitions_) out.insert(tp);
  return out;
}

void subscription_state::mark_pending_revocation(const std::set<topic_partition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* s = find(tp)) s->pending_revocation = true;
}

subscription_state::partition_state* subscription_state::find(const topic_partition& tp) {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

const subscription_state::partition_state* subscription_state::find(const topic_partition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

void subscription_state::seek(const topic_partition& tp, fetch_offset position) {
  auto* s = find(tp);
  if (!s) return;
  s->position = position;
  s->state = fetch_state::fetching;
  s->reset.reset();
  s->next_validation = {};
}

void subscription_state::seek_unvalidated(const topic_partition& tp, fetch_offset position) {
  auto* s = find(tp);
  if (!s) return;
  s->reset.reset();
  validate_position(*s, position);
}

void subscription_state::validate_position(partition_state& s, fetch_offset position) {
  s.position = position;
  s.next_validation = {};
  s.state = position.offset_epoch && position.current_leader_epoch ? fetch_state::await_validation
                                                                    : fetch_state::fetching;
}

std::optional<fetch_offset> subscription_state::position(const topic_partition& tp) const {
  const auto* s = find(tp);
  if (!s || s->state != fetch_state::fetching) return std::nullopt;
  return s->position;
}

std::optional<fetch_offset> subscription_state::current_position(const topic_partition& tp) const {
  const auto* s = find(tp);
  if (!s || (s->state != fetch_state::fetching && s->state != fetch_state::await_validation)) return std::nullopt;
  return s->position;
}

bool subscription_state::maybe_validate_position_for_current_leader(const topic_partition& tp,
                                                                    std::optional<int32_t> leader,
                                                                    std::optional<int32_t> leader_epoch,
                                                                    bool validation_supported) {
  auto* s = find(tp);
  if (!s || !s->position || (s->state != fetch_state::fetching && s->state != fetch_state::await_validation))
    return false;
  if (!leader) return s->state == fetch_state::await_validation;
  fetch_offset next = *s->position;
  next.current_leader = leader;
  next.current_leader_epoch = leader_epoch;
  if (!validation_supported) {
    s->position = next;
    s->state = fetch_state::fetching;
    s->next_validation = {};
    return false;
  }
  if (s->position->current_leader != leader || s->position->current_leader_epoch != leader_epoch)
    validate_position(*s, next);
  return s->state == fetch_state::await_validation;
}

bool subscription_state::awaits_validation(const topic_partition& tp) const {
  const auto* s = find(tp);
  return s && s->state == fetch_state::await_validation;
}

std::vector<topic_partition> subscription_state::partitions_needing_validation(
    std::chrono::steady_clock::time_point now) const {
  std::vector<topic_partition> out;
  for (const auto& [tp, s] : partitions_)
    if (s.state == fetch_state::await_validation && s.position && s.next_validation <= now) out.push_back(tp);
  return out;
}

void subscription_state::set_next_allowed_retry(const std::vector<topic_partition>& partitions,
                                                std::chrono::steady_clock::time_point when) {
  for (const auto& tp : partitions)
    if (auto* s = find(tp)) s->next_validation = when;
}

void subscription_state::complete_validation(const topic_partition& tp) {
  auto* s = find(tp);
  if (s && s->state == fetch_state::await_validation) s->state = fetch_state::fetching;
}

std::optional<log_truncation> subscription_state::maybe_complete_validation(const topic_partition& tp,
                                                                            const fetch_offset& requested,
                                                                            int32_t end_epoch, int64_t end_offset) {
  auto* s = find(tp);
  if (!s || s->state != fetch_state::await_validation || s->position != requested) return std::nullopt;
  return apply_end_offset(tp, *s, end_epoch, end_offset);
}

std::optional<log_truncation> subscription_state::handle_diverging_epoch(const topic_partition& tp,
                                                                         const fetch_offset& requested,
                                                                         int32_t end_epoch, int64_t end_offset) {
  auto* s = find(tp);
  if (!s || s->state != fetch_state::fetching || s->position != requested) return std::nullopt;
  auto truncation = apply_end_offset(tp, *s, end_epoch, end_offset);
  // Without a reset policy the position stays where it is, unfetched, until the user seeks.
  if (truncation) s->state = fetch_state::await_validation;
  return truncation;
}

std::optional<log_truncation> subscription_state::apply_end_offset(const topic_partition& tp, partition_state& s,
                                                                   int32_t end_epoch, int64_t end_offset) {
  const bool has_reset_policy = default_reset_ != offset_reset_strategy::none;
  const fetch_offset current = *s.position;
  if (end_offset < 0 || end_epoch < 0) {
    if (has_reset_policy) {
      request_offset_reset(tp);
      return std::nullopt;
    }
    return log_truncation{tp, current.offset, std::nullopt, std::nullopt};
  }
  if (end_offset < current.offset) {
    if (has_reset_policy) {
      fetch_offset diverged = current;
      diverged.offset = end_offset;
      diverged.offset_epoch = end_epoch;
      seek(tp, diverged);
      return std::nullopt;
    }
    return log_truncation{tp, current.offset, end_offset, end_epoch};
  }
  s.state = fetch_state::fetching;
  return std::nullopt;
}

bool subscription_state::has_valid_position(const topic_partition& tp) const { return position(tp).has_value(); }

void subscription_state::pause(const topic_partition& tp) {
  if (auto* s = find(tp)) s->paused = true;
}

void subscription_state::resume(const topic_partition& tp) {
  if (auto* s = find(tp)) s->paused = false;
}

bool subscription_state::is_paused(const topic_partition& tp) const {
  const auto* s = find(tp);
  return s && s->paused;
}

std::set<topic_partition> subscription_state::paused_partitions() const {
  std::set<topic_partition> out;
  for (const auto& [tp, s] : partitions_)
    if (s.paused) out.insert(tp);
  return out;
}

void subscription_state::request_offset_reset(const topic_partition& tp, std::optional<offset_reset_strategy> strategy) {
  auto* s = find(tp);
  if (!s) return;
  s->state = fetch_state::await_reset;
  s->reset = strategy.value_or(default_reset_);
  s->position.reset();
}

bool subscription_state::is_offset_reset_needed(const topic_partition& tp) const {
  const auto* s = find(tp);
  return s && s->state == fetch_state::await_reset;
}

std::optional<offset_reset_strategy> subscription_state::reset_strategy(const topic_partition& tp) const {
  const auto* s = find(tp);
  if (!s || s->state != fetch_state::await_reset) return std::nullopt;
  return s->reset;
}

std::vector<topic_partition> subscription_state::initializing_partitions() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, s] : partitions_)
    if (s.state == fetch_state::initializing && !s.pending_revocation) out.push_back(tp);
  return out;
}

common::result<void> subscription_state::reset_to_default(const std::vector<topic_partition>& partitions) {
  std::string without;
  for (const auto& tp : partitions) {
    auto* s = find(tp);
    if (!s || s->state == fetch_state::fetching || s->state == fetch_state::await_validation) continue;
    if (default_reset_ == offset_reset_strategy::none) {
      without += (without.empty() ? "" : ", ") + to_string(tp);
      continue;
    }
    request_offset_reset(tp, default_reset_);
  }
  if (!without.empty())
    return error{kafka_error::offset_out_of_range, "Undefined offset with no reset policy for partitions: " + without};
  return {};
}

std::vector<topic_partition> subscription_state::partitions_needing_reset() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, s] : partitions_)
    if (s.state == fetch_state::await_reset && s.reset != offset_reset_strategy::none) out.push_back(tp);
  return out;
}

void subscription_state::maybe_seek_after_reset(const topic_partition& tp, offset_reset_strategy strategy,
                                                fetch_offset position) {
  auto* s = find(tp);
  if (!s || s->state != fetch_state::await_reset || s->reset != strategy) return;
  seek(tp, position);
}

std::vector<topic_partition> subscription_state::fetchable_partitions() const {
  std::vector<topic_partition> out;
  for (const auto& [tp, s] : partitions_)
    if (s.state == fetch_state::fetching && s.position && !s.paused && !s.pending_revocation) out.push_back(tp);
  return out;
}

void subscription_state::update_high_watermark(const topic_partition& tp, int64_t v) {
  if (auto* s = find(tp)) s->high_watermark = v;
}
void subscription_state::update_last_stable_offset(const topic_partition& tp, int64_t v) {
  if (auto* s = find(tp)) s->last_stable_offset = v;
}
void subscription_state::update_log_start_offset(const topic_partition& tp, int64_t v) {
  if (auto* s = find(tp)) s->log_start_offset = v;
}
std::optional<int64_t> subscription_state::high_watermark(const topic_partition& tp) const {
  const auto* s = find(tp);
  return s ? s->high_watermark : std::nullopt;
}
std::optional<int64_t> subscription_state::last_stable_offset(const topic_partition& tp) const {
  const auto* s = find(tp);
  return s ? s->last_stable_offset : std::nullopt;
}
std::optional<int64_t> subscription_state::log_start_offset(const topic_partition& tp) const {
  const auto* s = find(tp);
  return s ? s->log_start_offset : std::nullopt;
}

std::optional<int64_t> subscription_state::lag(const topic_partition& tp, isolation_level level) const {
  const auto* s = find(tp);
  if (!s || s->state != fetch_state::fetching || !s->position) return std::nullopt;
  auto end = level == isolation_level::read_committed ? s->last_stable_offset : s->high_watermark;
  if (!end) return std::nullopt;
  return *end - s->position->offset;
}

std::map<topic_partition, committed_offset> subscription_state::all_consumed() const {
  std::map<topic_partition, committed_offset> out;
  for (const auto& [tp, s] : partitions_)
    if (s.state == fetch_state::fetching && s.position)
      out[tp] = committed_offset{s.position->offset, s.position->offset_epoch, ""};
  return out;
}

void subscription_state::set_committed(const topic_partition& tp, committed_offset c) { committed_[tp] = std::move(c); }

std::optional<committed_offset> subscription_state::committed(const topic_partition& tp) const {
  auto it = committed_.find(tp);
  if (it == committed_.end()) return std::nullopt;
  return it->second;
}

}  // namespace brook::client::consuming
