// What the config unit tests share: a server_config from properties (failing the test on a refusal) and
// one entry of a describe answer by name.
#pragma once

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

#include "broker/config/server_config.hpp"

namespace brook::test {

inline broker::server_config server_config_of(broker::property_list props = {}) {
  auto r = broker::server_config::from_properties(props);
  if (!r) FAIL(r.err().message);
  return std::move(r).value();
}

inline const broker::config_entry& entry_named(const std::vector<broker::config_entry>& entries,
                                               std::string_view name) {
  for (const auto& e : entries)
    if (e.name == name) return e;
  FAIL("no entry " << name);
  return entries.front();
}

}  // namespace brook::test
