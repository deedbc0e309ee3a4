// write_lanes: the writes of one group land in the order they were issued even when the first is
// slow and the pool has idle threads; other groups are not held up by it.
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/group/write_lanes.hpp"

namespace asio = boost::asio;
using brook::broker::group::write_lanes;

namespace {
// The writes in the order they landed, from any thread.
struct landing_log {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> landed;

  void record(std::string what) {
    {
      std::lock_guard lock(m);
      landed.push_back(std::move(what));
    }
    cv.notify_all();
  }
  // Whether `what` lands within a time far beyond what it takes (false: it was held up).
  bool wait_for(const std::string& what) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, std::chrono::seconds(10),
                       [&] { return std::find(landed.begin(), landed.end(), what) != landed.end(); });
  }
};
}  // namespace

TEST_CASE("writes of one group land in issue order, a slow write does not reorder them") {
  asio::io_context io;
  asio::thread_pool pool(4);
  write_lanes lanes(pool);
  landing_log log;
  auto record = [&](std::string what) { log.record(std::move(what)); };
  int finished = 0;
  // Like a commit issued before a DeleteGroups of the same group: the commit's write is slow. It ends only
  // once the other group's write has landed (which a lane shared with it would never let happen), and
  // then takes a while longer, time the pool's idle threads would have to run the delete.
  auto slow_commit = [&]() -> asio::awaitable<void> {
    auto work = [&] {
      CHECK(log.wait_for("commit other"));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      record("commit g");
      return 1;
    };
    co_await lanes.run("g", work);
    ++finished;
  };
  auto delete_group = [&]() -> asio::awaitable<void> {
    auto work = [&] {
      record("delete g");
      return 2;
    };
    co_await lanes.run("g", work);
    ++finished;
  };
  auto other_group = [&]() -> asio::awaitable<void> {
    auto work = [&] {
      record("commit other");
      return 3;
    };
    // "other" hashes to another lane than "g" (checked below), so it does not wait for the slow write.
    co_await lanes.run("other", work);
    ++finished;
  };
  REQUIRE(lanes.index_of("g") != lanes.index_of("other"));
  asio::co_spawn(io, slow_commit(), asio::detached);
  asio::co_spawn(io, delete_group(), asio::detached);
  asio::co_spawn(io, other_group(), asio::detached);
  io.run();
  pool.join();
  CHECK(finished == 3);
  REQUIRE(log.landed.size() == 3);
  CHECK(log.landed[0] == "commit other");
  CHECK(log.landed[1] == "commit g");
  CHECK(log.landed[2] == "delete g");
}

TEST_CASE("without lanes, the blocking pool lands a later write of a group first (the old behaviour)") {
  // The control for the test above: the same two writes through run_blocking on the pool, as the
  // group handlers issued them before write_lanes, land out of order.
  asio::io_context io;
  asio::thread_pool pool(4);
  landing_log log;
  auto record = [&](std::string what) { log.record(std::move(what)); };
  auto slow_commit = [&]() -> asio::awaitable<void> {
    auto work = [&] {
      CHECK(log.wait_for("delete g"));  // another pool thread runs the later write meanwhile
      record("commit g");
      return 1;
    };
    co_await brook::broker::run_blocking(pool, work);
  };
  auto delete_group = [&]() -> asio::awaitable<void> {
    auto work = [&] {
      record("delete g");
      return 2;
    };
    co_await brook::broker::run_blocking(pool, work);
  };
  asio::co_spawn(io, slow_commit(), asio::detached);
  asio::co_spawn(io, delete_group(), asio::detached);
  io.run();
  pool.join();
  REQUIRE(log.landed.size() == 2);
  CHECK(log.landed[0] == "delete g");  // the deleted group's commit lands after the delete
}

