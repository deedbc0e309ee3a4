#include "broker/config/client_quotas.hpp"

#include <catch2/catch.hpp>

using namespace brook::broker;

namespace {
bool never(const std::string&) { return false; }
}  // namespace

TEST_CASE("client quotas: alter works out the entities' new values without changing anything") {
  client_quotas q;
  auto change = q.alter({{{{"user", "a"}}, {{"producer_byte_rate", 10.0}}}}, never);
  REQUIRE(change.results.size() == 1);
  CHECK(change.results[0].outcome);
  REQUIRE(change.updates.size() == 1);
  CHECK(q.all().empty());
  q.apply(change.updates);
  CHECK(q.all().size() == 1);
  // The same value again changes nothing; removing the only key drops the entity.
  CHECK(q.alter({{{{"user", "a"}}, {{"producer_byte_rate", 10.0}}}}, never).updates.empty());
  auto removal = q.alter({{{{"user", "a"}}, {{"producer_byte_rate", std::nullopt}}}}, never);
  REQUIRE(removal.updates.size() == 1);
  CHECK(removal.updates.begin()->second.empty());
  q.apply(removal.updates);
  CHECK(q.all().empty());
}

TEST_CASE("client quotas: an ip entity is an address literal or a host the resolver accepts") {
  CHECK(is_ip_literal("10.0.0.1"));
  CHECK(is_ip_literal("::1"));
  CHECK_FALSE(is_ip_literal("example"));
  client_quotas q;
  auto host = [](const std::string& h) { return h == "known-host"; };
  CHECK(q.alter({{{{"ip", "known-host"}}, {{"connection_creation_rate", 1.0}}}}, host).results[0].outcome);
  CHECK_FALSE(q.alter({{{{"ip", "other-host"}}, {{"connection_creation_rate", 1.0}}}}, host).results[0].outcome);
  CHECK(q.alter({{{{"ip", std::nullopt}}, {{"connection_creation_rate", 1.0}}}}, host).results[0].outcome);
}

TEST_CASE("client quotas: entities are named as Kafka's ClientQuotaEntity.toString names them") {
  CHECK(describe_entity({{"user", "alice"}, {"client-id", "c1"}}) == "ClientQuotaEntity(entries={client-id=c1, user=alice})");
  CHECK(describe_entity({{"user", std::nullopt}}) == "ClientQuotaEntity(entries={user=null})");
}
