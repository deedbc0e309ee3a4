#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>

#include "broker/partition_manager.hpp"
#include "common/record_batch.hpp"

using namespace brook;
using namespace brook::broker;
namespace asio = boost::asio;

namespace {

// A fresh directory removed when the test ends.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("brook-partition-manager-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::vector<uint8_t> idempotent_batch(int64_t producer_id, int32_t sequence, int records) {
  common::record_batch_builder::options opts;
  opts.producer_id = producer_id;
  opts.producer_epoch = 0;
  opts.base_sequence = sequence;
  common::record_batch_builder b(opts);
  for (int i = 0; i < records; ++i) b.add(std::nullopt, "value-" + std::to_string(sequence + i), 1000);
  return b.build();
}

// The logs of topic "t" with the log's own defaults.
std::unique_ptr<log::log_manager> open_logs(const std::filesystem::path& dir, int32_t partitions) {
  auto logs = log::log_manager::open(dir, [](const log::topic_partition&) { return log::log_config{}; });
  REQUIRE(logs);
  for (int32_t p = 0; p < partitions; ++p) REQUIRE((*logs)->create({"t", p}, log::log_config{}));
  return std::move(*logs);
}

// A partition manager over topic "t" with `partitions` partitions, and a network thread to drive it.
struct manager_fixture {
  temp_dir dir;
  asio::thread_pool pool;
  partition_manager pm;
  manager_fixture(int32_t partitions, size_t threads) : pool(threads), pm(pool, open_logs(dir.path, partitions)) {
    pm.attach_topic("t", partitions);
  }
  // Runs `body` as the network thread's coroutine until it and everything it started are done.
  template <class Body>
  void run(Body body) {
    asio::io_context io(1);
    asio::co_spawn(io, std::move(body), asio::detached);
    io.run();
    pool.join();
  }
};

struct produce_call {
  std::vector<std::vector<uint8_t>> batches;  // one per partition
  std::vector<partition_manager::append_request> requests;
};

}  // namespace

TEST_CASE("appends started one after another on the network thread reach each partition in that order") {
  temp_dir dir;
  asio::thread_pool pool(2);
  partition_manager pm(pool, open_logs(dir.path, 2));
  pm.attach_topic("t", 2);

  // As a connection does with pipelined Produce requests: each call is co_spawned from the network
  // thread right after the previous one, and none waits for the one before. With durable appends each
  // call also waits for an fsync: the partitions must still see the calls' batches in spawn order,
  // or the producer's sequence check refuses the later ones.
  constexpr int calls = 20;
  constexpr int per_call = 3;
  const bool durable = GENERATE(false, true);
  std::vector<produce_call> produced(calls);
  asio::io_context io(1);
  int finished = 0;
  auto driver = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < calls; ++i) {
      produce_call& call = produced[i];
      for (int p = 0; p < 2; ++p) call.batches.push_back(idempotent_batch(7, i * per_call, per_call));
      for (int p = 0; p < 2; ++p) call.requests.push_back({{"t", p}, call.batches[p], std::nullopt});
      auto one = [&pm, &call, &finished, durable]() -> asio::awaitable<void> {
        co_await pm.append(call.requests, durable);
        ++finished;
      };
      asio::co_spawn(io, one, asio::detached);
    }
    co_return;
  };
  asio::co_spawn(io, driver, asio::detached);
  io.run();
  pool.join();

  REQUIRE(finished == calls);
  for (int i = 0; i < calls; ++i)
    for (int p = 0; p < 2; ++p) {
      INFO("call " << i << " partition " << p);
      const auto& result = produced[i].requests[p].result;
      REQUIRE(result);
      INFO((*result ? std::string() : result->err().message));
      REQUIRE(*result);
      CHECK((*result)->first_offset == i * per_call);
      CHECK((*result)->last_offset == i * per_call + per_call - 1);
    }
  CHECK(pm.high_watermark({"t", 0}) == calls * per_call);
  CHECK(pm.high_watermark({"t", 1}) == calls * per_call);
  REQUIRE(pm.close());
}

TEST_CASE("an append to an unknown partition fails alone") {
  manager_fixture f(1, 1);
  std::vector<uint8_t> a = idempotent_batch(-1, -1, 2), b = idempotent_batch(-1, -1, 2);
  std::vector<partition_manager::append_request> requests{{{"t", 0}, a, std::nullopt},
                                                          {{"missing", 0}, b, std::nullopt}};
  f.run([&]() -> asio::awaitable<void> { co_await f.pm.append(requests, true); });
  REQUIRE(requests[0].result);
  REQUIRE(*requests[0].result);
  CHECK((*requests[0].result)->first_offset == 0);
  REQUIRE(requests[1].result);
  CHECK(requests[1].result->code() == common::kafka_error::unknown_topic_or_partition);
  REQUIRE(f.pm.close());
}

TEST_CASE("a durable append whose fsync outlasts the timeout is answered REQUEST_TIMED_OUT and stays in the log") {
  manager_fixture f(2, 2);
  // A disk that does not sync until the test says so: every acks=all flush waits in the hook (on its
  // partition's strand) until the append call has returned.
  std::mutex m;
  std::condition_variable cv;
  bool released = false;
  f.pm.set_before_durable_flush([&] {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return released; });
  });
  std::vector<uint8_t> a = idempotent_batch(-1, -1, 2), b = idempotent_batch(-1, -1, 3);
  std::vector<partition_manager::append_request> requests{{{"t", 0}, a, std::nullopt},
                                                          {{"t", 1}, b, std::nullopt}};
  std::chrono::steady_clock::duration waited{};
  // The network thread ends with the call; the held flushes finish on the pool and post to a stopped context.
  f.run([&]() -> asio::awaitable<void> {
    const auto start = std::chrono::steady_clock::now();
    co_await f.pm.append(requests, true, std::chrono::milliseconds(50));
    waited = std::chrono::steady_clock::now() - start;
    {
      std::lock_guard lock(m);
      released = true;
    }
    cv.notify_all();
  });

  CHECK(waited >= std::chrono::milliseconds(50));
  for (auto& rq : requests) {
    REQUIRE(rq.result);
    REQUIRE_FALSE(*rq.result);
    CHECK(rq.result->code() == common::kafka_error::request_timed_out);
  }
  // Appended all the same: visible to readers, and not lost.
  CHECK(f.pm.high_watermark({"t", 0}) == 2);
  CHECK(f.pm.high_watermark({"t", 1}) == 3);
  REQUIRE(f.pm.close());
}

TEST_CASE("a durable append within its timeout, and a zero timeout for acks=1, are answered normally") {
  manager_fixture f(1, 2);
  std::vector<uint8_t> a = idempotent_batch(-1, -1, 2), b = idempotent_batch(-1, -1, 2);
  std::vector<partition_manager::append_request> durable{{{"t", 0}, a, std::nullopt}};
  std::vector<partition_manager::append_request> cached{{{"t", 0}, b, std::nullopt}};
  f.run([&]() -> asio::awaitable<void> {
    co_await f.pm.append(durable, true, std::chrono::seconds(30));
    co_await f.pm.append(cached, false, std::chrono::milliseconds(0));  // the timeout bounds fsyncs only
  });
  REQUIRE(durable[0].result);
  REQUIRE(*durable[0].result);
  CHECK((*durable[0].result)->first_offset == 0);
  REQUIRE(cached[0].result);
  REQUIRE(*cached[0].result);
  CHECK((*cached[0].result)->first_offset == 2);
  REQUIRE(f.pm.close());
}
