#include <catch2/catch.hpp>

#include <string>

#include "broker_fixture.hpp"
#include "common/protocol/messages/alter_user_scram_credentials.hpp"
#include "common/protocol/messages/describe_user_scram_credentials.hpp"

namespace proto = brook::common::protocol;
namespace dusc = proto::describe_user_scram_credentials;
namespace ausc_describe = proto::alter_user_scram_credentials;

namespace {

void add_scram_credential(brook::test::broker_fixture& b, std::string user, int8_t mechanism, int32_t iterations) {
  ausc_describe::request req;
  ausc_describe::scram_credential_upsertion u;
  u.name = std::move(user);
  u.mechanism = mechanism;
  u.iterations = iterations;
  u.salt = {'s', 'a', 'l', 't'};
  u.salted_password = std::vector<uint8_t>(mechanism == 2 ? 64 : 32, 7);
  req.upsertions.push_back(std::move(u));
  auto resp = b.call<ausc_describe::response>(ausc_describe::api_key, 0, req);
  REQUIRE(resp.results.size() == 1);
  REQUIRE(resp.results[0].error_code == 0);
}

dusc::response describe_scram(brook::test::broker_fixture& b, std::optional<std::vector<std::string>> users) {
  dusc::request req;
  if (users) {
    req.users.emplace();
    for (auto& u : *users) req.users->push_back({u});
  } else {
    req.users = std::nullopt;
  }
  return b.call<dusc::response>(dusc::api_key, 0, req);
}

}  // namespace

TEST_CASE("DescribeUserScramCredentials lists every user's mechanisms and iterations, never salts or keys", "[scram]") {
  brook::test::broker_fixture b;
  auto none = describe_scram(b, std::nullopt);
  CHECK(none.error_code == 0);
  CHECK_FALSE(none.error_message.has_value());
  CHECK(none.results.empty());

  add_scram_credential(b, "zoe", 1, 4096);
  add_scram_credential(b, "alice", 2, 16384);
  add_scram_credential(b, "alice", 1, 8192);
  // Null and empty both mean every user, by name; a user's credentials by mechanism type.
  const std::optional<std::vector<std::string>> null_users, empty_users(std::vector<std::string>{});
  for (const auto& users : {null_users, empty_users}) {
    auto all = describe_scram(b, users);
    CHECK(all.error_code == 0);
    REQUIRE(all.results.size() == 2);
    CHECK(all.results[0].user == "alice");
    CHECK(all.results[0].error_code == 0);
    CHECK_FALSE(all.results[0].error_message.has_value());
    REQUIRE(all.results[0].credential_infos.size() == 2);
    CHECK(all.results[0].credential_infos[0].mechanism == 1);
    CHECK(all.results[0].credential_infos[0].iterations == 8192);
    CHECK(all.results[0].credential_infos[1].mechanism == 2);
    CHECK(all.results[0].credential_infos[1].iterations == 16384);
    CHECK(all.results[1].user == "zoe");
    REQUIRE(all.results[1].credential_infos.size() == 1);
    CHECK(all.results[1].credential_infos[0].iterations == 4096);
  }
}

TEST_CASE("DescribeUserScramCredentials answers unknown and repeated users with Kafka's errors", "[scram]") {
  brook::test::broker_fixture b;
  add_scram_credential(b, "alice", 1, 4096);
  add_scram_credential(b, "bob", 2, 4096);
  auto resp = describe_scram(b, std::vector<std::string>{"bob", "mallory", "alice", "bob", ""});
  CHECK(resp.error_code == 0);
  REQUIRE(resp.results.size() == 4);  // one per distinct user, in the order first named
  CHECK(resp.results[0].user == "bob");
  CHECK(resp.results[0].error_code == 92);  // DUPLICATE_RESOURCE
  CHECK(resp.results[0].error_message ==
        "Cannot describe SCRAM credentials for the same user twice in a single request: bob");
  CHECK(resp.results[0].credential_infos.empty());
  CHECK(resp.results[1].user == "mallory");
  CHECK(resp.results[1].error_code == 91);  // RESOURCE_NOT_FOUND
  CHECK(resp.results[1].error_message == "Attempt to describe a user credential that does not exist: mallory");
  CHECK(resp.results[2].user == "alice");
  CHECK(resp.results[2].error_code == 0);
  REQUIRE(resp.results[2].credential_infos.size() == 1);
  CHECK(resp.results[2].credential_infos[0].mechanism == 1);
  CHECK(resp.results[3].user == "");
  CHECK(resp.results[3].error_code == 91);
}
