// ListTransactions v0-2: every transactional id, filtered by state (unknown state names reported
// back), producer id, duration (v1: started longer ago than that; as in Kafka, an Empty one, never
// started, always passes) and an RE2 pattern over the whole id (v2; null or empty matches
// all, one that does not compile is INVALID_REGULAR_EXPRESSION).
#include <catch2/catch.hpp>

#include <algorithm>

#include "common/error.hpp"
#include "common/protocol/messages/list_transactions.hpp"
#include "txn_test_util.hpp"

namespace proto = brook::common::protocol;
namespace lt = proto::list_transactions;
using brook::common::kafka_error;
using brook::common::wire_code;

namespace {
std::vector<std::string> listed_ids(const lt::response& resp) {
  std::vector<std::string> ids;
  for (const auto& t : resp.transaction_states) ids.push_back(t.transactional_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}
}  // namespace

TEST_CASE("ListTransactions filters by state, producer id, duration and id pattern", "[handlers][list_transactions]") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "t", 1);
  auto a = brook::test::init_txn(b, "orders-a");
  auto c = brook::test::init_txn(b, "orders-c");
  brook::test::init_txn(b, "billing");
  REQUIRE(brook::test::add_partitions(b, a, "t", {0}) == 0);

  lt::request all;
  auto resp = b.call<lt::response>(lt::api_key, 2, all);
  CHECK(resp.error_code == 0);
  CHECK(listed_ids(resp) == std::vector<std::string>{"billing", "orders-a", "orders-c"});

  lt::request ongoing;
  ongoing.state_filters = {"Ongoing", "NoSuchState"};
  resp = b.call<lt::response>(lt::api_key, 0, ongoing);
  CHECK(listed_ids(resp) == std::vector<std::string>{"orders-a"});
  CHECK(resp.unknown_state_filters == std::vector<std::string>{"NoSuchState"});
  REQUIRE(resp.transaction_states.size() == 1);
  CHECK(resp.transaction_states[0].producer_id == a.id);
  CHECK(resp.transaction_states[0].transaction_state == "Ongoing");

  lt::request by_producer;
  by_producer.producer_id_filters = {c.id};
  CHECK(listed_ids(b.call<lt::response>(lt::api_key, 0, by_producer)) == std::vector<std::string>{"orders-c"});

  lt::request long_running;
  long_running.state_filters = {"Ongoing"};
  long_running.duration_filter = 3600000;  // running for over an hour: none
  CHECK(b.call<lt::response>(lt::api_key, 1, long_running).transaction_states.empty());
  // Empty ones were never started: as in Kafka, any duration lets them through.
  long_running.state_filters = {"Empty"};
  CHECK(listed_ids(b.call<lt::response>(lt::api_key, 1, long_running)) ==
        std::vector<std::string>{"billing", "orders-c"});

  lt::request pattern;
  pattern.transactional_id_pattern = "orders-.";
  CHECK(listed_ids(b.call<lt::response>(lt::api_key, 2, pattern)) == std::vector<std::string>{"orders-a", "orders-c"});
  pattern.transactional_id_pattern = "orders";  // must match the whole id
  CHECK(b.call<lt::response>(lt::api_key, 2, pattern).transaction_states.empty());
  pattern.transactional_id_pattern = "";
  CHECK(listed_ids(b.call<lt::response>(lt::api_key, 2, pattern)).size() == 3);
  pattern.transactional_id_pattern = "orders-(";
  auto bad = b.call<lt::response>(lt::api_key, 2, pattern);
  CHECK(bad.error_code == wire_code(kafka_error::invalid_regular_expression));
  CHECK(bad.transaction_states.empty());
}
