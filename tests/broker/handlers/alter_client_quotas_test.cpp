#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "broker_fixture.hpp"
#include "common/protocol/messages/alter_client_quotas.hpp"
#include "common/protocol/messages/describe_client_quotas.hpp"

namespace proto = brook::common::protocol;
namespace acq = proto::alter_client_quotas;
namespace dcq = proto::describe_client_quotas;

namespace {
using entity_list = std::vector<std::pair<std::string, std::optional<std::string>>>;

acq::entry_data entry(entity_list entity, std::vector<std::tuple<std::string, double, bool>> ops) {
  acq::entry_data e;
  for (auto& [type, name] : entity) e.entity.push_back({type, name});
  for (auto& [key, value, remove] : ops) e.ops.push_back({key, value, remove});
  return e;
}

acq::response alter(brook::test::broker_fixture& b, std::vector<acq::entry_data> entries, bool validate_only = false,
                    int16_t version = 1) {
  acq::request req;
  req.entries = std::move(entries);
  req.validate_only = validate_only;
  return b.call<acq::response>(acq::api_key, version, req);
}

// One entry's outcome: (error code, message).
std::pair<int16_t, std::string> outcome(brook::test::broker_fixture& b, acq::entry_data e) {
  auto resp = alter(b, {std::move(e)});
  REQUIRE(resp.entries.size() == 1);
  return {resp.entries[0].error_code, resp.entries[0].error_message.value_or("")};
}

std::vector<dcq::entry_data> all_quotas(brook::test::broker_fixture& b) {
  dcq::request req;
  auto resp = b.call<dcq::response>(dcq::api_key, 1, req);
  REQUIRE(resp.error_code == 0);
  REQUIRE(resp.entries);
  return *resp.entries;
}
}  // namespace

TEST_CASE("AlterClientQuotas stores user, client-id and ip quotas and their defaults, across a restart") {
  brook::test::broker_fixture b;
  for (int16_t v : {int16_t{0}, int16_t{1}}) {
    auto resp = alter(b,
                      {entry({{"user", "alice"}}, {{"producer_byte_rate", 1024, false}}),
                       entry({{"user", "alice"}, {"client-id", "c1"}},
                             {{"consumer_byte_rate", 2048, false}, {"request_percentage", 12.5, false}}),
                       entry({{"user", std::nullopt}}, {{"producer_byte_rate", 100, false}}),
                       entry({{"ip", "127.0.0.1"}}, {{"connection_creation_rate", 10, false}}),
                       entry({{"ip", std::nullopt}}, {{"connection_creation_rate", 20, false}})},
                      false, v);
    REQUIRE(resp.entries.size() == 5);
    for (const auto& e : resp.entries) {
      CHECK(e.error_code == 0);
      CHECK_FALSE(e.error_message.has_value());
    }
    // Entities come back with their types sorted, as Kafka orders (client-id, user).
    REQUIRE(resp.entries[1].entity.size() == 2);
    CHECK(resp.entries[1].entity[0].entity_type == "client-id");
    CHECK(resp.entries[1].entity[1].entity_type == "user");
  }
  CHECK(all_quotas(b).size() == 5);
  b.restart();
  auto after = all_quotas(b);
  REQUIRE(after.size() == 5);
  bool found = false;
  for (const auto& e : after) {
    if (e.entity.size() == 2) {
      found = true;
      REQUIRE(e.values.size() == 2);
      CHECK(e.values[0].key == "consumer_byte_rate");
      CHECK(e.values[0].value == 2048);
      CHECK(e.values[1].key == "request_percentage");
      CHECK(e.values[1].value == 12.5);
    }
  }
  CHECK(found);
}

TEST_CASE("AlterClientQuotas removes keys, drops an entity with none left, and validate_only changes nothing") {
  brook::test::broker_fixture b;
  REQUIRE(outcome(b, entry({{"client-id", "c"}}, {{"producer_byte_rate", 5, false}})).first == 0);
  auto checked = alter(b, {entry({{"client-id", "d"}}, {{"producer_byte_rate", 5, false}})}, true);
  CHECK(checked.entries.at(0).error_code == 0);
  CHECK(all_quotas(b).size() == 1);
  // Removing a key the entity does not have (even one no entity takes) is no error.
  CHECK(outcome(b, entry({{"client-id", "c"}}, {{"foo", 0, true}})).first == 0);
  CHECK(outcome(b, entry({{"client-id", "c"}}, {{"producer_byte_rate", 0, true}})).first == 0);
  CHECK(all_quotas(b).empty());
}

TEST_CASE("AlterClientQuotas refuses what Kafka's controller refuses, with its messages") {
  brook::test::broker_fixture b;
  const double inf = std::numeric_limits<double>::infinity();
  struct bad_case {
    acq::entry_data e;
    std::string message;
  };
  std::vector<bad_case> cases{
      {entry({{"user", "bob"}}, {{"foo", 1, false}}), "Invalid configuration key foo"},
      {entry({{"user", "bob"}}, {{"producer_byte_rate", 0, false}}), "Quota producer_byte_rate must be greater than 0"},
      {entry({{"user", "bob"}}, {{"producer_byte_rate", -5, false}}), "Quota producer_byte_rate must be greater than 0"},
      {entry({{"user", "bob"}}, {{"producer_byte_rate", 1.5, false}}), "producer_byte_rate cannot be a fractional value."},
      {entry({{"user", "bob"}}, {{"producer_byte_rate", 1e30, false}}),
       "Proposed value for producer_byte_rate is too large for a LONG."},
      {entry({{"user", "bob"}}, {{"producer_byte_rate", -inf, false}}), "Quota producer_byte_rate must be a finite number"},
      {entry({{"user", "bob"}}, {{"producer_byte_rate", std::nan(""), false}}),
       "Quota producer_byte_rate must be a finite number"},
      {entry({{"ip", "1.2.3.4"}}, {{"connection_creation_rate", 1e30, false}}),
       "Proposed value for connection_creation_rate is too large for an INT."},
      {entry({{"ip", "1.2.3.4"}}, {{"connection_creation_rate", 2.5, false}}),
       "connection_creation_rate cannot be a fractional value."},
      {entry({{"ip", "1.2.3.4"}}, {{"producer_byte_rate", 2, false}}), "Invalid configuration key producer_byte_rate"},
      {entry({{"ip", "not an ip!"}}, {{"connection_creation_rate", 2, false}}),
       "not an ip! is not a valid IP or resolvable host."},
      {entry({{"ip", "1.2.3.4"}, {"user", "x"}}, {{"connection_creation_rate", 2, false}}),
       "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId"},
      {entry({}, {{"producer_byte_rate", 2, false}}), "Invalid empty client quota entity"},
      {entry({{"group", "g"}}, {{"producer_byte_rate", 2, false}}), "Unhandled client quota entity type: group"},
      {entry({{"user", ""}}, {{"producer_byte_rate", 2, false}}), "Empty user not supported"},
      {entry({{"user", "a"}}, {{"producer_byte_rate", 2, false}, {"producer_byte_rate", 3, false}}),
       "Ignoring duplicate entity ClientQuotaEntity(entries={user=a})"},
  };
  for (auto& c : cases) {
    INFO(c.message);
    auto [code, message] = outcome(b, c.e);
    CHECK(code == 42);  // INVALID_REQUEST
    CHECK(message == c.message);
  }
  CHECK(all_quotas(b).empty());
  // An ip entity may name a host that resolves.
  CHECK(outcome(b, entry({{"ip", "localhost"}}, {{"connection_creation_rate", 3, false}})).first == 0);
  CHECK(outcome(b, entry({{"ip", "::1"}}, {{"connection_creation_rate", 3, false}})).first == 0);
}

TEST_CASE("AlterClientQuotas answers each entity once: a repeated entity is refused but its first entry applies") {
  brook::test::broker_fixture b;
  auto resp = alter(b, {entry({{"user", "d"}}, {{"producer_byte_rate", 2, false}}),
                        entry({{"user", "e"}}, {{"bad", 2, false}}),
                        entry({{"user", "d"}}, {{"consumer_byte_rate", 3, false}})});
  REQUIRE(resp.entries.size() == 2);
  CHECK(resp.entries[0].error_code == 42);
  CHECK(resp.entries[0].error_message == "Ignoring duplicate entity ClientQuotaEntity(entries={user=d})");
  CHECK(resp.entries[1].error_code == 42);
  CHECK(resp.entries[1].error_message == "Invalid configuration key bad");
  auto all = all_quotas(b);
  REQUIRE(all.size() == 1);
  REQUIRE(all[0].values.size() == 1);
  CHECK(all[0].values[0].key == "producer_byte_rate");
  CHECK(all[0].values[0].value == 2);
}

TEST_CASE("A broker reset forgets every client quota") {
  brook::test::broker_fixture b;
  REQUIRE(outcome(b, entry({{"user", "u"}}, {{"producer_byte_rate", 5, false}})).first == 0);
  REQUIRE(b.server().reset());
  CHECK(all_quotas(b).empty());
}
