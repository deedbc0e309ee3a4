#include <catch2/catch.hpp>
#include <algorithm>

#include "acl_test_util.hpp"
#include "broker_fixture.hpp"
#include "common/protocol/messages/alter_client_quotas.hpp"
#include "common/protocol/messages/describe_client_quotas.hpp"

namespace proto = brook::common::protocol;
namespace acq = proto::alter_client_quotas;
namespace dcq = proto::describe_client_quotas;

namespace {
void set(brook::test::broker_fixture& b, std::vector<std::pair<std::string, std::optional<std::string>>> entity,
         std::string key, double value) {
  acq::request req;
  acq::entry_data e;
  for (auto& [type, name] : entity) e.entity.push_back({type, name});
  e.ops.push_back({key, value, false});
  req.entries.push_back(e);
  auto resp = b.call<acq::response>(acq::api_key, 1, req);
  REQUIRE(resp.entries.at(0).error_code == 0);
}

dcq::response describe(brook::test::broker_fixture& b, std::vector<dcq::component_data> filter, bool strict,
                       int16_t version = 1) {
  dcq::request req;
  req.components = std::move(filter);
  req.strict = strict;
  return b.call<dcq::response>(dcq::api_key, version, req);
}

// The described entities as "type=name,type=name" strings (null names as "<default>").
std::vector<std::string> entities(const dcq::response& resp) {
  std::vector<std::string> out;
  REQUIRE(resp.entries);
  for (const auto& e : *resp.entries) {
    std::string s;
    for (const auto& part : e.entity) s += (s.empty() ? "" : ",") + part.entity_type + "=" + part.entity_name.value_or("<default>");
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void populate(brook::test::broker_fixture& b) {
  set(b, {{"user", "alice"}}, "producer_byte_rate", 1024);
  set(b, {{"user", "alice"}, {"client-id", "c1"}}, "consumer_byte_rate", 2048);
  set(b, {{"user", std::nullopt}}, "producer_byte_rate", 100);
  set(b, {{"client-id", std::nullopt}}, "producer_byte_rate", 100);
  set(b, {{"ip", "127.0.0.1"}}, "connection_creation_rate", 10);
}
}  // namespace

TEST_CASE("DescribeClientQuotas matches exact names, defaults and any name, strict or not") {
  brook::test::broker_fixture b;
  populate(b);
  for (int16_t v : {int16_t{0}, int16_t{1}}) {
    auto all = describe(b, {}, false, v);
    CHECK(all.error_code == 0);
    CHECK(all.error_message == "");  // Kafka's answer on success: empty, not null
    CHECK(entities(all).size() == 5);
  }
  CHECK(entities(describe(b, {{"user", 2, std::nullopt}}, false)) ==
        std::vector<std::string>{"client-id=c1,user=alice", "user=<default>", "user=alice"});
  CHECK(entities(describe(b, {{"user", 2, std::nullopt}}, true)) ==
        std::vector<std::string>{"user=<default>", "user=alice"});
  CHECK(entities(describe(b, {{"user", 1, std::nullopt}}, false)) == std::vector<std::string>{"user=<default>"});
  CHECK(entities(describe(b, {{"user", 0, "alice"}}, false)) ==
        std::vector<std::string>{"client-id=c1,user=alice", "user=alice"});
  CHECK(entities(describe(b, {{"user", 0, "alice"}, {"client-id", 0, "c1"}}, true)) ==
        std::vector<std::string>{"client-id=c1,user=alice"});
  CHECK(entities(describe(b, {{"ip", 2, std::nullopt}}, false)) == std::vector<std::string>{"ip=127.0.0.1"});
  CHECK(entities(describe(b, {{"user", 0, "nobody"}}, false)).empty());
  auto values = describe(b, {{"user", 0, "alice"}}, true);
  REQUIRE(values.entries->size() == 1);
  REQUIRE((*values.entries)[0].values.size() == 1);
  CHECK((*values.entries)[0].values[0].key == "producer_byte_rate");
  CHECK((*values.entries)[0].values[0].value == 1024);
}

TEST_CASE("DescribeClientQuotas refuses bad filters at the top level with Kafka's errors and no entries") {
  brook::test::broker_fixture b;
  populate(b);
  struct bad_case {
    std::vector<dcq::component_data> filter;
    int16_t code;
    std::string message;
  };
  std::vector<bad_case> cases{
      {{{"", 0, "alice"}}, 42, "Invalid empty entity type."},
      {{{"user", 0, "alice"}, {"user", 2, std::nullopt}}, 42, "Entity type user cannot appear more than once in the filter."},
      {{{"group", 0, "alice"}}, 35, "Unsupported entity type group"},
      {{{"user", 0, std::nullopt}}, 42, "Request specified MATCH_TYPE_EXACT, but set match string to null."},
      {{{"user", 1, "x"}}, 42, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string."},
      {{{"user", 2, "x"}}, 42, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string."},
      {{{"user", 5, "x"}}, 42, "Unknown match type 5"},
      {{{"ip", 2, std::nullopt}, {"user", 2, std::nullopt}}, 42,
       "Invalid entity filter component combination. IP filter component should not be used with user or clientId "
       "filter component."},
  };
  for (auto& c : cases) {
    INFO(c.message);
    auto resp = describe(b, c.filter, false);
    CHECK(resp.error_code == c.code);
    CHECK(resp.error_message == c.message);
    CHECK_FALSE(resp.entries.has_value());
  }
}

TEST_CASE("with an authorizer DescribeClientQuotas needs DESCRIBE_CONFIGS and AlterClientQuotas ALTER_CONFIGS on the cluster") {
  namespace t = brook::test;
  const int16_t refused = brook::common::wire_code(brook::common::kafka_error::cluster_authorization_failed);
  t::broker_fixture b({t::standard_authorizer});
  acq::request alter;
  acq::entry_data e;
  e.entity.push_back({"user", std::string("alice")});
  e.ops.push_back({"producer_byte_rate", 1024, false});
  alter.entries.push_back(e);
  auto denied = b.call<acq::response>(acq::api_key, 1, alter);
  REQUIRE(denied.entries.size() == 1);
  CHECK(denied.entries[0].error_code == refused);
  CHECK(denied.entries[0].entity.at(0).entity_name == "alice");
  auto hidden = describe(b, {}, false);
  CHECK(hidden.error_code == refused);
  CHECK_FALSE(hidden.entries.has_value());
  t::grant(b, {t::allowing(t::sec::resource_type::cluster, "kafka-cluster", t::sec::acl_operation::alter_configs)});
  CHECK(b.call<acq::response>(acq::api_key, 1, alter).entries.at(0).error_code == 0);
  // ALTER_CONFIGS implies DESCRIBE_CONFIGS.
  auto described = describe(b, {}, false);
  CHECK(described.error_code == 0);
  CHECK(entities(described) == std::vector<std::string>{"user=alice"});
}
