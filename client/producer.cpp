#include "brook/client/producer.hpp"

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

#include "client/core/cluster.hpp"
#include "client/core/connection.hpp"
#include "client/core/errors.hpp"
#include "client/core/io_thread.hpp"
#include "client/producing/idempotence.hpp"
#include "client/producing/producer_config.hpp"
#include "client/producing/record_accumulator.hpp"
#include "client/producing/sender.hpp"

namespace brook::client {

namespace asio = boost::asio;
using common::error;
using common::kafka_error;
using common::result;

// Everything the producer runs on. Owner: the producer object. The I/O thread runs the cluster and the
// sender; application threads append to the accumulator. Invariant: after close() the I/O thread is joined
// and the cluster closed, so members can be destroyed in any order.
struct producer::engine {
  explicit engine(producing::producer_config c)
      : config(std::move(c)),
        cluster(io.executor(), config.cluster),
        accumulator(config, clock, config.enable_idempotence ? &idempotence : nullptr),
        sender(config, cluster, accumulator, config.enable_idempotence ? &idempotence : nullptr, clock) {
    running = asio::co_spawn(io.executor(), sender.run(), asio::use_future);
  }

  producing::producer_config config;
  producing::system_clock clock;
  core::io_thread io;
  core::cluster cluster;
  producing::idempotence_manager idempotence;
  producing::record_accumulator accumulator;
  producing::sender sender;
  std::future<void> running;
  std::mutex close_mutex;
  bool closed = false;
};

producer::producer(std::unique_ptr<engine> e) : engine_(std::move(e)) {}

producer::~producer() { close(); }

result<std::unique_ptr<producer>> producer::create(const properties& config) {
  auto parsed = producing::producer_config::parse(config);
  if (!parsed) return parsed.err();
  return std::unique_ptr<producer>(new producer(std::make_unique<engine>(std::move(*parsed))));
}

bool producer::idempotent() const { return engine_->config.enable_idempotence; }

result<void> producer::send(record r, delivery_callback callback) {
  auto& e = *engine_;
  if (r.topic.empty()) return error{kafka_error::invalid_topic_exception, "a record needs a topic"};
  if (r.timestamp && *r.timestamp < 0)
    return error{kafka_error::invalid_timestamp, "Invalid timestamp: " + std::to_string(*r.timestamp) +
                                                     ". Timestamp should always be non-negative or null."};
  if (r.partition && *r.partition < 0)
    return error{kafka_error::unknown_topic_or_partition,
                 "Invalid partition given with record: " + std::to_string(*r.partition)};
  if (e.accumulator.closed())
    return error{kafka_error::unknown_server_error, "Cannot perform operation after producer has been closed"};
  if (e.config.enable_idempotence)
    if (auto fatal = e.idempotence.fatal_error()) return *fatal;

  // The topic's partitions: from the cached picture, else wait (up to max.block.ms) for Metadata.
  auto snapshot = e.sender.current_snapshot();
  auto known = [&](const producing::cluster_snapshot& s) {
    const auto count = s.partition_count(r.topic);
    return count && (!r.partition || *r.partition < *count);
  };
  if (!known(*snapshot)) {
    if (e.io.on_this_thread())
      return error{kafka_error::unknown_topic_or_partition,
                   "Topic " + r.topic + " is not in the producer's metadata yet; send() from a delivery callback "
                   "cannot wait for it"};
    e.sender.add_topic(r.topic);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(e.config.max_block_ms);
    std::optional<error> last;
    while (true) {
      using fetched = std::optional<result<std::shared_ptr<const producing::cluster_snapshot>>>;
      auto fut = asio::co_spawn(
          e.io.executor(),
          [&sender = e.sender, topic = r.topic]() -> asio::awaitable<fetched> {
            co_return co_await sender.fetch_topic(topic);
          },
          asio::use_future);
      if (fut.wait_until(deadline) != std::future_status::ready) break;
      auto got = std::move(*fut.get());
      if (got && known(**got)) {
        snapshot = *got;
        last.reset();
        break;
      }
      if (!got) {
        last = got.err();
        if (!core::is_retriable(got.err().code) && got.err().code != kafka_error::unknown_topic_or_partition)
          return got.err();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(e.config.retry_backoff_ms, 100)));
      if (std::chrono::steady_clock::now() >= deadline) break;
    }
    if (!known(*snapshot)) {
      std::string what = r.partition ? fmt::format("Partition {} of topic {}", *r.partition, r.topic)
                                     : fmt::format("Topic {}", r.topic);
      return error{kafka_error::request_timed_out,
                   fmt::format("{} not present in metadata after {} ms (max.block.ms){}", what, e.config.max_block_ms,
                               last ? ": " + last->message : std::string())};
    }
  }
  // One reading of the clock per record: the record's timestamp when it has none, and the topic's last use.
  const int64_t now_ms = e.clock.now_ms();
  e.sender.add_topic(r.topic, now_ms);  // keeps the topic in the metadata refreshes (metadata.max.idle.ms)
  const int64_t timestamp = r.timestamp ? *r.timestamp : now_ms;
  auto appended = e.accumulator.append(r, timestamp, std::move(callback), *snapshot);
  if (!appended) return appended.err();
  if (appended->batch_is_full || appended->new_batch_created) e.sender.wakeup();
  return {};
}

std::future<delivery_report> producer::send_future(record r) {
  auto promise = std::make_shared<std::promise<delivery_report>>();
  auto fut = promise->get_future();
  std::string topic = r.topic;
  const int32_t partition = r.partition.value_or(-1);
  auto queued = send(std::move(r), [promise](const delivery_report& report) { promise->set_value(report); });
  if (!queued) {
    delivery_report failed;
    failed.topic = std::move(topic);
    failed.partition = partition;
    failed.error = queued.err();
    promise->set_value(std::move(failed));
  }
  return fut;
}

delivery_report producer::send_sync(record r) {
  auto fut = send_future(std::move(r));
  if (engine_->io.on_this_thread() && fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    delivery_report failed;
    failed.error = {kafka_error::unknown_server_error, "send_sync() from a delivery callback would wait for itself"};
    return failed;
  }
  return fut.get();
}

result<void> producer::flush() {
  auto& e = *engine_;
  if (e.io.on_this_thread())
    return error{kafka_error::unknown_server_error, "flush() from a delivery callback would wait for itself"};
  if (e.accumulator.closed())
    return error{kafka_error::unknown_server_error, "Cannot perform operation after producer has been closed"};
  e.accumulator.begin_flush();
  e.sender.wakeup();
  e.accumulator.await_flush_completion();
  return {};
}

void producer::close(std::chrono::milliseconds timeout) {
  auto& e = *engine_;
  std::lock_guard lock(e.close_mutex);
  if (e.closed) return;
  e.closed = true;
  e.sender.initiate_close();
  if (e.io.on_this_thread()) {
    // From a callback: Java closes with no wait there.
    e.sender.force_close({kafka_error::unknown_server_error, "Producer is closed forcefully."});
    return;
  }
  bool finished = true;
  if (timeout == std::chrono::milliseconds::max()) {
    e.running.wait();
  } else if (e.running.wait_for(timeout) != std::future_status::ready) {
    finished = false;
  }
  if (!finished) {
    e.sender.force_close({kafka_error::unknown_server_error, "Producer is closed forcefully."});
    e.running.wait();
  }
  asio::co_spawn(
      e.io.executor(),
      [&]() -> asio::awaitable<void> {
        e.cluster.close();
        co_return;
      },
      asio::use_future)
      .wait();
  e.io.stop();
}

}  // namespace brook::client
