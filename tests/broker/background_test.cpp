// spawn_supervised: a background coroutine that throws is logged, its owner repairs its state, and a
// fresh coroutine starts (or not, as the owner decides).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "broker/background.hpp"

namespace asio = boost::asio;

namespace {
// Coroutines take their state as parameters (a capturing coroutine lambda would dangle once the
// supervisor moves the factory).
asio::awaitable<void> crash_until_third_run(int* runs, bool* done) {
  ++*runs;
  if (*runs < 3) throw std::runtime_error("store exploded");
  *done = true;
  co_return;
}
asio::awaitable<void> always_crash(int* runs) {
  ++*runs;
  throw std::runtime_error("boom");
  co_return;
}
}  // namespace

TEST_CASE("a background coroutine that throws is restarted after its owner repairs state") {
  asio::io_context io;
  int runs = 0, crashes = 0;
  bool done = false;
  auto make = [&] { return crash_until_third_run(&runs, &done); };
  brook::broker::spawn_supervised(io.get_executor(), "test task", make, [&] {
    ++crashes;
    return true;
  });
  io.run();
  CHECK(runs == 3);
  CHECK(crashes == 2);
  CHECK(done);
}

TEST_CASE("a background coroutine that throws stays stopped when its owner says so") {
  asio::io_context io;
  int runs = 0, crashes = 0;
  auto make = [&] { return always_crash(&runs); };
  brook::broker::spawn_supervised(io.get_executor(), "test task", make, [&] {
    ++crashes;
    return false;
  });
  io.run();
  CHECK(runs == 1);
  CHECK(crashes == 1);
}
