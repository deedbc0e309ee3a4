// The timers that one connection's requests are parked on (Fetch long polls), so that the requests
// end at once when their connection closes or the broker shuts down.
//
// Owned by the connection (shared with the requests it serves); network thread only. Invariant:
// once cancel_all() has run, every timer in the set has been cancelled and add() refuses new ones,
// so a waiter checks cancelled() after every wake-up and never parks again.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <set>

namespace brook::broker {

class wait_set {
 public:
  // False (nothing added) once the set is cancelled: the caller must not park.
  bool add(const std::shared_ptr<boost::asio::steady_timer>& timer) {
    if (cancelled_) return false;
    timers_.insert(timer);
    return true;
  }
  void remove(const std::shared_ptr<boost::asio::steady_timer>& timer) { timers_.erase(timer); }
  void cancel_all() {
    cancelled_ = true;
    auto timers = std::move(timers_);
    timers_.clear();
    for (const auto& t : timers) t->cancel();
  }
  bool cancelled() const { return cancelled_; }
  size_t size() const { return timers_.size(); }

 private:
  std::set<std::shared_ptr<boost::asio::steady_timer>> timers_;
  bool cancelled_ = false;
};

}  // namespace brook::broker
