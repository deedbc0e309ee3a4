// The consumer's coroutine face, for Asio programs: the same consumer as brook::client::consumer
// (same properties, same behaviour), driven by the caller's executor instead of a private thread.
//
// Thread: the executor given to create() must be single-threaded (an io_context run by one thread,
// or a strand); every awaitable must be awaited there, and the other calls made there too. The
// group's heartbeats run on that executor between polls, so the program must keep it running.
// Rebalance listener and commit callbacks run on it as well, at the end of the awaited call that
// produced them (poll, commit, close, unsubscribe). Errors are values; nothing throws.
// With GCC 12, pass named values rather than braced temporaries (`position({"t", 0})`) to a call
// inside a co_await expression: that compiler destroys such a temporary twice.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "brook/client/consumer.hpp"

namespace brook::client {

class async_consumer {
 public:
  // Errors: invalid_config naming the bad or unknown key.
  static common::result<std::unique_ptr<async_consumer>> create(boost::asio::any_io_executor executor,
                                                                const properties& given);
  ~async_consumer();
  async_consumer(const async_consumer&) = delete;
  async_consumer& operator=(const async_consumer&) = delete;

  common::result<void> subscribe(const std::vector<std::string>& topics,
                                 std::shared_ptr<rebalance_listener> listener = nullptr);
  common::result<void> subscribe_pattern(const std::string& regex, std::shared_ptr<rebalance_listener> listener = nullptr);
  common::result<void> assign(const std::vector<topic_partition>& partitions);
  boost::asio::awaitable<common::result<void>> unsubscribe();
  std::set<topic_partition> assignment() const;

  boost::asio::awaitable<common::result<std::vector<consumer_record>>> poll(std::chrono::milliseconds timeout);

  // Commits the positions of every assigned partition (nullopt) or the given offsets.
  boost::asio::awaitable<common::result<void>> commit(std::optional<topic_partition_offsets> offsets = std::nullopt,
                                                      std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  boost::asio::awaitable<common::result<std::map<topic_partition, std::optional<offset_and_metadata>>>> committed(
      std::set<topic_partition> partitions, std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  boost::asio::awaitable<common::result<int64_t>> position(
      topic_partition tp, std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));
  boost::asio::awaitable<common::result<std::map<topic_partition, std::optional<offset_and_timestamp>>>>
  offsets_for_times(std::map<topic_partition, int64_t> timestamps,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

  common::result<void> seek(const topic_partition& tp, int64_t offset);
  // With a leader epoch: validated against the leader first (see consumer::seek).
  common::result<void> seek(const topic_partition& tp, const offset_and_metadata& position);
  common::result<void> seek_to_beginning(const std::vector<topic_partition>& partitions);
  common::result<void> seek_to_end(const std::vector<topic_partition>& partitions);
  common::result<void> pause(const std::vector<topic_partition>& partitions);
  common::result<void> resume(const std::vector<topic_partition>& partitions);

  // Any thread: the poll awaited now, or else the next poll, commit or position, completes with the
  // error `wakeup`, once (see consumer::wakeup).
  void wakeup();

  // Commits (with enable.auto.commit), revokes the assignment, leaves the group, closes connections.
  boost::asio::awaitable<common::result<void>> close(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));

 private:
  async_consumer() = default;
  void run_callbacks();
  std::unique_ptr<consuming::consumer_engine> engine_;
};

}  // namespace brook::client
