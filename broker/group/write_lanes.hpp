// Ordered metadata-store writes per group. Writes for one group (its metadata, its offsets, its
// deletion) must land in the order they were issued, or a write issued before a DeleteGroups can
// land after it (the group comes back after a restart) and two commits of one partition can land
// in the opposite order of the cache updates. Each group id hashes to one of a fixed set of
// strands on the blocking pool: a strand runs its work one at a time in submission order, and
// different groups still write in parallel.
//
// Owner: group_service (submissions from the network thread; the work runs on the pool).
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string_view>
#include <vector>

#include "broker/blocking.hpp"

namespace brook::broker::group {

class write_lanes {
 public:
  using lane = boost::asio::strand<boost::asio::thread_pool::executor_type>;
  static constexpr size_t default_lanes = 16;

  explicit write_lanes(boost::asio::thread_pool& pool, size_t count = default_lanes) {
    lanes_.reserve(count);
    for (size_t i = 0; i < count; ++i) lanes_.push_back(boost::asio::make_strand(pool.get_executor()));
  }

  const lane& for_group(std::string_view group_id) const {
    return lanes_[std::hash<std::string_view>{}(group_id) % lanes_.size()];
  }
  size_t index_of(std::string_view group_id) const { return std::hash<std::string_view>{}(group_id) % lanes_.size(); }
  const lane& at(size_t index) const { return lanes_[index]; }

  // Queues `work` on the group's lane now and resumes the caller with its result. The queueing
  // happens when the co_await starts, so the order of co_awaits is the order of the writes.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> run(std::string_view group_id, const F& work) const {
    return run_on(for_group(group_id), work);
  }

 private:
  std::vector<lane> lanes_;
};

}  // namespace brook::broker::group
