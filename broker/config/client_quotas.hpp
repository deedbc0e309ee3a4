// Client quotas (KIP-257, KIP-546, KIP-612): quota values for user, client-id and ip entities, each
// named or the type's default, as AlterClientQuotas sets them and DescribeClientQuotas reads them.
// Brook stores and reports them exactly as Kafka does; broker/quota/client_quota_manager.hpp enforces them.
//
// Owner: the broker, on the network thread. The metadata store is the durable copy (one
// client_quota_record per entity, see log/metadata_store.hpp): alter() works out the change, the
// caller writes it to the store, then apply() makes it visible here. Invariants: every entity held
// has at least one value; every entity and value passed Kafka's validation when it was set.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker {

// Kafka's ClientQuotaEntity: entity type ("user", "client-id", "ip") -> name, nullopt for the
// type's default. Sorted by type, as Brook reports entities.
using quota_entity = std::map<std::string, std::optional<std::string>>;
using quota_values = std::map<std::string, double>;  // quota key -> value

// One entry of an AlterClientQuotas request: the entity as sent (a type repeated: the last wins)
// and its operations in order (nullopt value: remove the key).
struct quota_alteration {
  quota_entity entity;
  std::vector<std::pair<std::string, std::optional<double>>> ops;
};

// The outcome for one distinct entity of a request, in the order the entities first appear.
struct quota_alteration_result {
  quota_entity entity;
  common::result<void> outcome;
};

// What alter() decided: per-entity outcomes, and the entities whose values change (their complete
// new values; empty values: the entity goes).
struct quota_change {
  std::vector<quota_alteration_result> results;
  std::map<quota_entity, quota_values> updates;
};

// A DescribeClientQuotas filter component (match_type 0 exact, 1 default, 2 any specified name).
struct quota_filter_component {
  std::string entity_type;
  int8_t match_type = 0;
  std::optional<std::string> match;
};

// "ClientQuotaEntity(entries={client-id=c1, user=alice})", as Kafka names an entity in messages.
std::string describe_entity(const quota_entity& entity);

class client_quotas {
 public:
  // Replaces every entity (at start, from the store).
  void load(const std::vector<log::client_quota_record>& records);
  void clear() {
    quotas_.clear();
    ++generation_;
  }

  // Kafka's controller validation of an AlterClientQuotas request against the current values. Every
  // error is INVALID_REQUEST with Kafka's message: an empty entity or name, an unknown entity type,
  // ip combined with user or client-id, an ip that is neither an address nor `resolvable(name)`, a key
  // the entity does not take, a value that is not finite, not above 0, fractional for integer keys
  // or too large for them. A key repeated within an entry, or an entity repeated in the request, is
  // answered "Ignoring duplicate entity ..." (an earlier entry of that entity still applies, as in
  // Kafka). Removing a key needs no validation.
  quota_change alter(const std::vector<quota_alteration>& request,
                     const std::function<bool(const std::string&)>& resolvable) const;
  // Makes a change (already durable) visible.
  void apply(const std::map<quota_entity, quota_values>& updates);

  // Kafka's ClientQuotasImage.describe: every entity matching the filter (strict: no other entity
  // types), sorted. Errors: INVALID_REQUEST for an empty or repeated entity type, a match string
  // that does not fit the match type, an unknown match type, ip combined with user or client-id;
  // UNSUPPORTED_VERSION for an unknown entity type.
  common::result<std::map<quota_entity, quota_values>> describe(const std::vector<quota_filter_component>& filter,
                                                                bool strict) const;

  const std::map<quota_entity, quota_values>& all() const { return quotas_; }
  // Changes whenever the values do: lets readers that index them (the quota manager) notice at once.
  uint64_t generation() const { return generation_; }

  static log::client_quota_record to_record(const quota_entity& entity, const quota_values& values);

 private:
  std::map<quota_entity, quota_values> quotas_;
  uint64_t generation_ = 0;
};

// Whether `ip` is an IPv4 or IPv6 address literal.
bool is_ip_literal(const std::string& ip);

}  // namespace brook::broker
