#include "broker/config/client_quotas.hpp"

#include <arpa/inet.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace brook::broker {

using common::kafka_error;

namespace {

constexpr const char* user_type = "user";
constexpr const char* client_id_type = "client-id";
constexpr const char* ip_type = "ip";

// Kafka's QuotaConfig: the keys user and client-id entities take, and the key ip entities take,
// with their ConfigDef types.
enum class quota_type { int_, long_, double_ };
const std::map<std::string, quota_type>& user_client_keys() {
  static const std::map<std::string, quota_type> keys{{"producer_byte_rate", quota_type::long_},
                                                      {"consumer_byte_rate", quota_type::long_},
                                                      {"request_percentage", quota_type::double_},
                                                      {"controller_mutation_rate", quota_type::double_}};
  return keys;
}
const std::map<std::string, quota_type>& ip_keys() {
  static const std::map<std::string, quota_type> keys{{"connection_creation_rate", quota_type::int_}};
  return keys;
}

common::error invalid(std::string message) { return {kafka_error::invalid_request, std::move(message)}; }

// ClientQuotaControlManager.validateQuotaKeyValue.
std::optional<common::error> check_value(const std::map<std::string, quota_type>& keys, const std::string& key,
                                         double value) {
  auto it = keys.find(key);
  if (it == keys.end()) return invalid("Invalid configuration key " + key);
  if (!std::isfinite(value)) return invalid("Quota " + key + " must be a finite number");
  if (value <= 0.0) return invalid("Quota " + key + " must be greater than 0");
  auto integral = [&]() -> std::optional<common::error> {
    if (std::fabs(std::fmod(value, 1.0)) > 1e-6) return invalid(key + " cannot be a fractional value.");
    return std::nullopt;
  };
  switch (it->second) {
    case quota_type::double_:
      return std::nullopt;
    case quota_type::int_:
      if (value > static_cast<double>(std::numeric_limits<int32_t>::max()))
        return invalid("Proposed value for " + key + " is too large for an INT.");
      return integral();
    case quota_type::long_:
      if (value > static_cast<double>(std::numeric_limits<int64_t>::max()))
        return invalid("Proposed value for " + key + " is too large for a LONG.");
      return integral();
  }
  return std::nullopt;
}

// ClientQuotaControlManager.validateEntity and configKeysForEntityType: the keys the entity takes.
common::result<const std::map<std::string, quota_type>*> keys_for(
    const quota_entity& entity, const std::function<bool(const std::string&)>& resolvable) {
  if (entity.empty()) return invalid("Invalid empty client quota entity");
  for (const auto& [type, name] : entity) {
    if (type != user_type && type != client_id_type && type != ip_type)
      return invalid("Unhandled client quota entity type: " + type);
    if (name && name->empty()) return invalid("Empty " + type + " not supported");
  }
  const bool has_ip = entity.count(ip_type) > 0;
  if (has_ip) {
    if (entity.size() > 1)
      return invalid("Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId");
    const auto& ip = entity.at(ip_type);
    if (ip && !is_ip_literal(*ip) && !resolvable(*ip)) return invalid(*ip + " is not a valid IP or resolvable host.");
    return &ip_keys();
  }
  return &user_client_keys();
}

}  // namespace

bool is_ip_literal(const std::string& ip) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

std::string describe_entity(const quota_entity& entity) {
  std::string out = "ClientQuotaEntity(entries={";
  bool first = true;
  for (const auto& [type, name] : entity) {
    out += fmt::format("{}{}={}", first ? "" : ", ", type, name.value_or("null"));
    first = false;
  }
  return out + "})";
}

void client_quotas::load(const std::vector<log::client_quota_record>& records) {
  quotas_.clear();
  ++generation_;
  for (const auto& r : records) {
    quota_entity entity;
    for (const auto& e : r.entity) entity[e.entity_type] = e.entity_name;
    quota_values values;
    for (const auto& v : r.values) values[v.key] = v.value;
    if (!values.empty()) quotas_[entity] = std::move(values);
  }
}

quota_change client_quotas::alter(const std::vector<quota_alteration>& request,
                                  const std::function<bool(const std::string&)>& resolvable) const {
  quota_change change;
  auto result_of = [&](const quota_entity& e) -> quota_alteration_result* {
    for (auto& r : change.results)
      if (r.entity == e) return &r;
    return nullptr;
  };
  for (const auto& alteration : request) {
    const quota_entity& entity = alteration.entity;
    // Later operations on a key already named make the entry a duplicate.
    std::vector<std::pair<std::string, std::optional<double>>> ops;
    bool duplicate = result_of(entity) != nullptr;
    for (const auto& op : alteration.ops) {
      bool seen = false;
      for (const auto& o : ops) seen = seen || o.first == op.first;
      if (seen) duplicate = true;
      else ops.push_back(op);
    }
    if (duplicate) {
      common::result<void> refused = invalid("Ignoring duplicate entity " + describe_entity(entity));
      if (auto* r = result_of(entity)) r->outcome = refused;
      else change.results.push_back({entity, refused});
      continue;
    }
    change.results.push_back({entity, {}});
    auto& outcome = change.results.back().outcome;
    auto keys = keys_for(entity, resolvable);
    if (!keys) {
      outcome = keys.err();
      continue;
    }
    auto current_it = quotas_.find(entity);
    quota_values values = current_it == quotas_.end() ? quota_values{} : current_it->second;
    bool changed = false;
    std::optional<common::error> bad;
    for (const auto& [key, value] : ops) {
      if (!value) {
        changed = values.erase(key) > 0 || changed;
        continue;
      }
      if ((bad = check_value(**keys, key, *value))) break;
      auto [it, inserted] = values.try_emplace(key, *value);
      if (!inserted && it->second != *value) it->second = *value, inserted = true;
      changed = changed || inserted;
    }
    if (bad) {
      outcome = *bad;
      continue;
    }
    if (changed) change.updates[entity] = std::move(values);
  }
  return change;
}

void client_quotas::apply(const std::map<quota_entity, quota_values>& updates) {
  ++generation_;
  for (const auto& [entity, values] : updates) {
    if (values.empty()) quotas_.erase(entity);
    else quotas_[entity] = values;
  }
}

common::result<std::map<quota_entity, quota_values>> client_quotas::describe(
    const std::vector<quota_filter_component>& filter, bool strict) const {
  std::map<std::string, std::optional<std::string>> exact;  // type -> name (nullopt: the default)
  std::set<std::string> any;                                // types with any specified name
  for (const auto& c : filter) {
    if (c.entity_type.empty()) return invalid("Invalid empty entity type.");
    if (exact.count(c.entity_type) || any.count(c.entity_type))
      return invalid("Entity type " + c.entity_type + " cannot appear more than once in the filter.");
    if (c.entity_type != ip_type && c.entity_type != user_type && c.entity_type != client_id_type)
      return common::error{kafka_error::unsupported_version, "Unsupported entity type " + c.entity_type};
    switch (c.match_type) {
      case 0:
        if (!c.match) return invalid("Request specified MATCH_TYPE_EXACT, but set match string to null.");
        exact[c.entity_type] = c.match;
        break;
      case 1:
        if (c.match) return invalid("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.");
        exact[c.entity_type] = std::nullopt;
        break;
      case 2:
        if (c.match) return invalid("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.");
        any.insert(c.entity_type);
        break;
      default:
        return invalid(fmt::format("Unknown match type {}", c.match_type));
    }
  }
  auto named = [&](const char* type) { return exact.count(type) > 0 || any.count(type) > 0; };
  if (named(ip_type) && (named(user_type) || named(client_id_type)))
    return invalid(
        "Invalid entity filter component combination. IP filter component should not be used with user or clientId "
        "filter component.");
  std::map<quota_entity, quota_values> out;
  for (const auto& [entity, values] : quotas_) {
    if (strict && entity.size() != exact.size() + any.size()) continue;
    bool match = true;
    for (const auto& [type, name] : exact) {
      auto it = entity.find(type);
      match = match && it != entity.end() && it->second == name;
    }
    for (const auto& type : any) match = match && entity.count(type) > 0;
    if (match) out.emplace(entity, values);
  }
  return out;
}

log::client_quota_record client_quotas::to_record(const quota_entity& entity, const quota_values& values) {
  log::client_quota_record r;
  for (const auto& [type, name] : entity) r.entity.push_back({type, name});
  for (const auto& [key, value] : values) r.values.push_back({key, value});
  return r;
}

}  // namespace brook::broker
