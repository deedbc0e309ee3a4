#include "broker/quota/request_meter.hpp"

#include <chrono>

namespace brook::broker::quota {

namespace {
// The slice running on this thread: whose meter, and since when.
thread_local request_meter* running_meter = nullptr;
thread_local int64_t running_since = 0;
}  // namespace

int64_t steady_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

request_meter* request_meter::current() { return running_meter; }

int64_t request_meter::elapsed_nanos() const {
  int64_t total = nanos_.load(std::memory_order_relaxed);
  if (running_meter == this) total += clock_() - running_since;
  return total;
}

void request_meter::begin_slice(slice_state& saved) {
  const int64_t now = clock_();
  saved.meter = running_meter;
  if (saved.meter) saved.meter->add(now - running_since);  // the outer request's slice pauses here
  running_meter = this;
  running_since = now;
}

void request_meter::end_slice(const slice_state& saved) {
  const int64_t now = clock_();
  add(now - running_since);
  running_meter = saved.meter;
  if (saved.meter) running_since = saved.meter->clock_();  // and resumes
}

}  // namespace brook::broker::quota
