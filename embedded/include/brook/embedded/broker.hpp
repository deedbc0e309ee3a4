// brook::embedded::broker: a complete Brook broker running inside the calling process, for integration
// tests. It listens on 127.0.0.1 (a free port unless one is given), keeps its data in a temporary
// directory (on /dev/shm when there is one) that it removes on destruction, or in a given directory
// that it keeps, and speaks the Kafka protocol like brook-server: point any Kafka client at
// bootstrap_servers().
//
// Owner: the caller (one object per broker; many independent brokers may live in one process), or the
// process for shared(). Threads: each running broker has its own network thread and blocking pool
// (broker/broker.hpp), which never run code of the caller; every method here may be called from any
// other thread, and the methods of one broker are serialised by its mutex. Invariants: between calls the broker is either running (listening on port()) or stopped; the port
// and the data directory never change over its life, so restart() and crash() keep
// bootstrap_servers() valid. Errors are values (common::result); nothing here throws.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/uuid.hpp"

namespace brook::broker {
class broker;
}

namespace brook::embedded {

struct options {
  // Empty: a fresh temporary directory (under /dev/shm when present, else the system's temporary
  // directory), removed when the broker is destroyed. Otherwise this directory, created if missing and kept.
  std::filesystem::path data_dir{};
  // 0: a free port, chosen at the first start and kept by restart() and crash().
  uint16_t port = 0;
  // Broker properties as brook-server takes them with `--override key=value` (same parsing, later ones
  // win), applied over the embedded defaults: listeners (127.0.0.1), log.dirs, and
  // group.initial.rebalance.delay.ms=0 (a group's first rebalance does not wait). fsync behaves as on
  // brook-server (acks=all appends are synced) unless overridden, e.g. with flush.messages / log.flush.*.
  std::vector<std::string> overrides{};
};

class broker {
 public:
  // Opens the data directory (recovering it after a crash) and starts listening.
  static common::result<std::unique_ptr<broker>> start(options opts = {});
  // One broker for the whole process with the default options, started on the first call (later calls
  // return the same one; a failed start is retried by the next call) and stopped at exit. The test
  // fixtures share it between tests, resetting it before each.
  static common::result<broker*> shared();
  // Stops cleanly if running; removes the data directory if it was temporary.
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  // "127.0.0.1:PORT", for a client's bootstrap.servers.
  std::string bootstrap_servers() const;
  uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  bool running() const;

  // Creates a topic as CreateTopics would (validation, Kafka's errors and messages); returns its id.
  // partitions -1: num.partitions. configs: topic overrides ("cleanup.policy" -> "compact", ...).
  common::result<common::uuid> create_topic(const std::string& name, int32_t partitions = 1,
                                            const std::map<std::string, std::string>& configs = {});
  // Deletes every topic with its data, every consumer group (classic and consumer protocol) and committed
  // offset, every producer state and the producer id sequence: the broker is as new, still on its port
  // (broker::reset_async in broker/broker.hpp). Takes a few milliseconds.
  common::result<void> reset();

  // Stops cleanly (everything flushed, connections closed). Idempotent.
  common::result<void> stop();
  // Stops cleanly if running, then opens the same data directory again on the same port.
  common::result<void> restart();
  // As a power loss: ends the broker with no clean shutdown, cuts every log file back to the length last
  // fsynced (what was not synced is lost; files created since their directory's last sync vanish), then
  // starts it again on the same data and port, so that it runs its crash recovery.
  common::result<void> crash();

  // The running broker itself, for Brook's own tests (nullptr when stopped). Valid until the next
  // stop(), restart(), crash() or destruction.
  brook::broker::broker* native();

 private:
  broker(options opts, std::filesystem::path dir, bool temporary);
  common::result<void> open_locked();
  void stop_locked();

  mutable std::mutex mutex_;
  options options_;
  std::filesystem::path data_dir_;
  bool temporary_dir_ = false;
  uint16_t port_ = 0;
  std::unique_ptr<brook::broker::broker> broker_;
};

}  // namespace brook::embedded
