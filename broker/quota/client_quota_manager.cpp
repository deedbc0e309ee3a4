#include "broker/quota/client_quota_manager.hpp"

#include <algorithm>
#include <cfloat>
#include <limits>

namespace brook::broker::quota {

namespace {
// A sensor not recorded to for this long is dropped (Kafka's inactive sensor expiration).
constexpr int64_t idle_sensor_expiry_ms = 3600 * 1000;
constexpr int64_t expiry_sweep_interval_ms = 60 * 1000;

quota_entity entity_of(std::optional<std::optional<std::string>> user,
                       std::optional<std::optional<std::string>> client_id) {
  quota_entity e;
  if (user) e["user"] = *user;
  if (client_id) e["client-id"] = *client_id;
  return e;
}
}  // namespace

const char* quota_key(quota_kind kind) {
  switch (kind) {
    case quota_kind::produce:
      return "producer_byte_rate";
    case quota_kind::fetch:
      return "consumer_byte_rate";
    case quota_kind::request:
      return "request_percentage";
  }
  return "";
}

std::string principal_name(const std::string& principal) {
  const auto colon = principal.find(':');
  return colon == std::string::npos ? principal : principal.substr(colon + 1);
}

client_quota_manager::client_quota_manager(const client_quotas& stored, window_config windows, clock now)
    : stored_(stored), windows_(windows), now_(std::move(now)) {}

const std::map<quota_entity, double>& client_quota_manager::quotas_of(quota_kind kind) {
  if (indexed_generation_ != stored_.generation()) {
    for (auto& m : by_kind_) m.clear();
    for (const auto& [entity, values] : stored_.all()) {
      if (entity.count("ip")) continue;  // connection-rate quotas: not a client quota
      for (quota_kind k : {quota_kind::produce, quota_kind::fetch, quota_kind::request}) {
        auto it = values.find(quota_key(k));
        if (it != values.end()) by_kind_[static_cast<int>(k)][entity] = it->second;
      }
    }
    indexed_generation_ = stored_.generation();
  }
  return by_kind_[static_cast<int>(kind)];
}

sensor_tags client_quota_manager::tags_for(quota_kind kind, const client_identity& who) {
  const auto& quotas = quotas_of(kind);
  auto has = [&](std::optional<std::optional<std::string>> user, std::optional<std::optional<std::string>> client) {
    return quotas.count(entity_of(std::move(user), std::move(client))) > 0;
  };
  const std::optional<std::string> user = who.user;
  const std::optional<std::string> client = who.client_id;
  const std::optional<std::string> any;  // the type's default
  // The first level that has a quota decides the sensor; the user-only levels meter all of the
  // user's clients together.
  if (has(user, client) || has(user, any)) return {who.user, who.client_id};
  if (has(user, std::nullopt)) return {who.user, ""};
  if (has(any, client) || has(any, any)) return {who.user, who.client_id};
  if (has(any, std::nullopt)) return {who.user, ""};
  return {"", who.client_id};
}

std::optional<double> client_quota_manager::quota_limit(quota_kind kind, const sensor_tags& tags) {
  const auto& quotas = quotas_of(kind);
  auto find = [&](std::optional<std::optional<std::string>> user,
                  std::optional<std::optional<std::string>> client) -> std::optional<double> {
    auto it = quotas.find(entity_of(std::move(user), std::move(client)));
    return it == quotas.end() ? std::nullopt : std::optional<double>(it->second);
  };
  const std::optional<std::string> user = tags.user;
  const std::optional<std::string> client = tags.client_id;
  const std::optional<std::string> any;
  std::optional<double> found;
  if (!tags.user.empty() && !tags.client_id.empty()) {
    if (!(found = find(user, client)) && !(found = find(user, any)) && !(found = find(any, client)))
      found = find(any, any);
  } else if (!tags.user.empty()) {
    if (!(found = find(user, std::nullopt))) found = find(any, std::nullopt);
  } else if (!tags.client_id.empty()) {
    if (!(found = find(std::nullopt, client))) found = find(std::nullopt, any);
  }
  return found;
}

client_quota_manager::sensor& client_quota_manager::sensor_for(quota_kind kind, const sensor_tags& tags,
                                                               int64_t now_ms) {
  expire_idle(now_ms);
  sensor& s = sensors_[{kind, tags.user, tags.client_id}];
  s.last_recorded_ms = now_ms;
  return s;
}

void client_quota_manager::expire_idle(int64_t now_ms) {
  if (now_ms - last_expiry_ms_ < expiry_sweep_interval_ms) return;
  last_expiry_ms_ = now_ms;
  std::erase_if(sensors_, [&](const auto& entry) { return now_ms - entry.second.last_recorded_ms >= idle_sensor_expiry_ms; });
}

int32_t client_quota_manager::record(quota_kind kind, const client_identity& who, double value) {
  if (quotas_of(kind).empty()) return 0;
  const int64_t now_ms = now_();
  const sensor_tags tags = tags_for(kind, who);
  // Without a quota the sensor still records, bounded by Long.MAX_VALUE as Kafka's is: a quota set
  // later on the entity finds its history.
  const double bound = quota_limit(kind, tags).value_or(static_cast<double>(std::numeric_limits<int64_t>::max()));
  sensor& s = sensor_for(kind, tags, now_ms);
  s.rate.record(value, now_ms, windows_);
  const double rate = s.rate.measure(now_ms, windows_);
  if (rate <= bound) return 0;
  int64_t throttle = throttle_time_ms(rate, bound, s.rate.window_size_ms(now_ms, windows_));
  // The request quota throttles for at most one window (Kafka's bounded throttle time).
  if (kind == quota_kind::request) throttle = std::min(throttle, windows_.window_ms);
  return static_cast<int32_t>(std::clamp<int64_t>(throttle, 0, std::numeric_limits<int32_t>::max()));
}

void client_quota_manager::unrecord(quota_kind kind, const client_identity& who, double value) {
  const int64_t now_ms = now_();
  sensor& s = sensor_for(kind, tags_for(kind, who), now_ms);
  s.rate.record(-value, now_ms, windows_);
}

double client_quota_manager::max_value_in_window(quota_kind kind, const client_identity& who) {
  if (quotas_of(kind).empty()) return DBL_MAX;
  const auto limit = quota_limit(kind, tags_for(kind, who));
  if (!limit) return DBL_MAX;
  return *limit * static_cast<double>(windows_.window_count - 1) * (static_cast<double>(windows_.window_ms) / 1000.0);
}

}  // namespace brook::broker::quota
