// The embedded broker: start, produce and consume through Brook's client, restart, crash, reset, options,
// several brokers in one process.
#include "brook/embedded/broker.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "tests/embedded/embedded_test_util.hpp"

using namespace brook::embedded;
using namespace brook::embedded::testing;

TEST_CASE("an embedded broker serves produce and consume on 127.0.0.1 and removes its temporary directory") {
  std::filesystem::path dir;
  {
    auto b = start_broker();
    dir = b->data_dir();
    CHECK(std::filesystem::is_directory(dir));
    CHECK(b->port() != 0);
    CHECK(b->bootstrap_servers() == "127.0.0.1:" + std::to_string(b->port()));
    auto id = b->create_topic("orders", 2, {{"cleanup.policy", "delete"}});
    INFO((id ? std::string() : id.err().message));
    REQUIRE(id);
    produce(b->bootstrap_servers(), "orders", {"a", "b", "c"});
    CHECK(consume(b->bootstrap_servers(), "orders", 3) == std::vector<std::string>{"a", "b", "c"});
  }
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("create_topic answers with Kafka's errors as values") {
  auto b = start_broker();
  REQUIRE(b->create_topic("t", 1));
  auto again = b->create_topic("t", 1);
  REQUIRE_FALSE(again);
  CHECK(again.code() == brook::common::kafka_error::topic_already_exists);
  auto bad_name = b->create_topic("no/slash", 1);
  REQUIRE_FALSE(bad_name);
  CHECK(bad_name.code() == brook::common::kafka_error::invalid_topic_exception);
  auto bad_config = b->create_topic("u", 1, {{"cleanup.policy", "sometimes"}});
  REQUIRE_FALSE(bad_config);
  CHECK(bad_config.code() == brook::common::kafka_error::invalid_config);
}

TEST_CASE("broker properties are overridden as brook-server's --override, and refused with a message") {
  auto b = start_broker({.overrides = {"num.partitions=3"}});
  REQUIRE(b->create_topic("defaulted", -1));
  auto admin = brook::client::admin_client::create({{"bootstrap.servers", b->bootstrap_servers()}});
  REQUIRE(admin);
  auto described = admin->describe_topics({"defaulted"});
  REQUIRE(described);
  auto& d = described->at("defaulted");
  REQUIRE(d);
  CHECK(d->partitions.size() == 3);

  auto refused = broker::start({.overrides = {"num.partitions=many"}});
  REQUIRE_FALSE(refused);
  CHECK(refused.err().message.find("num.partitions") != std::string::npos);
  auto malformed = broker::start({.overrides = {"no-equals-sign"}});
  REQUIRE_FALSE(malformed);
}

TEST_CASE("a given data directory is used and kept, and restart keeps topics and records on the same port") {
  auto dir = std::filesystem::temp_directory_path() / ("brook-embedded-test-" + std::to_string(std::random_device{}()));
  {
    auto b = start_broker({.data_dir = dir});
    CHECK(b->data_dir() == dir);
    REQUIRE(b->create_topic("kept", 1));
    produce(b->bootstrap_servers(), "kept", {"one", "two"});
    const auto port = b->port();
    REQUIRE(b->restart());
    CHECK(b->running());
    CHECK(b->port() == port);
    CHECK(consume(b->bootstrap_servers(), "kept", 2) == std::vector<std::string>{"one", "two"});
    REQUIRE(b->stop());
    CHECK_FALSE(b->running());
    CHECK_FALSE(b->create_topic("x", 1));
    REQUIRE(b->stop());  // idempotent
  }
  CHECK(std::filesystem::is_directory(dir));
  {
    auto b = start_broker({.data_dir = dir});
    CHECK(consume(b->bootstrap_servers(), "kept", 2) == std::vector<std::string>{"one", "two"});
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("crash loses the records that were not fsynced and the broker recovers the rest") {
  auto b = start_broker();
  REQUIRE(b->create_topic("durable", 1));
  // acks=all: fsynced before the answer. acks=1 with the default flush policy: in the page cache only.
  produce(b->bootstrap_servers(), "durable", {"synced-1", "synced-2", "synced-3"}, "all");
  produce(b->bootstrap_servers(), "durable", {"unsynced-1", "unsynced-2"}, "1");
  CHECK(end_offset(b->bootstrap_servers(), "durable") == 5);
  REQUIRE(b->crash());
  CHECK(b->running());
  CHECK(end_offset(b->bootstrap_servers(), "durable") == 3);
  CHECK(consume(b->bootstrap_servers(), "durable", 3) == std::vector<std::string>{"synced-1", "synced-2", "synced-3"});
  // The recovered log takes appends at the offset after the last durable record.
  produce(b->bootstrap_servers(), "durable", {"after"}, "all");
  CHECK(end_offset(b->bootstrap_servers(), "durable") == 4);
}

TEST_CASE("crash keeps acks=1 records when flush.messages=1 syncs every append") {
  auto b = start_broker({.overrides = {"log.flush.interval.messages=1"}});
  REQUIRE(b->create_topic("flushed", 1));
  produce(b->bootstrap_servers(), "flushed", {"a", "b"}, "1");
  REQUIRE(b->crash());
  CHECK(end_offset(b->bootstrap_servers(), "flushed") == 2);
  CHECK(consume(b->bootstrap_servers(), "flushed", 2) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("crash keeps topics, committed offsets and groups, which are synced when written") {
  auto b = start_broker();
  REQUIRE(b->create_topic("t", 1));
  produce(b->bootstrap_servers(), "t", {"x", "y"});
  {
    auto c = brook::client::consumer::create(
        {{"bootstrap.servers", b->bootstrap_servers()}, {"group.id", "g"}, {"enable.auto.commit", "false"}});
    REQUIRE(c);
    REQUIRE((*c)->assign({{"t", 0}}));
    REQUIRE((*c)->commit_sync({{{"t", 0}, {2, std::nullopt, ""}}}));
  }
  REQUIRE(b->crash());
  auto admin = brook::client::admin_client::create({{"bootstrap.servers", b->bootstrap_servers()}});
  REQUIRE(admin);
  auto offsets = admin->list_consumer_group_offsets("g");
  REQUIRE(offsets);
  REQUIRE(offsets->count({"t", 0}) == 1);
  REQUIRE(offsets->at({"t", 0}));
  CHECK(offsets->at({"t", 0})->offset == 2);
}

TEST_CASE("two embedded brokers in one process are independent") {
  auto first = start_broker();
  auto second = start_broker();
  CHECK(first->port() != second->port());
  CHECK(first->data_dir() != second->data_dir());
  REQUIRE(first->create_topic("shared-name", 1));
  REQUIRE(second->create_topic("shared-name", 1));
  produce(first->bootstrap_servers(), "shared-name", {"first"});
  CHECK(end_offset(second->bootstrap_servers(), "shared-name") == 0);
  REQUIRE(second->reset());
  CHECK(consume(first->bootstrap_servers(), "shared-name", 1) == std::vector<std::string>{"first"});
  REQUIRE(second->stop());
  CHECK(consume(first->bootstrap_servers(), "shared-name", 1) == std::vector<std::string>{"first"});
}
