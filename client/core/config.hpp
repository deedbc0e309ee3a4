// Reading a client's configuration: Kafka's key names and defaults, given as string properties as
// the Java client takes them. Each getter records the key as known; finish() then reports the first
// bad value or, failing that, the first key no getter asked for, so that a typo is an error naming it.
//
// Owner: the code that builds one client's settings, for the length of that call; not shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/core/cluster.hpp"
#include "common/error.hpp"

namespace brook::client::core {

using properties = std::map<std::string, std::string, std::less<>>;

class config_reader {
 public:
  // `kind` names the client in messages ("producer", "consumer", "admin client").
  config_reader(const properties& props, std::string kind);

  bool has(std::string_view key) const;
  std::string string(std::string_view key, std::string fallback);
  std::optional<std::string> optional_string(std::string_view key);
  // A value that must be present and non-empty.
  std::string required_string(std::string_view key);
  int32_t int32(std::string_view key, int32_t fallback, int64_t min = INT32_MIN, int64_t max = INT32_MAX);
  int64_t int64(std::string_view key, int64_t fallback, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  bool boolean(std::string_view key, bool fallback);
  std::chrono::milliseconds millis(std::string_view key, int64_t fallback, int64_t min = 0,
                                   int64_t max = INT64_MAX);
  // One of `allowed`, compared case-insensitively as Kafka does; returned in lower case.
  std::string choice(std::string_view key, std::string fallback, std::initializer_list<std::string_view> allowed);
  // A comma-separated list (spaces around entries ignored, empty entries dropped).
  std::vector<std::string> list(std::string_view key, std::vector<std::string> fallback);
  // Keys of the Java client that are accepted and have no effect here (serializer classes, metrics
  // reporters, ...): named so that existing configurations work unchanged.
  void accept(std::initializer_list<std::string_view> keys);

  // Records a problem found by the caller's own cross-checks (the first one wins).
  void fail(std::string_view key, std::string why);
  // The first bad value, else the first unknown key, else success.
  common::result<void> finish() const;

 private:
  const std::string* raw(std::string_view key);
  void bad(std::string_view key, std::string_view value, std::string_view why);

  const properties& props_;
  std::string kind_;
  std::set<std::string, std::less<>> known_;
  std::optional<common::error> first_error_;
};

// The settings every client shares: bootstrap.servers, client.id, request.timeout.ms,
// socket.connection.setup.timeout.ms, metadata.max.age.ms, reconnect.backoff[.max].ms,
// retry.backoff[.max].ms, security.protocol (PLAINTEXT only for now), client.dns.lookup and the
// Java client's keys that have no effect here.
cluster_options read_cluster_options(config_reader& config, std::string default_client_id,
                                     int64_t default_request_timeout_ms);

}  // namespace brook::client::core
