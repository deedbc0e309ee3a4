// A rate over sampled time windows, measured as Kafka's quota sensors measure it (its Rate over a
// WindowedSum, Kafka 4.x): a ring of window_count + 1 samples, each window_ms long and started by the
// first value recorded after the previous one ended; samples window_count * window_ms old count for
// nothing; the rate is the sum of the live samples over the time they span, that span stretched to at
// least window_count - 1 full windows (so that a new sensor does not see a burst as a huge rate).
//
// Owner: one quota sensor (broker/quota/client_quota_manager.hpp), on the network thread. Times are
// milliseconds of a monotonic clock the caller reads. Invariants: at most window_count + 1 samples;
// current_ indexes the sample being filled.
#pragma once

#include <cstdint>
#include <vector>

namespace brook::broker::quota {

// quota.window.num and quota.window.size.seconds.
struct window_config {
  int32_t window_count = 11;
  int64_t window_ms = 1000;
};

class sampled_rate {
 public:
  // Adds `value` (negative: takes it back) to the sample covering now_ms.
  void record(double value, int64_t now_ms, const window_config& config);
  // Units per second over the live samples.
  double measure(int64_t now_ms, const window_config& config);
  // The span in milliseconds the rate is measured over (at least 1).
  int64_t window_size_ms(int64_t now_ms, const window_config& config);

 private:
  struct sample {
    double value = 0;
    int64_t start_ms = 0;
  };
  sample& current(int64_t now_ms);
  // Resets the samples that have aged out: they count for nothing and restart at now_ms.
  void purge_obsolete(int64_t now_ms, const window_config& config);

  std::vector<sample> samples_;
  size_t current_ = 0;
};

// Kafka's QuotaUtils.throttleTime: how long a client measured at `rate`, over the bound `bound`, must
// stay quiet for its rate over `window_size_ms` to fall back to the bound: (rate - bound) / bound *
// window_size_ms, rounded half up.
int64_t throttle_time_ms(double rate, double bound, int64_t window_size_ms);

}  // namespace brook::broker::quota
