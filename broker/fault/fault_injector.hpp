// Fault injection for integration tests (as librdkafka's mock cluster's push_request_errors and
// broker RTT, franz-go kfake's ControlKey): rules that make the broker answer errors, delay answers,
// drop connections, advertise lower versions, pause, or fail its disk operations, plus a bounded log
// of the requests received.
//
// Owner: the broker (broker::faults()); lives as long as it. Thread-safe: rules are added and cleared
// from any thread (an embedding program, the control HTTP server) while the network thread consults
// them for every request and the partition strands for every append and fsync. One mutex guards the
// rules and the request log; the consult paths first read an atomic count of rules (and the pause
// flag), so a broker without rules pays one atomic load per request for them (and one uncontended
// lock to note the request in the log).
//
// Rules: a rule with a count fires that many times, then is gone; a rule without one (count nullopt)
// lasts until it is cleared. Among several rules that match a request the oldest fires. Error, drop
// and delay rules apply to requests of one API key; an error rule may be limited to requests naming
// one topic or one group (topics named by id are resolved by the caller). A disk rule fails the next
// append or fsync (optionally of one topic's partitions) with an errno (ENOSPC, EIO), which the log
// then handles as if the disk had returned it (log/disk_fault_hook.hpp).
//
// Pause: while paused, requests are read but not served; resume() wakes them (through the callback
// the broker installs, which runs the waking on the network thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/fault/error_responses.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "log/disk_fault_hook.hpp"

namespace brook::broker::fault {

enum class fault_kind { errors, delay, drop, version_cap, disk };
std::string_view fault_kind_name(fault_kind k);

struct fault_rule {
  uint64_t id = 0;  // assigned by add()
  fault_kind kind = fault_kind::errors;
  int16_t api_key = -1;                 // errors, delay, drop, version_cap
  std::optional<int32_t> count = 1;     // remaining firings; nullopt: until cleared
  int16_t error_code = 0;               // errors
  std::optional<std::string> topic;     // errors: requests naming it; disk: its partitions only
  std::optional<std::string> group;     // errors: requests naming it
  std::chrono::milliseconds delay{0};   // delay
  int16_t max_version = 0;              // version_cap
  log::disk_op op = log::disk_op::append;  // disk
  int sys_errno = 0;                    // disk: ENOSPC, EIO
};

// One request as received.
struct logged_request {
  int16_t api_key = 0;
  int16_t api_version = 0;
  std::string client_id;
  int32_t correlation_id = 0;
};

// What the rules say about one request (network thread).
struct request_faults {
  bool drop = false;                      // close the connection without answering
  std::optional<int16_t> error;           // answer with this error in every error field
  std::chrono::milliseconds delay{0};     // hold the response this long
};

class fault_injector final : public log::disk_fault_hook {
 public:
  static constexpr size_t default_request_log_capacity = 1000;

  fault_injector() = default;
  fault_injector(const fault_injector&) = delete;
  fault_injector& operator=(const fault_injector&) = delete;

  // --- configuration (any thread) ---
  // Adds a rule and returns its id. Errors (invalid_request): a count below 1, a negative delay or
  // max version, a disk errno of 0.
  common::result<uint64_t> add(fault_rule rule);
  std::vector<fault_rule> rules() const;
  // False when no rule has that id.
  bool remove(uint64_t id);
  void clear_rules();
  // Clears every rule and the request log, and resumes a paused broker (what a reset does).
  void clear_all();

  void pause();
  void resume();
  bool paused() const { return paused_.load(std::memory_order_acquire); }
  // Called by resume() (from its thread); the broker installs one that wakes the paused requests on
  // the network thread. Set once, before the broker serves.
  void on_resume(std::function<void()> wake) { on_resume_ = std::move(wake); }

  std::vector<logged_request> requests() const;
  void clear_requests();
  void set_request_log_capacity(size_t capacity);

  // --- consulted by the broker ---
  // Network thread, on receipt of every request.
  void log_request(int16_t api_key, int16_t api_version, std::string_view client_id, int32_t correlation_id);
  bool has_rules() const { return rule_count_.load(std::memory_order_acquire) > 0; }
  // Whether an error rule for this API exists (then the caller decodes the request and calls take()).
  bool wants_error_check(int16_t api_key) const;
  // Takes the firings of the rules that match a request: drop, error (the request's names decide
  // topic/group rules; `topic_of_id` resolves topics named by id; null `names`: the request was not
  // decoded, so no error rule applies) and delay. Each rule that fires has its count decremented.
  request_faults take(int16_t api_key, const request_names* names,
                      const std::function<std::optional<std::string>(const common::uuid&)>& topic_of_id = {});
  // Lowers the advertised max versions in an ApiVersions response; an API capped below its min version
  // is left out.
  void apply_version_caps(std::vector<common::protocol::api_versions::api_version>& keys) const;
  // log::disk_fault_hook: any thread (the partition strands).
  int before_disk_op(log::disk_op op, std::string_view topic) override;

 private:
  static bool matches_names(const fault_rule& r, const request_names* names,
                            const std::function<std::optional<std::string>(const common::uuid&)>& topic_of_id);
  void fired(std::vector<fault_rule>::iterator it);  // mutex_ held: counts one firing, erases when spent
  void update_count();                               // mutex_ held

  mutable std::mutex mutex_;
  std::vector<fault_rule> rules_;  // oldest first
  uint64_t next_id_ = 1;
  std::deque<logged_request> log_;
  size_t log_capacity_ = default_request_log_capacity;
  std::atomic<size_t> rule_count_{0};
  std::atomic<bool> paused_{false};
  std::function<void()> on_resume_;
};

}  // namespace brook::broker::fault

namespace brook::broker {
using fault::fault_injector;  // broker::faults()
}  // namespace brook::broker
