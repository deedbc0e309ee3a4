// The request meter on a fake clock: a request's slices on its executor are counted, its suspensions
// are not, blocking work it awaits is, and a slice of another request run inline is counted to that
// request only.
#include "broker/quota/request_meter.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <memory>

#include "broker/blocking.hpp"

namespace request_meter_test {

namespace asio = boost::asio;
namespace bq = brook::broker::quota;

std::atomic<int64_t> fake_now{0};
int64_t fake_clock() { return fake_now.load(); }

TEST_CASE("A request's slices are counted and its suspensions are not", "[quota][request_meter]") {
  fake_now = 1'000'000;
  asio::io_context io;
  auto meter = std::make_shared<bq::request_meter>(&fake_clock);
  asio::steady_timer parked(io, asio::steady_timer::time_point::max());
  bool finished = false;
  auto body = [&]() -> asio::awaitable<void> {
    fake_now += 7;  // work before the suspension
    CHECK(bq::request_meter::current() == meter.get());
    CHECK(meter->elapsed_nanos() == 7);  // the running slice counts
    co_await parked.async_wait(asio::as_tuple(asio::use_awaitable));
    fake_now += 3;  // work after it
    finished = true;
  };
  asio::co_spawn(bq::metered_executor(io.get_executor(), meter), body, asio::detached);
  // Outside the request: time passes while it is parked, then the timer fires.
  asio::post(io, [&] {
    CHECK(bq::request_meter::current() == nullptr);
    fake_now += 1000;
    parked.cancel();
  });
  io.run();
  REQUIRE(finished);
  CHECK(meter->elapsed_nanos() == 10);
  CHECK(bq::request_meter::current() == nullptr);
}

// Each thread's own time: the pool may start the work before the network thread's slice has ended
// (the slice ends only once the coroutine has suspended), and with one shared fake clock the work's time
// would fall inside that slice too. A real clock overlaps them by microseconds at most.
thread_local int64_t thread_busy_nanos = 0;
int64_t per_thread_clock() { return thread_busy_nanos; }

TEST_CASE("Blocking work a request awaits counts toward it", "[quota][request_meter]") {
  asio::io_context io;
  asio::thread_pool pool(1);
  auto meter = std::make_shared<bq::request_meter>(&per_thread_clock);
  int result = 0;
  auto body = [&]() -> asio::awaitable<void> {
    thread_busy_nanos += 2;
    auto work = [] {
      thread_busy_nanos += 50;  // on the pool, while the request waits for it
      return 42;
    };
    result = co_await brook::broker::run_blocking(pool, work);
    thread_busy_nanos += 1;
  };
  asio::co_spawn(bq::metered_executor(io.get_executor(), meter), body, asio::detached);
  io.run();
  pool.join();
  CHECK(result == 42);
  CHECK(meter->elapsed_nanos() == 53);
}

TEST_CASE("Another request's slice run inline is counted to that request only", "[quota][request_meter]") {
  fake_now = 0;
  asio::io_context io;
  auto outer = std::make_shared<bq::request_meter>(&fake_clock);
  auto inner = std::make_shared<bq::request_meter>(&fake_clock);
  bq::metered_executor outer_ex(io.get_executor(), outer);
  bq::metered_executor inner_ex(io.get_executor(), inner);
  asio::post(io, [&] {
    outer_ex.execute([&] {
      fake_now += 5;
      // Run inline (blocking.possibly on the io_context's own thread), as a completion can be.
      inner_ex.execute([&] {
        CHECK(bq::request_meter::current() == inner.get());
        fake_now += 20;
        // The same request nested in itself is timed once.
        inner_ex.execute([&] { fake_now += 4; });
      });
      CHECK(bq::request_meter::current() == outer.get());
      fake_now += 1;
    });
  });
  io.run();
  CHECK(outer->elapsed_nanos() == 6);
  CHECK(inner->elapsed_nanos() == 24);
}

TEST_CASE("A metered executor converts to Asio's polymorphic executor and keeps its meter",
          "[quota][request_meter]") {
  asio::io_context io;
  auto meter = std::make_shared<bq::request_meter>(&fake_clock);
  bq::metered_executor ex(io.get_executor(), meter);
  asio::any_io_executor any = ex;
  CHECK(&asio::query(any, asio::execution::context) == &io);
  fake_now = 0;
  asio::post(any, [] { fake_now += 9; });
  io.run();
  CHECK(meter->elapsed_nanos() == 9);
}

}  // namespace request_meter_test
