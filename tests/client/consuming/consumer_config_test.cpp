// The consumer's configuration: Kafka's keys and defaults, and errors that name the key.
#include <catch2/catch.hpp>

#include "client/consuming/consumer_config.hpp"

using namespace brook::client::consuming;
using brook::common::kafka_error;

namespace {

brook::client::core::properties base(brook::client::core::properties extra = {}) {
  extra.emplace("bootstrap.servers", "localhost:9092");
  return extra;
}

std::string error_of(brook::client::core::properties props) {
  auto c = consumer_config::parse(props);
  REQUIRE_FALSE(c.ok());
  CHECK(c.code() == kafka_error::invalid_config);
  return c.err().message;
}

}  // namespace

TEST_CASE("defaults are Kafka's") {
  auto c = consumer_config::parse(base({{"group.id", "g"}}));
  REQUIRE(c.ok());
  CHECK(c->cluster.bootstrap == std::vector<brook::client::core::host_port>{{"localhost", 9092}});
  CHECK(c->protocol == group_protocol::classic);
  CHECK(c->session_timeout_ms == 45000);
  CHECK(c->heartbeat_interval_ms == 3000);
  CHECK(c->max_poll_interval_ms == 300000);
  CHECK(c->max_poll_records == 500);
  CHECK(c->enable_auto_commit);
  CHECK(c->auto_commit_interval_ms == 5000);
  CHECK(c->auto_offset_reset == offset_reset_strategy::latest);
  CHECK(c->fetch_min_bytes == 1);
  CHECK(c->fetch_max_bytes == 52428800);
  CHECK(c->fetch_max_wait_ms == 500);
  CHECK(c->max_partition_fetch_bytes == 1048576);
  CHECK(c->isolation == isolation_level::read_uncommitted);
  CHECK(c->partition_assignment_strategy == std::vector<std::string>{"range", "cooperative-sticky"});
  CHECK(c->cluster.connection.request_timeout == std::chrono::milliseconds(30000));
  CHECK(c->default_api_timeout_ms == 60000);
  CHECK(c->cluster.metadata_max_age == std::chrono::milliseconds(300000));
  CHECK_FALSE(c->group_instance_id);
  CHECK_FALSE(c->group_remote_assignor);
  CHECK(c->cluster.connection.client_id.rfind("consumer-g-", 0) == 0);
}

TEST_CASE("every honoured key is read") {
  auto c = consumer_config::parse(base({{"group.id", "g"},
                                        {"group.instance.id", "instance-1"},
                                        {"group.protocol", "CONSUMER"},
                                        {"group.remote.assignor", "uniform"},
                                        {"auto.offset.reset", "earliest"},
                                        {"enable.auto.commit", " False "},
                                        {"auto.commit.interval.ms", "100"},
                                        {"max.poll.interval.ms", "1000"},
                                        {"max.poll.records", "7"},
                                        {"fetch.min.bytes", "10"},
                                        {"fetch.max.bytes", "1000"},
                                        {"fetch.max.wait.ms", "20"},
                                        {"max.partition.fetch.bytes", "300"},
                                        {"isolation.level", "read_committed"},
                                        {"client.id", "me"},
                                        {"client.rack", "rack-a"}}));
  REQUIRE(c.ok());
  CHECK(c->group_instance_id == std::optional<std::string>("instance-1"));
  CHECK(c->protocol == group_protocol::consumer);
  CHECK(c->group_remote_assignor == std::optional<std::string>("uniform"));
  CHECK(c->auto_offset_reset == offset_reset_strategy::earliest);
  CHECK_FALSE(c->enable_auto_commit);
  CHECK(c->auto_commit_interval_ms == 100);
  CHECK(c->max_poll_records == 7);
  CHECK(c->fetch_min_bytes == 10);
  CHECK(c->fetch_max_wait_ms == 20);
  CHECK(c->max_partition_fetch_bytes == 300);
  CHECK(c->isolation == isolation_level::read_committed);
  CHECK(c->cluster.connection.client_id == "me");
  CHECK(c->client_rack == "rack-a");
  // The client id Java makes up from the group and the instance id.
  auto d = consumer_config::parse(base({{"group.id", "g"}, {"group.instance.id", "i"}}));
  REQUIRE(d.ok());
  CHECK(d->cluster.connection.client_id == "consumer-g-i");
}

TEST_CASE("assignors by protocol name or Java class name, in order") {
  auto c = consumer_config::parse(base({{"partition.assignment.strategy",
                                         "org.apache.kafka.clients.consumer.CooperativeStickyAssignor, roundrobin"}}));
  REQUIRE(c.ok());
  CHECK(c->partition_assignment_strategy == std::vector<std::string>{"cooperative-sticky", "roundrobin"});
  CHECK(error_of(base({{"partition.assignment.strategy", "org.apache.kafka.clients.consumer.StickyAssignor"}}))
            .find("partition.assignment.strategy") != std::string::npos);
}

TEST_CASE("unknown keys and bad values are errors naming the key") {
  CHECK(error_of(base({{"fetch.min.byte", "1"}})).find("fetch.min.byte") != std::string::npos);
  CHECK(error_of(base({{"max.poll.records", "0"}})).find("max.poll.records") != std::string::npos);
  CHECK(error_of(base({{"max.poll.records", "ten"}})).find("max.poll.records") != std::string::npos);
  CHECK(error_of(base({{"fetch.max.wait.ms", "-1"}})).find("fetch.max.wait.ms") != std::string::npos);
  CHECK(error_of(base({{"auto.offset.reset", "smallest"}})).find("auto.offset.reset") != std::string::npos);
  CHECK(error_of(base({{"isolation.level", "committed"}})).find("isolation.level") != std::string::npos);
  CHECK(error_of(base({{"group.protocol", "eager"}})).find("group.protocol") != std::string::npos);
  CHECK(error_of(base({{"enable.auto.commit", "yes"}})).find("enable.auto.commit") != std::string::npos);
  CHECK(error_of(base({{"group.id", "g"}, {"group.instance.id", "a b"}})).find("group.instance.id") != std::string::npos);
  CHECK(error_of(base({{"security.protocol", "SSL"}})).find("security.protocol") != std::string::npos);
  CHECK(error_of({}).find("bootstrap.servers") != std::string::npos);
  CHECK(error_of({{"bootstrap.servers", "localhost"}}).find("bootstrap.servers") != std::string::npos);
  CHECK(error_of({{"bootstrap.servers", "localhost:99999"}}).find("bootstrap.servers") != std::string::npos);
}

TEST_CASE("Java's cross-key rules") {
  // No group: auto commit is off, and asking for it is an error.
  auto c = consumer_config::parse(base());
  REQUIRE(c.ok());
  CHECK_FALSE(c->enable_auto_commit);
  CHECK(c->cluster.connection.client_id.rfind("consumer-null-", 0) == 0);
  CHECK(error_of(base({{"enable.auto.commit", "true"}})).find("enable.auto.commit") != std::string::npos);
  // The remote assignor belongs to the consumer protocol; client assignors to the classic one.
  CHECK(error_of(base({{"group.id", "g"}, {"group.remote.assignor", "uniform"}})).find("group.remote.assignor") !=
        std::string::npos);
  CHECK(error_of(base({{"group.id", "g"}, {"group.protocol", "consumer"}, {"partition.assignment.strategy", "range"}}))
            .find("partition.assignment.strategy") != std::string::npos);
  CHECK(error_of(base({{"group.id", "g"}, {"session.timeout.ms", "3000"}, {"heartbeat.interval.ms", "3000"}}))
            .find("heartbeat.interval.ms") != std::string::npos);
}

