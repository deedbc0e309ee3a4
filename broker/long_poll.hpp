// Parking a request until data may have arrived (Fetch long polls). The request waits on a timer
// that every append to a watched partition cancels, that its connection's wait set cancels when the
// connection closes or the broker shuts down, and whose deadline ends the wait. Stateless: the
// timer lives for one wait; network thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <vector>

#include "broker/partition_manager.hpp"
#include "broker/wait_set.hpp"

namespace brook::broker {

enum class long_poll_wake {
  notified,   // a watched partition was appended to (or the wait ended early): gather again
  deadline,   // the deadline passed
  cancelled,  // the connection closed or the broker is stopping: answer now, never park again
};

// `waits` may be null (no connection to cancel it); the caller re-checks its own state after every
// return, since anything may have changed while it was parked.
boost::asio::awaitable<long_poll_wake> wait_for_appends(boost::asio::any_io_executor executor,
                                                        partition_manager& partitions, wait_set* waits,
                                                        const std::vector<log::topic_partition>& watched,
                                                        std::chrono::steady_clock::time_point deadline);

}  // namespace brook::broker
