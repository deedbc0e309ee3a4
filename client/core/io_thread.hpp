// A private I/O thread for the blocking face of a client: one io_context run by one thread, so that
// the engine (which expects a single-threaded executor) is driven without the caller running Asio.
//
// Owner: one blocking client object. Invariants: the thread runs from construction until
// destruction (a work guard keeps it alive while idle); run() must not be called from the thread
// itself, since it blocks until the awaitable completes there.
#pragma once

#include <future>
#include <thread>
#include <type_traits>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/detached.hpp>

namespace brook::client::core {

class io_thread {
 public:
  io_thread() : work_(asio::make_work_guard(ctx_)), thread_([this] { ctx_.run(); }) {}
  ~io_thread() { stop(); }
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  asio::io_context::executor_type executor() { return ctx_.get_executor(); }
  bool on_this_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // Runs `task` on the thread and waits for its value (an exception it throws is rethrown here).
  template <class T>
  T run(asio::awaitable<T> task) {
    std::promise<T> promise;
    auto future = promise.get_future();
    asio::co_spawn(ctx_, deliver(std::move(task), &promise), asio::detached);
    return future.get();
  }

  // Lets the thread finish what is queued and joins it; idempotent.
  void stop() {
    work_.reset();
    if (thread_.joinable()) {
      if (on_this_thread()) thread_.detach();
      else thread_.join();
    }
  }

 private:
  template <class T>
  static asio::awaitable<void> deliver(asio::awaitable<T> task, std::promise<T>* promise) {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(task);
        promise->set_value();
      } else {
        promise->set_value(co_await std::move(task));
      }
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  }

  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace brook::client::core
