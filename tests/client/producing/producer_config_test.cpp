#include "client/producing/producer_config.hpp"

#include <catch2/catch.hpp>

using namespace brook::client::producing;
using brook::common::compression_codec;
using brook::common::kafka_error;

namespace {
brook::client::core::properties props(std::initializer_list<std::pair<const std::string, std::string>> extra) {
  brook::client::core::properties p{{"bootstrap.servers", "localhost:9092"}};
  for (const auto& [k, v] : extra) p[k] = v;
  return p;
}
void require_error_naming(const brook::common::result<producer_config>& r, const std::string& key) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == kafka_error::invalid_config);
  INFO(r.err().message);
  CHECK(r.err().message.find(key) != std::string::npos);
}
}  // namespace

TEST_CASE("producer defaults are Kafka's", "[producing][config]") {
  auto r = producer_config::parse(props({}));
  REQUIRE(r.ok());
  const auto& c = *r;
  CHECK(c.acks == -1);
  CHECK(c.retries == INT32_MAX);
  CHECK(c.batch_size == 16384);
  CHECK(c.linger_ms == 5);
  CHECK(c.buffer_memory == 32 * 1024 * 1024);
  CHECK(c.max_block_ms == 60000);
  CHECK(c.max_request_size == 1048576);
  CHECK(c.request_timeout_ms == 30000);
  CHECK(c.delivery_timeout_ms == 120000);
  CHECK(c.retry_backoff_ms == 100);
  CHECK(c.retry_backoff_max_ms == 1000);
  CHECK(c.max_in_flight_requests_per_connection == 5);
  CHECK(c.enable_idempotence);
  CHECK(c.compression_type == compression_codec::none);
  CHECK(c.compression_gzip_level == -1);
  CHECK(c.compression_lz4_level == 9);
  CHECK(c.compression_zstd_level == 3);
  CHECK(c.partitioner_adaptive_partitioning_enable);
  CHECK(c.partitioner_availability_timeout_ms == 0);
  CHECK_FALSE(c.partitioner_ignore_keys);
  CHECK(c.client_id.rfind("producer-", 0) == 0);
  CHECK_FALSE(c.guarantee_message_order());
}

TEST_CASE("producer keys parse with Kafka's spellings", "[producing][config]") {
  auto r = producer_config::parse(props({{"acks", "1"},
                                         {"enable.idempotence", "false"},
                                         {"compression.type", "zstd"},
                                         {"compression.zstd.level", "-5"},
                                         {"linger.ms", "0"},
                                         {"batch.size", "0"},
                                         {"max.in.flight.requests.per.connection", "1"},
                                         {"partitioner.ignore.keys", "TRUE"},
                                         {"client.id", "me"},
                                         {"key.serializer", "org.apache.kafka.common.serialization.StringSerializer"}}));
  REQUIRE(r.ok());
  CHECK(r->acks == 1);
  CHECK_FALSE(r->enable_idempotence);
  CHECK(r->compression_type == compression_codec::zstd);
  CHECK(r->compression_zstd_level == -5);
  CHECK(r->linger_ms == 0);
  CHECK(r->batch_size == 0);
  CHECK(r->partitioner_ignore_keys);
  CHECK(r->client_id == "me");
  CHECK(r->guarantee_message_order());
  CHECK(producer_config::parse(props({{"acks", "all"}}))->acks == -1);
  CHECK(producer_config::parse(props({{"acks", "-1"}}))->acks == -1);
  CHECK(producer_config::parse(props({{"acks", "0"}}))->acks == 0);
}

TEST_CASE("producer: unknown keys and bad values are errors naming the key", "[producing][config]") {
  require_error_naming(producer_config::parse(props({{"linger.msx", "1"}})), "linger.msx");
  require_error_naming(producer_config::parse(props({{"acks", "2"}})), "acks");
  require_error_naming(producer_config::parse(props({{"batch.size", "-1"}})), "batch.size");
  require_error_naming(producer_config::parse(props({{"linger.ms", "soon"}})), "linger.ms");
  require_error_naming(producer_config::parse(props({{"compression.type", "brotli"}})), "compression.type");
  require_error_naming(producer_config::parse(props({{"compression.gzip.level", "0"}})), "compression.gzip.level");
  require_error_naming(producer_config::parse(props({{"compression.gzip.level", "10"}})), "compression.gzip.level");
  require_error_naming(producer_config::parse(props({{"compression.lz4.level", "18"}})), "compression.lz4.level");
  require_error_naming(producer_config::parse(props({{"compression.zstd.level", "23"}})), "compression.zstd.level");
  require_error_naming(producer_config::parse(props({{"enable.idempotence", "yes"}})), "enable.idempotence");
  require_error_naming(producer_config::parse(props({{"max.in.flight.requests.per.connection", "0"}})),
                       "max.in.flight.requests.per.connection");
  require_error_naming(producer_config::parse(props({{"transactional.id", "tx"}})), "transactional.id");
  require_error_naming(producer_config::parse({}), "bootstrap.servers");
}

TEST_CASE("conflicting settings turn implicit idempotence off", "[producing][config]") {
  CHECK_FALSE(producer_config::parse(props({{"acks", "1"}}))->enable_idempotence);
  CHECK_FALSE(producer_config::parse(props({{"retries", "0"}}))->enable_idempotence);
  CHECK_FALSE(producer_config::parse(props({{"max.in.flight.requests.per.connection", "6"}}))->enable_idempotence);
  CHECK(producer_config::parse(props({{"max.in.flight.requests.per.connection", "5"}}))->enable_idempotence);
}

TEST_CASE("conflicting settings with explicit idempotence are errors naming the key", "[producing][config]") {
  require_error_naming(producer_config::parse(props({{"enable.idempotence", "true"}, {"acks", "1"}})), "acks");
  require_error_naming(producer_config::parse(props({{"enable.idempotence", "true"}, {"retries", "0"}})), "retries");
  require_error_naming(
      producer_config::parse(props({{"enable.idempotence", "true"}, {"max.in.flight.requests.per.connection", "6"}})),
      "max.in.flight.requests.per.connection");
  CHECK(producer_config::parse(props({{"enable.idempotence", "true"}, {"acks", "all"}}))->enable_idempotence);
}

TEST_CASE("delivery.timeout.ms must cover linger.ms + request.timeout.ms", "[producing][config]") {
  require_error_naming(producer_config::parse(props({{"delivery.timeout.ms", "1000"}})), "delivery.timeout.ms");
  // Not given: raised to the floor, as Java does with a warning.
  auto r = producer_config::parse(props({{"linger.ms", "100000"}}));
  REQUIRE(r.ok());
  CHECK(r->delivery_timeout_ms == 130000);
  CHECK(producer_config::parse(props({{"delivery.timeout.ms", "30005"}})).ok());
}
