// DeleteGroups, in process: a deleted group stays deleted across a restart, even when commits to it
// were under way when it was deleted (writes of one group land in order); v3's error messages.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "common/protocol/messages/delete_groups.hpp"
#include "common/protocol/messages/list_groups.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace oc = proto::offset_commit;
namespace dgs = proto::delete_groups;
namespace lg = proto::list_groups;

TEST_CASE("groups deleted while their commits are in flight do not come back after a restart", "[handlers][delete_groups]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  auto committer = b.connect("committer");
  auto deleter = b.connect("deleter");
  std::vector<std::string> deleted;
  for (int i = 0; i < 30; ++i) {
    const std::string group = "g" + std::to_string(i);
    // The group exists (a first commit), then a second commit and the delete race.
    auto first = committer.call<oc::response>(oc::api_key, 8, test::commit_request(group, "", -1, "t", 1));
    REQUIRE(first.topics[0].partitions[0].error_code == 0);
    proto::writer wc;
    test::commit_request(group, "", -1, "t", 2).encode(wc, 8);
    auto commit_bytes = wc.take();
    dgs::request del;
    del.groups_names = {group};
    proto::writer wd;
    del.encode(wd, 2);
    auto delete_bytes = wd.take();
    committer.send_raw(oc::api_key, 8, commit_bytes);
    deleter.send_raw(dgs::api_key, 2, delete_bytes);
    auto commit_answer = committer.receive_body(oc::api_key, 8);
    auto delete_answer = deleter.receive_body(dgs::api_key, 2);
    REQUIRE(commit_answer);
    REQUIRE(delete_answer);
    proto::reader r(*delete_answer);
    dgs::response resp;
    resp.decode(r, 2);
    REQUIRE(resp.results.size() == 1);
    if (resp.results[0].error_code == 0) deleted.push_back(group);
  }
  REQUIRE_FALSE(deleted.empty());
  b.restart();
  auto listed = b.call<lg::response>(lg::api_key, 4, lg::request{});
  for (const auto& g : listed.groups)
    CHECK(std::find(deleted.begin(), deleted.end(), g.group_id) == deleted.end());
}

TEST_CASE("DeleteGroups v3: deleted, unknown and non-empty groups carry no error message, as in Kafka",
          "[handlers][delete_groups]") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t");
  REQUIRE(b.call<oc::response>(oc::api_key, 9, test::commit_request("empty", "", -1, "t", 1))
              .topics[0].partitions[0].error_code == 0);
  auto joined = b.call<proto::join_group::response>(proto::join_group::api_key, 3, test::join_request("busy", ""));
  REQUIRE(joined.error_code == 0);
  dgs::request del;
  del.groups_names = {"empty", "nobody", "busy"};
  auto resp = b.call<dgs::response>(dgs::api_key, 3, del);
  REQUIRE(resp.results.size() == 3);
  CHECK(resp.results[0].group_id == "empty");
  CHECK(resp.results[0].error_code == 0);
  CHECK(resp.results[1].group_id == "nobody");
  CHECK(resp.results[1].error_code == common::wire_code(common::kafka_error::group_id_not_found));
  CHECK(resp.results[2].group_id == "busy");
  CHECK(resp.results[2].error_code == common::wire_code(common::kafka_error::non_empty_group));
  for (const auto& r : resp.results) CHECK_FALSE(r.error_message.has_value());
  CHECK(test::committed_offset(b.client(), "empty", "t") == -1);
}

TEST_CASE("with an authorizer DeleteGroups needs DELETE on each group") {
  namespace t = brook::test;
  namespace dg = brook::common::protocol::delete_groups;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "t", acl_operation::read),
               t::allowing(resource_type::group, "g", acl_operation::read),
               t::allowing(resource_type::group, "h", acl_operation::read)});
  t::create_topic(b.client(), "t");
  for (const char* group : {"g", "h"})
    REQUIRE(b.call<brook::common::protocol::offset_commit::response>(
                  brook::common::protocol::offset_commit::api_key, 8, t::commit_request(group, "", -1, "t", 1))
                .topics.at(0)
                .partitions.at(0)
                .error_code == 0);
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::delete_)});
  dg::request req;
  req.groups_names = {"g", "h"};
  auto resp = b.call<dg::response>(dg::api_key, 2, req);
  REQUIRE(resp.results.size() == 2);
  CHECK(resp.results[0].error_code == 0);
  CHECK(resp.results[1].error_code == wire_code(kafka_error::group_authorization_failed));
  CHECK(t::committed_offset(b.client(), "h", "t") == 1);
}
