#include <catch2/catch.hpp>

#include "broker_fixture.hpp"
#include "common/protocol/messages/list_config_resources.hpp"
#include "config_test_util.hpp"
#include "group_test_util.hpp"
#include "acl_test_util.hpp"

using namespace brook;
using namespace brook::test::configs;
namespace lcr = brook::common::protocol::list_config_resources;

namespace {
std::vector<std::pair<std::string, int8_t>> list(test::broker_fixture& b, std::vector<int8_t> types, int16_t version = 1,
                                                 int16_t expected_error = 0) {
  lcr::request req;
  req.resource_types = std::move(types);
  auto resp = b.call<lcr::response>(lcr::api_key, version, req);
  CHECK(resp.error_code == expected_error);
  std::vector<std::pair<std::string, int8_t>> out;
  for (const auto& r : resp.config_resources) out.emplace_back(r.resource_name, r.resource_type);
  return out;
}
using listing = std::vector<std::pair<std::string, int8_t>>;
}  // namespace

TEST_CASE("ListConfigResources lists groups with configs, this broker and the topics, by type") {
  test::broker_fixture b;
  test::create_topic(b.client(), "t1");
  test::create_topic(b.client(), "t2");
  require_ok(alter(b, group_resource, "g1", {{"consumer.session.timeout.ms", op_set, "50000"}}));
  CHECK(list(b, {}) == listing{{"g1", 32}, {"1", 4}, {"t1", 2}, {"t2", 2}});
  CHECK(list(b, {32, 2}) == listing{{"g1", 32}, {"t1", 2}, {"t2", 2}});
  CHECK(list(b, {4}) == listing{{"1", 4}});
  CHECK(list(b, {16}).empty());  // client metrics: none
  CHECK(list(b, {}, 0).empty());  // v0 lists client metrics only
  CHECK(list(b, {99}, 1, 35).empty());  // an unknown type: UNSUPPORTED_VERSION
  require_ok(alter(b, group_resource, "g1", {{"consumer.session.timeout.ms", op_delete, std::nullopt}}));
  CHECK(list(b, {32}).empty());
}

TEST_CASE("with an authorizer ListConfigResources needs DESCRIBE_CONFIGS on the cluster") {
  namespace t = brook::test;
  t::broker_fixture b({t::standard_authorizer});
  lcr::request req;
  auto refused = b.call<lcr::response>(lcr::api_key, 1, req);
  CHECK(refused.error_code == brook::common::wire_code(brook::common::kafka_error::cluster_authorization_failed));
  CHECK(refused.config_resources.empty());
  t::grant(b, {t::allowing(t::sec::resource_type::cluster, "kafka-cluster", t::sec::acl_operation::describe_configs)});
  auto allowed = b.call<lcr::response>(lcr::api_key, 1, req);
  CHECK(allowed.error_code == 0);
  CHECK_FALSE(allowed.config_resources.empty());  // this broker at least
}
