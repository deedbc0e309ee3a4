#include "broker/group/group_service.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

#include "broker/background.hpp"
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
  c.consumer.assignment_interval_ms = config.group_consumer_assignment_interval_ms();
  c.consumer.assignors = config.group_consumer_assignors();
  c.offsets_retention_ms = int64_t{config.offsets_retention_minutes()} * 60 * 1000;
  c.offsets_retention_check_interval_ms = config.offsets_retention_check_interval_ms();
  // Kafka writes a group's metadata as one record of __consumer_offsets, whose max.message.bytes
  // is message.max.bytes: a larger record fails the SyncGroup (CoordinatorRuntime).
  c.limits.max_record_bytes = config.message_max_bytes();
  return c;
}

kafka_error store_failure_error(std::string_view operation, const std::string& group_id, const common::error& e) {
  spdlog::error("{} of group '{}': metadata store failed: {}", operation, group_id, e.message);
  return kafka_error::not_coordinator;
}

group_service::group_service(asio::io_context& io, asio::thread_pool& pool, log::metadata_store& store,
                             const server_config& config)
    : io_(io), pool_(pool), store_(store), lanes_(pool), coordinator_(coordinator_config_from(config), now()) {}

int64_t group_service::now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t group_service::wall_now() {
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
  for (const auto& bad : coordinator_.load(*metadata, offsets, now(), wall_now()))
    spdlog::warn("stored metadata of group '{}' does not decode; the group starts empty", bad);
  auto pending = store_.list_txn_offsets();
  if (!pending) return pending.err();
  coordinator_.load_txn_offsets(*pending, now());
  if (!coordinator_.groups().empty() || !coordinator_.consumer_groups().empty())
    spdlog::info("loaded {} classic and {} consumer-protocol groups", coordinator_.groups().size(),
                 coordinator_.consumer_groups().size());
  return {};
}

void group_service::set_txn_producer_check(txn_producer_check check) { txn_producer_check_ = std::move(check); }

asio::awaitable<kafka_error> group_service::check_txn_producer(const txn_commit_producer& producer) {
  if (!txn_producer_check_) co_return kafka_error::none;
  co_return co_await txn_producer_check_(producer);
}

asio::awaitable<common::result<void>> group_service::stage_txn_offsets(const std::string& group_id,
                                                                       std::vector<log::txn_offset> offsets) {
  auto* store = &store_;
  auto work = [store, offsets] { return store->stage_txn_offsets(offsets); };
  auto written = co_await write(group_id, work);
  if (!written) co_return written;
  coordinator_.apply_txn_stage(offsets, now());
  changed();
  co_return common::result<void>{};
}

asio::awaitable<common::result<void>> group_service::complete_transaction(int64_t producer_id, bool commit) {
  common::result<void> outcome;
  for (const std::string& group_id : coordinator_.txn_groups(producer_id)) {
    auto* store = &store_;
    auto work = [store, group_id, producer_id, commit] {
      return store->complete_txn_offsets(group_id, producer_id, commit);
    };
    auto written = co_await write(group_id, work);
    if (!written) {
      spdlog::warn("transaction marker of producer {} for group '{}' not written: {}", producer_id, group_id,
                   written.err().message);
      if (outcome) outcome = written;
      continue;
    }
    coordinator_.apply_txn_completion(group_id, producer_id, commit);
  }
  changed();
  co_return outcome;
}

void group_service::start() {
  timer_ = std::make_shared<asio::steady_timer>(io_);
  start_timer();
}

void group_service::start_timer() {
  // A crashed timer loop would leave every session, rebalance and retention deadline unserved:
  // it starts again (unless the service stopped).
  spawn_supervised(io_.get_executor(), "group timer", [this] { return run_timer(); }, [this] { return !stopped_ && timer_ != nullptr; });
}

void group_service::start_writer() {
  writer_running_ = true;
  spawn_supervised(io_.get_executor(), "group metadata writer", [this] { return run_writer(); }, [this] {
    // The pass that crashed: its groups are written again by the next pass, its waiters hear of the
    // failure (instead of waiting forever), and a new writer starts if anything is left to do.
    coordinator_.mark_dirty(writer_in_flight_);
    writer_in_flight_.clear();
    answer_waiters(writer_waiters_, common::result<void>(kafka_error::unknown_server_error, "the group writer failed"));
    writer_running_ = false;
    if (!flush_waiters_.empty() && !stopped_) start_writer();
    return false;  // start_writer() above already runs a new one when needed
  });
}

void group_service::stop() {
  stopped_ = true;
  coordinator_.abort_all(common::kafka_error::not_coordinator);
  if (timer_) timer_->cancel();
  timer_.reset();  // the timer must not outlive the io_context: run_timer's copy ends with it
}

void group_service::flush_now() {
  for (const auto& [id, record] : coordinator_.take_dirty(now(), wall_now()))
    if (auto ok = store_.put_group_metadata(id, record); !ok)
      spdlog::error("writing metadata of group '{}' failed: {}", id, ok.err().message);
}

void group_service::reset() {
  coordinator_.clear();
  changed();
}

void group_service::changed() {
  if (stopped_) return;
  if (timer_) timer_->cancel();  // run_timer re-arms for the new earliest deadline
  if (!writer_running_) start_writer();
  if (!regex_resolver_running_ && coordinator_.regex_jobs_pending()) start_regex_resolver();
}

void group_service::start_regex_resolver() {
  regex_resolver_running_ = true;
  spawn_supervised(io_.get_executor(), "group regex resolver", [this] { return run_regex_resolver(); }, [this] {
    regex_resolver_running_ = false;
    return false;  // the next changed() starts it again for whatever is still unresolved
  });
}

asio::awaitable<void> group_service::run_regex_resolver() {
  while (!stopped_) {
    auto jobs = coordinator_.take_regex_jobs();
    if (jobs.empty()) break;
    for (auto& job : jobs) {
      auto work = [job] { return resolve_regex(job); };
      auto matched = co_await run_blocking(pool_, work);
      if (stopped_) break;
      coordinator_.apply_regex(job, std::move(matched), now());
    }
    changed();  // a resolution may have bumped an epoch: write the group, re-arm the timer
  }
  regex_resolver_running_ = false;
}

asio::awaitable<void> group_service::run_timer() {
  auto timer = timer_;
  while (!stopped_ && timer) {
    auto next = coordinator_.next_deadline();
    int64_t wait_ms = next ? std::max<int64_t>(0, *next - now()) : 60000;
    timer->expires_after(std::chrono::milliseconds(std::min<int64_t>(wait_ms, 60000)));
    // Expiry and cancellation (a deadline moved) both lead to a fresh look at the deadlines.
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) break;
    auto expired = coordinator_.advance(now(), wall_now());
    for (const auto& e : expired) {
      auto* store = &store_;
      auto work = [store, e]() -> common::result<void> {
        if (e.remove_group) return store->delete_group(e.group);
        for (const auto& [topic, partitions] : e.partitions)
          if (auto ok = store->delete_offsets(e.group, topic, partitions); !ok) return ok;
        return {};
      };
      auto done = co_await write(e.group, work);
      size_t count = 0;
      for (const auto& [topic, partitions] : e.partitions) count += partitions.size();
      if (!done) {
        spdlog::warn("removing {} of group '{}' failed: {}",
                     e.partitions.empty() ? "the empty group" : "expired offsets", e.group, done.err().message);
      } else if (e.partitions.empty()) {
        spdlog::info("group '{}' is empty and has no committed offsets: removed", e.group);
      } else {
        spdlog::info("group '{}': {} expired committed offset(s) removed{}", e.group, count,
                     e.remove_group ? "; the group, now empty without offsets, removed" : "");
      }
    }
    changed();
  }
}

void group_service::answer_waiters(std::vector<flush_waiter>& waiters, const common::result<void>& outcome) {
  auto answering = std::move(waiters);
  waiters.clear();
  for (auto& w : answering) w(outcome);
}

asio::awaitable<void> group_service::run_writer() {
  while (true) {
    // Waiters registered before this take_dirty() are covered by this pass; later ones by the next.
    writer_waiters_ = std::move(flush_waiters_);
    flush_waiters_.clear();
    writer_in_flight_ = coordinator_.take_dirty(now(), wall_now());
    if (writer_in_flight_.empty() && writer_waiters_.empty()) break;
    common::result<void> outcome;
    if (!writer_in_flight_.empty()) {
      // Every group's write is queued on its lane at once (before any later write of that group,
      // e.g. a DeleteGroups), then the pass waits for all of them.
      std::map<size_t, std::vector<std::pair<std::string, log::group_metadata_record>>> by_lane;
      for (const auto& entry : writer_in_flight_) by_lane[lanes_.index_of(entry.first)].push_back(entry);
      auto* store = &store_;
      auto park = [this, store, &by_lane](std::function<void(common::result<void>)> done) {
        struct tally {
          size_t left;
          common::result<void> first_error;
          std::function<void(common::result<void>)> done;
        };
        auto t = std::make_shared<tally>(tally{by_lane.size(), {}, std::move(done)});
        for (auto& [index, batch] : by_lane) {
          asio::post(lanes_.at(index), [this, store, t, batch = std::move(batch)] {
            common::result<void> r;
            for (const auto& [id, record] : batch)
              if (auto ok = store->put_group_metadata(id, record); !ok) {
                r = ok;
                break;
              }
            asio::post(io_, [t, r = std::move(r)] {
              if (!r && t->first_error) t->first_error = r;
              if (--t->left == 0) t->done(std::move(t->first_error));
            });
          });
        }
      };
      outcome = co_await await_callback<common::result<void>>(park);
      if (!outcome) {
        // Everyone waiting hears of the failure, and the writer stops rather than retrying in a
        // loop; the groups stay dirty so that the next pass (the next change, or shutdown) writes
        // them again instead of leaving an older copy on disk.
        spdlog::error("writing group metadata failed: {}", outcome.err().message);
        coordinator_.mark_dirty(writer_in_flight_);
        writer_in_flight_.clear();
        for (auto& w : flush_waiters_) writer_waiters_.push_back(std::move(w));
        flush_waiters_.clear();
        answer_waiters(writer_waiters_, outcome);
        break;
      }
    }
    writer_in_flight_.clear();
    answer_waiters(writer_waiters_, outcome);
  }
  writer_running_ = false;
}

asio::awaitable<common::result<void>> group_service::flushed() {
  if (stopped_) co_return common::result<void>(kafka_error::not_coordinator, "the group coordinator stopped");
  auto park = [this](flush_waiter cb) {
    flush_waiters_.push_back(std::move(cb));
    if (!writer_running_) start_writer();
  };
  common::result<void> ok = co_await await_callback<common::result<void>>(park);
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
