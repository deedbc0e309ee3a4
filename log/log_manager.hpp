// Owns every partition log under one log dir (layout in log/format.hpp).
//
// Ownership: the broker opens one log_manager per log dir at start and closes it at shutdown. The manager
// holds the dir's flock for its lifetime (a second process cannot open the same dir), the dir's health flag,
// and a shared_ptr to each partition_log; the broker calls each partition_log from that partition's strand.
//
// Threads: partitions(), get(), create() and remove() are safe from any thread (one mutex guards the
// map). flush_all() and close() call into every partition log, so the broker calls them only when no
// strand is using the logs (close() at shutdown, after the strands have stopped).
//
// Clean shutdown: close() writes the marker file only if every flush succeeded and the dir has not failed;
// open() removes it before anything else, so a crash at any later point makes the next open recover.
//
// fsync (brook.log.fsync): a manager opened with fsync = false never syncs the dir or any partition log
// (log_config::fsync of every log it opens or creates), for data that is thrown away with the process.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/os/file_io.hpp"
#include "log/partition_log.hpp"

namespace brook::log {

struct topic_partition {
  std::string topic;
  int32_t partition = 0;

  auto operator<=>(const topic_partition&) const = default;
  bool operator==(const topic_partition&) const = default;
  // "<topic>-<partition>", the partition's directory name.
  std::string dir_name() const;
  // Splits at the last '-'; nullopt for names that are not a partition directory.
  static std::optional<topic_partition> parse_dir_name(std::string_view name);
};

class log_manager {
 public:
  // The config of a partition found on disk at open (the broker maps topic configs over its defaults).
  using config_provider = std::function<log_config(const topic_partition&)>;

  // Locks `log_dir` (creating it if missing), removes partitions left half-deleted, and opens every
  // partition directory, recovering them unless the previous shutdown was clean. Errors:
  // kafka_storage_error (dir locked by another process, IO errors, a partition that cannot be opened).
  // With `keep`, a partition directory it refuses (no registered topic claims it) is deleted instead of
  // opened, as a half-deleted one is; `cancel` (shutdown) stops the opening between partitions.
  // `fsync` false: nothing is synced (see above). `open_threads` (num.recovery.threads.per.data.dir)
  // partitions are opened (and recovered) at once, each on its own thread; partitions are independent, and
  // recovery after a crash waits on the disk (reads and syncs) more than on the CPU.
  using partition_filter = std::function<bool(const topic_partition&)>;
  static common::result<std::unique_ptr<log_manager>> open(std::filesystem::path log_dir, config_provider configs,
                                                           clock_fn clock = {}, partition_filter keep = {},
                                                           const std::atomic<bool>* cancel = nullptr,
                                                           bool fsync = true, int open_threads = 1);
  // Releases the lock without flushing: the next open recovers, as after a crash. Call close() first.
  ~log_manager();
  log_manager(const log_manager&) = delete;
  log_manager& operator=(const log_manager&) = delete;

  // The partitions that exist on disk, sorted (for the broker to reconcile with its topic records).
  std::vector<topic_partition> partitions() const;
  std::shared_ptr<partition_log> get(const topic_partition& tp) const;
  // Creates the partition's directory and an empty log; returns the existing log if there is one.
  common::result<std::shared_ptr<partition_log>> create(const topic_partition& tp, const log_config& config);
  // Deletes the partition's directory (renamed to "<dir>.<id>-delete" first, so a crash midway is finished at
  // the next open). The caller must have stopped using the partition_log. Errors:
  // unknown_topic_or_partition, kafka_storage_error.
  common::result<void> remove(const topic_partition& tp);
  // remove() in two steps, for many partitions at once: detach() takes their logs out of the manager and
  // renames their directories aside (one directory sync for all; partitions it does not hold are skipped),
  // so that a partition of the same name can be created at once; remove_detached() then deletes what
  // detach() returned (possibly later, on another thread). A crash in between finishes the deletion at
  // the next open. Errors: kafka_storage_error.
  common::result<std::vector<std::filesystem::path>> detach(const std::vector<topic_partition>& tps);
  common::result<void> remove_detached(const std::vector<std::filesystem::path>& dirs);

  common::result<void> flush_all();
  // The fsynced length of every segment file of every partition (partition_log::durable_extents), for
  // crash tests: cut_to_durable() on them after the manager is gone leaves what a power loss would.
  // Call only when no strand is using the logs (as flush_all()).
  std::vector<durable_extent> durable_extents() const;
  // Flushes and closes every partition log, then writes the clean-shutdown marker if all of it succeeded.
  common::result<void> close();

  const std::filesystem::path& dir() const { return dir_; }
  // Gives every partition log, present and future, the fault hook (log/disk_fault_hook.hpp); null for
  // none. The hook must outlive the manager. Any thread.
  void set_fault_hook(disk_fault_hook* hook);
  bool failed() const { return health_->failed(); }
  const std::shared_ptr<log_dir_health>& health() const { return health_; }
  // Whether open() found the clean-shutdown marker.
  bool opened_after_clean_shutdown() const { return clean_at_open_; }

 private:
  log_manager(std::filesystem::path dir, config_provider configs, clock_fn clock);
  common::os::io_status sync_directory() const;  // of dir_, unless fsync_ is off
  // Opens `dirs` on `threads` threads (the caller's among them) into logs_; the first error in `dirs` order.
  common::result<void> open_partitions(const std::vector<std::pair<topic_partition, std::filesystem::path>>& dirs,
                                       const std::atomic<bool>* cancel, int threads);

  std::filesystem::path dir_;
  config_provider configs_;
  clock_fn clock_;
  bool fsync_ = true;
  std::shared_ptr<log_dir_health> health_ = std::make_shared<log_dir_health>();
  common::os::file_handle lock_;
  bool clean_at_open_ = false;
  bool closed_ = false;
  uint64_t delete_counter_ = 0;
  mutable std::mutex mutex_;
  std::map<topic_partition, std::shared_ptr<partition_log>> logs_;
  disk_fault_hook* fault_hook_ = nullptr;  // guarded by mutex_
};

}  // namespace brook::log
