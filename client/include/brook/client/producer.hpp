// Brook's Kafka producer, behaving as the Java client's KafkaProducer: records are batched per partition
// (batch.size, linger.ms, compression.type), sent to each partition's leader by the producer's own I/O
// thread, retried on retriable errors, and idempotent by default (enable.idempotence=true, acks=all), so a
// retry never writes a record twice and records of a partition keep their order.
//
// Three faces over one engine: send() with a callback, co_await async_send() for Asio programs, and
// send_sync() / send_future() for everyone else. Configuration uses Kafka's producer keys and defaults.
//
// Thread-safety: every member may be called from any thread, as with the Java producer. Delivery callbacks
// run on the producer's I/O thread: they should be quick and must not call flush() or close() (send() is
// fine when the topic was used before). send() may block, as Java's does: up to max.block.ms while the
// topic's metadata is fetched or while buffer.memory is used up.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include "brook/client/types.hpp"
#include "common/error.hpp"

namespace brook::client {

using delivery_callback = std::function<void(const delivery_report&)>;

class producer {
 public:
  // Reads the configuration (an unknown key or bad value is an invalid_config error naming it) and starts
  // the I/O thread. Connecting happens on first use.
  static common::result<std::unique_ptr<producer>> create(const properties& config);

  ~producer();  // close() with no time limit
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  // Queues a record; `callback` (optional) later receives its delivery report. An error here means the
  // record was not queued (and the callback will not run): invalid_topic_exception (no topic),
  // invalid_timestamp (a negative one), message_too_large,
  // request_timed_out (no metadata or memory within max.block.ms), unknown_topic_or_partition, a fatal
  // producer error, or the producer being closed.
  common::result<void> send(record r, delivery_callback callback = {});

  // The delivery report, as an Asio asynchronous operation (co_await producer.async_send(r, use_awaitable)).
  // A record that could not be queued completes at once with the error in its report. With GCC 12, pass a
  // named record (std::move(r)), not a braced temporary: that compiler destroys an aggregate temporary
  // inside a co_await expression twice.
  template <class CompletionToken>
  auto async_send(record r, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(delivery_report)>(
        [this](auto handler, record rec) {
          using handler_type = decltype(handler);
          auto shared = std::make_shared<handler_type>(std::move(handler));
          auto ex = boost::asio::get_associated_executor(*shared);
          auto deliver = [shared, ex](const delivery_report& report) {
            boost::asio::post(ex, [shared, report]() mutable { std::move (*shared)(report); });
          };
          std::string topic = rec.topic;
          std::optional<int32_t> partition = rec.partition;
          auto queued = send(std::move(rec), deliver);
          if (!queued) {
            delivery_report failed;
            failed.topic = std::move(topic);
            failed.partition = partition.value_or(-1);
            failed.error = queued.err();
            deliver(failed);
          }
        },
        token, std::move(r));
  }

  // The delivery report as a future (errors in queueing are in the report, too).
  std::future<delivery_report> send_future(record r);
  // Sends and waits for the delivery report.
  delivery_report send_sync(record r);

  // Sends everything queued now and waits until each of those records has its delivery report. Errors:
  // called from a delivery callback (it would wait for itself), or the producer is closed.
  common::result<void> flush();

  // Stops taking records and waits up to `timeout` for queued and in-flight records to finish; what is left
  // then fails. Idempotent.
  void close(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

  // The configuration as parsed (for diagnostics): enable.idempotence may have been turned off by
  // conflicting settings, as Java does.
  bool idempotent() const;

 private:
  struct engine;
  explicit producer(std::unique_ptr<engine> e);
  std::unique_ptr<engine> engine_;
};

}  // namespace brook::client
