// ApiVersions, in process: the advertised table, the features (KIP-584), software-name validation, the
// v5 cluster and node check (KIP-1242), and the v0 answer to a version newer than any the broker serves.
#include <catch2/catch.hpp>

#include <set>
#include <string_view>

#include "broker/api_table.hpp"
#include "broker/features.hpp"
#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace av = proto::api_versions;

TEST_CASE("ApiVersions advertises exactly the handler table, in key order", "[handlers][api_versions]") {
  test::broker_fixture b;
  for (int16_t v = av::min_version; v <= av::max_version; ++v) {
    av::request req;
    req.client_software_name = "brook-test";
    req.client_software_version = "1.0";
    auto resp = b.call<av::response>(av::api_key, v, req);
    CHECK(resp.error_code == 0);
    REQUIRE(resp.api_keys.size() == broker::api_table().size());
    for (size_t i = 1; i < resp.api_keys.size(); ++i) CHECK(resp.api_keys[i - 1].api_key < resp.api_keys[i].api_key);
    for (const auto& k : resp.api_keys) {
      const auto* e = broker::find_api(k.api_key);
      REQUIRE(e != nullptr);
      CHECK(k.min_version == e->min_version);
      CHECK(k.max_version == e->max_version);
    }
  }
}

TEST_CASE("ApiVersions v3 refuses a software name outside Kafka's pattern", "[handlers][api_versions]") {
  test::broker_fixture b;
  av::request req;
  req.client_software_name = "-bad name";
  req.client_software_version = "1.0";
  auto resp = b.call<av::response>(av::api_key, 3, req);
  CHECK(resp.error_code == common::wire_code(common::kafka_error::invalid_request));
  CHECK(resp.api_keys.empty());  // Kafka's error answer lists no APIs
  // The connection stays usable.
  req.client_software_name = "good";
  CHECK(b.call<av::response>(av::api_key, 3, req).error_code == 0);
}

TEST_CASE("ApiVersions lists the broker's features: supported ranges and finalized levels", "[handlers][api_versions]") {
  test::broker_fixture b;
  const auto table = broker::features();
  for (int16_t v = 3; v <= av::max_version; ++v) {
    INFO("v" << v);
    av::request req;
    req.client_software_name = "brook-test";
    req.client_software_version = "1.0";
    auto resp = b.call<av::response>(av::api_key, v, req);
    REQUIRE(resp.error_code == 0);
    // Before v4 a feature whose lowest level is 0 is left out (KAFKA-17011); from v4 all are listed.
    std::vector<av::supported_feature_key> supported;
    std::vector<av::finalized_feature_key> finalized;
    for (const auto& f : table) {
      if (v >= 4 || f.min_level != 0) supported.push_back({std::string(f.name), f.min_level, f.max_level});
      if (f.finalized_level != 0) finalized.push_back({std::string(f.name), f.finalized_level, f.finalized_level});
    }
    CHECK(resp.supported_features == supported);
    CHECK(resp.finalized_features == finalized);
    CHECK(resp.finalized_features_epoch == broker::finalized_features_epoch());
    CHECK(resp.finalized_features_epoch >= 0);  // clients ignore finalized features at -1
  }
  // Levels 0 and 1 have no tagged fields at all.
  auto v2 = b.call<av::response>(av::api_key, 2, av::request{});
  CHECK(v2.supported_features.empty());
  CHECK(v2.finalized_features_epoch == -1);
}

TEST_CASE("the features: Kafka 4.4's, with the levels Brook serves", "[handlers][api_versions]") {
  auto find = [](std::string_view name) -> const broker::feature* {
    for (const auto& f : broker::features())
      if (f.name == name) return &f;
    return nullptr;
  };
  // Every feature of Kafka 4.4, each once.
  std::set<std::string_view> names;
  for (const auto& f : broker::features()) {
    CHECK(names.insert(f.name).second);
    CHECK(f.min_level <= f.finalized_level);
    CHECK(f.finalized_level <= f.max_level);
  }
  CHECK(names == std::set<std::string_view>{"metadata.version", "kraft.version", "group.version", "transaction.version",
                                            "eligible.leader.replicas.version", "share.version", "streams.version"});
  const auto* group = find("group.version");
  REQUIRE(group);
  CHECK(group->min_level == 0);        // the classic protocol: JoinGroup and the rest are served
  CHECK(group->finalized_level == 1);  // KIP-848: ConsumerGroupHeartbeat is served
  CHECK(group->max_level == 1);
  CHECK(broker::find_api(11) != nullptr);
  CHECK(broker::find_api(68) != nullptr);
  // Eligible leader replicas are on, as in a new Kafka 4.4 cluster (their config rules apply).
  const auto* elr = find("eligible.leader.replicas.version");
  REQUIRE(elr);
  CHECK(elr->min_level == 0);
  CHECK(elr->max_level == 1);
  CHECK(elr->finalized_level == 1);
  // Transactions v2 (KIP-890) are on, as in a new Kafka 4.4 cluster: EndTxn v5, Produce v12 and
  // TxnOffsetCommit v5 are served.
  const auto* txn = find("transaction.version");
  REQUIRE(txn);
  CHECK(txn->min_level == 0);
  CHECK(txn->max_level == 2);
  CHECK(txn->finalized_level == 2);
  CHECK(broker::find_api(26)->max_version >= 5);
  CHECK(broker::find_api(0)->max_version >= 12);
  CHECK(broker::find_api(28)->max_version >= 5);
  // Features Brook does not have stay at level 0: share groups, streams groups or KRaft quorum.
  for (std::string_view name : {"share.version", "streams.version", "kraft.version"}) {
    INFO(name);
    const auto* f = find(name);
    REQUIRE(f);
    CHECK(f->min_level == 0);
    CHECK(f->max_level == 0);
    CHECK(f->finalized_level == 0);
  }
  CHECK(broker::find_api(76) == nullptr);  // ShareGroupHeartbeat
  CHECK(broker::find_api(88) == nullptr);  // StreamsGroupHeartbeat
  const auto* metadata = find("metadata.version");
  REQUIRE(metadata);
  CHECK(metadata->finalized_level ==
        broker::metadata_version_for(broker::find_api(1)->max_version, broker::find_api(2)->max_version));
  CHECK(metadata->finalized_level >= 26);  // 4.1-IV0: Fetch v17, ListOffsets v10
  CHECK(metadata->max_level == metadata->finalized_level);
  CHECK(metadata->min_level ==
        broker::oldest_metadata_version_for(broker::find_api(1)->min_version, broker::find_api(2)->min_version));
  CHECK(metadata->min_level == 7);  // 3.3-IV3, Kafka 4.4's oldest level: Fetch v13 and ListOffsets v7 are served
  // Kafka 4.4's levels by the versions they need.
  CHECK(broker::metadata_version_for(18, 11) == 33);  // 4.4-IV2, Kafka 4.4's newest production level
  CHECK(broker::metadata_version_for(18, 10) == 28);  // 4.2-IV0
  CHECK(broker::metadata_version_for(17, 11) == 26);  // 4.1-IV0
  CHECK(broker::metadata_version_for(17, 10) == 26);
  CHECK(broker::metadata_version_for(16, 9) == 20);   // 3.8-IV0
  CHECK(broker::metadata_version_for(13, 7) == 8);    // 3.4-IV0
  CHECK(broker::metadata_version_for(12, 7) == 0);    // older than any level Kafka 4.4 knows
  CHECK(broker::oldest_metadata_version_for(4, 1) == 7);
  CHECK(broker::oldest_metadata_version_for(14, 7) == 9);   // 3.5-IV0
  CHECK(broker::oldest_metadata_version_for(17, 10) == 25);  // 4.0-IV3
  CHECK(broker::oldest_metadata_version_for(19, 1) == 0);   // newer than any level Kafka 4.4 knows
}

TEST_CASE("ApiVersions v5 checks the cluster and node the client means to reach", "[handlers][api_versions]") {
  test::broker_fixture b;
  auto ask = [&](std::optional<std::string> cluster, int32_t node) {
    av::request req;
    req.client_software_name = "brook-test";
    req.client_software_version = "1.0";
    req.cluster_id = std::move(cluster);
    req.node_id = node;
    return b.call<av::response>(av::api_key, 5, req);
  };
  const std::string cluster = b.server().cluster_id();
  const int32_t node = b.server().node_id();
  auto ok = ask(cluster, node);
  CHECK(ok.error_code == 0);
  CHECK(ok.api_keys.size() == broker::api_table().size());
  CHECK(ask(std::nullopt, -1).error_code == 0);  // neither: no check
  for (auto [c, n] : {std::pair{std::string("another-cluster"), node}, std::pair{cluster, node + 1}}) {
    auto resp = ask(c, n);
    CHECK(resp.error_code == common::wire_code(common::kafka_error::rebootstrap_required));
    CHECK(resp.api_keys.empty());
    CHECK(resp.supported_features.empty());
  }
  // Only one of the two is a malformed request.
  CHECK(ask(cluster, -1).error_code == common::wire_code(common::kafka_error::invalid_request));
  CHECK(ask(std::nullopt, node).error_code == common::wire_code(common::kafka_error::invalid_request));
}

TEST_CASE("ApiVersions newer than the broker gets UNSUPPORTED_VERSION in a v0 body", "[handlers][api_versions]") {
  test::broker_fixture b;
  // A v99 request: its body is read as flexible; an empty tagged-field section follows two empty strings.
  const std::vector<uint8_t> body{1, 1, 0};
  auto raw = b.client().call_raw(av::api_key, 99, body);
  REQUIRE(raw);
  proto::reader r(*raw);
  av::response resp;
  resp.decode(r, 0);
  CHECK(resp.error_code == common::wire_code(common::kafka_error::unsupported_version));
  REQUIRE(resp.api_keys.size() == 1);
  CHECK(resp.api_keys[0].api_key == av::api_key);
  CHECK(resp.api_keys[0].max_version == av::max_version);
}
