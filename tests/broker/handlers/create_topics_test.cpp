#include <catch2/catch.hpp>
#include <filesystem>

#include "broker_fixture.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "acl_test_util.hpp"

namespace proto = brook::common::protocol;
namespace ct = proto::create_topics;

namespace {
ct::creatable_topic topic(std::string name, int32_t partitions) {
  ct::creatable_topic t;
  t.name = std::move(name);
  t.num_partitions = partitions;
  t.replication_factor = 1;
  return t;
}

size_t partition_dirs(const std::filesystem::path& data) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(data))
    if (e.is_directory() && !e.path().filename().string().starts_with("__")) ++n;
  return n;
}
}  // namespace

TEST_CASE("CreateTopics adding more than 10,000 partitions is refused whole with POLICY_VIOLATION") {
  brook::test::broker_fixture b;
  ct::request req;
  req.topics = {topic("huge", 1'000'000), topic("small", 2)};
  auto resp = b.call<ct::response>(ct::api_key, 7, req);
  REQUIRE(resp.topics.size() == 2);
  for (const auto& t : resp.topics) {
    CHECK(t.error_code == 44);
    CHECK(t.error_message == "Excessively large number of partitions per request.");
  }
  CHECK(b.server().topics().all().empty());
  CHECK(partition_dirs(b.data_dir()) == 0);

  // 10,000 in one request is within the limit (validate_only: no disk work).
  ct::request within;
  within.topics = {topic("big", 6'000), topic("big2", 4'000)};
  within.validate_only = true;
  auto ok = b.call<ct::response>(ct::api_key, 7, within);
  REQUIRE(ok.topics.size() == 2);
  CHECK(ok.topics[0].error_code == 0);
  CHECK(ok.topics[1].error_code == 0);
}

TEST_CASE("CreateTopics past brook.max.partitions is refused with POLICY_VIOLATION and creates nothing") {
  brook::test::broker_fixture b({"brook.max.partitions=10"});
  ct::request first;
  first.topics = {topic("a", 8)};
  CHECK(b.call<ct::response>(ct::api_key, 7, first).topics.at(0).error_code == 0);
  ct::request second;
  second.topics = {topic("b", 3)};
  auto resp = b.call<ct::response>(ct::api_key, 7, second);
  CHECK(resp.topics.at(0).error_code == 44);
  CHECK(b.server().topics().find("b") == nullptr);
  CHECK(partition_dirs(b.data_dir()) == 8);
}

TEST_CASE("CreateTopics with a replication factor above 1 is refused with Kafka 4.4's message") {
  brook::test::broker_fixture b;
  ct::request req;
  auto t = topic("replicated", 1);
  t.replication_factor = 3;
  req.topics = {t};
  auto resp = b.call<ct::response>(ct::api_key, 7, req);
  REQUIRE(resp.topics.size() == 1);
  CHECK(resp.topics[0].error_code == 38);  // INVALID_REPLICATION_FACTOR
  CHECK(resp.topics[0].error_message ==
        "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because "
        "only 1 broker(s) are registered or some brokers have all their log directories cordoned.");
}

TEST_CASE("with an authorizer CreateTopics needs CREATE on the cluster or the topic, configs DESCRIBE_CONFIGS") {
  namespace t = brook::test;
  namespace ct = brook::common::protocol::create_topics;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::topic, "ok-", acl_operation::create, t::sec::pattern_type::prefixed),
               t::allowing(resource_type::topic, "ok-described", acl_operation::describe_configs)});
  auto create = [&](std::vector<std::string> names) {
    ct::request req;
    for (auto& name : names) {
      auto& topic = req.topics.emplace_back();
      topic.name = name;
      topic.num_partitions = 1;
      topic.replication_factor = 1;
    }
    return b.call<ct::response>(ct::api_key, 7, req);
  };
  auto resp = create({"ok-described", "ok-plain", "no"});
  REQUIRE(resp.topics.size() == 3);
  CHECK(resp.topics[0].error_code == 0);
  CHECK(resp.topics[0].topic_config_error_code == 0);
  CHECK(resp.topics[0].configs.has_value());
  CHECK(resp.topics[1].error_code == 0);
  CHECK(resp.topics[1].num_partitions == 1);
  CHECK(resp.topics[1].topic_config_error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK_FALSE(resp.topics[1].configs.has_value());
  CHECK(resp.topics[2].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(resp.topics[2].error_message == "Authorization failed.");
  // CREATE on the cluster allows any topic.
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create)});
  CHECK(create({"no"}).topics.at(0).error_code == 0);
}
