#include "client/consuming/consumer_engine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace brook::client::consuming {

using asio::awaitable;
using common::kafka_error;

consumer_engine::consumer_engine(asio::any_io_executor ex, consumer_config config)
    : ex_(ex), config_(std::move(config)), cluster_(std::make_unique<core::cluster>(ex, config_.cluster)),
      subs_(config_.auto_offset_reset) {
  for (const auto& name : config_.partition_assignment_strategy)
    if (auto a = assignors::make_assignor(name)) assignors_.push_back(std::move(a));
  if (config_.protocol == group_protocol::consumer) generation_ = 0;
  next_auto_commit_ = clock::now() + std::chrono::milliseconds(config_.auto_commit_interval_ms);
}

awaitable<void> consumer_engine::pause_for(std::chrono::milliseconds d) {
  asio::steady_timer t(ex_, d);
  interruptible_waits_.insert(&t);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  interruptible_waits_.erase(&t);
}

void consumer_engine::wakeup() {
  wakeup_requested_ = true;
  asio::post(ex_, [this, alive = alive_] {
    if (!*alive) return;
    for (auto* t : interruptible_waits_) t->cancel();
  });
}

std::optional<common::error> consumer_engine::take_wakeup() {
  if (!wakeup_requested_.exchange(false)) return std::nullopt;
  return common::error{kafka_error::wakeup, "The consumer was woken up (wakeup() was called)"};
}

consumer_engine::~consumer_engine() {
  *alive_ = false;
  stop_heartbeats();
}

result<void> consumer_engine::subscribe(const std::set<std::string>& topics, std::shared_ptr<rebalance_listener> listener) {
  if (!topics.empty() && !config_.group_id)
    return common::error{kafka_error::invalid_group_id,
                         "To use the group management or offset commit APIs, you must provide a valid group.id"};
  if (auto r = subs_.subscribe(topics); !r) return r;
  listener_ = std::move(listener);
  if (topics.empty()) {
    stop_heartbeats();
    buffer_.clear();
  }
  rejoin_needed_ = true;  // the group learns of the change at the next poll
  return {};
}

result<void> consumer_engine::subscribe_pattern(const std::string& regex, std::shared_ptr<rebalance_listener> listener) {
  if (!config_.group_id)
    return common::error{kafka_error::invalid_group_id,
                         "To use the group management or offset commit APIs, you must provide a valid group.id"};
  if (auto r = subs_.subscribe_pattern(regex); !r) return r;
  listener_ = std::move(listener);
  next_pattern_refresh_ = {};
  rejoin_needed_ = true;
  return {};
}

result<void> consumer_engine::assign(const std::set<topic_partition>& partitions) {
  for (const auto& tp : partitions)
    if (tp.topic.empty() || tp.partition < 0)
      return common::error{kafka_error::invalid_request, "Topic partitions to assign to cannot have null or empty topic"};
  if (auto r = subs_.assign_from_user(partitions); !r) return r;
  std::erase_if(buffer_, [&](const completed_fetch& cf) { return !partitions.count(cf.tp); });
  return {};
}

awaitable<result<void>> consumer_engine::unsubscribe() {
  if (in_group()) {
    auto deadline = clock::now() + std::chrono::milliseconds(config_.default_api_timeout_ms);
    co_await maybe_auto_commit(true, deadline);
    auto owned = subs_.assigned_partitions();
    if (joined_) revoke({owned.begin(), owned.end()}, false);
    stop_heartbeats();
    if (config_.protocol == group_protocol::consumer) {
      if (joined_) (void)co_await consumer_heartbeat(true);
    } else {
      co_await leave_group("the consumer unsubscribed");
    }
    reset_generation(false);
    if (config_.protocol == group_protocol::classic) member_id_.clear();
  }
  subs_.unsubscribe();
  buffer_.clear();
  co_return result<void>{};
}

awaitable<result<std::vector<consumer_record>>> consumer_engine::poll(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  last_poll_ = clock::now();
  if (closed_) co_return common::error{kafka_error::invalid_request, "This consumer has already been closed."};
  if (subs_.type() == subscription_type::none)
    co_return common::error{kafka_error::invalid_request,
                            "Consumer is not subscribed to any topics or assigned any partitions"};
  do {
    if (auto w = take_wakeup()) co_return *w;
    if (pending_error_) co_return std::exchange(pending_error_, std::nullopt).value();
    if (subs_.type() == subscription_type::pattern && clock::now() >= next_pattern_refresh_) {
      auto meta = co_await cluster_->refresh_metadata(std::nullopt, false);
      if (meta) {
        std::set<std::string> names;
        for (const auto& [name, t] : (*meta)->topics)
          if (t.error == kafka_error::none && !(config_.exclude_internal_topics && t.internal)) names.insert(name);
        if (subs_.set_pattern_topics(names)) rejoin_needed_ = true;
      }
      next_pattern_refresh_ = clock::now() + (subs_.subscription().empty() ? std::chrono::milliseconds(1000)
                                                                           : config_.cluster.metadata_max_age);
    }
    if (auto r = co_await poll_group(deadline); !r) co_return r.err();
    if (yielded_for_callbacks_) co_return std::vector<consumer_record>{};
    if (in_group() && !joined_) continue;
    if (auto r = co_await update_positions(deadline); !r) co_return r.err();
    if (has_buffered()) break;
    if (auto r = co_await fetch_round(deadline); !r) co_return r.err();
    if (auto w = take_wakeup()) co_return *w;
    if (pending_error_) co_return std::exchange(pending_error_, std::nullopt).value();
    if (has_buffered()) break;
  } while (clock::now() < deadline);
  last_poll_ = clock::now();
  auto records = drain(static_cast<size_t>(config_.max_poll_records));
  if (records && !records->empty()) fetch_ahead();
  co_return records;
}

awaitable<result<void>> consumer_engine::commit_sync(std::optional<topic_partition_offsets> offsets,
                                                     clock::time_point deadline) {
  if (auto w = take_wakeup()) co_return *w;
  topic_partition_offsets to_commit;
  if (offsets) {
    to_commit = std::move(*offsets);
  } else {
    for (const auto& [tp, c] : subs_.all_consumed()) to_commit[tp] = offset_and_metadata{c.offset, c.leader_epoch, c.metadata};
  }
  wakeable_commit_ = true;  // its retries end on wakeup(); auto commits and close's do not
  auto r = co_await commit(std::move(to_commit), deadline);
  wakeable_commit_ = false;
  co_return r;
}

void consumer_engine::commit_async(std::optional<topic_partition_offsets> offsets, commit_callback callback) {
  topic_partition_offsets to_commit;
  if (offsets) {
    to_commit = std::move(*offsets);
  } else {
    for (const auto& [tp, c] : subs_.all_consumed()) to_commit[tp] = offset_and_metadata{c.offset, c.leader_epoch, c.metadata};
  }
  auto deadline = clock::now() + std::chrono::milliseconds(config_.default_api_timeout_ms);
  asio::co_spawn(
      ex_,
      [this, to_commit, deadline, callback]() -> awaitable<void> {
        auto r = co_await commit(to_commit, deadline);
        if (callback) {
          common::error e = r ? common::error{kafka_error::none, {}} : r.err();
          callbacks_.push_back([callback, to_commit, e] { callback(to_commit, e); });
        }
      },
      asio::detached);
}

awaitable<result<std::map<topic_partition, std::optional<offset_and_metadata>>>> consumer_engine::committed(
    std::set<topic_partition> partitions, clock::time_point deadline) {
  co_return co_await fetch_committed(partitions, deadline);
}

awaitable<result<int64_t>> consumer_engine::position(topic_partition tp, clock::time_point deadline) {
  if (!subs_.is_assigned(tp))
    co_return common::error{kafka_error::invalid_request,
                            "You can only check the position for partitions assigned to this consumer."};
  for (;;) {
    if (auto w = take_wakeup()) co_return *w;
    std::optional<fetch_offset> known = subs_.position(tp);
    if (known) co_return known->offset;
    result<void> updated = co_await update_positions(deadline);
    if (!updated.ok()) co_return updated.err();
    known = subs_.position(tp);
    if (known) co_return known->offset;
    if (clock::now() >= deadline)
      co_return common::error{kafka_error::request_timed_out, "Timeout while fetching the position of " + to_string(tp)};
    co_await pause_for(config_.cluster.retry_backoff);
  }
}

result<void> consumer_engine::seek(const topic_partition& tp, int64_t offset, std::optional<int32_t> leader_epoch) {
  if (offset < 0) return common::error{kafka_error::invalid_request, "seek offset must not be a negative number"};
  if (!subs_.is_assigned(tp))
    return common::error{kafka_error::invalid_request, "No current assignment for partition " + to_string(tp)};
  // As Java: a position with the epoch of the record before it is checked against the leader first.
  if (leader_epoch) subs_.seek_unvalidated(tp, position_under_current_leader(tp, offset, leader_epoch));
  else subs_.seek(tp, position_under_current_leader(tp, offset, std::nullopt));
  std::erase_if(buffer_, [&](const completed_fetch& cf) { return cf.tp == tp; });
  return {};
}

result<void> consumer_engine::seek_to(const std::vector<topic_partition>& partitions, offset_reset_strategy strategy) {
  auto targets = partitions;
  if (targets.empty()) {
    auto all = subs_.assigned_partitions();
    targets.assign(all.begin(), all.end());
  }
  for (const auto& tp : targets)
    if (!subs_.is_assigned(tp))
      return common::error{kafka_error::invalid_request, "No current assignment for partition " + to_string(tp)};
  for (const auto& tp : targets) {
    subs_.request_offset_reset(tp, strategy);
    std::erase_if(buffer_, [&](const completed_fetch& cf) { return cf.tp == tp; });
  }
  return {};
}

result<void> consumer_engine::pause(const std::vector<topic_partition>& partitions, bool paused) {
  for (const auto& tp : partitions)
    if (!subs_.is_assigned(tp))
      return common::error{kafka_error::invalid_request, "No current assignment for partition " + to_string(tp)};
  for (const auto& tp : partitions) {
    if (paused) subs_.pause(tp);
    else subs_.resume(tp);
  }
  return {};
}

awaitable<void> consumer_engine::prepare_close(clock::time_point deadline) {
  if (closed_ || revoked_for_close_ || !in_group()) co_return;
  co_await maybe_auto_commit(true, deadline);
  auto owned = subs_.assigned_partitions();
  if (joined_) revoke({owned.begin(), owned.end()}, false);
  revoked_for_close_ = true;
}

awaitable<result<void>> consumer_engine::close(clock::time_point deadline) {
  if (closed_) co_return result<void>{};
  std::optional<common::error> failure;
  if (in_group()) {
    co_await maybe_auto_commit(true, deadline);
    auto owned = subs_.assigned_partitions();
    if (joined_ && !revoked_for_close_) revoke({owned.begin(), owned.end()}, false);
    stop_heartbeats();
    if (config_.protocol == group_protocol::consumer) {
      if (joined_) (void)co_await consumer_heartbeat(true);
    } else {
      co_await leave_group("the consumer is being closed");
    }
  } else if (config_.enable_auto_commit && config_.group_id && subs_.type() == subscription_type::user_assigned) {
    co_await maybe_auto_commit(true, deadline);
  }
  stop_heartbeats();
  // Fetch sessions end with epoch -1, so that brokers free them now rather than when they age out.
  for (auto& [node, session] : sessions_) {
    auto closing = session.close_request();
    if (!closing || clock::now() >= deadline) continue;
    auto conn = co_await cluster_->connection_to(node);
    if (!conn) continue;
    auto version = (*conn)->version_for<common::protocol::fetch::request>(7, closing->use_topic_ids ? common::protocol::fetch::max_version : 12);
    if (!version) continue;
    const auto request = fetch_session::to_request(*closing, *version, 0, 0, config_.fetch_max_bytes,
                                                   static_cast<int8_t>(config_.isolation), config_.client_rack);
    (void)co_await (*conn)->call_at(request, *version);
  }
  closed_ = true;
  cluster_->close();
  if (failure) co_return *failure;
  co_return result<void>{};
}

}  // namespace brook::client::consuming
