// The admin client against each cluster (Brook, librdkafka's mock cluster of 3 brokers, a real Kafka):
// topics, configurations, partitions, offsets and records, groups and their offsets, and the cluster's
// description; per-item errors that name the item. What a cluster does not serve is skipped.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "brook/client/admin.hpp"
#include "common/protocol/messages/consumer_group_describe.hpp"
#include "common/protocol/messages/consumer_group_heartbeat.hpp"
#include "common/protocol/messages/create_partitions.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_groups.hpp"
#include "common/protocol/messages/delete_records.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/describe_configs.hpp"
#include "common/protocol/messages/describe_groups.hpp"
#include "common/protocol/messages/incremental_alter_configs.hpp"
#include "common/protocol/messages/list_groups.hpp"
#include "common/protocol/messages/offset_delete.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/record_batch.hpp"
#include "tests/client/harness/cluster_under_test.hpp"

namespace {

namespace proto = brook::common::protocol;
using namespace brook::client;
using brook::test::cluster_under_test;

admin_client open_admin(const cluster_under_test& c) {
  admin_properties props{{"bootstrap.servers", c.bootstrap()},
                         {"client.id", "brook-admin-scenario"},
                         {"default.api.timeout.ms", "30000"},
                         {"request.timeout.ms", "10000"},
                         {"retry.backoff.ms", "50"}};
  auto a = admin_client::create(props);
  REQUIRE(a);
  return std::move(*a);
}

bool serves(cluster_under_test& c, int16_t api_key) { return c.version_for(api_key) >= 0; }

// Appends `count` records with the given timestamps to a partition, through its leader.
void produce(cluster_under_test& c, const std::string& topic, int32_t partition, const std::vector<int64_t>& timestamps) {
  auto md = c.metadata({topic});
  int32_t leader = -1;
  for (const auto& t : md.topics)
    for (const auto& p : t.partitions)
      if (p.partition_index == partition) leader = p.leader_id;
  REQUIRE(leader >= 0);
  for (const auto& b : c.brokers()) {
    if (b.node_id != leader) continue;
    auto w = brook::test::wire_client::try_connect(b.host, b.port, "brook-admin-scenario");
    REQUIRE(w);
    brook::common::record_batch_builder builder;
    for (size_t i = 0; i < timestamps.size(); ++i)
      builder.add(std::nullopt, "value-" + std::to_string(i), timestamps[i]);
    proto::produce::request req;
    req.acks = -1;
    req.timeout_ms = 10000;
    proto::produce::topic_produce_data td;
    td.name = topic;
    proto::produce::partition_produce_data pd;
    pd.index = partition;
    pd.records = proto::record_set(builder.build());
    td.partition_data.push_back(std::move(pd));
    req.topic_data.push_back(std::move(td));
    const int16_t v = std::min<int16_t>(c.version_for(proto::produce::api_key), 8);
    auto resp = w->call<proto::produce::response>(proto::produce::api_key, v, req);
    REQUIRE(resp.responses.size() == 1);
    REQUIRE(resp.responses[0].partition_responses.size() == 1);
    REQUIRE(resp.responses[0].partition_responses[0].error_code == 0);
    return;
  }
  FAIL("the partition's leader is not among the advertised brokers");
}

}  // namespace

TEST_CASE("admin: describe_cluster names the brokers, the controller and the cluster id") {
  auto& under_test = cluster_under_test::current();
  auto admin = open_admin(under_test);
  auto d = admin.describe_cluster();
  REQUIRE(d);
  CHECK(d->brokers.size() == static_cast<size_t>(under_test.broker_count()));
  for (const auto& b : d->brokers) {
    CHECK(b.id >= 0);
    CHECK(b.port > 0);
  }
  if (under_test.kind() != brook::test::cluster_kind::mock) CHECK_FALSE(d->cluster_id.empty());
}

TEST_CASE("admin: topics are created, listed, described and deleted, each with its own result") {
  auto& under_test = cluster_under_test::current();
  if (!serves(under_test, proto::create_topics::api_key)) BROOK_SKIP("the cluster does not serve CreateTopics");
  auto admin = open_admin(under_test);
  const auto topic = under_test.unique_name("admin-topic");
  const auto existing = under_test.unique_name("admin-existing");
  under_test.create_topic(existing, 1);

  new_topic t{topic, 3, 1, {}, {}};
  new_topic again{existing, 1, 1, {}, {}};
  auto created = admin.create_topics({t, again});
  REQUIRE(created);
  REQUIRE(created->at(topic));
  REQUIRE_FALSE(created->at(existing));
  CHECK(created->at(existing).err().code == kafka_error::topic_already_exists);
  CHECK(created->at(existing).err().message == "topic '" + existing + "' already exists");

  // The partitions get leaders shortly after creation.
  std::optional<topic_description> described;
  for (int i = 0; i < 100 && !described; ++i) {
    auto d = admin.describe_topics({topic});
    REQUIRE(d);
    // Kafka's brokers learn of a new topic from the controller a moment after CreateTopics answers.
    if (!d->at(topic) && d->at(topic).err().code == kafka_error::unknown_topic_or_partition) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    REQUIRE(d->at(topic));
    bool all_led = d->at(topic)->partitions.size() == 3;
    for (const auto& p : d->at(topic)->partitions) all_led = all_led && p.leader >= 0;
    if (all_led) described = *d->at(topic);
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(described);
  CHECK(described->name == topic);
  CHECK_FALSE(described->internal);
  for (int32_t p = 0; p < 3; ++p) {
    const auto& pd = described->partitions[static_cast<size_t>(p)];
    CHECK(pd.partition == p);
    CHECK_FALSE(pd.replicas.empty());
    CHECK_FALSE(pd.isr.empty());
  }

  auto listed = admin.list_topics();
  REQUIRE(listed);
  bool found = false;
  for (const auto& l : *listed) {
    found = found || l.name == topic;
    CHECK_FALSE(l.internal);  // internal topics only when asked
  }
  CHECK(found);

  const auto missing = under_test.unique_name("admin-missing");
  auto both = admin.describe_topics({topic, missing});
  REQUIRE(both);
  CHECK(both->at(topic));
  REQUIRE_FALSE(both->at(missing));
  CHECK(both->at(missing).err().code == kafka_error::unknown_topic_or_partition);
  CHECK(both->at(missing).err().message == "topic '" + missing + "' does not exist");

  if (!serves(under_test, proto::delete_topics::api_key)) BROOK_SKIP("the cluster does not serve DeleteTopics");
  auto deleted = admin.delete_topics({topic, missing});
  REQUIRE(deleted);
  CHECK(deleted->at(topic));
  REQUIRE_FALSE(deleted->at(missing));
  CHECK(deleted->at(missing).err().message == "topic '" + missing + "' does not exist");
}

TEST_CASE("admin: validate_only creates nothing") {
  auto& under_test = cluster_under_test::current();
  if (!serves(under_test, proto::create_topics::api_key)) BROOK_SKIP("the cluster does not serve CreateTopics");
  if (under_test.kind() == brook::test::cluster_kind::mock) BROOK_SKIP("the mock cluster ignores validate_only");
  auto admin = open_admin(under_test);
  const auto topic = under_test.unique_name("admin-validate");
  create_topics_options o;
  o.validate_only = true;
  auto created = admin.create_topics({new_topic{topic, 2, 1, {}, {}}}, o);
  REQUIRE(created);
  CHECK(created->at(topic));
  auto d = admin.describe_topics({topic});
  REQUIRE(d);
  CHECK(d->at(topic).code() == kafka_error::unknown_topic_or_partition);
}

TEST_CASE("admin: configurations are described with their sources and altered incrementally") {
  auto& under_test = cluster_under_test::current();
  if (!serves(under_test, proto::describe_configs::api_key) ||
      !serves(under_test, proto::incremental_alter_configs::api_key))
    BROOK_SKIP("the cluster does not serve DescribeConfigs and IncrementalAlterConfigs");
  auto admin = open_admin(under_test);
  const auto topic = under_test.unique_name("admin-configs");
  under_test.create_topic(topic, 1, {{"retention.ms", "3600000"}});
  const config_resource res{config_resource::kind::topic, topic};

  auto value_of = [&](const std::string& key) -> std::optional<config_entry> {
    auto d = admin.describe_configs({res});
    REQUIRE(d);
    REQUIRE(d->at(res));
    for (const auto& e : *d->at(res))
      if (e.name == key) return e;
    return std::nullopt;
  };
  // Kafka applies an accepted change through its metadata log, so DescribeConfigs may show the old value
  // for a moment after IncrementalAlterConfigs answered: wait (bounded) for the value asked for.
  auto settled_value_of = [&](const std::string& key, const std::string& expected) -> std::optional<config_entry> {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto e = value_of(key);
    while (e && e->value != expected && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      e = value_of(key);
    }
    return e;
  };
  auto retention = value_of("retention.ms");
  REQUIRE(retention);
  CHECK(retention->value == "3600000");
  CHECK(retention->source == config_source::dynamic_topic_config);
  auto policy = value_of("cleanup.policy");
  REQUIRE(policy);
  CHECK(policy->value == "delete");
  CHECK(policy->source != config_source::dynamic_topic_config);

  std::map<config_resource, std::vector<alter_config_op>> changes{
      {res,
       {alter_config_op{"cleanup.policy", alter_config_op::kind::set, "compact"},
        alter_config_op{"retention.ms", alter_config_op::kind::remove, std::nullopt}}}};
  auto altered = admin.incremental_alter_configs(changes);
  REQUIRE(altered);
  REQUIRE(altered->at(res));
  CHECK(settled_value_of("cleanup.policy", "compact")->value == "compact");
  CHECK(value_of("retention.ms")->source != config_source::dynamic_topic_config);

  // APPEND to a list key.
  std::map<config_resource, std::vector<alter_config_op>> append{
      {res, {alter_config_op{"cleanup.policy", alter_config_op::kind::append, "delete"}}}};
  altered = admin.incremental_alter_configs(append);
  REQUIRE(altered);
  REQUIRE(altered->at(res));
  CHECK(settled_value_of("cleanup.policy", "compact,delete")->value == "compact,delete");

  // A broker's own configuration is asked of that broker.
  auto cluster = admin.describe_cluster();
  REQUIRE(cluster);
  REQUIRE_FALSE(cluster->brokers.empty());
  const config_resource broker{config_resource::kind::broker, std::to_string(cluster->brokers.back().id)};
  auto broker_configs = admin.describe_configs({broker});
  if (!broker_configs) FAIL(broker_configs.err().message);
  REQUIRE(broker_configs->at(broker));
  CHECK_FALSE(broker_configs->at(broker)->empty());
  for (const auto& e : *broker_configs->at(broker)) CHECK(e.source != config_source::dynamic_topic_config);

  const config_resource missing{config_resource::kind::topic, under_test.unique_name("admin-no-configs")};
  auto d = admin.describe_configs({missing});
  REQUIRE(d);
  REQUIRE_FALSE(d->at(missing));
  CHECK(d->at(missing).err().code == kafka_error::unknown_topic_or_partition);
  CHECK(d->at(missing).err().message == "topic '" + missing.name + "' does not exist");
}

TEST_CASE("admin: create_partitions raises the partition count") {
  auto& under_test = cluster_under_test::current();
  if (!serves(under_test, proto::create_partitions::api_key)) BROOK_SKIP("the cluster does not serve CreatePartitions");
  auto admin = open_admin(under_test);
  const auto topic = under_test.unique_name("admin-partitions");
  under_test.create_topic(topic, 2);
  auto r = admin.create_partitions({{topic, 4}});
  REQUIRE(r);
  REQUIRE(r->at(topic));
  auto d = admin.describe_topics({topic});
  REQUIRE(d);
  REQUIRE(d->at(topic));
  CHECK(d->at(topic)->partitions.size() == 4);
  auto lower = admin.create_partitions({{topic, 3}});
  REQUIRE(lower);
  REQUIRE_FALSE(lower->at(topic));
  CHECK(lower->at(topic).err().code == kafka_error::invalid_partitions);
  CHECK(lower->at(topic).err().message.rfind("topic '" + topic + "'", 0) == 0);
}

TEST_CASE("admin: list_offsets through each partition's leader, and delete_records moves the log start") {
  auto& under_test = cluster_under_test::current();
  auto admin = open_admin(under_test);
  const auto topic = under_test.unique_name("admin-offsets");
  under_test.create_topic(topic, 2);
  // Recent timestamps: older ones would fall to the topic's retention.ms.
  const int64_t base = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() - 60000;
  produce(under_test, topic, 0, {base, base + 10, base + 20, base + 5});
  const topic_partition p0{topic, 0}, p1{topic, 1};

  auto at = [&](const topic_partition& tp, offset_spec spec) {
    auto r = admin.list_offsets({{tp, spec}});
    REQUIRE(r);
    REQUIRE(r->at(tp));
    return *r->at(tp);
  };
  CHECK(at(p0, offset_spec::earliest()).offset == 0);
  CHECK(at(p0, offset_spec::latest()).offset == 4);
  CHECK(at(p1, offset_spec::latest()).offset == 0);
  // librdkafka's mock cluster answers earliest and latest only.
  const bool by_time = under_test.kind() != brook::test::cluster_kind::mock;
  if (by_time) {
    CHECK(at(p0, offset_spec::for_timestamp(base + 15)).offset == 2);
    CHECK(at(p0, offset_spec::for_timestamp(base + 100)).offset == -1);
  }
  if (by_time && under_test.version_for(proto::list_offsets::api_key) >= 7) {
    auto max = at(p0, offset_spec::max_timestamp());
    CHECK(max.offset == 2);
    CHECK(max.timestamp == base + 20);
  }

  // Both partitions in one call, and a partition that does not exist beside them.
  const topic_partition p9{topic, 9};
  auto many = admin.list_offsets({{p0, offset_spec::latest()}, {p1, offset_spec::latest()}, {p9, offset_spec::latest()}});
  REQUIRE(many);
  CHECK(many->at(p0)->offset == 4);
  CHECK(many->at(p1)->offset == 0);
  REQUIRE_FALSE(many->at(p9));
  CHECK(many->at(p9).err().code == kafka_error::unknown_topic_or_partition);
  CHECK(many->at(p9).err().message == "partition " + topic + "-9 does not exist");

  if (!serves(under_test, proto::delete_records::api_key)) BROOK_SKIP("the cluster does not serve DeleteRecords");
  auto deleted = admin.delete_records({{p0, 3}});
  REQUIRE(deleted);
  REQUIRE(deleted->at(p0));
  CHECK(deleted->at(p0)->low_watermark == 3);
  CHECK(at(p0, offset_spec::earliest()).offset == 3);
}

TEST_CASE("admin: a group's offsets are altered, listed and deleted, and the group listed, described and deleted") {
  auto& under_test = cluster_under_test::current();
  if (!serves(under_test, proto::list_groups::api_key) || !serves(under_test, proto::describe_groups::api_key) ||
      !serves(under_test, proto::delete_groups::api_key) || !serves(under_test, proto::offset_delete::api_key))
    BROOK_SKIP("the cluster does not serve the group admin APIs");
  auto admin = open_admin(under_test);
  const auto topic = under_test.unique_name("admin-group-topic");
  const auto group = under_test.unique_name("admin-group");
  under_test.create_topic(topic, 2);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  produce(under_test, topic, 0, {now, now, now});
  produce(under_test, topic, 1, {now, now, now});
  const topic_partition p0{topic, 0}, p1{topic, 1};

  // Committed from outside the group (generation -1): the group now exists, empty.
  std::map<topic_partition, offset_and_metadata> offsets{{p0, {2, std::nullopt, "two"}}, {p1, {1, std::nullopt, ""}}};
  auto altered = admin.alter_consumer_group_offsets(group, offsets);
  REQUIRE(altered);
  CHECK(altered->at(p0));
  CHECK(altered->at(p1));

  auto listed = admin.list_consumer_group_offsets(group);
  REQUIRE(listed);
  REQUIRE(listed->count(p0) == 1);
  REQUIRE(listed->at(p0));
  CHECK(listed->at(p0)->offset == 2);
  CHECK(listed->at(p0)->metadata == "two");
  CHECK(listed->at(p1)->offset == 1);
  auto only = admin.list_consumer_group_offsets(group, std::vector<topic_partition>{p1});
  REQUIRE(only);
  CHECK(only->size() == 1);
  CHECK(only->at(p1)->offset == 1);

  auto groups = admin.list_groups();
  REQUIRE(groups);
  bool found = false;
  for (const auto& g : *groups) found = found || g.group_id == group;
  CHECK(found);

  auto described = admin.describe_groups({group});
  REQUIRE(described);
  REQUIRE(described->at(group));
  CHECK(described->at(group)->state == "Empty");
  CHECK(described->at(group)->members.empty());

  const auto missing = under_test.unique_name("admin-no-group");
  auto none = admin.describe_groups({missing});
  REQUIRE(none);
  REQUIRE_FALSE(none->at(missing));
  CHECK(none->at(missing).err().code == kafka_error::group_id_not_found);
  CHECK(none->at(missing).err().message == "group '" + missing + "' does not exist");

  auto removed = admin.delete_consumer_group_offsets(group, {p1});
  REQUIRE(removed);
  CHECK(removed->at(p1));
  listed = admin.list_consumer_group_offsets(group);
  REQUIRE(listed);
  CHECK(listed->count(p0) == 1);
  CHECK(listed->count(p1) == 0);

  auto deleted = admin.delete_groups({group, missing});
  REQUIRE(deleted);
  CHECK(deleted->at(group));
  REQUIRE_FALSE(deleted->at(missing));
  CHECK(deleted->at(missing).err().code == kafka_error::group_id_not_found);
  CHECK(deleted->at(missing).err().message == "group '" + missing + "' does not exist");
}

TEST_CASE("admin: a consumer group (KIP-848) is described with its members' assignments") {
  auto& under_test = cluster_under_test::current();
  const int16_t heartbeat_version = under_test.version_for(proto::consumer_group_heartbeat::api_key);
  if (heartbeat_version < 0 || !serves(under_test, proto::consumer_group_describe::api_key))
    BROOK_SKIP("the cluster does not serve the consumer group protocol");
  auto admin = open_admin(under_test);
  const auto topic = under_test.unique_name("admin-cg-topic");
  const auto group = under_test.unique_name("admin-cg");
  under_test.create_topic(topic, 2);

  // A member joins through the group's coordinator and heartbeats until it is given partitions.
  auto any = under_test.connect();
  proto::find_coordinator::request find;
  find.key_type = 0;
  find.key = group;
  find.coordinator_keys = {group};
  const int16_t find_version = std::min<int16_t>(under_test.version_for(proto::find_coordinator::api_key), 4);
  std::string host;
  int32_t port = 0;
  // Kafka answers COORDINATOR_NOT_AVAILABLE until it has created __consumer_offsets.
  for (int i = 0; i < 100 && port == 0; ++i) {
    auto found = any.call<proto::find_coordinator::response>(proto::find_coordinator::api_key, find_version, find);
    if (find_version >= 4) {
      REQUIRE(found.coordinators.size() == 1);
      if (found.coordinators[0].error_code == 0) {
        host = found.coordinators[0].host;
        port = found.coordinators[0].port;
      }
    } else if (found.error_code == 0) {
      host = found.host;
      port = found.port;
    }
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(port > 0);
  auto coordinator = brook::test::wire_client::try_connect(host, static_cast<uint16_t>(port), "admin-cg-member");
  REQUIRE(coordinator);
  const std::string member_id = brook::common::uuid::random().to_string();
  proto::consumer_group_heartbeat::request hb;
  hb.group_id = group;
  hb.member_id = member_id;
  hb.member_epoch = 0;
  hb.rebalance_timeout_ms = 30000;
  hb.subscribed_topic_names = std::vector<std::string>{topic};
  hb.topic_partitions = std::vector<proto::consumer_group_heartbeat::topic_id_partitions>{};
  bool assigned = false;
  for (int i = 0; i < 50 && !assigned; ++i) {
    auto r = coordinator->call<proto::consumer_group_heartbeat::response>(proto::consumer_group_heartbeat::api_key,
                                                                          heartbeat_version, hb);
    // A coordinator that has just taken the group's partition of __consumer_offsets may still be loading it.
    if (r.error_code == 14 || r.error_code == 15 || r.error_code == 16) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    REQUIRE(r.error_code == 0);
    if (r.member_id) hb.member_id = *r.member_id;
    hb.member_epoch = r.member_epoch;
    hb.subscribed_topic_names.reset();  // unchanged from now on
    if (r.assignment && !r.assignment->topic_partitions.empty()) {
      hb.topic_partitions = r.assignment->topic_partitions;  // owned from now on
      assigned = true;
    } else {
      hb.topic_partitions.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  REQUIRE(assigned);

  auto described = admin.describe_groups({group});
  REQUIRE(described);
  REQUIRE(described->at(group));
  const auto& d = *described->at(group);
  CHECK(d.type == "consumer");
  CHECK(d.protocol_type == "consumer");
  CHECK(d.group_epoch.has_value());
  CHECK_FALSE(d.assignor.empty());
  REQUIRE(d.members.size() == 1);
  CHECK(d.members[0].member_id == hb.member_id);
  CHECK(d.members[0].client_id == "admin-cg-member");
  CHECK(d.members[0].target_assignment == std::vector<topic_partition>{{topic, 0}, {topic, 1}});

  auto listed = admin.list_groups();
  REQUIRE(listed);
  for (const auto& g : *listed)
    if (g.group_id == group && g.type) CHECK(*g.type == "consumer");

  // The member leaves.
  hb.member_epoch = -1;
  hb.topic_partitions.reset();
  auto left = coordinator->call<proto::consumer_group_heartbeat::response>(proto::consumer_group_heartbeat::api_key,
                                                                           heartbeat_version, hb);
  CHECK(left.error_code == 0);
}

TEST_CASE("admin: the coroutine face answers on the caller's executor") {
  auto& under_test = cluster_under_test::current();
  boost::asio::io_context io;
  admin_properties props{{"bootstrap.servers", under_test.bootstrap()}, {"default.api.timeout.ms", "20000"}};
  auto created = admin_client::create(props, io.get_executor());
  REQUIRE(created);
  std::optional<result<cluster_description>> answer;
  boost::asio::co_spawn(
      io,
      [](admin_client* admin, std::optional<result<cluster_description>>* out) -> boost::asio::awaitable<void> {
        auto d = co_await admin->async_describe_cluster();
        out->emplace(std::move(d));
      }(&*created, &answer),
      boost::asio::detached);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!answer && std::chrono::steady_clock::now() < give_up) io.run_one_for(std::chrono::milliseconds(50));
  REQUIRE(answer);
  REQUIRE(*answer);
  CHECK((**answer).brokers.size() == static_cast<size_t>(under_test.broker_count()));
}
