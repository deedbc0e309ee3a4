// Fault injection's error responses: for every API the broker serves, the injected error is where
// clients read it (top level, and each topic, partition, group, resource or member entry mirroring the
// request), the response decodes at the request's version, and the names a request mentions are found.
#include <catch2/catch.hpp>

#include "broker/api_table.hpp"
#include "broker/fault/error_responses.hpp"
#include "broker/handlers/handlers.hpp"
#include "common/protocol/messages/catalog.hpp"
#include "common/protocol/messages/examples.hpp"

using namespace brook;
namespace proto = common::protocol;
using broker::fault::decode_request;

namespace {

constexpr int16_t code = 16;  // NOT_COORDINATOR: any code will do

template <class Request>
std::unique_ptr<broker::fault::decoded_request> decoded(int16_t key, int16_t version, const Request& req) {
  proto::writer w;
  req.encode(w, version);
  auto bytes = w.take();
  proto::reader r(bytes);
  auto d = decode_request(key, version, r);
  REQUIRE(d);
  return d;
}

template <class Response, class Request>
Response answer(int16_t key, int16_t version, const Request& req) {
  auto d = decoded(key, version, req);
  auto body = d->error_response(code);
  REQUIRE(body);
  REQUIRE(body->splices.empty());
  proto::reader r(body->data);
  Response resp;
  resp.decode(r, version);
  REQUIRE(r.remaining() == 0);
  return resp;
}

}  // namespace

TEST_CASE("every served API at every served version has an error response that encodes", "[fault][error_responses]") {
  int checked = 0;
  for (const auto& ex : proto::all_examples()) {
    if (!ex.request) continue;
    const proto::api_schema* schema = nullptr;
    for (const auto& s : proto::all_api_schemas())
      if (s.name == ex.api) schema = &s;
    REQUIRE(schema);
    const broker::api_entry* served = broker::find_api(schema->key);
    if (!served || ex.version < served->min_version || ex.version > served->max_version) continue;
    INFO(ex.api << " v" << ex.version << " variant " << ex.variant);
    auto bytes = ex.encode();
    proto::reader r(bytes);
    auto d = decode_request(schema->key, ex.version, r);
    REQUIRE(d);
    CHECK(r.remaining() == 0);
    auto body = d->error_response(code);
    if (schema->key != proto::produce::api_key) CHECK(body);  // Produce with acks=0 is not answered
    ++checked;
  }
  for (const auto& e : broker::api_table()) {
    INFO(e.name);
    proto::bytes empty;
    proto::reader r(empty);
    CHECK_THROWS_AS(decode_request(e.key, e.max_version, r), proto::decode_error);  // served: decodes (and fails here)
  }
  CHECK(checked > 100);
  proto::bytes nothing;
  proto::reader r(nothing);
  CHECK_FALSE(decode_request(-5, 0, r));
}

TEST_CASE("Produce, Fetch, ListOffsets, DeleteRecords, OffsetForLeaderEpoch: every partition", "[fault][error_responses]") {
  {
    proto::produce::request req;
    req.acks = -1;
    auto& t = req.topic_data.emplace_back();
    t.name = "t";
    t.partition_data.emplace_back().index = 2;
    auto d = decoded(proto::produce::api_key, 9, req);
    CHECK(d->names().topics == std::vector<std::string>{"t"});
    auto resp = answer<proto::produce::response>(proto::produce::api_key, 9, req);
    REQUIRE(resp.responses.size() == 1);
    CHECK(resp.responses[0].name == "t");
    REQUIRE(resp.responses[0].partition_responses.size() == 1);
    CHECK(resp.responses[0].partition_responses[0].index == 2);
    CHECK(resp.responses[0].partition_responses[0].error_code == code);
    req.acks = 0;
    CHECK_FALSE(decoded(proto::produce::api_key, 9, req)->error_response(code));
  }
  {
    // v13 names topics by id: the id is what the fault matches and what the answer carries.
    proto::produce::request req;
    req.acks = 1;
    auto& t = req.topic_data.emplace_back();
    t.topic_id = common::uuid::random();
    t.partition_data.emplace_back().index = 1;
    auto d = decoded(proto::produce::api_key, 13, req);
    CHECK(d->names().topics.empty());
    CHECK(d->names().topic_ids == std::vector<common::uuid>{t.topic_id});
    auto resp = answer<proto::produce::response>(proto::produce::api_key, 13, req);
    REQUIRE(resp.responses.size() == 1);
    CHECK(resp.responses[0].topic_id == t.topic_id);
    REQUIRE(resp.responses[0].partition_responses.size() == 1);
    CHECK(resp.responses[0].partition_responses[0].error_code == code);
  }
  for (int16_t v : {int16_t(4), int16_t(12), int16_t(13), int16_t(17), int16_t(18)}) {
    INFO("Fetch v" << v);
    proto::fetch::request req;
    auto& t = req.topics.emplace_back();
    if (v >= 13) t.topic_id = common::uuid::random();
    else t.topic = "t";
    t.partitions.emplace_back().partition = 1;
    auto d = decoded(proto::fetch::api_key, v, req);
    CHECK(d->names().topics.size() == (v >= 13 ? 0u : 1u));
    CHECK(d->names().topic_ids.size() == (v >= 13 ? 1u : 0u));
    auto resp = answer<proto::fetch::response>(proto::fetch::api_key, v, req);
    if (v >= 7) CHECK(resp.error_code == code);
    REQUIRE(resp.responses.size() == 1);
    if (v >= 13) CHECK(resp.responses[0].topic_id == t.topic_id);
    else CHECK(resp.responses[0].topic == "t");
    REQUIRE(resp.responses[0].partitions.size() == 1);
    CHECK(resp.responses[0].partitions[0].partition_index == 1);
    CHECK(resp.responses[0].partitions[0].error_code == code);
  }
  {
    proto::list_offsets::request req;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.emplace_back().partition_index = 3;
    auto resp = answer<proto::list_offsets::response>(proto::list_offsets::api_key, 7, req);
    REQUIRE(resp.topics.size() == 1);
    CHECK(resp.topics[0].partitions.at(0).partition_index == 3);
    CHECK(resp.topics[0].partitions.at(0).error_code == code);
    CHECK(resp.topics[0].partitions.at(0).offset == -1);
  }
  {
    proto::delete_records::request req;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.emplace_back().partition_index = 0;
    auto resp = answer<proto::delete_records::response>(proto::delete_records::api_key, 2, req);
    CHECK(resp.topics.at(0).partitions.at(0).error_code == code);
  }
  {
    proto::offset_for_leader_epoch::request req;
    auto& t = req.topics.emplace_back();
    t.topic = "t";
    t.partitions.emplace_back().partition = 4;
    auto resp = answer<proto::offset_for_leader_epoch::response>(proto::offset_for_leader_epoch::api_key, 4, req);
    CHECK(resp.topics.at(0).topic == "t");
    CHECK(resp.topics.at(0).partitions.at(0).partition == 4);
    CHECK(resp.topics.at(0).partitions.at(0).error_code == code);
  }
}

TEST_CASE("Metadata and topic administration: every topic or resource", "[fault][error_responses]") {
  {
    proto::metadata::request req;
    req.topics->emplace_back().name = "t";
    auto resp = answer<proto::metadata::response>(proto::metadata::api_key, 12, req);
    REQUIRE(resp.topics.size() == 1);
    CHECK(resp.topics[0].name == "t");
    CHECK(resp.topics[0].error_code == code);
    // v13 carries the error at the top level too, as Kafka's MetadataRequest.getErrorResponse.
    auto v13 = answer<proto::metadata::response>(proto::metadata::api_key, 13, req);
    CHECK(v13.error_code == code);
    CHECK(v13.brokers.empty());
    REQUIRE(v13.topics.size() == 1);
    CHECK(v13.topics[0].error_code == code);
  }
  {
    proto::create_topics::request req;
    req.topics.emplace_back().name = "t";
    auto resp = answer<proto::create_topics::response>(proto::create_topics::api_key, 7, req);
    CHECK(resp.topics.at(0).name == "t");
    CHECK(resp.topics.at(0).error_code == code);
  }
  for (int16_t v : {int16_t(5), int16_t(6)}) {
    proto::delete_topics::request req;
    if (v >= 6) req.topics.emplace_back().name = "t";
    else req.topic_names = {"t"};
    auto d = decoded(proto::delete_topics::api_key, v, req);
    CHECK(d->names().topics == std::vector<std::string>{"t"});
    auto resp = answer<proto::delete_topics::response>(proto::delete_topics::api_key, v, req);
    CHECK(resp.responses.at(0).name == "t");
    CHECK(resp.responses.at(0).error_code == code);
  }
  {
    proto::create_partitions::request req;
    req.topics.emplace_back().name = "t";
    auto resp = answer<proto::create_partitions::response>(proto::create_partitions::api_key, 3, req);
    CHECK(resp.results.at(0).error_code == code);
  }
  {
    proto::describe_configs::request req;
    auto& r = req.resources.emplace_back();
    r.resource_type = 2;
    r.resource_name = "t";
    auto d = decoded(proto::describe_configs::api_key, 4, req);
    CHECK(d->names().topics == std::vector<std::string>{"t"});
    auto resp = answer<proto::describe_configs::response>(proto::describe_configs::api_key, 4, req);
    CHECK(resp.results.at(0).resource_name == "t");
    CHECK(resp.results.at(0).error_code == code);
  }
  {
    proto::alter_configs::request req;
    auto& r = req.resources.emplace_back();
    r.resource_type = 2;
    r.resource_name = "t";
    auto resp = answer<proto::alter_configs::response>(proto::alter_configs::api_key, 2, req);
    CHECK(resp.responses.at(0).error_code == code);
  }
  {
    proto::incremental_alter_configs::request req;
    auto& r = req.resources.emplace_back();
    r.resource_type = 2;
    r.resource_name = "t";
    auto resp = answer<proto::incremental_alter_configs::response>(proto::incremental_alter_configs::api_key, 1, req);
    CHECK(resp.responses.at(0).error_code == code);
  }
}

TEST_CASE("APIs with one top-level error: ApiVersions, InitProducerId, DescribeCluster, ListGroups, classic group calls",
          "[fault][error_responses]") {
  CHECK(answer<proto::api_versions::response>(proto::api_versions::api_key, 3, proto::api_versions::request{})
            .error_code == code);
  auto pid = answer<proto::init_producer_id::response>(proto::init_producer_id::api_key, 4,
                                                       proto::init_producer_id::request{});
  CHECK(pid.error_code == code);
  CHECK(pid.producer_id == -1);
  CHECK(answer<proto::describe_cluster::response>(proto::describe_cluster::api_key, 1,
                                                  proto::describe_cluster::request{})
            .error_code == code);
  CHECK(answer<proto::list_groups::response>(proto::list_groups::api_key, 5, proto::list_groups::request{})
            .error_code == code);

  proto::join_group::request join;
  join.group_id = "g";
  auto d = decoded(proto::join_group::api_key, 9, join);
  CHECK(d->names().groups == std::vector<std::string>{"g"});
  CHECK(answer<proto::join_group::response>(proto::join_group::api_key, 9, join).error_code == code);
  CHECK(answer<proto::join_group::response>(proto::join_group::api_key, 5, join).error_code == code);
  proto::sync_group::request sync;
  sync.group_id = "g";
  CHECK(answer<proto::sync_group::response>(proto::sync_group::api_key, 5, sync).error_code == code);
  proto::heartbeat::request hb;
  hb.group_id = "g";
  CHECK(answer<proto::heartbeat::response>(proto::heartbeat::api_key, 4, hb).error_code == code);
  proto::leave_group::request leave;
  leave.group_id = "g";
  leave.members.emplace_back().member_id = "m";
  auto left = answer<proto::leave_group::response>(proto::leave_group::api_key, 5, leave);
  CHECK(left.error_code == code);
  CHECK(left.members.at(0).member_id == "m");
  CHECK(left.members.at(0).error_code == code);
  proto::consumer_group_heartbeat::request cgh;
  cgh.group_id = "g";
  CHECK(answer<proto::consumer_group_heartbeat::response>(proto::consumer_group_heartbeat::api_key, 1, cgh)
            .error_code == code);
}

TEST_CASE("FindCoordinator: the top-level error before v4, each key's from v4", "[fault][error_responses]") {
  proto::find_coordinator::request req;
  req.key = "g";
  auto v3 = answer<proto::find_coordinator::response>(proto::find_coordinator::api_key, 3, req);
  CHECK(v3.error_code == code);
  CHECK(v3.node_id == -1);
  req.key.clear();
  req.coordinator_keys = {"g1", "g2"};
  auto d = decoded(proto::find_coordinator::api_key, 4, req);
  CHECK(d->names().groups == std::vector<std::string>{"g1", "g2"});
  auto v4 = answer<proto::find_coordinator::response>(proto::find_coordinator::api_key, 4, req);
  REQUIRE(v4.coordinators.size() == 2);
  CHECK(v4.coordinators[1].key == "g2");
  CHECK(v4.coordinators[1].error_code == code);
}

TEST_CASE("offsets and group administration: every partition and every group", "[fault][error_responses]") {
  {
    proto::offset_commit::request req;
    req.group_id = "g";
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.emplace_back().partition_index = 5;
    auto d = decoded(proto::offset_commit::api_key, 9, req);
    CHECK(d->names().groups == std::vector<std::string>{"g"});
    CHECK(d->names().topics == std::vector<std::string>{"t"});
    auto resp = answer<proto::offset_commit::response>(proto::offset_commit::api_key, 9, req);
    CHECK(resp.topics.at(0).partitions.at(0).partition_index == 5);
    CHECK(resp.topics.at(0).partitions.at(0).error_code == code);
  }
  {
    // v10 names topics by id: the rule's topic is matched through the id, the answer names it by id.
    proto::offset_commit::request req;
    req.group_id = "g";
    auto& t = req.topics.emplace_back();
    t.topic_id = common::uuid::random();
    t.partitions.emplace_back().partition_index = 5;
    auto d = decoded(proto::offset_commit::api_key, 10, req);
    CHECK(d->names().topics.empty());
    CHECK(d->names().topic_ids == std::vector<common::uuid>{t.topic_id});
    auto resp = answer<proto::offset_commit::response>(proto::offset_commit::api_key, 10, req);
    CHECK(resp.topics.at(0).topic_id == t.topic_id);
    CHECK(resp.topics.at(0).partitions.at(0).error_code == code);
  }
  {
    proto::offset_fetch::request req;
    req.group_id = "g";
    auto& t = req.topics->emplace_back();
    t.name = "t";
    t.partition_indexes = {0, 1};
    auto resp = answer<proto::offset_fetch::response>(proto::offset_fetch::api_key, 7, req);
    CHECK(resp.error_code == code);
    REQUIRE(resp.topics.at(0).partitions.size() == 2);
    CHECK(resp.topics[0].partitions[1].error_code == code);
    CHECK(resp.topics[0].partitions[1].committed_offset == -1);
  }
  {
    proto::offset_fetch::request req;
    auto& g = req.groups.emplace_back();
    g.group_id = "g";
    auto& t = g.topics->emplace_back();
    t.name = "t";
    t.partition_indexes = {0};
    auto resp = answer<proto::offset_fetch::response>(proto::offset_fetch::api_key, 9, req);
    REQUIRE(resp.groups.size() == 1);
    CHECK(resp.groups[0].group_id == "g");
    CHECK(resp.groups[0].error_code == code);
    CHECK(resp.groups[0].topics.at(0).partitions.at(0).error_code == code);
  }
  {
    proto::offset_fetch::request req;
    auto& g = req.groups.emplace_back();
    g.group_id = "g";
    auto& t = g.topics->emplace_back();
    t.topic_id = common::uuid::random();
    t.partition_indexes = {0};
    auto d = decoded(proto::offset_fetch::api_key, 10, req);
    CHECK(d->names().topic_ids == std::vector<common::uuid>{t.topic_id});
    auto resp = answer<proto::offset_fetch::response>(proto::offset_fetch::api_key, 10, req);
    CHECK(resp.groups.at(0).topics.at(0).topic_id == t.topic_id);
    CHECK(resp.groups.at(0).topics.at(0).partitions.at(0).error_code == code);
  }
  {
    proto::offset_delete::request req;
    req.group_id = "g";
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.emplace_back().partition_index = 0;
    auto resp = answer<proto::offset_delete::response>(proto::offset_delete::api_key, 0, req);
    CHECK(resp.error_code == code);
    CHECK(resp.topics.at(0).partitions.at(0).error_code == code);
  }
  {
    proto::describe_groups::request req;
    req.groups = {"g1", "g2"};
    auto resp = answer<proto::describe_groups::response>(proto::describe_groups::api_key, 5, req);
    REQUIRE(resp.groups.size() == 2);
    CHECK(resp.groups[1].group_id == "g2");
    CHECK(resp.groups[1].error_code == code);
  }
  {
    proto::delete_groups::request req;
    req.groups_names = {"g"};
    auto resp = answer<proto::delete_groups::response>(proto::delete_groups::api_key, 2, req);
    CHECK(resp.results.at(0).group_id == "g");
    CHECK(resp.results.at(0).error_code == code);
  }
  {
    proto::consumer_group_describe::request req;
    req.group_ids = {"g"};
    auto resp = answer<proto::consumer_group_describe::response>(proto::consumer_group_describe::api_key, 0, req);
    CHECK(resp.groups.at(0).group_id == "g");
    CHECK(resp.groups.at(0).error_code == code);
  }
}

TEST_CASE("DescribeTopicPartitions, DescribeLogDirs, DescribeProducers, ElectLeaders, reassignments: as Kafka's",
          "[fault][error_responses]") {
  {
    proto::describe_topic_partitions::request req;
    req.topics.push_back({"t"});
    CHECK(decoded(proto::describe_topic_partitions::api_key, 0, req)->names().topics == std::vector<std::string>{"t"});
    auto resp = answer<proto::describe_topic_partitions::response>(proto::describe_topic_partitions::api_key, 0, req);
    REQUIRE(resp.topics.size() == 1);
    CHECK(resp.topics[0].name == "t");
    CHECK(resp.topics[0].error_code == code);
  }
  {
    proto::describe_log_dirs::request req;
    req.topics = std::vector<proto::describe_log_dirs::describable_log_dir_topic>{{"t", {0}}};
    CHECK(decoded(proto::describe_log_dirs::api_key, 4, req)->names().topics == std::vector<std::string>{"t"});
    auto resp = answer<proto::describe_log_dirs::response>(proto::describe_log_dirs::api_key, 4, req);
    CHECK(resp.error_code == code);  // no log dirs, as Kafka's error response
    CHECK(resp.results.empty());
  }
  {
    proto::describe_producers::request req;
    req.topics.push_back({"t", {1, 2}});
    auto resp = answer<proto::describe_producers::response>(proto::describe_producers::api_key, 0, req);
    REQUIRE(resp.topics.size() == 1);
    REQUIRE(resp.topics[0].partitions.size() == 2);
    CHECK(resp.topics[0].partitions[1].partition_index == 2);
    CHECK(resp.topics[0].partitions[1].error_code == code);
  }
  for (int16_t v : {int16_t(0), int16_t(2)}) {
    INFO("ElectLeaders v" << v);
    proto::elect_leaders::request req;
    req.topic_partitions = std::vector<proto::elect_leaders::election_topic>{{"t", {3}}};
    CHECK(decoded(proto::elect_leaders::api_key, v, req)->names().topics == std::vector<std::string>{"t"});
    auto resp = answer<proto::elect_leaders::response>(proto::elect_leaders::api_key, v, req);
    if (v >= 1) CHECK(resp.error_code == code);
    REQUIRE(resp.replica_election_results.size() == 1);
    CHECK(resp.replica_election_results[0].partition_result.at(0).partition_id == 3);
    CHECK(resp.replica_election_results[0].partition_result.at(0).error_code == code);
  }
  {
    proto::list_partition_reassignments::request req;
    req.topics = std::vector<proto::list_partition_reassignments::list_reassignments_topic>{{"t", {0}}};
    auto resp = answer<proto::list_partition_reassignments::response>(proto::list_partition_reassignments::api_key, 0, req);
    CHECK(resp.error_code == code);
    REQUIRE(resp.topics.size() == 1);
    CHECK(resp.topics[0].partitions.at(0).partition_index == 0);
  }
  {
    proto::alter_partition_reassignments::request req;
    req.topics.push_back({"t", {{5, std::vector<int32_t>{1}}}});
    auto resp =
        answer<proto::alter_partition_reassignments::response>(proto::alter_partition_reassignments::api_key, 1, req);
    CHECK(resp.error_code == code);
    REQUIRE(resp.responses.size() == 1);
    CHECK(resp.responses[0].partitions.at(0).partition_index == 5);
    CHECK(resp.responses[0].partitions.at(0).error_code == code);
  }
}
