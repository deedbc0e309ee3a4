#include "log/metadata_store.hpp"

#include <catch2/catch.hpp>
// Only to lay out a store directory as an interrupted first open or a newer layout leaves it.
#include <rocksdb/db.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using brook::common::kafka_error;
using brook::common::uuid;
using namespace brook::log;
using namespace std::string_literals;

namespace {

// A fresh directory removed when the test ends.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("brook-metadata-store-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Distinct group and producer state records, told apart by `tag`.
group_metadata_record gm(std::string tag) {
  group_metadata_record r;
  r.classic.emplace();
  r.classic->protocol_type = std::move(tag);
  r.classic->generation = 3;
  r.classic->protocol_name = std::nullopt;
  return r;
}
producer_state_record ps(int64_t tag) {
  producer_state_record r;
  r.covered_offset = tag;
  r.producers.push_back({7, 1, 1000, 12, 3, {{0, 4, 10, 14}}});
  return r;
}

std::unique_ptr<metadata_store> open_store(const std::filesystem::path& dir) {
  auto store = metadata_store::open(dir);
  if (!store) FAIL("open failed: " << store.err().message);
  return std::move(store).value();
}

topic_record make_topic(std::string name, int32_t partitions, std::map<std::string, std::string> configs = {}) {
  return topic_record{std::move(name), uuid::random(), partitions, 1, 1700000000000, std::move(configs)};
}

committed_offset make_offset(int64_t offset, std::optional<int64_t> expire = std::nullopt) {
  return committed_offset{offset, 7, "meta-" + std::to_string(offset), 1700000000123, expire};
}

}  // namespace

TEST_CASE("metadata_store: cluster id is created once and survives reopening") {
  temp_dir dir;
  std::string id;
  {
    auto store = open_store(dir.path);
    auto first = store->get_or_create_cluster_id();
    REQUIRE(first);
    id = *first;
    REQUIRE(uuid::parse(id).has_value());
    auto again = store->get_or_create_cluster_id();
    REQUIRE(again);
    CHECK(*again == id);
  }
  auto store = open_store(dir.path);
  auto reopened = store->get_or_create_cluster_id();
  REQUIRE(reopened);
  CHECK(*reopened == id);
}

TEST_CASE("metadata_store: a store opened without fsync keeps its writes across a clean reopen") {
  temp_dir dir;
  auto orders = make_topic("orders", 3);
  {
    auto store = metadata_store::open(dir.path, false);
    REQUIRE(store);
    REQUIRE((*store)->create_topic(orders));
  }
  auto store = open_store(dir.path);
  auto got = store->get_topic("orders");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == orders);
}

TEST_CASE("metadata_store: topic round trips, lookups by name and id, config replacement") {
  temp_dir dir;
  auto store = open_store(dir.path);
  auto orders = make_topic("orders", 3, {{"retention.ms", "1000"}, {"cleanup.policy", "compact"}});
  auto events = make_topic("events", 1);
  REQUIRE(store->create_topic(orders));
  REQUIRE(store->create_topic(events));

  auto got = store->get_topic("orders");
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == orders);

  auto by_id = store->get_topic_by_id(events.id);
  REQUIRE(by_id);
  REQUIRE(by_id->has_value());
  CHECK(**by_id == events);

  auto missing = store->get_topic("nope");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
  auto missing_id = store->get_topic_by_id(uuid::random());
  REQUIRE(missing_id);
  CHECK_FALSE(missing_id->has_value());

  auto all = store->list_topics();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0] == events);  // sorted by name
  CHECK((*all)[1] == orders);

  // Overrides are replaced as a whole, not merged.
  REQUIRE(store->set_topic_configs("orders", {{"segment.bytes", "1048576"}}));
  got = store->get_topic("orders");
  REQUIRE(got);
  CHECK((*got)->configs == std::map<std::string, std::string>{{"segment.bytes", "1048576"}});
  CHECK(store->set_topic_configs("nope", {}).code() == kafka_error::unknown_topic_or_partition);

  // put_topic overwrites, e.g. after adding partitions.
  orders.partitions = 6;
  orders.configs = {};
  REQUIRE(store->put_topic(orders));
  got = store->get_topic("orders");
  REQUIRE(got);
  CHECK(**got == orders);
}

TEST_CASE("metadata_store: creating an existing topic fails with topic_already_exists") {
  temp_dir dir;
  auto store = open_store(dir.path);
  auto original = make_topic("t", 1);
  REQUIRE(store->create_topic(original));
  auto duplicate = make_topic("t", 5);
  auto r = store->create_topic(duplicate);
  REQUIRE_FALSE(r);
  CHECK(r.code() == kafka_error::topic_already_exists);
  auto got = store->get_topic("t");
  REQUIRE(got);
  CHECK(**got == original);  // untouched
}

TEST_CASE("metadata_store: committed offsets round trip, fetch one, delete some") {
  temp_dir dir;
  auto store = open_store(dir.path);
  REQUIRE(store->commit_offsets("g", {{"t", 0, make_offset(10)},
                                      {"t", 1, make_offset(11, 1700000999000)},
                                      {"u", 300, make_offset(12)}}));
  auto all = store->fetch_offsets("g");
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0] == partition_offset{"t", 0, make_offset(10)});
  CHECK((*all)[1] == partition_offset{"t", 1, make_offset(11, 1700000999000)});
  CHECK((*all)[2] == partition_offset{"u", 300, make_offset(12)});

  auto one = store->fetch_offset("g", "t", 1);
  REQUIRE(one);
  REQUIRE(one->has_value());
  CHECK((*one)->expire_ms == 1700000999000);
  CHECK((*one)->metadata == "meta-11");
  auto none = store->fetch_offset("g", "t", 2);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  // A later commit overwrites.
  REQUIRE(store->commit_offsets("g", {{"t", 0, make_offset(20)}}));
  one = store->fetch_offset("g", "t", 0);
  REQUIRE(one);
  CHECK((*one)->offset == 20);

  REQUIRE(store->delete_offsets("g", "t", {0, 1, 5}));
  all = store->fetch_offsets("g");
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK((*all)[0].topic == "u");
}

TEST_CASE("metadata_store: partitions sort numerically within a topic") {
  temp_dir dir;
  auto store = open_store(dir.path);
  REQUIRE(store->commit_offsets("g", {{"t", 256, make_offset(3)}, {"t", 2, make_offset(1)}, {"t", 10, make_offset(2)}}));
  auto all = store->fetch_offsets("g");
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].partition == 2);
  CHECK((*all)[1].partition == 10);
  CHECK((*all)[2].partition == 256);
}

TEST_CASE("metadata_store: group metadata and delete_group") {
  temp_dir dir;
  auto store = open_store(dir.path);
  auto binary = gm("\x00\x01\xff payload"s);
  REQUIRE(store->put_group_metadata("g1", binary));
  REQUIRE(store->put_group_metadata("g2", gm("two")));
  REQUIRE(store->commit_offsets("g1", {{"t", 0, make_offset(1)}}));
  REQUIRE(store->commit_offsets("g2", {{"t", 0, make_offset(2)}}));

  auto meta = store->get_group_metadata("g1");
  REQUIRE(meta);
  CHECK(*meta == binary);
  auto listed = store->list_group_metadata();
  REQUIRE(listed);
  CHECK(*listed == std::vector<group_entry>{{"g1", binary}, {"g2", gm("two")}});
  auto groups = store->list_groups_with_offsets();
  REQUIRE(groups);
  CHECK(*groups == std::vector<std::string>{"g1", "g2"});

  REQUIRE(store->delete_group("g1"));
  meta = store->get_group_metadata("g1");
  REQUIRE(meta);
  CHECK_FALSE(meta->has_value());
  auto offsets = store->fetch_offsets("g1");
  REQUIRE(offsets);
  CHECK(offsets->empty());
  groups = store->list_groups_with_offsets();
  REQUIRE(groups);
  CHECK(*groups == std::vector<std::string>{"g2"});
  offsets = store->fetch_offsets("g2");
  REQUIRE(offsets);
  CHECK(offsets->size() == 1);
}

TEST_CASE("metadata_store: producer and partition state round trips") {
  temp_dir dir;
  auto store = open_store(dir.path);
  REQUIRE(store->put_producer_state("t", 0, ps(1)));
  REQUIRE(store->put_producer_state("t", 1, ps(2)));
  auto p0 = store->get_producer_state("t", 0);
  REQUIRE(p0);
  CHECK(*p0 == ps(1));
  auto all_ps = store->list_producer_states();
  REQUIRE(all_ps);
  CHECK(*all_ps == std::vector<producer_state_entry>{{"t", 0, ps(1)}, {"t", 1, ps(2)}});
  REQUIRE(store->delete_producer_state("t", 0));
  p0 = store->get_producer_state("t", 0);
  REQUIRE(p0);
  CHECK_FALSE(p0->has_value());

  REQUIRE(store->put_partition_state("t", 0, partition_state{5, 100}));
  REQUIRE(store->put_partition_state("t", 3, partition_state{0, 42}));
  auto st = store->get_partition_state("t", 0);
  REQUIRE(st);
  REQUIRE(st->has_value());
  CHECK(**st == partition_state{5, 100});
  auto states = store->list_partition_states();
  REQUIRE(states);
  CHECK(*states == std::vector<partition_state_entry>{{"t", 0, {5, 100}}, {"t", 3, {0, 42}}});
  REQUIRE(store->delete_partition_state("t", 3));
  st = store->get_partition_state("t", 3);
  REQUIRE(st);
  CHECK_FALSE(st->has_value());
}

TEST_CASE("metadata_store: everything reads back after reopening") {
  temp_dir dir;
  auto topic = make_topic("orders", 4, {{"retention.ms", "5"}});
  {
    auto store = open_store(dir.path);
    REQUIRE(store->create_topic(topic));
    REQUIRE(store->commit_offsets("g", {{"orders", 2, make_offset(99, 123)}}));
    REQUIRE(store->put_group_metadata("g", gm("gm")));
    REQUIRE(store->put_producer_state("orders", 2, ps(3)));
    REQUIRE(store->put_partition_state("orders", 2, {1, 2}));
  }
  auto store = open_store(dir.path);
  auto got = store->get_topic_by_id(topic.id);
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == topic);
  auto offset = store->fetch_offset("g", "orders", 2);
  REQUIRE(offset);
  REQUIRE(offset->has_value());
  CHECK(**offset == make_offset(99, 123));
  auto group = store->get_group_metadata("g");
  REQUIRE(group);
  CHECK(*group == gm("gm"));
  auto producers = store->get_producer_state("orders", 2);
  REQUIRE(producers);
  CHECK(*producers == ps(3));
  auto st = store->get_partition_state("orders", 2);
  REQUIRE(st);
  CHECK(*st == partition_state{1, 2});
}

TEST_CASE("metadata_store: opens a directory that lacks some of its column families or has unknown ones") {
  // A fresh store is opened with RocksDB's default column family alone and the others are added in a
  // second step, so a crash in between leaves only "default"; a newer layout may have added others.
  temp_dir dir;
  {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families{{rocksdb::kDefaultColumnFamilyName, {}},
                                                          {"from_a_newer_layout", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(options, dir.path.string(), families, &handles, &db).ok());
    for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    REQUIRE(db->Close().ok());
    delete db;
  }
  auto topic = make_topic("orders", 2);
  {
    auto store = open_store(dir.path);
    REQUIRE(store->create_topic(topic));
    REQUIRE(store->commit_offsets("g", {{"orders", 1, make_offset(5)}}));
  }
  auto store = open_store(dir.path);
  auto got = store->get_topic_by_id(topic.id);
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == topic);
  auto offset = store->fetch_offset("g", "orders", 1);
  REQUIRE(offset);
  REQUIRE(offset->has_value());
  CHECK(**offset == make_offset(5));
}

TEST_CASE("metadata_store: delete_topic removes everything about the topic and nothing else") {
  temp_dir dir;
  auto store = open_store(dir.path);
  auto t = make_topic("t", 2, {{"retention.ms", "1"}});
  auto t1 = make_topic("t1", 2, {{"retention.ms", "2"}});
  REQUIRE(store->create_topic(t));
  REQUIRE(store->create_topic(t1));
  for (int32_t p : {0, 1}) {
    for (const auto& name : {"t", "t1"}) {
      REQUIRE(store->put_partition_state(name, p, {p, p + 10}));
      REQUIRE(store->put_producer_state(name, p, ps(3)));
    }
  }
  REQUIRE(store->commit_offsets("a", {{"t", 0, make_offset(1)}, {"t", 1, make_offset(2)}, {"t1", 0, make_offset(3)}}));
  REQUIRE(store->commit_offsets("b", {{"t", 1, make_offset(4)}}));

  REQUIRE(store->delete_topic("t"));

  auto gone = store->get_topic("t");
  REQUIRE(gone);
  CHECK_FALSE(gone->has_value());
  auto by_id = store->get_topic_by_id(t.id);
  REQUIRE(by_id);
  CHECK_FALSE(by_id->has_value());
  // Recreating the name starts from no overrides: the old ones went with the topic.
  auto fresh = make_topic("t", 1);
  REQUIRE(store->put_topic(topic_record{fresh.name, fresh.id, 1, 1, 0, {}}));
  auto recreated = store->get_topic("t");
  REQUIRE(recreated);
  CHECK((*recreated)->configs.empty());
  REQUIRE(store->delete_topic("t"));

  auto states = store->list_partition_states();
  REQUIRE(states);
  CHECK(*states == std::vector<partition_state_entry>{{"t1", 0, {0, 10}}, {"t1", 1, {1, 11}}});
  auto producers = store->list_producer_states();
  REQUIRE(producers);
  CHECK(*producers == std::vector<producer_state_entry>{{"t1", 0, ps(3)}, {"t1", 1, ps(3)}});
  auto a = store->fetch_offsets("a");
  REQUIRE(a);
  CHECK(*a == std::vector<partition_offset>{{"t1", 0, make_offset(3)}});
  auto b = store->fetch_offsets("b");
  REQUIRE(b);
  CHECK(b->empty());
  auto remaining = store->get_topic("t1");
  REQUIRE(remaining);
  CHECK(**remaining == t1);

  CHECK(store->delete_topic("t").code() == kafka_error::unknown_topic_or_partition);
}

TEST_CASE("metadata_store: prefixes do not leak between similar names") {
  temp_dir dir;
  auto store = open_store(dir.path);
  REQUIRE(store->commit_offsets("a", {{"t", 0, make_offset(1)}}));
  REQUIRE(store->commit_offsets("ab", {{"t", 0, make_offset(2)}}));
  REQUIRE(store->commit_offsets("a\0b"s, {{"t", 0, make_offset(3)}}));
  REQUIRE(store->commit_offsets("a\x01"s, {{"t", 0, make_offset(4)}}));

  auto a = store->fetch_offsets("a");
  REQUIRE(a);
  CHECK(*a == std::vector<partition_offset>{{"t", 0, make_offset(1)}});
  auto ab = store->fetch_offsets("ab");
  REQUIRE(ab);
  CHECK(*ab == std::vector<partition_offset>{{"t", 0, make_offset(2)}});
  auto nul = store->fetch_offsets("a\0b"s);
  REQUIRE(nul);
  CHECK(*nul == std::vector<partition_offset>{{"t", 0, make_offset(3)}});
  auto groups = store->list_groups_with_offsets();
  REQUIRE(groups);
  CHECK(groups->size() == 4);
  CHECK(std::count(groups->begin(), groups->end(), "a\0b"s) == 1);
  CHECK(std::count(groups->begin(), groups->end(), "a\x01"s) == 1);

  REQUIRE(store->delete_group("a"));
  auto after = store->list_groups_with_offsets();
  REQUIRE(after);
  CHECK(after->size() == 3);
  CHECK(std::count(after->begin(), after->end(), "a") == 0);

  // Topic "t" vs "t1": deleting one leaves the other's offsets and states alone.
  REQUIRE(store->create_topic(make_topic("t", 1)));
  REQUIRE(store->create_topic(make_topic("t1", 1)));
  REQUIRE(store->commit_offsets("g", {{"t", 0, make_offset(5)}, {"t1", 0, make_offset(6)}}));
  REQUIRE(store->put_partition_state("t", 0, {0, 1}));
  REQUIRE(store->put_partition_state("t1", 0, {0, 2}));
  REQUIRE(store->delete_topic("t1"));
  auto g = store->fetch_offsets("g");
  REQUIRE(g);
  CHECK(*g == std::vector<partition_offset>{{"t", 0, make_offset(5)}});
  auto st = store->get_partition_state("t", 0);
  REQUIRE(st);
  CHECK(*st == partition_state{0, 1});
  auto ab_after = store->fetch_offsets("ab");
  REQUIRE(ab_after);
  CHECK(ab_after->size() == 1);
}

TEST_CASE("metadata_store: a directory held by another open store is refused with an error") {
  temp_dir dir;
  auto first = open_store(dir.path);
  auto second = metadata_store::open(dir.path);
  REQUIRE_FALSE(second);
  CHECK(second.code() == kafka_error::kafka_storage_error);
  CHECK_FALSE(second.err().message.empty());
  // The first store is unaffected, and once it closes the directory opens again.
  REQUIRE(first->get_or_create_cluster_id());
  first.reset();
  auto third = metadata_store::open(dir.path);
  CHECK(third);
}

TEST_CASE("metadata_store: open on a path that cannot be a directory is an error") {
  temp_dir dir;
  auto file = dir.path / "plain-file";
  { std::ofstream(file) << "x"; }
  auto store = metadata_store::open(file);
  REQUIRE_FALSE(store);
  CHECK(store.code() == kafka_error::kafka_storage_error);
}

TEST_CASE("metadata_store: clear_all deletes topics, groups, offsets, states and producer ids, keeps the cluster id") {
  temp_dir dir;
  std::string cluster;
  {
    auto store = open_store(dir.path);
    auto id = store->get_or_create_cluster_id();
    REQUIRE(id);
    cluster = *id;
    REQUIRE(store->create_topic(make_topic("orders", 2, {{"retention.ms", "1000"}})));
    REQUIRE(store->commit_offsets("g", {{"orders", 0, make_offset(5)}}));
    REQUIRE(store->put_group_metadata("g", gm("bytes")));
    REQUIRE(store->put_producer_state("orders", 0, ps(4)));
    REQUIRE(store->put_partition_state("orders", 1, partition_state{3, 4}));
    auto first = store->allocate_producer_ids(1000);
    REQUIRE(first);
    CHECK(*first == 0);

    REQUIRE(store->clear_all());
    auto topics = store->list_topics();
    REQUIRE(topics);
    CHECK(topics->empty());
    auto groups = store->list_groups_with_offsets();
    REQUIRE(groups);
    CHECK(groups->empty());
    auto metadata = store->list_group_metadata();
    REQUIRE(metadata);
    CHECK(metadata->empty());
    auto producers = store->list_producer_states();
    REQUIRE(producers);
    CHECK(producers->empty());
    auto states = store->list_partition_states();
    REQUIRE(states);
    CHECK(states->empty());
    auto again = store->allocate_producer_ids(1000);
    REQUIRE(again);
    CHECK(*again == 0);
    // The name is free again.
    REQUIRE(store->create_topic(make_topic("orders", 1)));
  }
  auto store = open_store(dir.path);
  auto id = store->get_or_create_cluster_id();
  REQUIRE(id);
  CHECK(*id == cluster);
  auto topics = store->list_topics();
  REQUIRE(topics);
  REQUIRE(topics->size() == 1);
  CHECK((*topics)[0].partitions == 1);
}

namespace {
client_quota_record quota(std::vector<std::pair<std::string, std::optional<std::string>>> entity,
                          std::vector<std::pair<std::string, double>> values) {
  client_quota_record r;
  for (auto& [type, name] : entity) r.entity.push_back({type, name});
  for (auto& [key, value] : values) r.values.push_back({key, value});
  return r;
}

config_resource_record configs(int8_t type, std::string name, std::vector<std::pair<std::string, std::string>> kv) {
  config_resource_record r;
  r.resource_type = type;
  r.resource_name = std::move(name);
  for (auto& [k, v] : kv) r.configs.push_back({k, v});
  return r;
}
}  // namespace

TEST_CASE("metadata_store: persisted records are an int16 version then the record, and refuse newer versions") {
  auto q = quota({{"user", "alice"}, {"client-id", std::nullopt}}, {{"producer_byte_rate", 1024}, {"request_percentage", 12.5}});
  auto bytes = encode_client_quota_record(q);
  REQUIRE(bytes.size() > 2);
  CHECK(bytes[0] == 0);
  CHECK(bytes[1] == 0);  // version 0
  auto back = decode_client_quota_record(bytes);
  REQUIRE(back);
  CHECK(*back == q);

  auto c = configs(4, "", {{"log.retention.ms", "1000"}});
  auto cbytes = encode_config_resource_record(c);
  auto cback = decode_config_resource_record(cbytes);
  REQUIRE(cback);
  CHECK(*cback == c);

  std::string newer = cbytes;
  newer[1] = 9;  // a version this broker does not know
  auto refused = decode_config_resource_record(newer);
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == kafka_error::kafka_storage_error);
  CHECK_FALSE(decode_client_quota_record(bytes.substr(0, bytes.size() - 1)));  // truncated
  CHECK_FALSE(decode_client_quota_record(bytes + "x"));                        // trailing bytes
}

TEST_CASE("metadata_store: client quotas round trip per entity, a default is not a name, no values deletes") {
  temp_dir dir;
  auto alice = quota({{"user", "alice"}}, {{"producer_byte_rate", 1024}});
  auto user_default = quota({{"user", std::nullopt}}, {{"consumer_byte_rate", 2048}});
  auto empty_name = quota({{"user", ""}}, {{"consumer_byte_rate", 1}});
  auto pair = quota({{"user", "alice"}, {"client-id", "c1"}}, {{"request_percentage", 50.5}});
  auto ip = quota({{"ip", std::nullopt}}, {{"connection_creation_rate", 10}});
  {
    auto store = open_store(dir.path);
    REQUIRE(store->put_client_quotas({alice, user_default, empty_name, pair, ip}));
    auto all = store->list_client_quotas();
    REQUIRE(all);
    CHECK(all->size() == 5);
    // Replacing one entity's values and deleting another in one batch.
    auto alice2 = quota({{"user", "alice"}}, {{"consumer_byte_rate", 7}});
    REQUIRE(store->put_client_quotas({alice2, quota({{"user", ""}}, {})}));
  }
  auto store = open_store(dir.path);
  auto all = store->list_client_quotas();
  REQUIRE(all);
  REQUIRE(all->size() == 4);
  auto has = [&](const client_quota_record& r) { return std::find(all->begin(), all->end(), r) != all->end(); };
  CHECK(has(quota({{"user", "alice"}}, {{"consumer_byte_rate", 7}})));
  CHECK(has(user_default));
  CHECK(has(pair));
  CHECK(has(ip));
  CHECK_FALSE(has(empty_name));
}

TEST_CASE("metadata_store: dynamic config resources round trip, are replaced whole and cleared by clear_all") {
  temp_dir dir;
  {
    auto store = open_store(dir.path);
    REQUIRE(store->put_config_resource(configs(4, "", {{"log.retention.ms", "1000"}})));
    REQUIRE(store->put_config_resource(configs(4, "1", {{"message.max.bytes", "2000"}})));
    REQUIRE(store->put_config_resource(configs(32, "g", {{"consumer.session.timeout.ms", "50000"}})));
    REQUIRE(store->put_config_resource(configs(32, "g2", {{"consumer.heartbeat.interval.ms", "6000"}})));
    REQUIRE(store->put_config_resource(configs(32, "g2", {})));  // deleted
    REQUIRE(store->put_config_resource(configs(4, "1", {{"log.roll.ms", "5000"}})));
  }
  auto store = open_store(dir.path);
  auto all = store->list_config_resources();
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[0] == configs(4, "", {{"log.retention.ms", "1000"}}));
  CHECK((*all)[1] == configs(4, "1", {{"log.roll.ms", "5000"}}));
  CHECK((*all)[2] == configs(32, "g", {{"consumer.session.timeout.ms", "50000"}}));
  REQUIRE(store->put_client_quotas({quota({{"ip", "1.2.3.4"}}, {{"connection_creation_rate", 3}})}));
  REQUIRE(store->clear_all());
  auto after = store->list_config_resources();
  REQUIRE(after);
  CHECK(after->empty());
  auto quotas = store->list_client_quotas();
  REQUIRE(quotas);
  CHECK(quotas->empty());
}

namespace {
scram_credential_record scram_record(std::string user, int8_t mechanism, int32_t iterations, uint8_t fill) {
  scram_credential_record r;
  r.name = std::move(user);
  r.mechanism = mechanism;
  r.salt = std::vector<uint8_t>(26, fill);
  r.stored_key = std::vector<uint8_t>(mechanism == 2 ? 64 : 32, static_cast<uint8_t>(fill + 1));
  r.server_key = std::vector<uint8_t>(mechanism == 2 ? 64 : 32, static_cast<uint8_t>(fill + 2));
  r.iterations = iterations;
  return r;
}
}  // namespace

TEST_CASE("metadata_store: a SCRAM credential record round trips as version 0 and refuses damaged bytes", "[scram]") {
  const auto r = scram_record("alice", 1, 8192, 7);
  const auto bytes = encode_scram_credential_record(r);
  REQUIRE(bytes.size() > 2);
  CHECK(bytes[0] == 0);
  CHECK(bytes[1] == 0);
  auto back = decode_scram_credential_record(bytes);
  REQUIRE(back);
  CHECK(*back == r);
  std::string newer = bytes;
  newer[1] = 1;
  auto refused = decode_scram_credential_record(newer);
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == kafka_error::kafka_storage_error);
  CHECK_FALSE(decode_scram_credential_record(bytes.substr(0, bytes.size() - 1)));
  CHECK_FALSE(decode_scram_credential_record(bytes + "x"));
}

TEST_CASE("metadata_store: SCRAM credentials are kept per user and mechanism, across a reopen, until clear_all", "[scram]") {
  temp_dir dir;
  const auto alice256 = scram_record("alice", 1, 4096, 1);
  const auto alice512 = scram_record("alice", 2, 16384, 2);
  // Names that differ only after an escaped byte or by a prefix stay apart.
  const auto odd = scram_record(std::string("a\0b", 3), 1, 5000, 3);
  const auto prefix = scram_record("a", 1, 6000, 4);
  {
    auto store = open_store(dir.path);
    REQUIRE(store->alter_scram_credentials({alice256, alice512, odd, prefix}, {}));
    // Replacing one, deleting one (and one that is not there) in the same batch.
    REQUIRE(store->alter_scram_credentials({scram_record("alice", 1, 9000, 5)}, {{"a", 1}, {"nobody", 2}}));
  }
  auto store = open_store(dir.path);
  auto all = store->list_scram_credentials();
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  auto has = [&](const scram_credential_record& r) { return std::find(all->begin(), all->end(), r) != all->end(); };
  CHECK(has(scram_record("alice", 1, 9000, 5)));
  CHECK(has(alice512));
  CHECK(has(odd));
  CHECK_FALSE(has(prefix));
  REQUIRE(store->clear_all());
  auto cleared = store->list_scram_credentials();
  REQUIRE(cleared);
  CHECK(cleared->empty());
}

TEST_CASE("metadata_store: a new store's cluster id comes with its initial configs, as does a clear_all") {
  temp_dir dir;
  const std::vector<config_resource_record> initial{configs(4, "", {{"min.insync.replicas", "1"}}), configs(32, "none", {})};
  {
    auto store = open_store(dir.path);
    REQUIRE(store->get_or_create_cluster_id(initial));
    auto all = store->list_config_resources();
    REQUIRE(all);
    CHECK(*all == std::vector<config_resource_record>{initial[0]});  // the record without configs is skipped
    // Changed and asked again: an existing cluster id writes nothing.
    REQUIRE(store->put_config_resource(configs(4, "", {{"min.insync.replicas", "2"}})));
    REQUIRE(store->get_or_create_cluster_id(initial));
  }
  auto store = open_store(dir.path);
  REQUIRE(store->get_or_create_cluster_id(initial));
  auto kept = store->list_config_resources();
  REQUIRE(kept);
  CHECK(*kept == std::vector<config_resource_record>{configs(4, "", {{"min.insync.replicas", "2"}})});
  REQUIRE(store->put_config_resource(configs(4, "1", {{"log.roll.ms", "5000"}})));
  REQUIRE(store->clear_all(initial));
  auto cleared = store->list_config_resources();
  REQUIRE(cleared);
  CHECK(*cleared == std::vector<config_resource_record>{initial[0]});
}

namespace {

// The column families of a version 1 store, one per keyspace, in the order of the keyspace bytes of
// version 2 (log/metadata_store.hpp).
const std::vector<std::string> version_1_column_families = {
    "default",        "topics",          "topic_configs", "group_offsets",   "group_metadata",
    "producer_state", "partition_state", "client_quotas", "config_resources"};

struct raw_store {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // in version_1_column_families order
  // version_1_families: open (creating them if missing) the column families of version 1; otherwise
  // only the default one.
  explicit raw_store(const std::filesystem::path& dir, bool version_1_families = true) {
    rocksdb::DBOptions options;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& name : version_1_column_families)
      if (version_1_families || name == "default") families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    REQUIRE(rocksdb::DB::Open(options, dir.string(), families, &handles, &db).ok());
  }
  ~raw_store() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
    delete db;
  }
};

// Rewrites a version 2 store as the version 1 layout: each key in its keyspace's column family without
// the keyspace byte, the default keyspace's keys as they are, and format version 1.
void rewrite_as_version_1(const std::filesystem::path& dir) {
  raw_store raw(dir);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), raw.handles[0]));
  size_t keys = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    REQUIRE(!key.empty());
    const auto space = static_cast<uint8_t>(key[0]);
    REQUIRE(space < version_1_column_families.size());
    const std::string rest = key.substr(1);
    std::string value = it->value().ToString();
    if (space == 0 && rest == "format_version") {
      CHECK(value == "\x02");
      value = "\x01";
    }
    batch.Put(raw.handles[space], rest, value);
    batch.Delete(raw.handles[0], key);
    ++keys;
  }
  REQUIRE(keys > 5);
  REQUIRE(raw.db->Write(rocksdb::WriteOptions(), &batch).ok());
}

std::vector<std::string> column_families_of(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names).ok());
  std::sort(names.begin(), names.end());
  return names;
}

// Fills a store with a record of every kind; check_filled reads them back.
std::string fill(metadata_store& store, const topic_record& topic) {
  auto id = store.get_or_create_cluster_id({configs(4, "", {{"min.insync.replicas", "1"}})});
  REQUIRE(id);
  REQUIRE(store.create_topic(topic));
  REQUIRE(store.commit_offsets("g", {{"orders", 2, make_offset(99, 123)}}));
  REQUIRE(store.put_group_metadata("g", gm("gm")));
  REQUIRE(store.put_producer_state("orders", 2, ps(3)));
  REQUIRE(store.put_partition_state("orders", 2, {1, 2}));
  REQUIRE(store.put_client_quotas({quota({{"user", "alice"}}, {{"consumer_byte_rate", 7}})}));
  REQUIRE(store.allocate_producer_ids(1000));
  return *id;
}

void check_filled(metadata_store& store, const topic_record& topic, const std::string& cluster_id) {
  auto id = store.get_or_create_cluster_id();
  REQUIRE(id);
  CHECK(*id == cluster_id);
  auto got = store.get_topic_by_id(topic.id);
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == topic);
  auto offset = store.fetch_offset("g", "orders", 2);
  REQUIRE(offset);
  REQUIRE(offset->has_value());
  CHECK(**offset == make_offset(99, 123));
  CHECK(*store.get_group_metadata("g") == gm("gm"));
  CHECK(*store.get_producer_state("orders", 2) == ps(3));
  CHECK(*store.get_partition_state("orders", 2) == partition_state{1, 2});
  auto quotas = store.list_client_quotas();
  REQUIRE(quotas);
  CHECK(*quotas == std::vector<client_quota_record>{quota({{"user", "alice"}}, {{"consumer_byte_rate", 7}})});
  auto resources = store.list_config_resources();
  REQUIRE(resources);
  CHECK(*resources == std::vector<config_resource_record>{configs(4, "", {{"min.insync.replicas", "1"}})});
  auto groups = store.list_groups_with_offsets();
  REQUIRE(groups);
  CHECK(*groups == std::vector<std::string>{"g"});
  auto ids = store.allocate_producer_ids(1);
  REQUIRE(ids);
  CHECK(*ids == 1000);
}

// A store filled by fill() in a new directory; its cluster id.
struct filled_store {
  temp_dir dir;
  topic_record topic = make_topic("orders", 4, {{"retention.ms", "5"}});
  std::string cluster_id;
  filled_store() {
    auto store = open_store(dir.path);
    cluster_id = fill(*store, topic);
  }
};

}  // namespace

TEST_CASE("metadata_store: a new store keeps every keyspace in one column family") {
  temp_dir dir;
  { open_store(dir.path); }
  CHECK(column_families_of(dir.path) == std::vector<std::string>{"default"});
}

namespace {

// The metadata store of tests/stored_formats/store_v2_data_dir.tar.gz (format 2, hand-encoded values; its
// script lists what it holds), unpacked into a temporary directory.
struct store_v2_fixture {
  temp_dir dir;
  std::filesystem::path store_dir = dir.path / "data" / "__brook_metadata";
  store_v2_fixture() {
    const std::string cmd =
        "tar xzf '" BROOK_STORED_FORMATS "/store_v2_data_dir.tar.gz' -C '" + dir.path.string() + "' data/__brook_metadata";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
};

// Everything the fixture's store holds, as records read through the current format.
void check_store_v2_contents(metadata_store& store) {
  auto cluster = store.get_or_create_cluster_id();
  REQUIRE(cluster);
  CHECK(cluster->size() == 22);
  auto topics = store.list_topics();
  REQUIRE(topics);
  REQUIRE(topics->size() == 2);
  CHECK((*topics)[0].name == "compacted");
  CHECK((*topics)[0].partitions == 1);
  CHECK((*topics)[0].configs == std::map<std::string, std::string>{{"cleanup.policy", "compact"}});
  CHECK((*topics)[1].name == "orders");
  CHECK((*topics)[1].partitions == 3);
  CHECK((*topics)[1].replication_factor == 1);
  CHECK((*topics)[1].created_ms > 1700000000000);
  CHECK((*topics)[1].configs ==
        std::map<std::string, std::string>{{"cleanup.policy", "delete"}, {"retention.ms", "86400000"}});

  auto classic_offsets = store.fetch_offsets("classic-group");
  REQUIRE(classic_offsets);
  REQUIRE(classic_offsets->size() == 3);
  for (int32_t p = 0; p < 3; ++p) {
    CHECK((*classic_offsets)[p].topic == "orders");
    CHECK((*classic_offsets)[p].partition == p);
    CHECK((*classic_offsets)[p].offset.offset == 4 + p);
    CHECK((*classic_offsets)[p].offset.metadata == "m"s + std::to_string(p) + '\0');
    CHECK_FALSE((*classic_offsets)[p].offset.expire_ms);
  }
  auto consumer_offsets = store.fetch_offsets("consumer-group");
  REQUIRE(consumer_offsets);
  REQUIRE(consumer_offsets->size() == 3);
  CHECK((*consumer_offsets)[2].offset.offset == 9);

  auto groups = store.list_group_metadata();
  REQUIRE(groups);
  REQUIRE(groups->size() == 2);
  const auto& classic = (*groups)[0];
  CHECK(classic.group == "classic-group");
  REQUIRE(classic.record.classic);
  CHECK_FALSE(classic.record.consumer);
  CHECK(classic.record.classic->protocol_type == "consumer");
  CHECK(classic.record.classic->protocol_name == std::optional<std::string>("range"));
  REQUIRE(classic.record.classic->members.size() == 1);
  CHECK(classic.record.classic->leader == classic.record.classic->members[0].member_id);
  REQUIRE(classic.record.classic->members[0].protocols.size() == 1);
  CHECK(classic.record.classic->members[0].protocols[0].name == "range");
  CHECK_FALSE(classic.record.classic->members[0].assignment.empty());
  const auto& consumer = (*groups)[1];
  CHECK(consumer.group == "consumer-group");
  REQUIRE(consumer.record.consumer);
  CHECK_FALSE(consumer.record.classic);
  REQUIRE(consumer.record.consumer->members.size() == 1);
  const auto& member = consumer.record.consumer->members[0];
  CHECK(member.subscribed_topic_names == std::vector<std::string>{"orders"});
  REQUIRE(member.assigned.size() == 1);
  CHECK(member.assigned[0].partitions == std::vector<int32_t>{0, 1, 2});
  CHECK(member.assigned[0].assignment_epochs.size() == 3);
  CHECK(member.assigned[0].topic_id == (*topics)[1].id);
  REQUIRE(consumer.record.consumer->subscribed_metadata.size() == 1);
  CHECK(consumer.record.consumer->subscribed_metadata[0].name == "orders");

  auto producers = store.list_producer_states();
  REQUIRE(producers);
  int64_t producer_id = -1;
  size_t orders_partitions = 0;
  for (const auto& p : *producers) {
    REQUIRE(p.record.producers.size() == 1);
    producer_id = p.record.producers[0].producer_id;
    if (p.topic != "orders") continue;
    ++orders_partitions;
    CHECK(p.record.covered_offset == 10);
    REQUIRE_FALSE(p.record.producers[0].batches.empty());
    CHECK(p.record.producers[0].batches.back().last_sequence == 9);
    CHECK(p.record.producers[0].batches.back().last_offset == 9);
  }
  CHECK(orders_partitions == 3);
  auto next = store.allocate_producer_ids(1);
  REQUIRE(next);
  CHECK(*next > producer_id);

  auto quotas = store.list_client_quotas();
  REQUIRE(quotas);
  REQUIRE(quotas->size() == 1);
  CHECK((*quotas)[0].entity[0].entity_name == std::optional<std::string>("quota-client"));
  auto resources = store.list_config_resources();
  REQUIRE(resources);
  bool retention = false;
  for (const auto& r : *resources)
    for (const auto& c : r.configs) retention |= r.resource_name.empty() && c.name == "log.retention.ms" && c.value == "3600000";
  CHECK(retention);
}

}  // namespace

TEST_CASE("metadata_store: a version 2 store (hand-encoded values) is converted to records when opened") {
  store_v2_fixture f;
  {
    auto store = open_store(f.store_dir);
    check_store_v2_contents(*store);
  }
  {
    // Version 3 from now on: it opens again as it is.
    raw_store raw(f.store_dir, false);
    std::string version;
    REQUIRE(raw.db->Get(rocksdb::ReadOptions(), raw.handles[0], std::string(1, '\x00') + "format_version", &version).ok());
    CHECK(version == "\x03");
  }
  auto store = open_store(f.store_dir);
  check_store_v2_contents(*store);
}

TEST_CASE("metadata_store: a version 2 value that cannot be read fails the open, naming it, and changes nothing") {
  store_v2_fixture f;
  {
    raw_store raw(f.store_dir, false);
    REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.handles[0], std::string(1, '\x01') + "broken-topic", "\x01\x02").ok());
  }
  auto refused = metadata_store::open(f.store_dir);
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == kafka_error::kafka_storage_error);
  CHECK_THAT(refused.err().message, Catch::Contains("broken-topic") && Catch::Contains("topics"));
  {
    raw_store raw(f.store_dir, false);
    REQUIRE(raw.db->Delete(rocksdb::WriteOptions(), raw.handles[0], std::string(1, '\x01') + "broken-topic").ok());
  }
  auto store = open_store(f.store_dir);  // nothing was converted by the failed open
  check_store_v2_contents(*store);
}

TEST_CASE("metadata_store: a version 1 store (a column family per keyspace) is converted when opened") {
  store_v2_fixture f;
  rewrite_as_version_1(f.store_dir);
  REQUIRE(column_families_of(f.store_dir).size() == version_1_column_families.size());
  {
    auto store = open_store(f.store_dir);
    check_store_v2_contents(*store);
  }
  CHECK(column_families_of(f.store_dir) == std::vector<std::string>{"default"});
  auto store = open_store(f.store_dir);  // and it opens again
  check_store_v2_contents(*store);
}

TEST_CASE("metadata_store: a conversion cut short after its batch is finished at the next open") {
  filled_store f;
  {
    // The converted keys are in place but the old column families were not dropped yet: they still
    // hold what they held (here, a stale topic record), which must not come back.
    raw_store raw(f.dir.path);
    REQUIRE(raw.db->Put(rocksdb::WriteOptions(), raw.handles[1], "stale", "x").ok());
  }
  REQUIRE(column_families_of(f.dir.path).size() == version_1_column_families.size());
  {
    auto store = open_store(f.dir.path);
    check_filled(*store, f.topic, f.cluster_id);
    auto stale = store->get_topic("stale");
    REQUIRE(stale);
    CHECK_FALSE(stale->has_value());
  }
  CHECK(column_families_of(f.dir.path) == std::vector<std::string>{"default"});
}

TEST_CASE("metadata_store: transaction states round trip per transactional id, survive reopening, go with clear_all") {
  temp_dir dir;
  transaction_state_record ongoing;
  ongoing.producer_id = 42;
  ongoing.producer_epoch = 3;
  ongoing.transaction_timeout_ms = 60000;
  ongoing.transaction_status = 1;
  ongoing.transaction_partitions = std::vector<brook::common::protocol::transaction_state_record::partitions_data>{
      {"orders", {0, 2}}};
  ongoing.transaction_last_update_timestamp_ms = 1000;
  ongoing.transaction_start_timestamp_ms = 900;
  ongoing.client_transaction_version = 2;
  transaction_state_record empty = ongoing;
  empty.transaction_status = 0;
  empty.transaction_partitions = std::nullopt;
  {
    auto store = open_store(dir.path);
    REQUIRE(store->put_transaction_state("txn-b", ongoing));
    REQUIRE(store->put_transaction_state("txn-a", empty));
    REQUIRE(store->put_transaction_state("txn-c", empty));
    REQUIRE(store->delete_transaction_state("txn-c"));
  }
  auto store = open_store(dir.path);
  auto listed = store->list_transaction_states();
  REQUIRE(listed);
  CHECK(*listed == std::vector<transaction_state_entry>{{"txn-a", empty}, {"txn-b", ongoing}});
  REQUIRE(store->clear_all());
  listed = store->list_transaction_states();
  REQUIRE(listed);
  CHECK(listed->empty());
}

TEST_CASE("metadata_store: pending transactional offsets are staged, completed by marker, and deleted with their group") {
  temp_dir dir;
  auto pending = [](std::string group, std::string topic, int32_t partition, int64_t pid, int64_t offset,
                    int64_t sequence) {
    txn_offset t{std::move(group), std::move(topic), partition, pid, make_offset(offset)};
    t.offset.sequence = sequence;
    return t;
  };
  {
    auto store = open_store(dir.path);
    partition_offset plain{"t", 1, make_offset(50)};
    plain.offset.sequence = 5;  // written after producer 7's staging of t-1 (sequence 3)
    REQUIRE(store->commit_offsets("g", {plain}));
    REQUIRE(store->stage_txn_offsets({pending("g", "t", 0, 7, 10, 2), pending("g", "t", 1, 7, 11, 3),
                                      pending("g", "t", 0, 8, 20, 4), pending("h", "t", 0, 7, 30, 6),
                                      pending("h", "u", 0, 9, 40, 7)}));
  }
  auto store = open_store(dir.path);
  auto listed = store->list_txn_offsets();
  REQUIRE(listed);
  REQUIRE(listed->size() == 5);
  CHECK((*listed)[0] == pending("g", "t", 0, 7, 10, 2));
  CHECK((*listed)[1] == pending("g", "t", 0, 8, 20, 4));

  REQUIRE(store->complete_txn_offsets("g", 7, true));
  auto t0 = store->fetch_offset("g", "t", 0);
  REQUIRE(t0);
  REQUIRE(*t0);
  CHECK((*t0)->offset == 10);
  CHECK((*t0)->sequence == 2);
  auto t1 = store->fetch_offset("g", "t", 1);
  REQUIRE(t1);
  CHECK((*t1)->offset == 50);  // the plain commit was written later: it stays
  REQUIRE(store->complete_txn_offsets("g", 8, false));
  CHECK((*store->fetch_offset("g", "t", 0))->offset == 10);
  CHECK(store->list_txn_offsets()->size() == 2);  // h's

  REQUIRE(store->delete_topic("u").err().code == brook::common::kafka_error::unknown_topic_or_partition);
  REQUIRE(store->create_topic(make_topic("u", 1)));
  REQUIRE(store->delete_topic("u"));
  CHECK(store->list_txn_offsets()->size() == 1);
  REQUIRE(store->delete_offsets("h", "t", {0}));
  CHECK(store->list_txn_offsets()->empty());
  REQUIRE(store->stage_txn_offsets({pending("h", "t", 0, 7, 31, 8)}));
  REQUIRE(store->delete_group("h"));
  CHECK(store->list_txn_offsets()->empty());
}

TEST_CASE("ACLs: added and removed in one batch, listed in key order, kept across reopening, cleared by clear_all") {
  temp_dir dir;
  auto acl = [](int8_t type, std::string name, std::string principal, int8_t operation) {
    brook::log::acl_record r;
    r.resource_type = type;
    r.resource_name = std::move(name);
    r.pattern_type = 3;
    r.principal = std::move(principal);
    r.host = "*";
    r.operation = operation;
    r.permission_type = 3;
    return r;
  };
  const auto topic_read = acl(2, "t", "User:alice", 3);
  const auto topic_write = acl(2, "t", "User:alice", 4);
  const auto group_read = acl(3, "g", "User:bob", 3);
  // A name with the key's separator byte in it stays apart from its neighbours.
  const auto odd_name = acl(2, std::string("t\0x", 3), "User:alice", 3);
  {
    auto store = open_store(dir.path);
    REQUIRE(store->update_acls({group_read, topic_write, topic_read, odd_name}, {}));
    REQUIRE(store->update_acls({}, {topic_write}));
    // Adding what is there, or removing what is not, changes nothing.
    REQUIRE(store->update_acls({topic_read}, {acl(7, "nobody", "User:x", 2)}));
  }
  auto store = open_store(dir.path);
  auto listed = store->list_acls();
  REQUIRE(listed);
  CHECK(*listed == std::vector<brook::log::acl_record>{topic_read, odd_name, group_read});
  REQUIRE(store->clear_all());
  auto after = store->list_acls();
  REQUIRE(after);
  CHECK(after->empty());
}
