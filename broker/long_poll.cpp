#include "broker/long_poll.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace brook::broker {

namespace asio = boost::asio;

asio::awaitable<long_poll_wake> wait_for_appends(asio::any_io_executor executor, partition_manager& partitions,
                                                 wait_set* waits, const std::vector<log::topic_partition>& watched,
                                                 std::chrono::steady_clock::time_point deadline) {
  if (waits && waits->cancelled()) co_return long_poll_wake::cancelled;
  if (std::chrono::steady_clock::now() >= deadline) co_return long_poll_wake::deadline;
  auto timer = std::make_shared<asio::steady_timer>(executor, deadline);
  if (waits && !waits->add(timer)) co_return long_poll_wake::cancelled;
  for (const auto& tp : watched) partitions.watch(tp, timer);
  auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  for (const auto& tp : watched) partitions.unwatch(tp, timer);
  if (waits) {
    waits->remove(timer);
    if (waits->cancelled()) co_return long_poll_wake::cancelled;
  }
  co_return ec ? long_poll_wake::notified : long_poll_wake::deadline;
}

}  // namespace brook::broker
