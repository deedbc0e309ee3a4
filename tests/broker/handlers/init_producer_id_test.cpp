// InitProducerId without a transactional id: as in Kafka, every request gets a newly allocated
// producer id with epoch 0, whatever id and epoch it carries; a half-set pair is INVALID_REQUEST;
// ids are never handed out twice, also across restarts. v6's two-phase commit flags (KIP-939). With a
// transactional id: epoch 0 for a new id, a bump (fencing the previous producer) for a known one,
// KIP-360's recovery with the producer's own id and epoch, and the timeout bound.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "broker_fixture.hpp"
#include "txn_test_util.hpp"
#include "acl_test_util.hpp"

namespace proto = brook::common::protocol;
namespace ipi = proto::init_producer_id;
using brook::common::kafka_error;
using brook::common::wire_code;

namespace {

ipi::response init(brook::test::broker_fixture& b, int16_t version, int64_t producer_id, int16_t producer_epoch) {
  ipi::request req;
  req.transactional_id = std::nullopt;  // an idempotent producer, not a transactional one
  req.transaction_timeout_ms = 60000;
  req.producer_id = producer_id;
  req.producer_epoch = producer_epoch;
  return b.call<ipi::response>(ipi::api_key, version, req);
}

}  // namespace

TEST_CASE("InitProducerId: two producers sending id 0 / epoch 0 get distinct fresh ids", "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  auto first = init(b, 4, 0, 0);
  auto c = b.connect();  // another client
  ipi::request req;
  req.transactional_id = std::nullopt;
  req.producer_id = 0;
  req.producer_epoch = 0;
  auto second = c.call<ipi::response>(ipi::api_key, 4, req);
  CHECK(first.error_code == 0);
  CHECK(second.error_code == 0);
  CHECK(first.producer_id >= 0);
  CHECK(second.producer_id >= 0);
  CHECK(first.producer_id != second.producer_id);
  CHECK(first.producer_epoch == 0);
  CHECK(second.producer_epoch == 0);
}

TEST_CASE("InitProducerId: a producer's own id and epoch get a new id, as Kafka does without a transactional id",
          "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  for (int16_t version : {3, 4, 5}) {
    auto mine = init(b, version, -1, -1);
    REQUIRE(mine.error_code == 0);
    CHECK(mine.producer_epoch == 0);
    auto again = init(b, version, mine.producer_id, mine.producer_epoch);
    CHECK(again.error_code == 0);
    CHECK(again.producer_id != mine.producer_id);
    CHECK(again.producer_epoch == 0);
    // An epoch about to overflow is no different.
    auto exhausted = init(b, version, again.producer_id, INT16_MAX - 1);
    CHECK(exhausted.error_code == 0);
    CHECK(exhausted.producer_id != again.producer_id);
    CHECK(exhausted.producer_epoch == 0);
  }
}

TEST_CASE("InitProducerId: an id without an epoch, or an epoch without an id, is INVALID_REQUEST",
          "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  for (auto [id, epoch] : {std::pair<int64_t, int16_t>{7, -1}, {-1, 2}}) {
    auto resp = init(b, 4, id, epoch);
    CHECK(resp.error_code == wire_code(kafka_error::invalid_request));
    CHECK(resp.producer_id == -1);
    CHECK(resp.producer_epoch == -1);
  }
}

TEST_CASE("InitProducerId: versions before 3 (no id in the request) get distinct ids", "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  std::set<int64_t> ids;
  for (int16_t version : {0, 1, 2})
    for (int i = 0; i < 2; ++i) {
      auto resp = init(b, version, -1, -1);
      CHECK(resp.error_code == 0);
      CHECK(resp.producer_epoch == 0);
      ids.insert(resp.producer_id);
    }
  CHECK(ids.size() == 6);
}

TEST_CASE("InitProducerId: ids after a restart are above every id handed out before", "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  int64_t highest = -1;
  for (int i = 0; i < 5; ++i) highest = std::max(highest, init(b, 4, 0, 0).producer_id);
  for (int round = 0; round < 2; ++round) {
    b.restart();
    std::set<int64_t> after;
    for (int i = 0; i < 5; ++i) {
      auto resp = init(b, 4, 0, 0);
      REQUIRE(resp.error_code == 0);
      CHECK(resp.producer_id > highest);
      after.insert(resp.producer_id);
    }
    CHECK(after.size() == 5);
    highest = *after.rbegin();
  }
}

TEST_CASE("InitProducerId: ids stay distinct past a block of reserved ids", "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  std::set<int64_t> ids;
  for (int i = 0; i < 1100; ++i) ids.insert(init(b, 4, 0, 0).producer_id);  // the broker reserves 1000 at a time
  CHECK(ids.size() == 1100);
  CHECK(*ids.begin() >= 0);
}

TEST_CASE("InitProducerId v6: an idempotent producer gets an id whatever its two-phase commit flags",
          "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  for (bool enable2pc : {false, true}) {
    ipi::request req;
    req.transactional_id = std::nullopt;
    req.transaction_timeout_ms = 60000;
    req.enable2_pc = enable2pc;
    req.keep_prepared_txn = enable2pc;
    auto resp = b.call<ipi::response>(ipi::api_key, 6, req);
    CHECK(resp.error_code == 0);
    CHECK(resp.producer_id >= 0);
    CHECK(resp.producer_epoch == 0);
    CHECK(resp.ongoing_txn_producer_id == -1);
    CHECK(resp.ongoing_txn_producer_epoch == -1);
  }
}

TEST_CASE("InitProducerId v6 with a transactional id: answered as Kafka without two-phase commit enabled",
          "[handlers][init_producer_id]") {
  brook::test::broker_fixture b;
  struct expectation {
    std::string transactional_id;
    bool enable2pc;
    bool keep_prepared;
    int64_t producer_id;
    int16_t producer_epoch;
    kafka_error error;
  };
  const std::vector<expectation> cases{
      {"", false, false, -1, -1, kafka_error::invalid_request},
      {"tx", false, false, 7, -1, kafka_error::invalid_request},  // a half-set pair, checked first
      {"tx", true, false, -1, -1, kafka_error::transactional_id_authorization_failed},
      {"tx", true, true, -1, -1, kafka_error::transactional_id_authorization_failed},
      {"tx", false, true, -1, -1, kafka_error::unsupported_version},
  };
  for (const auto& c : cases) {
    INFO("transactional id '" << c.transactional_id << "' enable2pc " << c.enable2pc << " keep " << c.keep_prepared);
    ipi::request req;
    req.transactional_id = c.transactional_id;
    req.transaction_timeout_ms = 60000;
    req.producer_id = c.producer_id;
    req.producer_epoch = c.producer_epoch;
    req.enable2_pc = c.enable2pc;
    req.keep_prepared_txn = c.keep_prepared;
    auto resp = b.call<ipi::response>(ipi::api_key, 6, req);
    CHECK(resp.error_code == wire_code(c.error));
    CHECK(resp.producer_id == -1);
    CHECK(resp.producer_epoch == -1);
    CHECK(resp.ongoing_txn_producer_id == -1);
    CHECK(resp.ongoing_txn_producer_epoch == -1);
  }
}

TEST_CASE("InitProducerId with a transactional id: epoch 0, then bumped, KIP-360 and the timeout bound",
          "[handlers][init_producer_id]") {
  brook::test::broker_fixture b({"transaction.max.timeout.ms=60000"});
  auto first = brook::test::init_txn_raw(b, "tx", 30000);
  REQUIRE(first.error_code == 0);
  CHECK(first.producer_id >= 0);
  CHECK(first.producer_epoch == 0);
  auto second = brook::test::init_txn_raw(b, "tx", 30000);
  REQUIRE(second.error_code == 0);
  CHECK(second.producer_id == first.producer_id);
  CHECK(second.producer_epoch == 1);
  auto other = brook::test::init_txn_raw(b, "another", 30000);
  CHECK(other.producer_id != first.producer_id);

  // KIP-360: the current producer recovers with its own id and epoch; a fenced one cannot.
  ipi::request recover;
  recover.transactional_id = "tx";
  recover.transaction_timeout_ms = 30000;
  recover.producer_id = second.producer_id;
  recover.producer_epoch = second.producer_epoch;
  auto recovered = b.call<ipi::response>(ipi::api_key, 5, recover);
  CHECK(recovered.error_code == 0);
  CHECK(recovered.producer_epoch == 2);
  recover.producer_epoch = 0;
  auto fenced = b.call<ipi::response>(ipi::api_key, 5, recover);
  CHECK(fenced.error_code == wire_code(kafka_error::producer_fenced));

  // The timeout must be positive and at most transaction.max.timeout.ms.
  CHECK(brook::test::init_txn_raw(b, "tx", 60001).error_code == wire_code(kafka_error::invalid_transaction_timeout));
  CHECK(brook::test::init_txn_raw(b, "tx", 0).error_code == wire_code(kafka_error::invalid_transaction_timeout));

  // Kept across a restart: the next epoch follows the last.
  b.restart();
  auto after = brook::test::init_txn_raw(b, "tx", 30000);
  CHECK(after.producer_id == first.producer_id);
  CHECK(after.producer_epoch == 3);
}

TEST_CASE("with an authorizer InitProducerId needs WRITE on the transactional id, or idempotent write") {
  namespace t = brook::test;
  namespace ipi = brook::common::protocol::init_producer_id;
  using brook::common::kafka_error;
  using brook::common::wire_code;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  auto init = [&](std::optional<std::string> transactional_id) {
    ipi::request req;
    req.transactional_id = std::move(transactional_id);
    req.transaction_timeout_ms = 60000;
    req.producer_id = -1;
    req.producer_epoch = -1;
    return b.call<ipi::response>(ipi::api_key, 4, req);
  };
  // Idempotent: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
  auto refused = init(std::nullopt);
  CHECK(refused.error_code == wire_code(kafka_error::cluster_authorization_failed));
  CHECK(refused.producer_id == -1);
  t::grant(b, {t::allowing(resource_type::topic, "events-", acl_operation::write, t::sec::pattern_type::prefixed)});
  CHECK(init(std::nullopt).error_code == 0);
  // Transactional: WRITE on the id (the topic grant does not help).
  CHECK(init("tx").error_code == wire_code(kafka_error::transactional_id_authorization_failed));
  t::grant(b, {t::allowing(resource_type::transactional_id, "tx", acl_operation::write)});
  auto allowed = init("tx");
  CHECK(allowed.error_code == 0);
  CHECK(allowed.producer_id >= 0);
  t::broker_fixture idempotent({t::standard_authorizer});
  t::grant(idempotent, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::idempotent_write)});
  ipi::request req;
  req.transactional_id = std::nullopt;
  req.producer_id = -1;
  req.producer_epoch = -1;
  CHECK(idempotent.call<ipi::response>(ipi::api_key, 4, req).error_code == 0);
}
