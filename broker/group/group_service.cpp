#include "broker/group/group_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

#include "broker/blocking.hpp"

namespace brook::broker::group {

namespace asio = boost::asio;

namespace {

// Parks the calling coroutine until the callback handed to `park` is called (once), then resumes it
// on its own executor with the value.
template <class T, class Park>
asio::awaitable<T> await_callback(const Park& park) {
  auto initiate = [&park](auto handler) {
    using handler_t = decltype(handler);
    auto shared = std::make_shared<handler_t>(std::move(handler));
    std::function<void(T)> cb = [shared](T value) {
      auto home = asio::get_associated_executor(*shared);
      asio::post(home, [shared, value = std::move(value)]() mutable { std::move(*shared)(std::move(value)); });
    };
    park(std::move(cb));
  };
  T value = co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(initiate, asio::use_awaitable);
  co_return value;
}

}  // namespace

coordinator_config coordinator_config_from(const server_config& config) {
  coordinator_config c;
  c.limits.min_session_timeout_ms = config.group_min_session_timeout_ms();
  c.limits.max_session_timeout_ms = config.group_max_session_timeout_ms();
  c.limits.initial_rebalance_delay_ms = config.group_initial_rebalance_delay_ms();
  c.limits.max_size = config.group_max_size();
  c.consumer.session_timeout_ms = config.group_consumer_session_timeout_ms();
  c.consumer.heartbeat_interval_ms = config.group_consumer_heartbeat_interval_ms();
  c.consumer.max_size = config.group_consumer_max_size();
  c.consumer.assignors = config.group_consumer_assignors();
  c.offsets_retention_ms = int64_t{config.offsets_retention_minutes()} * 60 * 1000;
  c.offsets_retention_check_interval_ms = config.offsets_retention_check_interval_ms();
  return c;
}

group_service::group_service(asio::io_context& io, asio::thread_pool& pool, log::metadata_store& store,
                             const server_config& config)
    : io_(io), pool_(pool), store_(store), coordinator_(coordinator_config_from(config), now()) {}

int64_t group_service::now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

common::result<void> group_service::load() {
  auto metadata = store_.list_group_metadata();
  if (!metadata) return metadata.err();
  auto names = store_.list_groups_with_offsets();
  if (!names) return names.err();
  std::map<std::string, std::vector<log::partition_offset>> offsets;
  for (const auto& name : *names) {
    auto list = store_.fetch_offsets(name);
    if (!list) return list.err();
    offsets[name] = std::move(*list);
  }
  for (const auto& bad : coordinator_.load(*metadata, offsets, now()))
    spdlog::warn("stored metadata of group '{}' does not decode; the group starts empty", bad);
  if (!coordinator_.groups().empty() || !coordinator_.consumer_groups().empty())
    spdlog::info("loaded {} classic and {} consumer-protocol groups", coordinator_.groups().size(),
                 coordinator_.consumer_groups().size());
  return {};
}

void group_service::start() {
  timer_ = std::make_shared<asio::steady_timer>(io_);
  asio::co_spawn(io_, run_timer(), asio::detached);
}

void group_service::stop() {
  stopped_ = true;
  coordinator_.abort_all(common::kafka_error::not_coordinator);
  if (timer_) timer_->cancel();
  timer_.reset();  // the timer must not outlive the io_context: run_timer's copy ends with it
}

void group_service::flush_now() {
  for (const auto& [id, bytes] : coordinator_.take_dirty())
    if (auto ok = store_.put_group_metadata(id, bytes); !ok)
      spdlog::error("writing metadata of group '{}' failed: {}", id, ok.err().message);
}

void group_service::changed() {
  if (stopped_) return;
  if (timer_) timer_->cancel();  // run_timer re-arms for the new earliest deadline
  if (!writer_running_) {
    writer_running_ = true;
    asio::co_spawn(io_, run_writer(), asio::detached);
  }
}

asio::awaitable<void> group_service::run_timer() {
  auto timer = timer_;
  while (!stopped_) {
    auto next = coordinator_.next_deadline();
    int64_t wait_ms = next ? std::max<int64_t>(0, *next - now()) : 60000;
    timer->expires_after(std::chrono::milliseconds(std::min<int64_t>(wait_ms, 60000)));
    // Expiry and cancellation (a deadline moved) both lead to a fresh look at the deadlines.
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) break;
    auto expired = coordinator_.advance(now());
    for (const auto& e : expired) {
      auto* store = &store_;
      auto work = [store, e]() -> common::result<void> {
        if (e.remove_group) return store->delete_group(e.group);
        for (const auto& [topic, partitions] : e.partitions)
          if (auto ok = store->delete_offsets(e.group, topic, partitions); !ok) return ok;
        return {};
      };
      auto done = co_await run_blocking(pool_, work);
      if (!done) spdlog::warn("removing expired offsets of group '{}' failed: {}", e.group, done.err().message);
      else spdlog::info("group '{}': expired committed offsets removed{}", e.group, e.remove_group ? " (group removed)" : "");
    }
    changed();
  }
}

asio::awaitable<void> group_service::run_writer() {
  while (true) {
    // Waiters registered before this take_dirty() are covered by this pass; later ones by the next.
    auto waiters = std::move(flush_waiters_);
    flush_waiters_.clear();
    auto dirty = coordinator_.take_dirty();
    if (dirty.empty() && waiters.empty()) break;
    if (!dirty.empty()) {
      auto* store = &store_;
      auto work = [store, dirty]() -> common::result<void> {
        for (const auto& [id, bytes] : dirty)
          if (auto ok = store->put_group_metadata(id, bytes); !ok) return ok;
        return {};
      };
      auto done = co_await run_blocking(pool_, work);
      if (!done) {
        // Everyone waiting hears of the failure, and the writer stops rather than retrying in a
        // loop; the groups stay dirty so that the next pass (the next change, or shutdown) writes
        // them again instead of leaving an older copy on disk.
        spdlog::error("writing group metadata failed: {}", done.err().message);
        coordinator_.mark_dirty(dirty);
        for (auto& w : flush_waiters_) waiters.push_back(std::move(w));
        flush_waiters_.clear();
        for (auto& w : waiters) w(false);
        break;
      }
    }
    for (auto& w : waiters) w(true);
  }
  writer_running_ = false;
}

asio::awaitable<bool> group_service::flushed() {
  if (stopped_) co_return false;
  auto park = [this](std::function<void(bool)> cb) {
    flush_waiters_.push_back(std::move(cb));
    if (!writer_running_) {
      writer_running_ = true;
      asio::co_spawn(io_, run_writer(), asio::detached);
    }
  };
  bool ok = co_await await_callback<bool>(park);
  co_return ok;
}

asio::awaitable<join_result> group_service::join(const std::string& group_id, join_request req) {
  auto park = [this, &group_id, &req](join_callback cb) {
    coordinator_.join(group_id, std::move(req), now(), std::move(cb));
    changed();
  };
  if (stopped_) {
    join_result r;
    r.error = common::kafka_error::not_coordinator;
    co_return r;
  }
  join_result r = co_await await_callback<join_result>(park);
  co_return r;
}

asio::awaitable<sync_result> group_service::sync(const std::string& group_id, sync_request req) {
  auto park = [this, &group_id, &req](sync_callback cb) {
    coordinator_.sync(group_id, req, now(), std::move(cb));
    changed();
  };
  if (stopped_) {
    sync_result r;
    r.error = common::kafka_error::not_coordinator;
    co_return r;
  }
  sync_result r = co_await await_callback<sync_result>(park);
  co_return r;
}

}  // namespace brook::broker::group
