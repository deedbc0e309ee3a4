// The producer's configuration: the Java producer's keys that Brook honours, with Kafka's names, defaults and
// validation, parsed from string properties. The idempotence rules are Kafka 4's: idempotence is on by
// default; a conflicting acks or retries turns it off when enable.idempotence was not set, and is an error
// naming the key when it was set to true; max.in.flight.requests.per.connection above 5 is an error unless
// enable.idempotence=false.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/core/cluster.hpp"
#include "client/core/config.hpp"
#include "common/error.hpp"
#include "common/record_batch.hpp"

namespace brook::client::producing {

struct producer_config {
  // bootstrap.servers, client.id, request.timeout.ms, metadata, reconnect and retry backoffs, as every
  // client reads them.
  core::cluster_options cluster;
  std::string client_id;
  int16_t acks = -1;  // "all" and "-1" both mean -1
  int32_t retries = INT32_MAX;
  int32_t batch_size = 16384;
  int64_t linger_ms = 5;  // Kafka 4.0 raised the default from 0 (KIP-1030)
  int64_t buffer_memory = 32 * 1024 * 1024;
  int64_t max_block_ms = 60000;
  int32_t max_request_size = 1024 * 1024;
  int32_t request_timeout_ms = 30000;
  int32_t delivery_timeout_ms = 120000;
  int64_t retry_backoff_ms = 100;
  int64_t retry_backoff_max_ms = 1000;
  int32_t max_in_flight_requests_per_connection = 5;
  bool enable_idempotence = true;
  common::compression_codec compression_type = common::compression_codec::none;
  int32_t compression_gzip_level = -1;  // zlib's default (6)
  int32_t compression_lz4_level = 9;
  int32_t compression_zstd_level = 3;
  bool partitioner_adaptive_partitioning_enable = true;
  int64_t partitioner_availability_timeout_ms = 0;
  bool partitioner_ignore_keys = false;
  int64_t metadata_max_idle_ms = 300000;
  int32_t transaction_timeout_ms = 60000;

  // Parses `properties` (Kafka key -> value). Every key must be one Brook knows; a value that does not parse
  // or is out of range, and a conflict between settings, is an invalid_config error naming the key.
  // bootstrap.servers must be given.
  static common::result<producer_config> parse(const core::properties& properties);

  // Whether ordering per partition needs one in-flight batch per partition: Java mutes a partition while a
  // batch is in flight when max.in.flight.requests.per.connection is 1 (the idempotent producer keeps order
  // with up to 5 through sequence numbers instead).
  bool guarantee_message_order() const { return max_in_flight_requests_per_connection == 1; }
};

}  // namespace brook::client::producing
