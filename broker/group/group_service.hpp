// The group coordinator as the broker runs it: the pure group_coordinator plus the timer that
// drives its deadlines, the writer that persists changed group metadata, and awaitable wrappers
// that park a JoinGroup/SyncGroup until its group answers.
//
// Owner: the broker; everything runs on the broker's network thread except the store writes, which
// go to the blocking pool. One steady_timer serves all groups: it sleeps until the coordinator's
// earliest deadline, and changed() re-arms it after any request that may move a deadline. One writer
// coroutine at a time writes changed groups (so an older copy never overwrites a newer one);
// flushed() lets a handler wait for it before answering.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "broker/config/server_config.hpp"
#include "broker/group/coordinator.hpp"
#include "common/error.hpp"
#include "log/metadata_store.hpp"

namespace brook::broker::group {

class group_service {
 public:
  group_service(boost::asio::io_context& io, boost::asio::thread_pool& pool, log::metadata_store& store,
                const server_config& config);

  // Reads the stored groups and offsets (before start, on any thread).
  common::result<void> load();
  void start();
  // Answers parked requests with NOT_COORDINATOR and stops the timer (network thread).
  void stop();
  // Writes out groups changed since the last write (after the network thread has ended).
  void flush_now();

  group_coordinator& coordinator() { return coordinator_; }
  log::metadata_store& store() { return store_; }
  boost::asio::thread_pool& pool() { return pool_; }
  // Wall-clock milliseconds: the coordinator's `now`.
  static int64_t now();

  // Call after anything that may have changed deadlines or group metadata.
  void changed();

  // Waits until every group change made before the call is on disk (synced); false if the write
  // failed or the service stopped.
  boost::asio::awaitable<bool> flushed();

  boost::asio::awaitable<join_result> join(const std::string& group_id, join_request req);
  boost::asio::awaitable<sync_result> sync(const std::string& group_id, sync_request req);

 private:
  boost::asio::awaitable<void> run_timer();
  boost::asio::awaitable<void> run_writer();

  boost::asio::io_context& io_;
  boost::asio::thread_pool& pool_;
  log::metadata_store& store_;
  group_coordinator coordinator_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  bool writer_running_ = false;
  std::vector<std::function<void(bool)>> flush_waiters_;  // answered by the writer's next pass
  bool stopped_ = false;
};

coordinator_config coordinator_config_from(const server_config& config);

}  // namespace brook::broker::group
