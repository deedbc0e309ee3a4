#include "broker/transaction/transaction_service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

#include "broker/background.hpp"
#include "broker/blocking.hpp"
#include "broker/features.hpp"

namespace brook::broker::transaction {

namespace asio = boost::asio;

namespace {
// Producer ids kept at hand for the coordinator: an InitProducerId may need one for a new id and one
// more when an exhausted epoch rotates it.
constexpr size_t spare_producer_ids_wanted = 2;
// Pause between attempts at markers or a Complete* record that could not be written.
constexpr int64_t txn_retry_backoff_ms = 100;
}  // namespace

transaction_config transaction_config_from(const server_config& config) {
  transaction_config c;
  c.transaction_max_timeout_ms = static_cast<int32_t>(config.get_int("transaction.max.timeout.ms"));
  c.transactional_id_expiration_ms = config.get_int("transactional.id.expiration.ms");
  c.abort_timed_out_transaction_cleanup_interval_ms =
      config.get_int("transaction.abort.timed.out.transaction.cleanup.interval.ms");
  c.remove_expired_transaction_cleanup_interval_ms =
      config.get_int("transaction.remove.expired.transaction.cleanup.interval.ms");
  // The coordinator's own aborts (timeouts, fencing) follow the finalized transaction.version, as Kafka's.
  c.transaction_version = transaction_version_0;
  for (const auto& f : features())
    if (f.name == "transaction.version") c.transaction_version = f.finalized_level;
  return c;
}

transaction_service::transaction_service(asio::io_context& io, asio::thread_pool& pool, log::metadata_store& store,
                                         transaction_config config, int32_t offsets_topic_partitions,
                                         producer_id_source ids, marker_writer markers)
    : io_(io),
      pool_(pool),
      store_(store),
      ids_(std::move(ids)),
      write_markers_(std::move(markers)),
      offsets_topic_partitions_(std::max(1, offsets_topic_partitions)),
      coordinator_(
          config,
          [this]() -> common::result<int64_t> {
            if (spare_producer_ids_.empty())
              return common::error{kafka_error::coordinator_not_available, "no producer id at hand"};
            const int64_t id = spare_producer_ids_.front();
            spare_producer_ids_.pop_front();
            return id;
          },
          wall_now()) {}

topic_partition transaction_service::group_offsets_partition(const std::string& group_id) const {
  // Java's String.hashCode: over the UTF-16 code units of the id (group ids are UTF-8 here).
  int32_t hash = 0;
  auto add_unit = [&hash](uint32_t unit) { hash = static_cast<int32_t>(31u * static_cast<uint32_t>(hash) + unit); };
  for (size_t i = 0; i < group_id.size();) {
    const auto c = static_cast<uint8_t>(group_id[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len && i + k < group_id.size(); ++k) cp = (cp << 6) | (static_cast<uint8_t>(group_id[i + k]) & 0x3F);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add_unit(0xD800 + (cp >> 10));
      add_unit(0xDC00 + (cp & 0x3FF));
    } else {
      add_unit(cp);
    }
  }
  // Kafka's Utils.abs: the sign bit cleared.
  return {std::string(offsets_topic), static_cast<int32_t>((hash & 0x7fffffff) % offsets_topic_partitions_)};
}

int64_t transaction_service::wall_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

common::result<void> transaction_service::load() {
  auto stored = store_.list_transaction_states();
  if (!stored) return stored.err();
  std::vector<std::pair<std::string, transaction_state_record>> records;
  records.reserve(stored->size());
  for (auto& e : *stored) records.emplace_back(std::move(e.transactional_id), std::move(e.record));
  auto recovered = coordinator_.load(records, wall_now());
  if (!recovered) return recovered.err();
  recovered_ = std::move(*recovered);
  if (!records.empty())
    spdlog::info("loaded {} transactional ids ({} transactions to complete)", records.size(), recovered_.size());
  return {};
}

void transaction_service::start() {
  timer_ = std::make_shared<asio::steady_timer>(io_);
  spawn_supervised(
      io_.get_executor(), "transaction timeouts", [this] { return run_timer(); },
      [this] { return !stopped_ && timer_ != nullptr; });
  for (auto& c : recovered_) spawn_finish(std::move(c));
  recovered_.clear();
}

void transaction_service::reset() {
  ++generation_;
  writes_held_ = true;
  spare_producer_ids_.clear();  // the producer id sequence starts again too
  (void)coordinator_.load({}, wall_now());
}

void transaction_service::stop() {
  stopped_ = true;
  release_writes();  // held writes end (stopped_) instead of waiting for a reset that will not finish
  if (timer_) timer_->cancel();
  timer_.reset();  // the timer must not outlive the io_context: run_timer's copy ends with it
}

asio::awaitable<common::result<void>> transaction_service::persist(const persist_request& request) {
  auto* store = &store_;
  auto work = [store, request] {
    return request.record ? store->put_transaction_state(request.transactional_id, *request.record)
                          : store->delete_transaction_state(request.transactional_id);
  };
  const bool held = writes_held_;
  while (writes_held_ && !stopped_) {  // a reset is clearing the store: this write is the new state's
    if (!writes_release_) {
      writes_release_ = std::make_shared<asio::steady_timer>(io_);
      writes_release_->expires_at(asio::steady_timer::time_point::max());
    }
    auto release = writes_release_;
    boost::system::error_code ignored;
    co_await release->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  if (held && stopped_)
    co_return common::error{kafka_error::not_coordinator, "the transaction coordinator stopped during a reset"};
  ++writes_in_flight_;
  auto written = co_await run_blocking(pool_, work);
  if (--writes_in_flight_ == 0 && writes_done_) {
    writes_done_->cancel();
    writes_done_.reset();
  }
  co_return written;
}

void transaction_service::release_writes() {
  writes_held_ = false;
  if (writes_release_) {
    writes_release_->cancel();
    writes_release_.reset();
  }
}

asio::awaitable<void> transaction_service::persisted() {
  while (writes_in_flight_ > 0) {
    if (!writes_done_) {
      writes_done_ = std::make_shared<asio::steady_timer>(io_);
      writes_done_->expires_at(asio::steady_timer::time_point::max());
    }
    auto done = writes_done_;  // kept alive while waiting: persist() drops its own reference
    boost::system::error_code ignored;
    co_await done->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

asio::awaitable<common::result<void>> transaction_service::top_up_producer_ids() {
  while (spare_producer_ids_.size() < spare_producer_ids_wanted) {
    auto id = co_await ids_();
    if (!id) co_return id.err();
    spare_producer_ids_.push_back(*id);
  }
  co_return common::result<void>{};
}

asio::awaitable<txn_answer> transaction_service::settle(const std::string& transactional_id, txn_result result) {
  if (!result.persist) co_return result.answer;
  const persist_request request = std::move(*result.persist);
  const uint64_t generation = generation_;
  auto written = co_await persist(request);
  if (generation != generation_) co_return txn_answer{kafka_error::not_coordinator};
  if (!written)
    spdlog::warn("writing the state of transactional id '{}' failed: {}", transactional_id, written.err().message);
  auto completion = written ? coordinator_.complete(transactional_id, wall_now())
                            : coordinator_.abort_pending(transactional_id, written.code());
  if (!completion) {
    spdlog::error("transactional id '{}': {}", transactional_id, completion.err().message);
    co_return txn_answer{kafka_error::unknown_server_error};
  }
  txn_answer answer = completion->answer.value_or(txn_answer{kafka_error::none});
  if (completion->markers || completion->persist) spawn_finish(std::move(*completion));
  co_return answer;
}

void transaction_service::spawn_finish(txn_completion completion) {
  ++in_flight_;
  asio::co_spawn(io_, finish(std::move(completion)), [this](std::exception_ptr failure) {
    --in_flight_;
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("completing a transaction failed: {}", e.what());
    }
  });
}

asio::awaitable<void> transaction_service::finish(txn_completion c) {
  const uint64_t generation = generation_;
  while (!stopped_ && generation == generation_) {
    if (c.markers) {
      const marker_request markers = std::move(*c.markers);
      c.markers.reset();
      for (;;) {
        auto written = co_await write_markers_(markers);
        if (written) break;
        spdlog::warn("writing the {} markers of transactional id '{}' failed: {}; trying again",
                     markers.commit ? "commit" : "abort", markers.transactional_id, written.err().message);
        co_await sleep_ms(txn_retry_backoff_ms);
        if (stopped_ || generation != generation_) co_return;
      }
      if (generation != generation_) co_return;
      auto next = coordinator_.markers_written(markers.transactional_id);
      if (!next) {
        spdlog::error("transactional id '{}': {}", markers.transactional_id, next.err().message);
        co_return;
      }
      c.persist = std::move(*next);
    }
    if (!c.persist) co_return;
    const persist_request request = std::move(*c.persist);
    c.persist.reset();
    auto written = co_await persist(request);
    if (generation != generation_) co_return;
    auto next = written ? coordinator_.complete(request.transactional_id, wall_now())
                        : coordinator_.abort_pending(request.transactional_id, written.code());
    if (!next) {
      spdlog::error("transactional id '{}': {}", request.transactional_id, next.err().message);
      co_return;
    }
    if (!written) {
      spdlog::warn("writing the state of transactional id '{}' failed: {}; trying again", request.transactional_id,
                   written.err().message);
      co_await sleep_ms(txn_retry_backoff_ms);
    }
    c = std::move(*next);
  }
}

asio::awaitable<void> transaction_service::sleep_ms(int64_t ms) {
  asio::steady_timer t(io_, std::chrono::milliseconds(ms));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> transaction_service::run_timer() {
  auto timer = timer_;  // stop() drops the member; this copy ends with the coroutine
  if (!timer) co_return;
  while (!stopped_) {
    const int64_t wait = std::max<int64_t>(0, coordinator_.next_deadline() - wall_now());
    timer->expires_after(std::chrono::milliseconds(wait));
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) co_return;
    // A timed-out transaction's abort may rotate its producer id.
    if (auto ids = co_await top_up_producer_ids(); !ids)
      spdlog::warn("transaction timeouts: cannot reserve producer ids: {}", ids.err().message);
    for (auto& request : coordinator_.advance(wall_now())) {
      txn_completion c;
      c.persist = std::move(request);
      spawn_finish(std::move(c));
    }
  }
}

asio::awaitable<txn_answer> transaction_service::init_producer_id(init_producer_id_request request) {
  if (auto ids = co_await top_up_producer_ids(); !ids) co_return txn_answer{ids.code()};
  const std::string id = request.transactional_id;
  auto result = coordinator_.init_producer_id(request, wall_now());
  co_return co_await settle(id, std::move(result));
}

asio::awaitable<txn_answer> transaction_service::add_partitions(std::string transactional_id, int64_t producer_id,
                                                                int16_t producer_epoch, partition_set partitions,
                                                                int16_t client_transaction_version) {
  auto result = coordinator_.add_partitions(transactional_id, producer_id, producer_epoch, partitions,
                                            client_transaction_version, wall_now());
  co_return co_await settle(transactional_id, std::move(result));
}

asio::awaitable<kafka_error> transaction_service::add_partitions_implicitly(std::string transactional_id,
                                                                           int64_t producer_id, int16_t producer_epoch,
                                                                           partition_set partitions) {
  kafka_error inherited = kafka_error::none;
  auto all_in = [&] {
    const auto verdicts = coordinator_.verify_partitions(transactional_id, producer_id, producer_epoch, partitions);
    for (const auto& tp : partitions) {
      auto it = verdicts.find(tp);
      if (it == verdicts.end() || it->second != kafka_error::none) return false;
    }
    return true;
  };
  if (auto line = implicit_adds_.find(transactional_id); line != implicit_adds_.end()) {
    // An earlier call of this id is adding: wait for our turn.
    auto waiter = std::make_shared<implicit_add_waiter>(io_);
    waiter->producer_id = producer_id;
    waiter->producer_epoch = producer_epoch;
    line->second.push_back(waiter);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!waiter->granted) {
      // Cancelled before its turn (the request is going away): leave the line.
      if (auto it = implicit_adds_.find(transactional_id); it != implicit_adds_.end())
        std::erase_if(it->second, [&](const auto& w) { return w.lock() == waiter; });
      co_return kafka_error::coordinator_not_available;
    }
    inherited = waiter->inherited;
  } else {
    if (all_in()) co_return kafka_error::none;
    implicit_adds_.try_emplace(transactional_id);
  }
  // This call holds the id's turn until it returns, and hands its answer on with it.
  struct turn {
    transaction_service* service;
    const std::string& id;
    int64_t producer_id;
    int16_t producer_epoch;
    kafka_error answer = kafka_error::none;
    ~turn() { service->pass_implicit_add_turn(id, answer, producer_id, producer_epoch); }
  } held{this, transactional_id, producer_id, producer_epoch};
  if (inherited != kafka_error::none) {
    held.answer = inherited;  // an earlier batch of this producer failed: this one must follow it again
    co_return inherited;
  }
  if (all_in()) co_return kafka_error::none;
  int64_t waited = 0;
  for (;;) {
    auto answer = co_await add_partitions(transactional_id, producer_id, producer_epoch, partitions,
                                          transaction_version_2);
    if (answer.error != kafka_error::concurrent_transactions || waited >= add_partitions_retry_max_ms) {
      held.answer = answer.error;
      co_return answer.error;
    }
    co_await sleep_ms(add_partitions_retry_backoff_ms);  // the coordinator is finishing the previous transaction
    waited += add_partitions_retry_backoff_ms;
  }
}

void transaction_service::pass_implicit_add_turn(const std::string& transactional_id, kafka_error failed,
                                                 int64_t producer_id, int16_t producer_epoch) {
  if (stopped_) return;  // shutting down: the waiting calls end with the io_context
  auto line = implicit_adds_.find(transactional_id);
  if (line == implicit_adds_.end()) return;
  while (!line->second.empty()) {
    auto next = line->second.front().lock();
    line->second.pop_front();
    if (!next) continue;  // its request is gone
    next->granted = true;
    if (failed != kafka_error::none && next->producer_id == producer_id && next->producer_epoch == producer_epoch)
      next->inherited = failed;
    next->timer.cancel();  // it resumes from the io_context's queue, after the current caller suspends
    return;
  }
  implicit_adds_.erase(line);
}

asio::awaitable<txn_answer> transaction_service::end_txn(std::string transactional_id, int64_t producer_id,
                                                         int16_t producer_epoch, bool commit,
                                                         int16_t client_transaction_version) {
  // Under transaction version 2 an end may rotate an exhausted producer id.
  if (auto ids = co_await top_up_producer_ids(); !ids) co_return txn_answer{ids.code()};
  auto result = coordinator_.end_txn(transactional_id, producer_id, producer_epoch, commit, client_transaction_version,
                                     wall_now());
  co_return co_await settle(transactional_id, std::move(result));
}

}  // namespace brook::broker::transaction
