#include "broker/quota/sampled_rate.hpp"

#include <algorithm>
#include <cmath>

namespace brook::broker::quota {

sampled_rate::sample& sampled_rate::current(int64_t now_ms) {
  if (samples_.empty()) samples_.push_back({0, now_ms});
  return samples_[current_];
}

void sampled_rate::record(double value, int64_t now_ms, const window_config& config) {
  sample* s = &current(now_ms);
  if (now_ms - s->start_ms >= config.window_ms) {
    // The window is over: move to the next slot of the ring, a new sample until the ring is full.
    current_ = (current_ + 1) % (static_cast<size_t>(config.window_count) + 1);
    if (current_ >= samples_.size()) {
      samples_.push_back({0, now_ms});
    } else {
      samples_[current_] = {0, now_ms};
    }
    s = &samples_[current_];
  }
  s->value += value;
}

void sampled_rate::purge_obsolete(int64_t now_ms, const window_config& config) {
  const int64_t expire_age = static_cast<int64_t>(config.window_count) * config.window_ms;
  for (auto& s : samples_)
    if (now_ms - s.start_ms >= expire_age) s = {0, now_ms};
}

int64_t sampled_rate::window_size_ms(int64_t now_ms, const window_config& config) {
  purge_obsolete(now_ms, config);
  if (samples_.empty()) samples_.push_back({0, now_ms});
  // The oldest sample: the first of the earliest start, as the ring is scanned from its first slot.
  int64_t oldest_start = samples_.front().start_ms;
  for (const auto& s : samples_) oldest_start = std::min(oldest_start, s.start_ms);
  int64_t elapsed = now_ms - oldest_start;
  const int64_t full_windows = elapsed / config.window_ms;
  const int64_t min_full_windows = config.window_count - 1;
  // A young sensor is measured over window_count - 1 windows at least: its first burst is spread out.
  if (full_windows < min_full_windows) elapsed += (min_full_windows - full_windows) * config.window_ms;
  return std::max<int64_t>(elapsed, 1);
}

double sampled_rate::measure(int64_t now_ms, const window_config& config) {
  purge_obsolete(now_ms, config);
  double total = 0;
  for (const auto& s : samples_) total += s.value;
  return total / (static_cast<double>(window_size_ms(now_ms, config)) / 1000.0);
}

int64_t throttle_time_ms(double rate, double bound, int64_t window_size_ms) {
  const double throttle = (rate - bound) / bound * static_cast<double>(window_size_ms);
  // Java's Math.round: half up.
  return static_cast<int64_t>(std::floor(throttle + 0.5));
}

}  // namespace brook::broker::quota
