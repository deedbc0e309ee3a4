#include "log/log_manager.hpp"

#include <algorithm>
#include <cerrno>
#include <thread>
#include <spdlog/spdlog.h>

#include "log/format.hpp"
#include "log/storage_error.hpp"

namespace brook::log {

namespace os = common::os;
using common::error;
using common::kafka_error;
using common::result;

std::string topic_partition::dir_name() const { return topic + "-" + std::to_string(partition); }

std::optional<topic_partition> topic_partition::parse_dir_name(std::string_view name) {
  auto dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  auto digits = name.substr(dash + 1);
  if (digits.size() > 9) return std::nullopt;
  int32_t p = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + (c - '0');
  }
  auto topic = name.substr(0, dash);
  for (char c : topic) {  // Kafka's legal topic characters
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return std::nullopt;
  }
  return topic_partition{std::string(topic), p};
}

log_manager::log_manager(std::filesystem::path dir, config_provider configs, clock_fn clock)
    : dir_(std::move(dir)), configs_(std::move(configs)), clock_(clock ? std::move(clock) : system_clock()) {
  if (!configs_) configs_ = [](const topic_partition&) { return log_config{}; };
}

log_manager::~log_manager() = default;

os::io_status log_manager::sync_directory() const {
  if (!fsync_) return {};
  return os::sync_directory(dir_);
}

result<std::unique_ptr<log_manager>> log_manager::open(std::filesystem::path log_dir, config_provider configs,
                                                       clock_fn clock, partition_filter keep,
                                                       const std::atomic<bool>* cancel, bool fsync,
                                                       int open_threads) {
  std::unique_ptr<log_manager> m(new log_manager(std::move(log_dir), std::move(configs), std::move(clock)));
  m->fsync_ = fsync;
  std::error_code ec;
  std::filesystem::create_directories(m->dir_, ec);
  if (ec) return storage_error("cannot create log dir " + m->dir_.string() + ": " + ec.message());
  if (auto st = os::lock_file(m->dir_ / format::lock_file_name, m->lock_); !st)
    return storage_error("cannot lock log dir " + m->dir_.string() + " (in use by another process?): " + st.message());

  auto marker = m->dir_ / format::clean_shutdown_marker;
  m->clean_at_open_ = std::filesystem::exists(marker, ec);
  if (m->clean_at_open_) {
    if (auto st = os::remove_path(marker); !st) return storage_error(st.message());
    if (auto st = m->sync_directory(); !st) return storage_error(st.message());
  } else {
    // A directory holding no partition yet is new (or empty), not the remains of a crash.
    bool holds_partitions = false;
    for (const auto& entry : std::filesystem::directory_iterator(m->dir_, ec))
      if (entry.is_directory() && topic_partition::parse_dir_name(entry.path().filename().string()))
        holds_partitions = true;
    if (holds_partitions)
      spdlog::info("log dir {}: no clean-shutdown marker, recovering unflushed data", m->dir_.string());
    else
      spdlog::info("log dir {}: new, no partitions yet", m->dir_.string());
  }

  std::vector<std::pair<topic_partition, std::filesystem::path>> found;
  for (const auto& entry : std::filesystem::directory_iterator(m->dir_, ec)) {
    if (!entry.is_directory()) continue;
    auto name = entry.path().filename().string();
    if (name.ends_with(format::delete_dir_suffix)) {
      spdlog::info("log dir {}: finishing deletion of {}", m->dir_.string(), name);
      std::filesystem::remove_all(entry.path(), ec);
      if (ec) return storage_error("cannot delete " + entry.path().string() + ": " + ec.message());
      continue;
    }
    if (auto tp = topic_partition::parse_dir_name(name)) found.emplace_back(*tp, entry.path());
  }
  if (ec) return storage_error("cannot list log dir " + m->dir_.string() + ": " + ec.message());
  size_t orphans = 0;
  std::vector<std::pair<topic_partition, std::filesystem::path>> kept;
  for (auto& [tp, path] : found) {
    if (cancel && cancel->load(std::memory_order_relaxed))
      return error{kafka_error::request_timed_out, "opening the log dir was cancelled"};
    if (keep && !keep(tp)) {
      // Left by a creation that never completed, or a topic whose record is gone: no log is opened for it.
      // Renamed aside first (a crash midway is finished at the next open), or removed in place when the
      // longer name does not fit (a 249-character topic name).
      auto doomed = path;
      doomed += "." + std::to_string(m->clock_()) + "_" + std::to_string(++m->delete_counter_) +
                std::string(format::delete_dir_suffix);
      if (!os::rename_path(path, doomed)) doomed = path;
      std::filesystem::remove_all(doomed, ec);
      if (ec) {
        spdlog::warn("log dir {}: cannot remove {}, which no topic claims: {}", m->dir_.string(), doomed.string(),
                     ec.message());
        ec.clear();
        continue;
      }
      ++orphans;
      continue;
    }
    kept.emplace_back(tp, path);
  }
  if (auto opened = m->open_partitions(kept, cancel, open_threads); !opened) return opened.err();
  if (orphans > 0) {
    spdlog::warn("log dir {}: removed {} partition director{} that no topic claims", m->dir_.string(), orphans,
                 orphans == 1 ? "y" : "ies");
    if (auto st = m->sync_directory(); !st) return storage_error(st.message());
  }
  return m;
}

result<void> log_manager::open_partitions(const std::vector<std::pair<topic_partition, std::filesystem::path>>& dirs,
                                            const std::atomic<bool>* cancel, int threads) {
  // The configs are read here, on the caller's thread: the provider may look at the caller's state.
  std::vector<log_config> configs;
  configs.reserve(dirs.size());
  for (const auto& [tp, path] : dirs) {
    configs.push_back(configs_(tp));
    configs.back().fsync = fsync_;
  }
  std::vector<std::optional<result<std::unique_ptr<partition_log>>>> opened(dirs.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1);
      if (i >= dirs.size()) break;
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        opened[i].emplace(error{kafka_error::request_timed_out, "opening the log dir was cancelled"});
      } else {
        opened[i].emplace(partition_log::open(dirs[i].second, configs[i], clock_, health_, clean_at_open_));
      }
      if (!*opened[i]) failed.store(true, std::memory_order_relaxed);
    }
  };
  // Beyond a few dozen threads, more only contend for the same disk.
  constexpr size_t max_threads = 64;
  size_t wanted = std::min({dirs.size(), static_cast<size_t>(std::max(threads, 1)), max_threads});
  size_t extra = wanted > 0 ? wanted - 1 : 0;
  {
    std::vector<std::jthread> helpers;
    for (size_t t = 0; t < extra; ++t) helpers.emplace_back(work);
    work();
  }
  // The first failure in directory order is the one reported (the caller then discards this manager).
  for (size_t i = 0; i < dirs.size(); ++i) {
    if (!opened[i]) continue;  // not reached after a failure
    if (!*opened[i]) return opened[i]->err();
    logs_.emplace(dirs[i].first, std::shared_ptr<partition_log>(std::move(**opened[i])));
  }
  return {};
}

void log_manager::set_fault_hook(disk_fault_hook* hook) {
  std::lock_guard lock(mutex_);
  fault_hook_ = hook;
  for (auto& [tp, log] : logs_) log->set_fault_hook(hook);
}

std::vector<topic_partition> log_manager::partitions() const {
  std::lock_guard lock(mutex_);
  std::vector<topic_partition> out;
  for (const auto& [tp, log] : logs_) out.push_back(tp);
  return out;
}

std::shared_ptr<partition_log> log_manager::get(const topic_partition& tp) const {
  std::lock_guard lock(mutex_);
  auto it = logs_.find(tp);
  return it == logs_.end() ? nullptr : it->second;
}

result<std::shared_ptr<partition_log>> log_manager::create(const topic_partition& tp, const log_config& config) {
  if (health_->failed()) return storage_error("log dir has failed: " + health_->reason());
  std::lock_guard lock(mutex_);
  if (auto it = logs_.find(tp); it != logs_.end()) return it->second;
  if (!topic_partition::parse_dir_name(tp.dir_name()) || tp.partition < 0)
    return error{kafka_error::invalid_topic_exception, "not a valid partition name: " + tp.dir_name()};
  log_config dir_config = config;
  dir_config.fsync = fsync_;
  auto log = partition_log::open(dir_ / tp.dir_name(), dir_config, clock_, health_, false);
  if (!log) return log.err();
  if (auto st = sync_directory(); !st) {
    // Out of descriptors: this creation fails (the caller removes what it made); the dir is fine.
    if (!st.resource_exhausted()) health_->mark_failed(st.message());
    return storage_error(st.message());
  }
  std::shared_ptr<partition_log> shared(std::move(*log));
  shared->set_fault_hook(fault_hook_);
  logs_.emplace(tp, shared);
  return shared;
}

result<void> log_manager::remove(const topic_partition& tp) {
  {
    std::lock_guard lock(mutex_);
    if (!logs_.count(tp)) return error{kafka_error::unknown_topic_or_partition, "no log for " + tp.dir_name()};
  }
  auto doomed = detach({tp});
  if (!doomed) return doomed.err();
  return remove_detached(*doomed);
}

result<std::vector<std::filesystem::path>> log_manager::detach(const std::vector<topic_partition>& tps) {
  std::vector<std::filesystem::path> out;
  std::vector<std::shared_ptr<partition_log>> released;  // dropped after the lock (closing descriptors)
  for (const auto& tp : tps) {
    std::filesystem::path doomed;
    {
      std::lock_guard lock(mutex_);
      auto it = logs_.find(tp);
      if (it == logs_.end()) continue;
      released.push_back(std::move(it->second));
      logs_.erase(it);
      doomed = dir_ / (tp.dir_name() + "." + std::to_string(clock_()) + "_" + std::to_string(++delete_counter_) +
                       std::string(format::delete_dir_suffix));
    }
    if (auto st = os::rename_path(dir_ / tp.dir_name(), doomed); !st) {
      if (st.sys_errno != ENAMETOOLONG) return storage_error(st.message());
      doomed = dir_ / tp.dir_name();  // a 249-character topic name leaves no room for the suffix
    }
    out.push_back(std::move(doomed));
  }
  if (!out.empty())
    if (auto st = sync_directory(); !st) return storage_error(st.message());
  return out;
}

result<void> log_manager::remove_detached(const std::vector<std::filesystem::path>& dirs) {
  for (const auto& doomed : dirs) {
    std::error_code ec;
    std::filesystem::remove_all(doomed, ec);
    if (ec) return storage_error("cannot delete " + doomed.string() + ": " + ec.message());
  }
  if (!dirs.empty()) (void)sync_directory();
  return {};
}

std::vector<durable_extent> log_manager::durable_extents() const {
  std::vector<std::shared_ptr<partition_log>> logs;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [tp, log] : logs_) logs.push_back(log);
  }
  std::vector<durable_extent> out;
  for (const auto& log : logs)
    for (auto& e : log->durable_extents()) out.push_back(std::move(e));
  return out;
}

result<void> log_manager::flush_all() {
  std::vector<std::shared_ptr<partition_log>> logs;
  {
    std::lock_guard lock(mutex_);
    for (auto& [tp, log] : logs_) logs.push_back(log);
  }
  result<void> out;
  for (auto& log : logs) {
    if (auto r = log->flush(); !r && out) out = r;
  }
  return out;
}

result<void> log_manager::close() {
  if (closed_) return {};
  closed_ = true;
  std::vector<std::shared_ptr<partition_log>> logs;
  {
    std::lock_guard lock(mutex_);
    for (auto& [tp, log] : logs_) logs.push_back(log);
  }
  result<void> out;
  for (auto& log : logs) {
    if (auto r = log->close(); !r && out) out = r;
  }
  if (!out || health_->failed()) {
    spdlog::error("log dir {}: not marking a clean shutdown: {}", dir_.string(),
                  out ? health_->reason() : out.err().message);
    return out ? result<void>(storage_error("log dir has failed: " + health_->reason())) : out;
  }
  os::file_handle marker;
  if (auto st = os::open_file(dir_ / format::clean_shutdown_marker, os::open_mode::create_truncate, marker); !st)
    return storage_error(st.message());
  if (fsync_)
    if (auto st = os::sync_all(marker); !st) return storage_error(st.message());
  if (auto st = sync_directory(); !st) return storage_error(st.message());
  return {};
}

}  // namespace brook::log
