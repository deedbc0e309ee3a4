// The consumer's subscription and per-partition state, after Kafka's SubscriptionStateTest.
#include <catch2/catch.hpp>

#include "client/consuming/subscription_state.hpp"

using namespace brook::client::consuming;
using brook::common::kafka_error;

namespace {
const topic_partition tp0{"topic", 0};
const topic_partition tp1{"topic", 1};
const topic_partition t1p0{"topic1", 0};
}  // namespace

TEST_CASE("topics, patterns and user assignment exclude each other") {
  subscription_state s;
  REQUIRE(s.subscribe({"topic"}).ok());
  CHECK(s.type() == subscription_type::topics);
  CHECK_FALSE(s.assign_from_user({tp0}).ok());
  CHECK_FALSE(s.subscribe_pattern(".*").ok());
  s.unsubscribe();
  REQUIRE(s.assign_from_user({tp0}).ok());
  CHECK(s.type() == subscription_type::user_assigned);
  CHECK_FALSE(s.subscribe({"topic"}).ok());
  // An empty assignment (or subscription) unsubscribes.
  REQUIRE(s.assign_from_user({}).ok());
  CHECK(s.type() == subscription_type::none);
  REQUIRE(s.subscribe({"topic"}).ok());
  REQUIRE(s.subscribe({}).ok());
  CHECK(s.type() == subscription_type::none);
}

TEST_CASE("a pattern matches whole topic names and follows the metadata") {
  subscription_state s;
  CHECK(s.subscribe_pattern("t(").code() == kafka_error::invalid_regular_expression);
  REQUIRE(s.subscribe_pattern("topic.*").ok());
  CHECK(s.matches_pattern("topic1"));
  CHECK_FALSE(s.matches_pattern("my-topic"));  // a full match, as Java's Pattern.matches
  CHECK(s.set_pattern_topics({"topic", "topic1", "other"}));
  CHECK(s.subscription() == std::set<std::string>{"topic", "topic1"});
  CHECK_FALSE(s.set_pattern_topics({"topic", "topic1"}));
  REQUIRE(s.assign_from_subscribed({tp0, t1p0}).ok());
  CHECK(s.assigned_count() == 2);
}

TEST_CASE("a group assignment keeps the state of partitions that stay") {
  subscription_state s;
  REQUIRE(s.subscribe({"topic"}).ok());
  CHECK_FALSE(s.assign_from_subscribed({t1p0}).ok());  // not subscribed
  REQUIRE(s.assign_from_subscribed({tp0, tp1}).ok());
  s.seek(tp0, {10, 3, std::nullopt});
  s.pause(tp0);
  REQUIRE(s.assign_from_subscribed({tp0}).ok());
  CHECK(s.position(tp0) == std::optional<fetch_offset>(fetch_offset{10, 3, std::nullopt}));
  CHECK(s.is_paused(tp0));
  CHECK_FALSE(s.is_assigned(tp1));
  // State of partitions no longer assigned is gone; they start again without position.
  REQUIRE(s.assign_from_subscribed({tp0, tp1}).ok());
  CHECK_FALSE(s.has_valid_position(tp1));
}

TEST_CASE("only partitions with a position, not paused and not being revoked are fetched") {
  subscription_state s;
  REQUIRE(s.assign_from_user({tp0, tp1}).ok());
  CHECK(s.fetchable_partitions().empty());
  CHECK(s.initializing_partitions() == std::vector<topic_partition>{tp0, tp1});
  s.seek(tp0, {5});
  s.seek(tp1, {7});
  CHECK(s.fetchable_partitions() == std::vector<topic_partition>{tp0, tp1});
  s.pause(tp0);
  CHECK(s.fetchable_partitions() == std::vector<topic_partition>{tp1});
  CHECK(s.paused_partitions() == std::set<topic_partition>{tp0});
  s.resume(tp0);
  s.mark_pending_revocation({tp1});
  CHECK(s.fetchable_partitions() == std::vector<topic_partition>{tp0});
  // Pausing or seeking a partition not assigned does nothing.
  s.pause(t1p0);
  s.seek(t1p0, {1});
  CHECK_FALSE(s.is_paused(t1p0));
  CHECK_FALSE(s.position(t1p0));
}

TEST_CASE("offset resets: pending until answered, a seek meanwhile wins, and none is an error") {
  subscription_state s(offset_reset_strategy::earliest);
  REQUIRE(s.assign_from_user({tp0, tp1}).ok());
  REQUIRE(s.reset_to_default(s.initializing_partitions()).ok());
  CHECK(s.is_offset_reset_needed(tp0));
  CHECK(s.reset_strategy(tp0) == std::optional<offset_reset_strategy>(offset_reset_strategy::earliest));
  CHECK(s.partitions_needing_reset() == std::vector<topic_partition>{tp0, tp1});
  s.maybe_seek_after_reset(tp0, offset_reset_strategy::earliest, {0});
  CHECK(s.position(tp0) == std::optional<fetch_offset>(fetch_offset{0}));
  s.seek(tp1, {42});
  s.maybe_seek_after_reset(tp1, offset_reset_strategy::earliest, {0});
  CHECK(s.position(tp1)->offset == 42);
  // seek_to_end asks for latest; an answer for another strategy is ignored.
  s.request_offset_reset(tp0, offset_reset_strategy::latest);
  s.maybe_seek_after_reset(tp0, offset_reset_strategy::earliest, {0});
  CHECK(s.is_offset_reset_needed(tp0));
  s.maybe_seek_after_reset(tp0, offset_reset_strategy::latest, {100});
  CHECK(s.position(tp0)->offset == 100);

  subscription_state none(offset_reset_strategy::none);
  REQUIRE(none.assign_from_user({tp0}).ok());
  auto r = none.reset_to_default(none.initializing_partitions());
  CHECK(r.code() == kafka_error::offset_out_of_range);
  CHECK(r.err().message.find("topic-0") != std::string::npos);
}

TEST_CASE("consumed positions, lag and the committed cache") {
  subscription_state s;
  REQUIRE(s.assign_from_user({tp0, tp1}).ok());
  s.seek(tp0, {10, 2, std::nullopt});
  auto consumed = s.all_consumed();
  REQUIRE(consumed.size() == 1);
  CHECK(consumed.at(tp0) == committed_offset{10, 2, ""});
  s.update_high_watermark(tp0, 15);
  s.update_last_stable_offset(tp0, 12);
  CHECK(s.lag(tp0, isolation_level::read_uncommitted) == std::optional<int64_t>(5));
  CHECK(s.lag(tp0, isolation_level::read_committed) == std::optional<int64_t>(2));
  CHECK_FALSE(s.lag(tp1, isolation_level::read_uncommitted));
  CHECK_FALSE(s.committed(tp0));
  s.set_committed(tp0, {10, 2, "meta"});
  CHECK(s.committed(tp0)->metadata == "meta");
}

TEST_CASE("a position awaits validation when its leader changes, and only with both epochs") {
  subscription_state s(offset_reset_strategy::earliest);
  REQUIRE(s.assign_from_user({tp0, tp1}).ok());
  s.seek(tp0, {10, 3, 3, 1});
  s.seek(tp1, {10, std::nullopt, 3, 1});  // no epoch for the last record: nothing to validate
  // Same leader and epoch: nothing to do.
  CHECK_FALSE(s.maybe_validate_position_for_current_leader(tp0, 1, 3));
  // A new epoch: tp0 awaits validation and is not fetched; tp1 just takes the new leader.
  CHECK(s.maybe_validate_position_for_current_leader(tp0, 1, 4));
  CHECK_FALSE(s.maybe_validate_position_for_current_leader(tp1, 2, 4));
  CHECK(s.awaits_validation(tp0));
  CHECK_FALSE(s.has_valid_position(tp0));
  CHECK(s.fetchable_partitions() == std::vector<topic_partition>{tp1});
  CHECK(s.current_position(tp0) == fetch_offset{10, 3, 4, 1});
  CHECK(s.position(tp1) == fetch_offset{10, std::nullopt, 4, 2});
  // Not committed while unvalidated (Java's allConsumed takes valid positions only).
  CHECK(s.all_consumed().count(tp0) == 0);
  // Due now; once a request is out, not before the retry time.
  const auto now = std::chrono::steady_clock::now();
  CHECK(s.partitions_needing_validation(now) == std::vector<topic_partition>{tp0});
  s.set_next_allowed_retry({tp0}, now + std::chrono::seconds(30));
  CHECK(s.partitions_needing_validation(now).empty());
  // A leader that cannot validate: fetching goes on under it.
  CHECK_FALSE(s.maybe_validate_position_for_current_leader(tp0, 2, 5, false));
  CHECK(s.position(tp0) == fetch_offset{10, 3, 5, 2});
}

TEST_CASE("a validation answer keeps the position, moves it to the divergent offset, or reports the truncation") {
  for (auto policy : {offset_reset_strategy::latest, offset_reset_strategy::none}) {
    INFO("reset " << static_cast<int>(policy));
    subscription_state s(policy);
    REQUIRE(s.assign_from_user({tp0}).ok());
    const fetch_offset at{10, 3, 4, 1};
    s.seek_unvalidated(tp0, at);
    REQUIRE(s.awaits_validation(tp0));
    // An answer for another position (a seek since the request) is ignored.
    CHECK_FALSE(s.maybe_complete_validation(tp0, {11, 3, 4, 1}, 3, 5));
    CHECK(s.awaits_validation(tp0));
    // The epoch ended at or after the position: nothing was lost.
    CHECK_FALSE(s.maybe_complete_validation(tp0, at, 3, 10));
    CHECK(s.position(tp0) == at);
    // It ended before: truncated.
    s.seek_unvalidated(tp0, at);
    auto truncated = s.maybe_complete_validation(tp0, at, 2, 7);
    if (policy == offset_reset_strategy::none) {
      REQUIRE(truncated);
      CHECK(truncated->fetch_offset == 10);
      CHECK(truncated->divergent_offset == std::optional<int64_t>(7));
      CHECK(truncated->divergent_epoch == std::optional<int32_t>(2));
      CHECK(s.awaits_validation(tp0));  // not fetched until the application seeks
    } else {
      CHECK_FALSE(truncated);
      CHECK(s.position(tp0) == fetch_offset{7, 2, 4, 1});
    }
    // The leader does not know the epoch at all: reset by the policy, or reported without an offset.
    s.seek_unvalidated(tp0, at);
    truncated = s.maybe_complete_validation(tp0, at, -1, -1);
    if (policy == offset_reset_strategy::none) {
      REQUIRE(truncated);
      CHECK_FALSE(truncated->divergent_offset);
    } else {
      CHECK_FALSE(truncated);
      CHECK(s.reset_strategy(tp0) == std::optional<offset_reset_strategy>(offset_reset_strategy::latest));
    }
  }
}

TEST_CASE("a seek without the epochs and a reset position skip validation, a diverging epoch truncates") {
  subscription_state s(offset_reset_strategy::earliest);
  REQUIRE(s.assign_from_user({tp0}).ok());
  s.seek_unvalidated(tp0, {5, std::nullopt, 4, 1});
  CHECK(s.has_valid_position(tp0));
  s.seek_unvalidated(tp0, {5, 3, std::nullopt, std::nullopt});
  CHECK(s.has_valid_position(tp0));
  // Fetched at 8 after a record of epoch 3; the broker says epoch 3 ends at 6 in its log.
  s.seek(tp0, {8, 3, 4, 1});
  CHECK_FALSE(s.handle_diverging_epoch(tp0, {9, 3, 4, 1}, 3, 6));  // not the position fetched from
  CHECK_FALSE(s.handle_diverging_epoch(tp0, {8, 3, 4, 1}, 3, 6));
  CHECK(s.position(tp0) == fetch_offset{6, 3, 4, 1});
}
