// Helpers the config handler tests share: IncrementalAlterConfigs and DescribeConfigs on one resource.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "broker_fixture.hpp"
#include "common/protocol/messages/describe_configs.hpp"
#include "common/protocol/messages/incremental_alter_configs.hpp"

namespace brook::test::configs {

namespace iac = proto::incremental_alter_configs;
namespace dc = proto::describe_configs;

constexpr int8_t topic_resource = 2, broker_resource = 4, group_resource = 32;
constexpr int8_t op_set = 0, op_delete = 1, op_append = 2;

struct op {
  std::string name;
  int8_t operation = op_set;
  std::optional<std::string> value;
};

inline iac::alter_configs_resource_response alter(broker_fixture& b, int8_t type, const std::string& name,
                                           std::vector<op> ops, bool validate_only = false) {
  iac::request req;
  auto& r = req.resources.emplace_back();
  r.resource_type = type;
  r.resource_name = name;
  for (auto& o : ops) r.configs.push_back({o.name, o.operation, o.value});
  req.validate_only = validate_only;
  auto resp = b.call<iac::response>(iac::api_key, 1, req);
  REQUIRE(resp.responses.size() == 1);
  return resp.responses[0];
}

inline void require_ok(const iac::alter_configs_resource_response& r) {
  INFO(r.error_message.value_or(""));
  REQUIRE(r.error_code == 0);
}

inline dc::describe_configs_result describe(broker_fixture& b, int8_t type, const std::string& name,
                                     std::optional<std::vector<std::string>> keys = std::nullopt) {
  dc::request req;
  auto& r = req.resources.emplace_back();
  r.resource_type = type;
  r.resource_name = name;
  r.configuration_keys = std::move(keys);
  req.include_synonyms = true;
  auto resp = b.call<dc::response>(dc::api_key, 4, req);
  REQUIRE(resp.results.size() == 1);
  return resp.results[0];
}

inline const dc::describe_configs_resource_result& entry(const dc::describe_configs_result& r, const std::string& name) {
  auto it = std::find_if(r.configs.begin(), r.configs.end(), [&](const auto& c) { return c.name == name; });
  REQUIRE(it != r.configs.end());
  return *it;
}

using synonym_list = std::vector<std::tuple<std::string, std::optional<std::string>, int8_t>>;
inline synonym_list synonyms(const dc::describe_configs_resource_result& c) {
  synonym_list out;
  for (const auto& s : c.synonyms) out.emplace_back(s.name, s.value, s.source);
  return out;
}

}  // namespace brook::test::configs
