#include "client/core/config.hpp"

#include <catch2/catch.hpp>

using namespace brook::client::core;
using brook::common::kafka_error;

TEST_CASE("bootstrap.servers parses host:port lists, IPv6 in brackets, and names a bad entry") {
  auto ok = parse_bootstrap_servers(" a:1, b.example:9092 ,[::1]:19092,");
  REQUIRE(ok);
  REQUIRE(ok->size() == 3);
  CHECK((*ok)[0] == host_port{"a", 1});
  CHECK((*ok)[1] == host_port{"b.example", 9092});
  CHECK((*ok)[2] == host_port{"::1", 19092});

  for (const char* bad : {"", "localhost", "localhost:0", "localhost:70000", "host:12x", "::1:9092", "[::1]9092"}) {
    auto r = parse_bootstrap_servers(bad);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == kafka_error::invalid_config);
  }
  CHECK(parse_bootstrap_servers("localhost,b:1").err().message.find("'localhost'") != std::string::npos);
}

TEST_CASE("config_reader: Kafka's defaults, typed values, and errors that name the key") {
  properties p{{"bootstrap.servers", "localhost:9092"}, {"request.timeout.ms", "1500"}, {"client.id", "app"},
               {"key.serializer", "org.apache.kafka.common.serialization.StringSerializer"}};
  config_reader c(p, "producer");
  auto o = read_cluster_options(c, "producer-1", 30000);
  REQUIRE(c.finish());
  CHECK(o.connection.request_timeout == std::chrono::milliseconds(1500));
  CHECK(o.connection.client_id == "app");
  CHECK(o.metadata_max_age == std::chrono::milliseconds(300000));
  CHECK(o.retry_backoff == std::chrono::milliseconds(100));
  CHECK(o.bootstrap.size() == 1);

  SECTION("an unknown key") {
    properties q = p;
    q["linger.msec"] = "5";
    config_reader d(q, "producer");
    read_cluster_options(d, "x", 30000);
    auto f = d.finish();
    REQUIRE_FALSE(f);
    CHECK(f.err().code == kafka_error::invalid_config);
    CHECK(f.err().message == "unknown producer configuration 'linger.msec'");
  }
  SECTION("a bad value") {
    properties q = p;
    q["request.timeout.ms"] = "soon";
    config_reader d(q, "producer");
    read_cluster_options(d, "x", 30000);
    auto f = d.finish();
    REQUIRE_FALSE(f);
    CHECK(f.err().message.find("'request.timeout.ms'") != std::string::npos);
    CHECK(f.err().message.find("soon") != std::string::npos);
  }
  SECTION("a missing bootstrap.servers") {
    properties q;
    config_reader d(q, "consumer");
    read_cluster_options(d, "x", 30000);
    auto f = d.finish();
    REQUIRE_FALSE(f);
    CHECK(f.err().message == "consumer configuration 'bootstrap.servers': is required");
  }
  SECTION("choices are case-insensitive and checked") {
    properties q{{"x", "LATEST"}, {"y", "newest"}};
    config_reader d(q, "consumer");
    CHECK(d.choice("x", "earliest", {"earliest", "latest", "none"}) == "latest");
    CHECK(d.choice("y", "earliest", {"earliest", "latest", "none"}) == "earliest");
    auto f = d.finish();
    REQUIRE_FALSE(f);
    CHECK(f.err().message.find("must be one of earliest, latest, none") != std::string::npos);
  }
  SECTION("ranges") {
    properties q{{"n", "-1"}};
    config_reader d(q, "producer");
    CHECK(d.int32("n", 5, 0) == 5);
    CHECK_FALSE(d.finish());
  }
  SECTION("security protocols other than PLAINTEXT are refused for now") {
    properties q = p;
    q["security.protocol"] = "SASL_SSL";
    config_reader d(q, "producer");
    read_cluster_options(d, "x", 30000);
    auto f = d.finish();
    REQUIRE_FALSE(f);
    CHECK(f.err().message.find("security.protocol") != std::string::npos);
  }
}
