#include "broker/partition_manager.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/blocking.hpp"

namespace brook::broker {

namespace asio = boost::asio;
using asio::awaitable;
using common::kafka_error;

namespace {
common::error unknown_partition(const log::topic_partition& tp) {
  return {kafka_error::unknown_topic_or_partition,
          fmt::format("This server does not host this topic-partition: {}-{}", tp.topic, tp.partition)};
}
}  // namespace

partition_manager::partition_manager(asio::thread_pool& pool, std::unique_ptr<log::log_manager> logs)
    : pool_(pool), logs_(std::move(logs)) {}

partition_manager::~partition_manager() = default;

log::log_config partition_manager::to_log_config(const effective_topic_config& c) {
  log::log_config out;
  out.segment_bytes = c.segment_bytes;
  out.segment_ms = c.segment_ms;
  out.index_interval_bytes = c.index_interval_bytes;
  out.retention_ms = c.cleanup_delete ? c.retention_ms : -1;
  out.retention_bytes = c.cleanup_delete ? c.retention_bytes : -1;
  out.flush_messages = c.flush_messages;
  out.flush_ms = c.flush_ms;
  out.max_message_bytes = c.max_message_bytes;
  out.message_timestamp_type = c.message_timestamp_type == timestamp_type::log_append_time
                                   ? common::timestamp_type::log_append_time
                                   : common::timestamp_type::create_time;
  out.preallocate = c.preallocate;
  out.cleanup_delete = c.cleanup_delete;
  out.cleanup_compact = c.cleanup_compact;
  out.delete_retention_ms = c.delete_retention_ms;
  out.min_compaction_lag_ms = c.min_compaction_lag_ms;
  out.max_compaction_lag_ms = c.max_compaction_lag_ms;
  out.min_cleanable_dirty_ratio = c.min_cleanable_dirty_ratio;
  return out;
}

common::result<void> partition_manager::ensure_topic(const std::string& topic, int32_t count,
                                                     const effective_topic_config& config,
                                                     const std::atomic<bool>* cancel) {
  const auto lc = to_log_config(config);
  for (int32_t p = 0; p < count; ++p) {
    if (cancel && cancel->load(std::memory_order_relaxed))
      return common::error{kafka_error::request_timed_out,
                           fmt::format("The broker is shutting down; topic {} was not created.", topic)};
    log::topic_partition tp{topic, p};
    if (logs_->get(tp)) continue;
    auto created = logs_->create(tp, lc);
    if (!created) return created.err();
  }
  return {};
}

common::result<void> partition_manager::remove_topic(const std::string& topic) {
  for (const auto& tp : logs_->partitions())
    if (tp.topic == topic)
      if (auto r = logs_->remove(tp); !r && r.code() != kafka_error::unknown_topic_or_partition) return r;
  return {};
}

common::result<std::vector<std::filesystem::path>> partition_manager::detach_all_logs() {
  return logs_->detach(logs_->partitions());
}

common::result<void> partition_manager::remove_detached(const std::vector<std::filesystem::path>& dirs) {
  return logs_->remove_detached(dirs);
}

common::result<void> partition_manager::remove_partitions_from(const std::string& topic, int32_t from) {
  common::result<void> out;
  for (const auto& tp : logs_->partitions())
    if (tp.topic == topic && tp.partition >= from)
      if (auto r = logs_->remove(tp); !r && r.code() != kafka_error::unknown_topic_or_partition && out) out = r;
  return out;
}

namespace {
// The producer state of a log: its snapshot, brought up to date with the batches written after it (the log
// owns the table; the partition shares it).
std::shared_ptr<log::producer_state_table> restore_producers(const std::shared_ptr<log::partition_log>& log,
                                                            const log::topic_partition& tp, log::metadata_store* store,
                                                            bool& snapshot_found) {
  std::optional<log::producer_state_table> snapshot;
  snapshot_found = false;
  if (store) {
    auto saved = store->get_producer_state(tp.topic, tp.partition);
    if (saved && *saved) {
      snapshot_found = true;
      auto decoded = log::producer_state_table::from_record(**saved);
      if (decoded) snapshot = std::move(*decoded);
      else spdlog::warn("{}: {}; rebuilding from the log", tp.dir_name(), decoded.err().message);
    } else if (!saved) {
      spdlog::warn("{}: {}; rebuilding from the log", tp.dir_name(), saved.err().message);
    }
  }
  if (auto loaded = log->load_producer_state(std::move(snapshot)); !loaded)
    spdlog::warn("{}: producer state rebuilt only partly: {}", tp.dir_name(), loaded.err().message);
  return std::shared_ptr<log::producer_state_table>(log, &log->producer_state());
}
}  // namespace

void partition_manager::attach_topic(const std::string& topic, int32_t count, log::metadata_store* store) {
  for (int32_t p = 0; p < count; ++p) {
    log::topic_partition tp{topic, p};
    if (partitions_.count(tp)) continue;
    auto log = logs_->get(tp);
    if (!log) continue;
    partition entry;
    entry.log = log;
    entry.on = std::make_shared<strand>(asio::make_strand(pool_));
    entry.producers = restore_producers(log, tp, store, entry.producer_snapshot_stored);
    entry.log_start_offset = log->log_start_offset();
    entry.high_watermark = log->log_end_offset();
    entry.last_stable_offset = log->last_stable_offset();
    partitions_.emplace(tp, std::move(entry));
  }
}

void partition_manager::detach_topic(const std::string& topic) {
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (it->first.topic == topic) {
      wake(it->second);
      it = partitions_.erase(it);
    } else {
      ++it;
    }
  }
}

partition_manager::partition* partition_manager::find(const log::topic_partition& tp) {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : &it->second;
}

void partition_manager::wake(partition& p) {
  for (auto& w : p.waiters) w->cancel();
  p.waiters.clear();
}

namespace {
// One append() call's progress (network thread). Shared with the posted work, which may finish after
// the call has stopped waiting for a flush, so results land here, not in the caller's requests.
struct append_progress {
  explicit append_progress(const asio::any_io_executor& ex, size_t count)
      : wake(ex), results(count), record_errors(count) {}
  asio::steady_timer wake;  // cancelled when the appends, or the flushes, are all done
  std::vector<std::optional<common::result<log::append_result>>> results;
  // Written on a strand before its result is posted back, read here after it.
  std::vector<std::vector<common::record_error>> record_errors;
  size_t appending = 0;  // appends not yet back
  size_t flushing = 0;   // durable appends not yet fsynced (or failed)
  void appended_one() {
    if (--appending == 0) wake.cancel();
  }
  void flushed_one() {
    if (--flushing == 0) wake.cancel();
  }
};

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The strand side of one partition's append: the producer's batch validated (the records walked, compressed
// ones decompressed within their bound), the idempotence check, the write, the producer's record. A refused
// batch leaves the log untouched; its offending records go to *record_errors.
auto append_work(std::shared_ptr<log::partition_log> log, std::shared_ptr<log::producer_state_table> producers,
                 std::span<uint8_t> batches, std::optional<common::batch_validation_config> validation,
                 std::vector<common::record_error>* record_errors) {
  return [log = std::move(log), producers = std::move(producers), batches, validation = std::move(validation),
          record_errors]() -> common::result<log::append_result> {
    if (validation) {
      if (auto refused = common::validate_produced_batch(batches, *validation, wall_clock_ms())) {
        *record_errors = std::move(refused->record_errors);
        return common::error{refused->code, std::move(refused->message)};
      }
    }
    // Idempotence: one batch per partition (checked by the handler) carries the producer's ids.
    std::optional<common::record_batch_view> batch;
    if (auto parsed = common::record_batch_view::parse(batches); parsed && parsed->producer_id() >= 0 &&
                                                                   !parsed->is_control())
      batch = *parsed;
    if (batch) {
      const int32_t last_seq = log::last_sequence(batch->base_sequence(), batch->last_offset_delta());
      auto verdict = producers->check(batch->producer_id(), batch->producer_epoch(), batch->base_sequence(), last_seq,
                                      batch->is_transactional());
      if (!verdict) return verdict.err();
      if (verdict->duplicate_of) {  // a retry: answer with the offsets it got the first time
        log::append_result dup;
        dup.first_offset = verdict->duplicate_of->first_offset;
        dup.last_offset = verdict->duplicate_of->last_offset;
        dup.log_start_offset = log->log_start_offset();
        return dup;
      }
    }
    // The validation above checked the CRC of these very bytes; the log need not compute it again. The log
    // records the batch in its producer state (the table `producers` shares).
    return log->append(batches, /*leader_epoch=*/0, /*crc_verified=*/static_cast<bool>(validation));
  };
}
}  // namespace

awaitable<void> partition_manager::append(std::vector<append_request>& requests, bool durable,
                                          std::chrono::milliseconds durable_timeout) {
  const asio::any_io_executor home = co_await asio::this_coro::executor;
  const auto started = std::chrono::steady_clock::now();
  // Every append is posted before the first suspension: the order across requests is the order in
  // which their appends reach the strands.
  auto progress = std::make_shared<append_progress>(home, requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    append_request& rq = requests[i];
    partition* p = find(rq.tp);
    if (!p) {
      progress->results[i] = unknown_partition(rq.tp);
      continue;
    }
    ++progress->appending;
    if (durable) ++progress->flushing;
    // Network thread, right after the append: consumers may read the batches at once (the high
    // watermark of a leader without followers), even before they are fsynced.
    auto appended = [this, i, tp = rq.tp, durable, progress, log = p->log](common::result<log::append_result> r) {
      if (partition* again = find(tp); again && again->log == log && r) {
        again->high_watermark = std::max(again->high_watermark, r->last_offset + 1);
        again->last_stable_offset = std::max(again->last_stable_offset, r->last_stable_offset);
        again->log_start_offset = r->log_start_offset;
        wake(*again);
      }
      const bool done = !durable || !r;  // nothing left to wait for
      if (done) progress->results[i] = std::move(r);
      progress->appended_one();
      if (done && durable) progress->flushed_one();
    };
    // Network thread, once a durable append is fsynced (or the flush failed).
    auto flushed = [i, progress](common::result<log::append_result> r) {
      progress->results[i] = std::move(r);
      progress->flushed_one();
    };
    // On the strand: the append, then for a durable one the flush (no round trip through the network
    // thread). When appends from any connection are queued behind this one, the flush queues behind
    // them on the strand: one fdatasync covers them all and their own flushes find nothing left to do
    // (group commit). When none is, it runs at once, sparing a hand-off between pool threads.
    auto work = [on = p->on, home, durable, append = append_work(p->log, p->producers, rq.batches, rq.validation, &progress->record_errors[i]), log = p->log,
                 queued = p->appends_queued, hook = durable ? before_durable_flush_ : nullptr,
                 appended = std::move(appended), flushed = std::move(flushed)]() mutable {
      queued->fetch_sub(1, std::memory_order_acq_rel);
      auto r = append();
      if (!r || !durable) {
        asio::post(home, [appended = std::move(appended), r = std::move(r)]() mutable { appended(std::move(r)); });
        return;
      }
      asio::post(home, [appended = std::move(appended), r]() mutable { appended(std::move(r)); });
      auto flush = [home, log, hook = std::move(hook), flushed = std::move(flushed), r = std::move(r)]() mutable {
        if (hook) hook();
        common::result<void> done = log->is_durable(r->last_offset) ? common::result<void>{} : log->flush();
        if (!done) r = done.err();
        asio::post(home, [flushed = std::move(flushed), r = std::move(r)]() mutable { flushed(std::move(r)); });
      };
      if (queued->load(std::memory_order_acquire) > 0) asio::post(*on, std::move(flush));
      else flush();
    };
    p->appends_queued->fetch_add(1, std::memory_order_acq_rel);
    asio::post(*p->on, std::move(work));
  }
  while (progress->appending > 0) {
    progress->wake.expires_at(asio::steady_timer::time_point::max());
    co_await progress->wake.async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled by the last append
  }
  // The flushes, until the deadline (the timer is cancelled by the last one).
  const auto deadline = durable_timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(
                                              asio::steady_timer::time_point::max() - started)
                            ? asio::steady_timer::time_point::max()
                            : started + durable_timeout;
  while (progress->flushing > 0 && std::chrono::steady_clock::now() < deadline) {
    progress->wake.expires_at(deadline);
    co_await progress->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].record_errors = std::move(progress->record_errors[i]);
    if (progress->results[i]) {
      requests[i].result = std::move(*progress->results[i]);
    } else {
      requests[i].result = common::error{common::kafka_error::request_timed_out,
                                         "the batches were appended but not fsynced within timeout_ms " +
                                             std::to_string(durable_timeout.count())};
    }
  }
}

awaitable<common::result<fetched>> partition_manager::read(const log::topic_partition& tp, int64_t offset,
                                                           uint64_t max_bytes, log::isolation_level isolation) {
  partition* p = find(tp);
  if (!p) co_return unknown_partition(tp);
  auto log = p->log;
  auto work = [log, offset, max_bytes, isolation]() -> common::result<fetched> {
    auto r = log->read(offset, max_bytes, isolation);
    if (!r) return r.err();
    common::protocol::record_set records;
    if (r->region.length > 0) records.file = common::protocol::file_slice{r->region.file, r->region.position, r->region.length};
    return fetched{std::move(records), r->log_start_offset, r->log_end_offset, r->last_stable_offset,
                   std::move(r->aborted_transactions)};
  };
  auto strand_ex = *p->on;
  co_return co_await run_on(strand_ex, work);
}

awaitable<common::result<offset_lookup>> partition_manager::lookup_offset(const log::topic_partition& tp,
                                                                          int64_t timestamp,
                                                                          log::isolation_level isolation) {
  partition* p = find(tp);
  if (!p) co_return unknown_partition(tp);
  auto log = p->log;
  auto work = [log, timestamp, isolation]() -> common::result<offset_lookup> {
    if (timestamp == -2) return offset_lookup{-1, log->log_start_offset()};
    if (timestamp == -1)
      return offset_lookup{-1, isolation == log::isolation_level::read_committed ? log->last_stable_offset()
                                                                                 : log->log_end_offset()};
    auto found = timestamp == -3 ? log->max_timestamp() : log->offset_for_timestamp(timestamp);
    if (!found) return found.err();
    if (!*found) return offset_lookup{-1, -1};
    // As Kafka: only an offset a fetch of that isolation could return.
    if (isolation == log::isolation_level::read_committed && (*found)->offset >= log->last_stable_offset())
      return offset_lookup{-1, -1};
    return offset_lookup{(*found)->timestamp, (*found)->offset};
  };
  auto strand_ex = *p->on;
  co_return co_await run_on(strand_ex, work);
}

awaitable<common::result<log::append_result>> partition_manager::append_marker(const log::topic_partition& tp,
                                                                              int64_t producer_id,
                                                                              int16_t producer_epoch, bool commit,
                                                                              int32_t coordinator_epoch,
                                                                              int16_t transaction_version) {
  partition* p = find(tp);
  if (!p) co_return unknown_partition(tp);
  auto log = p->log;
  auto work = [log, producer_id, producer_epoch, commit, coordinator_epoch,
               transaction_version]() -> common::result<log::append_result> {
    auto r = log->append_marker(producer_id, producer_epoch, commit, coordinator_epoch, /*leader_epoch=*/0,
                                transaction_version);
    if (!r) return r;
    if (!log->is_durable(r->last_offset))
      if (auto flushed = log->flush(); !flushed) return flushed.err();
    return r;
  };
  auto strand_ex = *p->on;
  auto r = co_await run_on(strand_ex, work);
  if (partition* again = find(tp); again && again->log == log && r) {
    again->high_watermark = std::max(again->high_watermark, r->last_offset + 1);
    again->last_stable_offset = std::max(again->last_stable_offset, r->last_stable_offset);
    again->log_start_offset = r->log_start_offset;
    wake(*again);
  }
  co_return r;
}

awaitable<common::result<int64_t>> partition_manager::delete_records(const log::topic_partition& tp, int64_t before) {
  partition* p = find(tp);
  if (!p) co_return unknown_partition(tp);
  auto log = p->log;
  auto work = [log, before]() { return log->delete_records_before(before); };
  auto strand_ex = *p->on;
  auto result = co_await run_on(strand_ex, work);
  if (partition* again = find(tp); again && result) again->log_start_offset = *result;
  co_return result;
}

std::vector<log::topic_partition> partition_manager::attached() const {
  std::vector<log::topic_partition> out;
  out.reserve(partitions_.size());
  for (const auto& [tp, p] : partitions_) out.push_back(tp);
  return out;
}

awaitable<std::vector<std::pair<log::topic_partition, uint64_t>>> partition_manager::log_sizes(
    std::vector<log::topic_partition> tps) {
  std::vector<std::pair<log::topic_partition, uint64_t>> out;
  for (auto& tp : tps) {
    partition* p = find(tp);
    if (!p) continue;
    auto log = p->log;
    auto work = [log]() { return log->size_bytes(); };
    auto strand_ex = *p->on;
    uint64_t size = co_await run_on(strand_ex, work);
    out.emplace_back(std::move(tp), size);
  }
  co_return out;
}

awaitable<std::optional<std::map<int64_t, log::producer_entry>>> partition_manager::producers(
    const log::topic_partition& tp) {
  partition* p = find(tp);
  if (!p) co_return std::nullopt;
  auto table = p->producers;
  auto work = [table]() { return table ? table->entries() : std::map<int64_t, log::producer_entry>{}; };
  auto strand_ex = *p->on;
  co_return co_await run_on(strand_ex, work);
}

std::optional<int64_t> partition_manager::high_watermark(const log::topic_partition& tp) const {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return std::nullopt;
  return it->second.high_watermark;
}

std::optional<int64_t> partition_manager::last_stable_offset(const log::topic_partition& tp) const {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return std::nullopt;
  return std::max(it->second.last_stable_offset, it->second.log_start_offset);
}

std::optional<int64_t> partition_manager::log_start_offset(const log::topic_partition& tp) const {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return std::nullopt;
  return it->second.log_start_offset;
}

void partition_manager::watch(const log::topic_partition& tp, const std::shared_ptr<asio::steady_timer>& waiter) {
  if (partition* p = find(tp)) p->waiters.insert(waiter);
}

void partition_manager::unwatch(const log::topic_partition& tp, const std::shared_ptr<asio::steady_timer>& waiter) {
  if (partition* p = find(tp)) p->waiters.erase(waiter);
}

awaitable<void> partition_manager::apply_config(const std::string& topic, const effective_topic_config& config) {
  const auto lc = to_log_config(config);
  std::vector<std::pair<std::shared_ptr<log::partition_log>, std::shared_ptr<strand>>> targets;
  for (auto& [tp, p] : partitions_)
    if (tp.topic == topic) targets.emplace_back(p.log, p.on);
  for (auto& [log, on] : targets) {
    auto work = [log = log, lc]() {
      log->set_config(lc);
      return true;
    };
    auto strand_ex = *on;
    co_await run_on(strand_ex, work);
  }
}

awaitable<void> partition_manager::enforce_retention(bool retention, bool compaction) {
  std::vector<log::topic_partition> all;
  for (auto& [tp, p] : partitions_) all.push_back(tp);
  for (const auto& tp : all) {
    partition* p = find(tp);
    if (!p) continue;  // deleted meanwhile
    auto log = p->log;
    auto strand_ex = *p->on;
    if (retention) {
    auto work = [log]() -> common::result<int64_t> {
      auto deleted = log->enforce_retention();
      if (!deleted) return deleted.err();
      if (*deleted > 0) spdlog::info("retention deleted {} segment(s) of {}", *deleted, log->dir().filename().string());
      if (auto flushed = log->maybe_flush(); !flushed) return flushed.err();
      return log->log_start_offset();
    };
    auto start = co_await run_on(strand_ex, work);
    if (!start) {
      spdlog::warn("retention check of {}-{} failed: {}", tp.topic, tp.partition, start.err().message);
      continue;
    }
    if (partition* again = find(tp)) again->log_start_offset = *start;
    }
    if (!compaction) continue;
    // Compaction: pick segments on the strand, clean them on the blocking pool, swap them in on the strand.
    auto plan_work = [log]() { return log->prepare_compaction(); };
    auto plan = co_await run_on(strand_ex, plan_work);
    if (plan.empty()) continue;
    auto clean_work = [plan]() { return log::run_compaction(plan); };
    auto cleaned = co_await run_blocking(pool_, clean_work);
    if (!cleaned) {
      spdlog::warn("compaction of {}-{} failed: {}", tp.topic, tp.partition, cleaned.err().message);
      continue;
    }
    if (partition* again = find(tp); !again || again->log != log) continue;  // removed meanwhile
    auto result = std::make_shared<log::compaction_result>(std::move(*cleaned));
    auto commit_work = [log, result]() { return log->commit_compaction(std::move(*result)); };
    if (auto committed = co_await run_on(strand_ex, commit_work); !committed)
      spdlog::warn("compaction of {}-{} failed: {}", tp.topic, tp.partition, committed.err().message);
  }
}

awaitable<void> partition_manager::expire_producers(int64_t before_ms) {
  std::vector<log::topic_partition> all;
  for (auto& [tp, p] : partitions_) all.push_back(tp);
  for (const auto& tp : all) {
    partition* p = find(tp);
    if (!p) continue;  // deleted meanwhile
    auto producers = p->producers;
    auto work = [producers, before_ms] {
      producers->expire(before_ms);
      return true;
    };
    co_await run_on(*p->on, work);
  }
}

common::result<void> partition_manager::save_producer_states(log::metadata_store& store) {
  for (auto& [tp, p] : partitions_) {
    // An empty log with no producers and no snapshot has nothing to save: a broker with many idle
    // partitions stops without a synced store write for each.
    if (!p.producer_snapshot_stored && p.producers->entries().empty() &&
        p.log->log_end_offset() == p.log->log_start_offset())
      continue;
    p.producer_snapshot_stored = true;
    p.producers->set_covered_offset(p.log->log_end_offset());
    if (auto saved = store.put_producer_state(tp.topic, tp.partition, p.producers->to_record()); !saved) return saved;
  }
  return {};
}

common::result<void> partition_manager::close() {
  partitions_.clear();
  return logs_->close();
}

}  // namespace brook::broker
