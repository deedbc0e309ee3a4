#include <catch2/catch.hpp>

#include "broker/fetch_session.hpp"

using namespace brook::broker;
using clock_type = std::chrono::steady_clock;

TEST_CASE("fetch sessions keep partitions in first-added order and forget on request") {
  fetch_session_cache cache(10);
  auto now = clock_type::now();
  fetch_session* s = cache.create(now);
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
