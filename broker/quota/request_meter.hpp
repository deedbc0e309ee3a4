// How long a request kept the broker's threads busy, as Kafka's request_percentage quota counts it
// (its request handler and network thread time): the time its coroutine ran on the network thread,
// slice by slice between suspensions, plus the blocking work it waited for on the blocking pool
// (broker/blocking.hpp). Time spent suspended (a long poll, an acks=all wait, a rebalance, a pause or a
// throttle) is not counted, as Kafka does not count time in purgatory.
//
// A metered request's coroutine runs on a metered_executor: every slice the executor runs is timed
// into the request's meter. A slice that runs another request's slice inline pauses its own timing
// meanwhile; a slice of the same request nested in itself is timed once.
//
// Owner: the request (shared with the executor's handlers and the pool work it awaits). Invariants:
// `nanos` grows only; it is written by the network thread during the request's slices and by pool
// threads while the request waits for their work, hence atomic.
#pragma once

#include <atomic>
#include <boost/asio/execution.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/prefer.hpp>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace brook::broker::quota {

// Monotonic nanoseconds; the broker's is steady_clock, tests substitute their own.
using request_clock = int64_t (*)();
int64_t steady_nanos();

class request_meter : public std::enable_shared_from_this<request_meter> {
 public:
  explicit request_meter(request_clock clock) : clock_(clock) {}

  // Time counted so far, the slice running now included.
  int64_t elapsed_nanos() const;
  // Adds time spent for this request elsewhere (its blocking work on the pool).
  void add(int64_t nanos) { nanos_.fetch_add(nanos, std::memory_order_relaxed); }
  request_clock clock() const { return clock_; }

  // Runs `f` as one slice of this request, on the calling thread.
  template <class F>
  void run_slice(F& f);

  // The meter of the request whose slice runs on this thread (nullptr: none).
  static request_meter* current();

 private:
  struct slice_state;
  void begin_slice(slice_state& saved);
  void end_slice(const slice_state& saved);

  request_clock clock_;
  std::atomic<int64_t> nanos_{0};
};

struct request_meter::slice_state {
  request_meter* meter = nullptr;
  int64_t started = 0;
};

template <class F>
void request_meter::run_slice(F& f) {
  if (current() == this) {
    std::move(f)();
    return;
  }
  slice_state saved;
  begin_slice(saved);
  try {
    std::move(f)();
  } catch (...) {
    end_slice(saved);
    throw;
  }
  end_slice(saved);
}

// An executor that runs what it is given as slices of one request (see above), on `Inner`.
template <class Inner>
class metered_executor {
 public:
  metered_executor(Inner inner, std::shared_ptr<request_meter> meter)
      : inner_(std::move(inner)), meter_(std::move(meter)) {}

  template <class F>
  void execute(F&& f) const {
    inner_.execute([meter = meter_, f = std::forward<F>(f)]() mutable {
      meter->run_slice(f);
    });
  }

  template <class Property>
    requires boost::asio::can_query_v<const Inner&, const Property&>
  decltype(auto) query(const Property& p) const {
    return boost::asio::query(inner_, p);
  }

  template <class Property>
    requires boost::asio::can_require_v<const Inner&, const Property&>
  auto require(const Property& p) const {
    using next = std::decay_t<decltype(boost::asio::require(inner_, p))>;
    return metered_executor<next>(boost::asio::require(inner_, p), meter_);
  }

  template <class Property>
    requires boost::asio::can_prefer_v<const Inner&, const Property&>
  auto prefer(const Property& p) const {
    using next = std::decay_t<decltype(boost::asio::prefer(inner_, p))>;
    return metered_executor<next>(boost::asio::prefer(inner_, p), meter_);
  }

  bool operator==(const metered_executor& other) const noexcept {
    return inner_ == other.inner_ && meter_ == other.meter_;
  }
  bool operator!=(const metered_executor& other) const noexcept { return !(*this == other); }

  const Inner& inner() const { return inner_; }
  const std::shared_ptr<request_meter>& meter() const { return meter_; }

 private:
  Inner inner_;
  std::shared_ptr<request_meter> meter_;
};

}  // namespace brook::broker::quota
