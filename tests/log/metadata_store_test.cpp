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
  std::string binary = "\x00\x01\xff payload"s;
  REQUIRE(store->put_group_metadata("g1", binary));
  REQUIRE(store->put_group_metadata("g2", "two"));
  REQUIRE(store->commit_offsets("g1", {{"t", 0, make_offset(1)}}));
  REQUIRE(store->commit_offsets("g2", {{"t", 0, make_offset(2)}}));

  auto meta = store->get_group_metadata("g1");
  REQUIRE(meta);
  CHECK(*meta == binary);
  auto listed = store->list_group_metadata();
  REQUIRE(listed);
  CHECK(*listed == std::vector<group_blob>{{"g1", binary}, {"g2", "two"}});
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
  REQUIRE(store->put_producer_state("t", 0, "\x01producers"s));
  REQUIRE(store->put_producer_state("t", 1, "p1"));
  auto ps = store->get_producer_state("t", 0);
  REQUIRE(ps);
  CHECK(*ps == "\x01producers"s);
  auto all_ps = store->list_producer_states();
  REQUIRE(all_ps);
  CHECK(*all_ps == std::vector<partition_blob>{{"t", 0, "\x01producers"s}, {"t", 1, "p1"}});
  REQUIRE(store->delete_producer_state("t", 0));
  ps = store->get_producer_state("t", 0);
  REQUIRE(ps);
  CHECK_FALSE(ps->has_value());

  REQUIRE(store->put_partition_state("t", 0, partition_state{5, 100}));
  REQUIRE(store->put_partition_state("t", 3, partition_state{0, 42}));
  auto st = store->get_partition_state("t", 0);
  REQUIRE(st);
  REQUIRE(st->has_value());
  CHECK(**st == partition_state{5, 100});
  auto states = store->list_partition_states();
  REQUIRE(states);
  CHECK(*states == std::vector<partition_state_entry>{{"t", 0, {5, 100}}, {"t", 3, {0, 42}}});
  auto raw = store->get_partition_state_bytes("t", 3);
  REQUIRE(raw);
  CHECK(**raw == encode_partition_state({0, 42}));
  REQUIRE(store->delete_partition_state("t", 3));
  st = store->get_partition_state("t", 3);
  REQUIRE(st);
  CHECK_FALSE(st->has_value());

  // Raw bytes the typed helper cannot read are reported, not misread.
  REQUIRE(store->put_partition_state_bytes("t", 9, "garbage"));
  CHECK(store->get_partition_state("t", 9).code() == kafka_error::kafka_storage_error);
}

TEST_CASE("metadata_store: partition_state encoding is versioned and strict") {
  auto bytes = encode_partition_state({-1, 1LL << 40});
  REQUIRE(bytes.size() == 17);
  CHECK(bytes[0] == '\x01');
  auto decoded = decode_partition_state(bytes);
  REQUIRE(decoded);
  CHECK(*decoded == partition_state{-1, 1LL << 40});
  CHECK_FALSE(decode_partition_state(bytes.substr(0, 16)));
  CHECK_FALSE(decode_partition_state(bytes + "x"));
  bytes[0] = '\x02';
  CHECK_FALSE(decode_partition_state(bytes));
}

TEST_CASE("metadata_store: everything reads back after reopening") {
  temp_dir dir;
  auto topic = make_topic("orders", 4, {{"retention.ms", "5"}});
  {
    auto store = open_store(dir.path);
    REQUIRE(store->create_topic(topic));
    REQUIRE(store->commit_offsets("g", {{"orders", 2, make_offset(99, 123)}}));
    REQUIRE(store->put_group_metadata("g", "gm"));
    REQUIRE(store->put_producer_state("orders", 2, "ps"));
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
  auto gm = store->get_group_metadata("g");
  REQUIRE(gm);
  CHECK(*gm == "gm");
  auto ps = store->get_producer_state("orders", 2);
  REQUIRE(ps);
  CHECK(*ps == "ps");
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
      REQUIRE(store->put_producer_state(name, p, "ps"));
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
  CHECK(*producers == std::vector<partition_blob>{{"t1", 0, "ps"}, {"t1", 1, "ps"}});
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
    REQUIRE(store->put_group_metadata("g", "bytes"));
    REQUIRE(store->put_producer_state("orders", 0, "producers"));
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
  explicit raw_store(const std::filesystem::path& dir) {
    rocksdb::DBOptions options;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const auto& name : version_1_column_families) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
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
  REQUIRE(store.put_group_metadata("g", "gm"));
  REQUIRE(store.put_producer_state("orders", 2, "ps"));
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
  CHECK(*store.get_group_metadata("g") == "gm");
  CHECK(*store.get_producer_state("orders", 2) == "ps");
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

TEST_CASE("metadata_store: a version 1 store (a column family per keyspace) is converted when opened") {
  filled_store f;
  rewrite_as_version_1(f.dir.path);
  REQUIRE(column_families_of(f.dir.path).size() == version_1_column_families.size());
  {
    auto store = open_store(f.dir.path);
    check_filled(*store, f.topic, f.cluster_id);
  }
  CHECK(column_families_of(f.dir.path) == std::vector<std::string>{"default"});
  auto store = open_store(f.dir.path);  // and it opens again as version 2
  auto got = store->get_topic("orders");
  REQUIRE(got);
  CHECK(got->has_value());
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
