#include "broker/topic_registry.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace brook::broker {

topic_overrides to_overrides(const std::map<std::string, std::string>& stored) {
  return topic_overrides(stored.begin(), stored.end());
}

std::vector<std::string> topic_registry::load(std::vector<log::topic_record> records) {
  std::vector<std::string> problems;
  topics_.clear();
  by_id_.clear();
  for (auto& r : records) {
    auto resolved = resolve_topic_config(config_, to_overrides(r.configs));
    if (!resolved) {
      problems.push_back(fmt::format("topic {}: {}", r.name, resolved.err().message));
      auto defaults = resolve_topic_config(config_, {});
      topics_[r.name] = topic_info{r, defaults.ok() ? *defaults : effective_topic_config{}};
    } else {
      topics_[r.name] = topic_info{r, *resolved};
    }
    by_id_[r.id] = r.name;
  }
  return problems;
}

const topic_info* topic_registry::find(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const topic_info* topic_registry::find(const common::uuid& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : find(it->second);
}

const topic_info* topic_registry::find_colliding(std::string_view name) const {
  auto normal = [](std::string_view n) {
    std::string out(n);
    std::replace(out.begin(), out.end(), '.', '_');
    return out;
  };
  const std::string wanted = normal(name);
  for (const auto& [existing, info] : topics_)
    if (existing != name && normal(existing) == wanted) return &info;
  return nullptr;
}

void topic_registry::put(log::topic_record record) {
  auto resolved = resolve_topic_config(config_, to_overrides(record.configs));
  auto name = record.name;
  by_id_[record.id] = name;
  topics_[name] = topic_info{std::move(record), resolved.ok() ? *resolved : effective_topic_config{}};
}

std::vector<std::string> topic_registry::resolve_again() {
  std::vector<std::string> changed;
  for (auto& [name, info] : topics_) {
    auto resolved = resolve_topic_config(config_, to_overrides(info.record.configs));
    if (!resolved) continue;  // overrides the broker no longer accepts keep their last resolution
    if (!(*resolved == info.config)) {
      info.config = std::move(*resolved);
      changed.push_back(name);
    }
  }
  return changed;
}

void topic_registry::erase(std::string_view name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return;
  by_id_.erase(it->second.record.id);
  topics_.erase(it);
}

std::optional<std::string> invalid_topic_name_reason(std::string_view name) {
  // Kafka 4.4's wording (Topic.validate).
  if (name.empty()) return "Topic name is invalid: the empty string is not allowed";
  if (name == ".") return "Topic name is invalid: '.' is not allowed";
  if (name == "..") return "Topic name is invalid: '..' is not allowed";
  if (name.size() > 249)
    return fmt::format("Topic name is invalid: the length of '{}' is longer than the max allowed length 249", name);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok)
      return fmt::format(
          "Topic name is invalid: '{}' contains one or more characters other than ASCII alphanumerics, '.', '_' "
          "and '-'",
          name);
  }
  return std::nullopt;
}

}  // namespace brook::broker
