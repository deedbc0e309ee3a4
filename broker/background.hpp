// Supervised background coroutines: a long-lived coroutine (a timer loop, a writer, maintenance)
// spawned with `detached` loses its exception silently and whatever waited on it waits forever.
// spawn_supervised logs the exception under the task's name and then asks `after_crash` what to do:
// it repairs the owner's state (fails waiters, clears "running" flags) and returns true to start a
// fresh coroutine from `make`, false to leave it stopped.
//
// Owner: whoever spawns; the completion runs on `ex`, the same executor as the coroutine, so
// `after_crash` may touch the state the coroutine touched.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <exception>
#include <functional>
#include <spdlog/spdlog.h>
#include <string>
#include <utility>

namespace brook::broker {

// `ex` is an executor (not an execution context); `make` returns a new awaitable<void> each call.
template <class Executor, class Factory>
void spawn_supervised(const Executor& ex, std::string name, Factory make, std::function<bool()> after_crash) {
  auto awaitable = make();
  boost::asio::co_spawn(ex, std::move(awaitable),
                        [ex, name = std::move(name), make = std::move(make),
                         after_crash = std::move(after_crash)](std::exception_ptr failure) mutable {
                          if (!failure) return;
                          try {
                            std::rethrow_exception(failure);
                          } catch (const std::exception& e) {
                            spdlog::error("background task '{}' failed: {}", name, e.what());
                          } catch (...) {
                            spdlog::error("background task '{}' failed with a non-standard exception", name);
                          }
                          const bool restart = after_crash ? after_crash() : false;
                          if (restart) {
                            spdlog::warn("background task '{}' restarted", name);
                            spawn_supervised(ex, std::move(name), std::move(make), std::move(after_crash));
                          }
                        });
}

}  // namespace brook::broker
