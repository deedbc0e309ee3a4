#include "client/producing/idempotence.hpp"

#include <catch2/catch.hpp>

using namespace brook::client::producing;
using brook::client::topic_partition;
using brook::common::compression_codec;
using brook::common::kafka_error;

namespace {
const topic_partition tp{"t", 0};

batch_ptr make_batch(int records, const topic_partition& where = tp) {
  auto b = std::make_shared<producer_batch>(where, compression_codec::none, std::nullopt, 1 << 20, 0, 1.0f);
  for (int i = 0; i < records; ++i) REQUIRE(b->try_append(0, std::nullopt, std::string("v"), {}, {}));
  return b;
}

std::unique_ptr<idempotence_manager> with_id(int64_t id = 1000, int16_t epoch = 0) {
  auto m = std::make_unique<idempotence_manager>();
  m->set_producer_id_and_epoch({id, epoch});
  return m;
}
}  // namespace

TEST_CASE("sequences are assigned per partition in drain order", "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(3), b = make_batch(2), c = make_batch(1, {"t", 1});
  m.assign_sequence(a);
  m.assign_sequence(b);
  m.assign_sequence(c);
  CHECK(a->base_sequence() == 0);
  CHECK(a->last_sequence() == 2);
  CHECK(b->base_sequence() == 3);
  CHECK(c->base_sequence() == 0);
  CHECK(a->state().producer_id == 1000);
  CHECK(m.next_sequence(tp) == 5);
  CHECK(m.first_in_flight_sequence(tp) == 0);
  m.handle_completed_batch(a, 10);
  CHECK(m.last_acked_sequence(tp) == 2);
  CHECK(m.last_acked_offset(tp) == 12);
  CHECK(m.first_in_flight_sequence(tp) == 3);
  // A retry keeps its sequence.
  m.assign_sequence(b);
  CHECK(b->base_sequence() == 3);
}

TEST_CASE("nothing drains without a producer id, a retry drains only as the first in flight",
          "[producing][idempotence]") {
  idempotence_manager none;
  auto fresh = make_batch(1);
  CHECK(none.should_stop_drain(*fresh));
  CHECK(none.bump_epoch_and_reset_id_if_needed());         // ask for one
  CHECK_FALSE(none.bump_epoch_and_reset_id_if_needed());  // once

  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(1), b = make_batch(1);
  CHECK_FALSE(m.should_stop_drain(*a));
  m.assign_sequence(a);
  m.assign_sequence(b);
  // b is retried (it has a sequence) while a is still in flight: wait.
  CHECK(m.should_stop_drain(*b));
  CHECK_FALSE(m.should_stop_drain(*a));
  m.handle_completed_batch(a, 0);
  CHECK_FALSE(m.should_stop_drain(*b));
}

TEST_CASE("OUT_OF_ORDER_SEQUENCE_NUMBER on the next expected batch bumps the epoch (KIP-360)",
          "[producing][idempotence]") {
  auto m_owner = with_id(1000, 4);
  auto& m = *m_owner;
  auto a = make_batch(2), b = make_batch(3);
  m.assign_sequence(a);
  m.assign_sequence(b);
  // a is the next after the last acked (none): a real gap on the broker.
  CHECK(m.can_retry(kafka_error::out_of_order_sequence_number, 0, *a));
  CHECK(m.epoch_bump_required());
  CHECK_FALSE(m.bump_epoch_and_reset_id_if_needed());
  CHECK(m.current() == producer_id_and_epoch{1000, 5});
  // In-flight batches were renumbered from 0 under the new epoch.
  CHECK(a->base_sequence() == 0);
  CHECK(b->base_sequence() == 2);
  CHECK(a->state().producer_epoch == 5);
  CHECK(a->sequence_has_been_reset());
  CHECK(m.next_sequence(tp) == 5);
}

TEST_CASE("OUT_OF_ORDER_SEQUENCE_NUMBER on a later batch just retries", "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(1), b = make_batch(1);
  m.assign_sequence(a);
  m.assign_sequence(b);
  // b failed because a is being retried: not the next sequence, so no bump.
  CHECK(m.can_retry(kafka_error::out_of_order_sequence_number, 0, *b));
  CHECK_FALSE(m.epoch_bump_required());
}

TEST_CASE("UNKNOWN_PRODUCER_ID retries, with a log start offset it bumps the epoch", "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(1);
  m.assign_sequence(a);
  CHECK(m.can_retry(kafka_error::unknown_producer_id, -1, *a));
  CHECK_FALSE(m.epoch_bump_required());
  CHECK(m.can_retry(kafka_error::unknown_producer_id, 0, *a));
  CHECK(m.epoch_bump_required());
  m.bump_epoch_and_reset_id_if_needed();
  CHECK(m.current().epoch == 1);
  // The renumbered batch failing again the same way does not bump once more.
  CHECK(m.can_retry(kafka_error::unknown_producer_id, 0, *a));
  CHECK_FALSE(m.epoch_bump_required());
}

TEST_CASE("DUPLICATE_SEQUENCE_NUMBER and INVALID_PRODUCER_EPOCH are not retried", "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(1);
  m.assign_sequence(a);
  CHECK_FALSE(m.can_retry(kafka_error::duplicate_sequence_number, 0, *a));
  CHECK_FALSE(m.can_retry(kafka_error::invalid_producer_epoch, 0, *a));
  CHECK(m.can_retry(kafka_error::not_leader_or_follower, 0, *a));
  CHECK_FALSE(m.can_retry(kafka_error::invalid_record, 0, *a));
}

TEST_CASE("a batch failed before its retries ran out bumps the epoch, fencing is fatal",
          "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(1), b = make_batch(1);
  m.assign_sequence(a);
  m.assign_sequence(b);
  m.handle_failed_batch(a, {kafka_error::invalid_producer_epoch, "old epoch"}, true);
  CHECK(m.epoch_bump_required());
  CHECK_FALSE(m.fatal_error());
  m.bump_epoch_and_reset_id_if_needed();
  CHECK(b->base_sequence() == 0);  // the survivor restarts the new epoch

  auto n_owner = with_id();
  auto& n = *n_owner;
  auto c = make_batch(1);
  n.assign_sequence(c);
  n.handle_failed_batch(c, {kafka_error::producer_fenced, "fenced"}, true);
  REQUIRE(n.fatal_error());
  CHECK(n.fatal_error()->code == kafka_error::producer_fenced);
  CHECK(n.should_stop_drain(*make_batch(1)));
}

TEST_CASE("UNKNOWN_PRODUCER_ID as a final failure restarts the partition at 0", "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(4);
  m.assign_sequence(a);
  m.handle_failed_batch(a, {kafka_error::unknown_producer_id, "lost"}, false);
  CHECK(m.next_sequence(tp) == 0);
}

TEST_CASE("a new epoch reaches a partition only when its old batches are done", "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(1), other = make_batch(1, {"t", 9});
  m.assign_sequence(a);
  m.assign_sequence(other);
  m.request_epoch_bump({"t", 9});
  m.bump_epoch_and_reset_id_if_needed();
  // Partition 0 still has a batch of epoch 0 in flight: a new batch must wait.
  auto fresh = make_batch(1);
  CHECK(m.has_stale_producer_id_and_epoch(tp));
  CHECK(m.should_stop_drain(*fresh));
  m.handle_completed_batch(a, 0);
  CHECK_FALSE(m.should_stop_drain(*fresh));
  m.assign_sequence(fresh);
  CHECK(fresh->base_sequence() == 0);
  CHECK(fresh->state().producer_epoch == 1);
}

TEST_CASE("expired in-flight batches leave the sequence unresolved until the rest settle",
          "[producing][idempotence]") {
  auto m_owner = with_id();
  auto& m = *m_owner;
  auto a = make_batch(1), b = make_batch(1);
  m.assign_sequence(a);
  m.assign_sequence(b);
  m.mark_sequence_unresolved(*a);
  m.remove_in_flight_batch(a);
  CHECK(m.has_unresolved_sequence(tp));
  CHECK(m.should_stop_drain(*make_batch(1)));  // no new batch while unresolved
  m.handle_completed_batch(b, 5);             // b acked: seq 1 acked, next is 2
  m.maybe_resolve_sequences();
  CHECK_FALSE(m.has_unresolved_sequence(tp));
  CHECK_FALSE(m.epoch_bump_required());

  auto n_owner = with_id();
  auto& n = *n_owner;
  auto c = make_batch(1);
  n.assign_sequence(c);
  n.mark_sequence_unresolved(*c);
  n.remove_in_flight_batch(c);
  n.maybe_resolve_sequences();  // nothing acked: the fate of seq 0 is unknown
  CHECK(n.epoch_bump_required());
}

TEST_CASE("an exhausted epoch asks for a new producer id", "[producing][idempotence]") {
  auto m_owner = with_id(7, INT16_MAX);
  auto& m = *m_owner;
  m.request_epoch_bump(tp);
  CHECK(m.bump_epoch_and_reset_id_if_needed());
  CHECK_FALSE(m.has_producer_id());
  m.set_producer_id_and_epoch({8, 0});
  CHECK(m.current() == producer_id_and_epoch{8, 0});
  CHECK(m.next_sequence(tp) == 0);
}
