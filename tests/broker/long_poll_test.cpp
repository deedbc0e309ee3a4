#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>
#include <random>

#include "broker/long_poll.hpp"

using namespace brook;
using namespace brook::broker;
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

struct poll_fixture {
  std::filesystem::path dir;
  asio::thread_pool pool{1};
  std::unique_ptr<partition_manager> pm;
  poll_fixture() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("brook-long-poll-test-" + std::to_string(rd()));
    auto logs = log::log_manager::open(dir, [](const log::topic_partition&) { return log::log_config{}; });
    REQUIRE(logs);
    REQUIRE((*logs)->create({"t", 0}, log::log_config{}));
    pm = std::make_unique<partition_manager>(pool, std::move(*logs));
    pm->attach_topic("t", 1);
  }
  ~poll_fixture() {
    pool.join();
    pm.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("a parked long poll ends at once when its connection's waits are cancelled") {
  poll_fixture f;
  asio::io_context io(1);
  wait_set waits;
  std::optional<long_poll_wake> woke;
  const auto parked_at = steady_clock::now();
  std::optional<steady_clock::time_point> woke_at;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const std::vector<log::topic_partition> watched{{"t", 0}};
        woke = co_await wait_for_appends(io.get_executor(), *f.pm, &waits, watched, parked_at + std::chrono::hours(1));
        woke_at = steady_clock::now();
      },
      asio::detached);
  // The explicit trigger: once the poll is parked, the connection closes.
  asio::post(io, [&] {
    CHECK(waits.size() == 1);
    waits.cancel_all();
  });
  io.run();
  REQUIRE(woke);
  CHECK(*woke == long_poll_wake::cancelled);
  CHECK(*woke_at - parked_at < std::chrono::seconds(5));
  CHECK(waits.size() == 0);
}

TEST_CASE("a long poll never parks on a cancelled wait set, and ends at its deadline otherwise") {
  poll_fixture f;
  asio::io_context io(1);
  wait_set cancelled;
  cancelled.cancel_all();
  wait_set live;
  std::optional<long_poll_wake> first, second;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const std::vector<log::topic_partition> watched{{"t", 0}};
        const auto far = steady_clock::now() + std::chrono::hours(1);
        first = co_await wait_for_appends(io.get_executor(), *f.pm, &cancelled, watched, far);
        const auto soon = steady_clock::now() + std::chrono::milliseconds(20);
        second = co_await wait_for_appends(io.get_executor(), *f.pm, &live, watched, soon);
      },
      asio::detached);
  io.run();
  CHECK(first == long_poll_wake::cancelled);
  CHECK(second == long_poll_wake::deadline);
  CHECK(cancelled.size() == 0);
  CHECK(live.size() == 0);
}
