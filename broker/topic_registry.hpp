// The broker's view of its topics: every topic's id, partition count, config overrides and effective
// configuration, loaded from the metadata store at start and kept in step with it.
//
// Owned by the broker and touched only on the network thread. The metadata store is the source of
// truth: callers make the durable change there first (off the network thread) and then apply it
// here, so a topic is visible only once it is on disk.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/server_config.hpp"
#include "broker/config/topic_config.hpp"
#include "common/error.hpp"
#include "common/uuid.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker {

struct topic_info {
  log::topic_record record;  // name, id, partitions, replication factor, overrides
  effective_topic_config config;
};

class topic_registry {
 public:
  // `config` is the broker's, which it replaces in place when dynamic configs change (then
  // resolve_again()).
  explicit topic_registry(const server_config& config) : config_(config) {}

  // Replaces the whole view (at start, from the store). Topics whose stored overrides no longer
  // validate keep Kafka's defaults for those keys and are reported in the result's message.
  std::vector<std::string> load(std::vector<log::topic_record> records);

  const topic_info* find(std::string_view name) const;
  const topic_info* find(const common::uuid& id) const;
  const std::map<std::string, topic_info, std::less<>>& all() const { return topics_; }
  // An existing topic whose name differs from `name` only in '.' versus '_' (Kafka refuses such
  // pairs: both map to the same metric names).
  const topic_info* find_colliding(std::string_view name) const;

  // Applies a change already made durable in the store.
  void put(log::topic_record record);
  // Resolves every topic's effective configuration again (the broker's defaults changed); returns the
  // topics whose configuration changed.
  std::vector<std::string> resolve_again();
  void erase(std::string_view name);

 private:
  const server_config& config_;
  std::map<std::string, topic_info, std::less<>> topics_;
  std::map<common::uuid, std::string> by_id_;
};

// Kafka's rules for a topic name: 1 to 249 characters from [a-zA-Z0-9._-], and not "." or "..".
// Returns the reason a name is refused, in Kafka 4.4's words, or nothing.
std::optional<std::string> invalid_topic_name_reason(std::string_view name);

topic_overrides to_overrides(const std::map<std::string, std::string>& stored);

}  // namespace brook::broker
