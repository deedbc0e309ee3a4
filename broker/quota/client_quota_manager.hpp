// Client quota enforcement, with Kafka's semantics (its ClientQuotaManager and default quota callback).
//
// Three quota kinds are enforced, each with its own sensors: producer_byte_rate (a Produce request's
// size), consumer_byte_rate (a Fetch response's size) and request_percentage (request handling time,
// in percent of one thread per second). controller_mutation_rate is stored and described only: Brook
// has no controller mutation quota.
//
// Which quota applies to a request is decided from its user (the principal's name: "alice" for
// "User:alice") and client id, by Kafka's eight levels of precedence: user + client-id, user + default
// client-id, user, default user + client-id, default user + default client-id, default user,
// client-id, default client-id. The level decides which clients share a sensor (a user-level quota
// meters all that user's clients together; a client-id-level one each client id). Values come from
// client_quotas (what AlterClientQuotas stored) at each call, so that a change applies at once; a
// sensor keeps its samples across changes, as Kafka updates a live sensor's bound. A kind with no
// quota anywhere records nothing.
//
// A value is recorded first, then the rate checked against the bound: over it, the throttle time is
// Kafka's QuotaUtils.throttleTime (capped at the window for request_percentage, as Kafka's request
// quota caps it at quota.window.size.seconds).
//
// Owner: the broker, on the network thread. The clock is injectable (monotonic milliseconds).
// Invariants: sensors are keyed by (kind, user tag, client-id tag); one idle for an hour is dropped,
// as Kafka expires its quota sensors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "broker/config/client_quotas.hpp"
#include "broker/quota/sampled_rate.hpp"

namespace brook::broker::quota {

enum class quota_kind { produce, fetch, request };

// The stored quota key of a kind ("producer_byte_rate", ...).
const char* quota_key(quota_kind kind);

// Whom a request is metered for: the principal's name and the request header's client id.
struct client_identity {
  std::string user;
  std::string client_id;
};

// "User:alice" -> "alice" (a principal without a type prefix is taken whole).
std::string principal_name(const std::string& principal);

// Which sensor meters a client, as Kafka's metric tags say: "" for a part the quota does not name.
struct sensor_tags {
  std::string user;
  std::string client_id;
  auto operator<=>(const sensor_tags&) const = default;
};

class client_quota_manager {
 public:
  using clock = std::function<int64_t()>;  // monotonic milliseconds

  client_quota_manager(const client_quotas& stored, window_config windows, clock now);

  // Whether any quota of this kind is set: without one nothing is recorded.
  bool enforced(quota_kind kind) { return !quotas_of(kind).empty(); }
  // Records `value` for `who` and returns how long the client must be throttled, in milliseconds (0
  // within its quota, or when no quota of this kind exists).
  int32_t record(quota_kind kind, const client_identity& who, double value);
  // Takes back a recorded value (Kafka unrecords a throttled fetch's bytes: the client gets none).
  void unrecord(quota_kind kind, const client_identity& who, double value);
  // The most a client may receive within the quota windows: bound * (window_count - 1) * window
  // seconds; unlimited without a quota. Fetch caps its max_bytes with it.
  double max_value_in_window(quota_kind kind, const client_identity& who);

  // The quota in force for `who` (nullopt: none), and the sensor that meters it.
  std::optional<double> quota_limit(quota_kind kind, const sensor_tags& tags);
  sensor_tags tags_for(quota_kind kind, const client_identity& who);

  // Request handling time as request_percentage counts it: percent of one thread for one second.
  static double nanos_to_percentage(int64_t nanos) { return static_cast<double>(nanos) * 100.0 / 1e9; }

  const window_config& windows() const { return windows_; }
  // Drops every sensor (the broker's reset).
  void clear() { sensors_.clear(); }
  void set_clock(clock now) { now_ = std::move(now); }
  size_t sensor_count() const { return sensors_.size(); }

 private:
  struct sensor {
    sampled_rate rate;
    int64_t last_recorded_ms = 0;
  };
  // The stored values of one kind, by entity; rebuilt when the stored quotas change.
  const std::map<quota_entity, double>& quotas_of(quota_kind kind);
  sensor& sensor_for(quota_kind kind, const sensor_tags& tags, int64_t now_ms);
  void expire_idle(int64_t now_ms);

  const client_quotas& stored_;
  window_config windows_;
  clock now_;
  uint64_t indexed_generation_ = ~uint64_t{0};
  std::map<quota_entity, double> by_kind_[3];
  std::map<std::tuple<quota_kind, std::string, std::string>, sensor> sensors_;
  int64_t last_expiry_ms_ = 0;
};

}  // namespace brook::broker::quota
