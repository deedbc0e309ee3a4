// Runs blocking work (RocksDB syncs, fsync, file deletion) on the broker's blocking pool and resumes
// the calling coroutine on its own executor, so network threads never wait on the disk. Work awaited by
// a metered request counts toward its handling time (broker/quota/request_meter.hpp).
//
// GCC 12 destroys a capturing lambda written inside a co_await expression twice (a compiler bug),
// so here and in callers such lambdas are named first: `auto work = [..] {..};
// co_await run_blocking(pool, work);`. The work object is copied onto the pool.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "broker/quota/request_meter.hpp"

namespace brook::broker {

// Runs `work` on `where` (the blocking pool, or a partition's strand on it) and resumes the caller on
// its own executor with the result.
template <class Executor, class F>
boost::asio::awaitable<std::invoke_result_t<F>> run_on(Executor where, const F& work) {
  using R = std::invoke_result_t<F>;
  // The value travels in an optional because a completion signature needs a default-constructible
  // argument and results are not.
  std::shared_ptr<quota::request_meter> meter;
  if (auto* m = quota::request_meter::current()) meter = m->shared_from_this();
  auto initiate = [&where, &work, &meter](auto handler) {
    boost::asio::post(where, [handler = std::move(handler), f = work, meter = std::move(meter)]() mutable {
      const int64_t started = meter ? meter->clock()() : 0;
      std::optional<R> value(f());
      if (meter) meter->add(meter->clock()() - started);
      auto home = boost::asio::get_associated_executor(handler);
      boost::asio::post(home, [handler = std::move(handler), value = std::move(value)]() mutable {
        std::move(handler)(std::move(value));
      });
    });
  };
  std::optional<R> done = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                                               void(std::optional<R>)>(initiate,
                                                                                       boost::asio::use_awaitable);
  co_return std::move(*done);
}

template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> run_blocking(boost::asio::thread_pool& pool, const F& work) {
  return run_on(pool.get_executor(), work);
}

}  // namespace brook::broker
