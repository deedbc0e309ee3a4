// ListGroups, in process: every group with a state and type; with an authorizer all of them with
// DESCRIBE on the cluster, else only the groups the principal may DESCRIBE.
#include <catch2/catch.hpp>

#include <algorithm>

#include "acl_test_util.hpp"
#include "common/protocol/messages/list_groups.hpp"
#include "group_test_util.hpp"

namespace lgs = brook::common::protocol::list_groups;

namespace {
std::vector<std::string> listed_groups(brook::test::broker_fixture& b) {
  auto resp = b.call<lgs::response>(lgs::api_key, 5, lgs::request{});
  CHECK(resp.error_code == 0);
  std::vector<std::string> out;
  for (const auto& g : resp.groups) out.push_back(g.group_id);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("with an authorizer ListGroups lists the groups the principal may DESCRIBE, all with cluster DESCRIBE") {
  namespace t = brook::test;
  namespace jg = brook::common::protocol::join_group;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer, "group.initial.rebalance.delay.ms=0"});
  t::grant(b, {t::allowing(resource_type::group, "g", acl_operation::read),
               t::allowing(resource_type::group, "h", acl_operation::read)});
  for (const char* group : {"g", "h"}) {
    auto first = b.call<jg::response>(jg::api_key, 7, t::join_request(group, ""));
    REQUIRE(b.call<jg::response>(jg::api_key, 7, t::join_request(group, first.member_id)).error_code == 0);
  }
  t::grant(b, {t::denying(resource_type::group, "h", acl_operation::describe)});
  CHECK(listed_groups(b) == std::vector<std::string>{"g"});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::describe)});
  CHECK(listed_groups(b) == std::vector<std::string>{"g", "h"});
}
