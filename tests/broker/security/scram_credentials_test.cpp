// The broker's SCRAM credentials: AlterUserScramCredentials' rules as Kafka's controller applies them,
// and what lookups see as changes are applied.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <tuple>
#include <vector>

#include "broker/security/scram_credentials.hpp"

using namespace brook::broker::security;
using brook::common::kafka_error;

namespace {

scram_upsertion scram_upsert(std::string user, int8_t mechanism, int32_t iterations = 8192) {
  scram_upsertion u;
  u.user = std::move(user);
  u.mechanism = mechanism;
  u.iterations = iterations;
  u.salt = {'s', 'a', 'l', 't'};
  u.salted_password = scram_bytes(32, 0x5a);
  return u;
}

// (user, error, message) of each result, in order.
using scram_outcome_list = std::vector<std::tuple<std::string, kafka_error, std::string>>;
scram_outcome_list scram_outcomes(const scram_change& change) {
  scram_outcome_list out;
  for (const auto& r : change.results)
    out.emplace_back(r.user, r.outcome ? kafka_error::none : r.outcome.code(), r.outcome ? "" : r.outcome.err().message);
  return out;
}

const std::string scram_twice = "A user credential cannot be altered twice in the same request";

}  // namespace

TEST_CASE("SCRAM alterations: upserted credentials hold derived keys only, and lookups see them once applied", "[scram]") {
  scram_credentials credentials;
  auto change = credentials.alter({}, {scram_upsert("alice", 1), scram_upsert("bob", 2, 4096)});
  CHECK(scram_outcomes(change) == scram_outcome_list{{"alice", kafka_error::none, ""}, {"bob", kafka_error::none, ""}});
  REQUIRE(change.puts.size() == 2);
  CHECK(change.deletions.empty());
  const auto& alice = change.puts[0];
  CHECK(alice.name == "alice");
  CHECK(alice.mechanism == 1);
  CHECK(alice.iterations == 8192);
  CHECK(alice.salt == scram_bytes{'s', 'a', 'l', 't'});
  // StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key").
  const scram_bytes salted(32, 0x5a);
  CHECK(alice.stored_key == scram_hash(scram_mechanism::sha_256, scram_client_key(scram_mechanism::sha_256, salted)));
  CHECK(alice.server_key == scram_server_key(scram_mechanism::sha_256, salted));
  CHECK(alice.stored_key.size() == 32);
  CHECK(change.puts[1].stored_key.size() == 64);

  // Nothing is visible until applied (the store comes first).
  CHECK_FALSE(credentials.find("alice", scram_mechanism::sha_256));
  const auto before = credentials.snapshot();
  credentials.apply(change);
  auto found = credentials.find("alice", scram_mechanism::sha_256);
  REQUIRE(found);
  CHECK(found->iterations == 8192);
  CHECK(found->stored_key == alice.stored_key);
  CHECK_FALSE(credentials.find("alice", scram_mechanism::sha_512));
  CHECK(credentials.find("bob", scram_mechanism::sha_512));
  CHECK(before->empty());  // a snapshot taken earlier does not change under its holder

  // Deleting one mechanism of a user keeps the other; deleting the last forgets the user.
  credentials.apply(credentials.alter({}, {scram_upsert("alice", 2)}));
  auto removal = credentials.alter({{"alice", 1}, {"bob", 2}}, {});
  CHECK(scram_outcomes(removal) == scram_outcome_list{{"alice", kafka_error::none, ""}, {"bob", kafka_error::none, ""}});
  CHECK(removal.deletions == std::vector<brook::log::scram_credential_key>{{"alice", 1}, {"bob", 2}});
  credentials.apply(removal);
  CHECK_FALSE(credentials.find("alice", scram_mechanism::sha_256));
  CHECK(credentials.find("alice", scram_mechanism::sha_512));
  CHECK(credentials.snapshot()->count("bob") == 0);

  credentials.load({});
  CHECK(credentials.snapshot()->empty());
}

TEST_CASE("SCRAM alterations are refused with Kafka's errors and messages, per user", "[scram]") {
  scram_credentials credentials;
  credentials.apply(credentials.alter({}, {scram_upsert("carol", 1)}));

  CHECK(scram_outcomes(credentials.alter({}, {scram_upsert("", 1)})) ==
        scram_outcome_list{{"", kafka_error::unacceptable_credential, "Username must not be empty"}});
  CHECK(scram_outcomes(credentials.alter({{"", 1}}, {})) ==
        scram_outcome_list{{"", kafka_error::unacceptable_credential, "Username must not be empty"}});
  for (int8_t mechanism : {int8_t{0}, int8_t{3}, int8_t{-1}}) {
    CHECK(scram_outcomes(credentials.alter({}, {scram_upsert("dave", mechanism)})) ==
          scram_outcome_list{{"dave", kafka_error::unsupported_sasl_mechanism, "Unknown SCRAM mechanism"}});
    CHECK(scram_outcomes(credentials.alter({{"carol", mechanism}}, {})) ==
          scram_outcome_list{{"carol", kafka_error::unsupported_sasl_mechanism, "Unknown SCRAM mechanism"}});
  }
  CHECK(scram_outcomes(credentials.alter({}, {scram_upsert("dave", 1, 4095)})) ==
        scram_outcome_list{{"dave", kafka_error::unacceptable_credential, "Too few iterations"}});
  CHECK(scram_outcomes(credentials.alter({}, {scram_upsert("dave", 2, 16385)})) ==
        scram_outcome_list{{"dave", kafka_error::unacceptable_credential, "Too many iterations"}});
  CHECK(scram_outcomes(credentials.alter({}, {scram_upsert("dave", 2, 4096), scram_upsert("erin", 1, 16384)})) ==
        scram_outcome_list{{"dave", kafka_error::none, ""}, {"erin", kafka_error::none, ""}});
  // Deleting what is not there: no such user, or not for that mechanism.
  for (const scram_deletion& d : {scram_deletion{"dave", 1}, scram_deletion{"carol", 2}})
    CHECK(scram_outcomes(credentials.alter({d}, {})) ==
          scram_outcome_list{{d.user, kafka_error::resource_not_found, "Attempt to delete a user credential that does not exist"}});

  SECTION("a user named twice fails whatever the mechanisms, and takes its other entries with it") {
    auto change = credentials.alter({{"carol", 1}, {"carol", 1}},
                                    {scram_upsert("frank", 1), scram_upsert("frank", 2), scram_upsert("gina", 1)});
    CHECK(scram_outcomes(change) == scram_outcome_list{{"gina", kafka_error::none, ""},
                                           {"carol", kafka_error::duplicate_resource, scram_twice},
                                           {"frank", kafka_error::duplicate_resource, scram_twice}});
    CHECK(change.deletions.empty());
    REQUIRE(change.puts.size() == 1);
    CHECK(change.puts[0].name == "gina");
    // A deletion and an upsertion of the same user, and three mentions (one answer).
    auto mixed = credentials.alter({{"carol", 1}}, {scram_upsert("carol", 2), scram_upsert("carol", 2)});
    CHECK(scram_outcomes(mixed) == scram_outcome_list{{"carol", kafka_error::duplicate_resource, scram_twice}});
    CHECK(mixed.puts.empty());
    CHECK(mixed.deletions.empty());
  }
  SECTION("a user that failed already is not looked at again") {
    auto change = credentials.alter({{"dave", 1}}, {scram_upsert("dave", 1)});
    CHECK(scram_outcomes(change) == scram_outcome_list{{"dave", kafka_error::resource_not_found,
                                            "Attempt to delete a user credential that does not exist"}});
    CHECK(change.puts.empty());
  }
  SECTION("successful deletions come first, then upsertions, then failures") {
    auto change = credentials.alter({{"nobody", 1}, {"carol", 1}},
                                    {scram_upsert("zed", 1), scram_upsert("", 1), scram_upsert("amy", 2)});
    CHECK(scram_outcomes(change) == scram_outcome_list{{"carol", kafka_error::none, ""},
                                           {"zed", kafka_error::none, ""},
                                           {"amy", kafka_error::none, ""},
                                           {"nobody", kafka_error::resource_not_found,
                                            "Attempt to delete a user credential that does not exist"},
                                           {"", kafka_error::unacceptable_credential, "Username must not be empty"}});
  }
}

TEST_CASE("SCRAM credential lookups from other threads see whole snapshots while changes are applied", "[scram]") {
  scram_credentials credentials;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};  // Catch's assertions are for the test's own thread
  std::thread reader([&] {
    while (!done) {
      auto held = credentials.snapshot();
      // Every published state has both mechanisms of "u" with the same iteration count, or neither.
      auto user = held->find("u");
      if (user != held->end() && (user->second.size() != 2 || user->second.begin()->second.iterations !=
                                                                    user->second.rbegin()->second.iterations))
        ++torn;
    }
  });
  for (int32_t i = 0; i < 200; ++i) {
    credentials.apply(credentials.alter({}, {}));  // an empty change publishes the same content
    auto change = credentials.alter({}, {scram_upsert("u", 1, 4096 + i)});
    auto second = credentials.alter({}, {scram_upsert("u", 2, 4096 + i)});
    change.puts.push_back(second.puts.at(0));
    credentials.apply(change);
    if (i % 2 == 0) credentials.clear();
  }
  done = true;
  reader.join();
  CHECK(torn == 0);
  CHECK(credentials.find("u", scram_mechanism::sha_512)->iterations == 4096 + 199);
}

TEST_CASE("SCRAM decoys: the key drawn at the first decoy, from several threads at once, is the same for all", "[scram]") {
  scram_credentials credentials;
  constexpr int threads = 4;
  std::vector<scram_credential> first(threads);
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&, i] {
      ++ready;
      while (ready < threads) std::this_thread::yield();  // every thread asks for its first decoy together
      first[i] = credentials.decoy("mallory", scram_mechanism::sha_256);
    });
  for (auto& w : workers) w.join();
  for (const auto& d : first) CHECK(d == first.front());
  CHECK(credentials.decoy("mallory", scram_mechanism::sha_256) == first.front());
  CHECK(first.front().salt.size() == 26);
  CHECK(first.front().iterations == scram_min_iterations);
  // Another user, another mechanism: another salt, from the same key.
  CHECK(credentials.decoy("trudy", scram_mechanism::sha_256).salt != first.front().salt);
  CHECK(credentials.decoy("mallory", scram_mechanism::sha_512).salt != first.front().salt);
  // Another credentials object (another broker) draws its own key.
  scram_credentials other;
  CHECK(other.decoy("mallory", scram_mechanism::sha_256).salt != first.front().salt);
}
