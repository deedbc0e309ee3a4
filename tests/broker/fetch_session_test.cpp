#include <catch2/catch.hpp>

#include "broker/fetch_session.hpp"

using namespace brook::broker;
using clock_type = std::chrono::steady_clock;

TEST_CASE("fetch sessions keep partitions in first-added order and forget on request") {
  fetch_session_cache cache(10);
  auto now = clock_type::now();
  auto s = cache.create(now);
  REQUIRE(s != nullptr);
  CHECK(s->id() > 0);
  CHECK(s->epoch() == 1);
  s->upsert({"b", {}, 0, 5, 100});
  s->upsert({"a", {}, 1, 7, 100});
  s->upsert({"b", {}, 0, 9, 200});  // an update keeps the position
  auto parts = s->partitions();
  REQUIRE(parts.size() == 2);
  CHECK(parts[0]->topic == "b");
  CHECK(parts[0]->fetch_offset == 9);
  CHECK(parts[0]->max_bytes == 200);
  CHECK(parts[1]->topic == "a");
  s->forget("b", 0);
  REQUIRE(s->partitions().size() == 1);
  CHECK(s->partitions()[0]->topic == "a");
  s->advance_epoch();
  CHECK(s->epoch() == 2);
}

TEST_CASE("the least recently used fetch session is evicted when the cache is full") {
  fetch_session_cache cache(2);
  auto t0 = clock_type::now();
  int32_t first = cache.create(t0)->id();
  int32_t second = cache.create(t0 + std::chrono::seconds(1))->id();
  REQUIRE(cache.find(first, t0 + std::chrono::seconds(2)) != nullptr);  // first is now the fresher one
  int32_t third = cache.create(t0 + std::chrono::seconds(3))->id();
  CHECK(cache.size() == 2);
  CHECK(cache.find(second, t0 + std::chrono::seconds(4)) == nullptr);
  CHECK(cache.find(first, t0 + std::chrono::seconds(4)) != nullptr);
  CHECK(cache.find(third, t0 + std::chrono::seconds(4)) != nullptr);
  cache.remove(first);
  CHECK(cache.find(first, t0 + std::chrono::seconds(5)) == nullptr);
}

// What a parked Fetch does: it holds its session and pointers to the session's cached partitions
// while it waits; meanwhile the consumer reconnects (epoch 0 on the old id: the session is removed
// and replaced) and eviction may run. Under AddressSanitizer, reading them afterwards was a
// heap-use-after-free while the cache owned sessions alone.
TEST_CASE("a session held by a parked fetch outlives its removal by a reconnecting consumer") {
  fetch_session_cache cache(1);
  auto t0 = clock_type::now();
  const int32_t id = cache.create(t0)->id();
  auto held = cache.find(id, t0);
  held->upsert({"t", {}, 0, 5, 100});
  auto cached = held->partitions();
  // While it waits: the consumer starts over, and the new session evicts nothing but replaces it.
  cache.remove(id);
  auto replacement = cache.create(t0 + std::chrono::seconds(1));
  replacement->upsert({"other", {}, 3, 0, 100});
  // After the wait: the fetch looks at what it holds.
  CHECK(held->id() == id);
  REQUIRE(cached.size() == 1);
  CHECK(cached[0]->topic == "t");
  CHECK(cached[0]->fetch_offset == 5);
  cached[0]->sent_high_watermark = 9;  // what answering writes back
  CHECK(cache.find(id, t0 + std::chrono::seconds(2)) == nullptr);
}

TEST_CASE("a fetch asks after every suspension whether its session is still current at its epoch") {
  fetch_session_cache cache(1);
  auto t0 = clock_type::now();
  auto s = cache.create(t0);
  const int32_t epoch = s->epoch();
  CHECK(cache.is_current(*s, epoch));
  s->advance_epoch();  // another request of the session got in first
  CHECK_FALSE(cache.is_current(*s, epoch));
  CHECK(cache.is_current(*s, s->epoch()));
  auto evicting = cache.create(t0 + std::chrono::seconds(1));  // max 1 session: s is evicted
  CHECK_FALSE(cache.is_current(*s, s->epoch()));
  CHECK(cache.is_current(*evicting, evicting->epoch()));
  cache.remove(evicting->id());
  CHECK_FALSE(cache.is_current(*evicting, evicting->epoch()));
}
