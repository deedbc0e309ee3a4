#include "client/producing/producer_config.hpp"

#include <atomic>
#include <limits>

namespace brook::client::producing {

using common::error;
using common::kafka_error;
using common::result;

result<producer_config> producer_config::parse(const core::properties& properties) {
  static std::atomic<int> producer_sequence{1};
  producer_config c;
  core::config_reader r(properties, "producer");
  c.cluster = core::read_cluster_options(r, "", 30000);
  c.client_id = c.cluster.connection.client_id;
  if (c.client_id.empty()) {
    // Java names an unnamed producer producer-1, producer-2, ...
    c.client_id = "producer-" + std::to_string(producer_sequence++);
    c.cluster.connection.client_id = c.client_id;
  }
  c.request_timeout_ms = static_cast<int32_t>(c.cluster.connection.request_timeout.count());
  c.retry_backoff_ms = c.cluster.retry_backoff.count();
  c.retry_backoff_max_ms = c.cluster.retry_backoff_max.count();

  const auto acks = r.choice("acks", "all", {"all", "-1", "0", "1"});
  c.acks = acks == "all" ? int16_t{-1} : static_cast<int16_t>(std::stoi(acks));
  c.retries = r.int32("retries", INT32_MAX, 0);
  c.batch_size = r.int32("batch.size", 16384, 0);
  c.linger_ms = r.int64("linger.ms", 5, 0);
  c.buffer_memory = r.int64("buffer.memory", 32 * 1024 * 1024, 0);
  c.max_block_ms = r.int64("max.block.ms", 60000, 0);
  c.max_request_size = r.int32("max.request.size", 1024 * 1024, 0);
  c.delivery_timeout_ms = r.int32("delivery.timeout.ms", 120000, 0);
  c.max_in_flight_requests_per_connection = r.int32("max.in.flight.requests.per.connection", 5, 1);
  c.enable_idempotence = r.boolean("enable.idempotence", true);
  const auto codec = r.choice("compression.type", "none", {"none", "gzip", "snappy", "lz4", "zstd"});
  if (codec == "gzip") c.compression_type = common::compression_codec::gzip;
  else if (codec == "snappy") c.compression_type = common::compression_codec::snappy;
  else if (codec == "lz4") c.compression_type = common::compression_codec::lz4;
  else if (codec == "zstd") c.compression_type = common::compression_codec::zstd;
  else c.compression_type = common::compression_codec::none;
  c.compression_gzip_level = r.int32("compression.gzip.level", -1, -1, 9);
  if (c.compression_gzip_level == 0) r.fail("compression.gzip.level", "must be -1 or between 1 and 9");
  c.compression_lz4_level = r.int32("compression.lz4.level", 9, 1, 17);
  c.compression_zstd_level = r.int32("compression.zstd.level", 3, -131072, 22);
  c.partitioner_adaptive_partitioning_enable = r.boolean("partitioner.adaptive.partitioning.enable", true);
  c.partitioner_availability_timeout_ms = r.int64("partitioner.availability.timeout.ms", 0, 0);
  c.partitioner_ignore_keys = r.boolean("partitioner.ignore.keys", false);
  if (r.boolean("partitioner.rack.aware", false))
    r.fail("partitioner.rack.aware", "rack-aware partitioning is not available in Brook's producer");
  c.metadata_max_idle_ms = r.int64("metadata.max.idle.ms", 300000, 5000);
  r.int64("bootstrap.resolve.timeout.ms", 0, 0);  // accepted; bootstrap names are resolved on each connect
  if (r.boolean("transaction.two.phase.commit.enable", false))
    r.fail("transaction.two.phase.commit.enable", "transactions are not supported by Brook's producer yet");
  c.transaction_timeout_ms = r.int32("transaction.timeout.ms", 60000);
  if (auto id = r.optional_string("transactional.id"))
    r.fail("transactional.id", "transactions are not supported by Brook's producer yet");
  if (auto p = r.optional_string("partitioner.class");
      p && *p != "org.apache.kafka.clients.producer.internals.DefaultPartitioner")
    r.fail("partitioner.class", "only the built-in partitioner is available");

  // Idempotence (ProducerConfig.postProcessAndValidateIdempotenceConfigs).
  if (c.enable_idempotence) {
    const bool explicit_idempotence = r.has("enable.idempotence");
    if (c.retries == 0) {
      if (explicit_idempotence)
        r.fail("retries", "must be non-zero when using the idempotent producer (enable.idempotence=true)");
      c.enable_idempotence = false;
    }
    if (c.acks != -1) {
      if (explicit_idempotence)
        r.fail("acks",
               "must be all in order to use the idempotent producer (enable.idempotence=true); otherwise "
               "idempotence cannot be guaranteed");
      c.enable_idempotence = false;
    }
    // Since Kafka 4.0 this one is an error even when idempotence is only on by default (and even when acks
    // or retries just turned it off): enable.idempotence=false must be said.
    if (c.max_in_flight_requests_per_connection > 5)
      r.fail("max.in.flight.requests.per.connection",
             "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. "
             "Current value is " + std::to_string(c.max_in_flight_requests_per_connection) +
             " (or set enable.idempotence=false)");
  }

  // KafkaProducer.configureDeliveryTimeout: delivery.timeout.ms must cover one linger and one request.
  const int64_t floor = c.linger_ms + int64_t{c.request_timeout_ms};
  if (c.delivery_timeout_ms < floor) {
    if (r.has("delivery.timeout.ms"))
      r.fail("delivery.timeout.ms", "should be equal to or larger than linger.ms + request.timeout.ms (" +
                                        std::to_string(floor) + ")");
    else
      c.delivery_timeout_ms = static_cast<int32_t>(std::min<int64_t>(floor, std::numeric_limits<int32_t>::max()));
  }
  if (auto done = r.finish(); !done) return done.err();
  return c;
}

}  // namespace brook::client::producing
