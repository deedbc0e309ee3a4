#include "brook/client/consumer.hpp"

#include "client/consuming/consumer_engine.hpp"
#include "client/core/io_thread.hpp"

namespace brook::client {

using common::result;
using consuming::clock;

namespace {

// Runs a task on the I/O thread and waits for its value (which need not be default-constructible).
template <class T>
T run_on(core::io_thread& io, boost::asio::awaitable<T> task) {
  auto wrapped = [](boost::asio::awaitable<T> t) -> boost::asio::awaitable<std::optional<T>> {
    co_return std::optional<T>(co_await std::move(t));
  };
  return std::move(*io.run(wrapped(std::move(task))));
}

inline void run_on(core::io_thread& io, boost::asio::awaitable<void> task) { io.run(std::move(task)); }

}  // namespace

consumer::consumer() = default;

consumer::~consumer() {
  if (!closed_) (void)close();
  if (io_) io_->stop();
}

result<std::unique_ptr<consumer>> consumer::create(const properties& given) {
  core::properties props(given.begin(), given.end());
  auto config = consuming::consumer_config::parse(props);
  if (!config) return config.err();
  std::unique_ptr<consumer> c(new consumer());
  c->io_ = std::make_unique<core::io_thread>();
  c->engine_ = std::make_unique<consuming::consumer_engine>(c->io_->executor(), std::move(*config));
  return c;
}

void consumer::run_callbacks() {
  auto callbacks = run_on(*io_, [this]() -> boost::asio::awaitable<std::vector<std::function<void()>>> {
    co_return engine_->take_callbacks();
  }());
  for (auto& cb : callbacks) cb();
}

result<void> consumer::subscribe(const std::vector<std::string>& topics, std::shared_ptr<rebalance_listener> listener) {
  std::set<std::string> set(topics.begin(), topics.end());
  return run_on(*io_, [&]() -> boost::asio::awaitable<result<void>> { co_return engine_->subscribe(set, listener); }());
}

result<void> consumer::subscribe_pattern(const std::string& regex, std::shared_ptr<rebalance_listener> listener) {
  return run_on(*io_, 
      [&]() -> boost::asio::awaitable<result<void>> { co_return engine_->subscribe_pattern(regex, listener); }());
}

result<void> consumer::assign(const std::vector<topic_partition>& partitions) {
  std::set<topic_partition> set(partitions.begin(), partitions.end());
  return run_on(*io_, [&]() -> boost::asio::awaitable<result<void>> { co_return engine_->assign(set); }());
}

result<void> consumer::unsubscribe() {
  auto r = run_on(*io_, engine_->unsubscribe());
  run_callbacks();
  return r;
}

std::set<topic_partition> consumer::assignment() const {
  return run_on(*io_, [&]() -> boost::asio::awaitable<std::set<topic_partition>> {
    co_return engine_->subscriptions().assigned_partitions();
  }());
}

std::set<std::string> consumer::subscription() const {
  return run_on(*io_, 
      [&]() -> boost::asio::awaitable<std::set<std::string>> { co_return engine_->subscriptions().subscription(); }());
}

result<std::vector<consumer_record>> consumer::poll(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  // One trip to the I/O thread a round (each trip wakes it and then this thread): the callbacks waiting there
  // come back first, to run here before the engine polls; else the engine polls, and its callbacks and
  // whether it stopped for them come back with its answer.
  struct round {
    std::vector<std::function<void()>> callbacks;
    std::optional<result<std::vector<consumer_record>>> polled;  // nullopt: callbacks to run first
    bool yielded = false;
  };
  for (;;) {
    auto r = run_on(*io_, [this, deadline]() -> boost::asio::awaitable<round> {
      round out;
      out.callbacks = engine_->take_callbacks();
      if (!out.callbacks.empty()) co_return out;
      const auto left = std::max(std::chrono::milliseconds(0),
                                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
      out.polled.emplace(co_await engine_->poll(left));
      out.callbacks = engine_->take_callbacks();
      // The engine stops mid-rebalance so that the listener runs here first; then the rebalance goes on.
      out.yielded = engine_->take_yield();
      co_return out;
    }());
    for (auto& cb : r.callbacks) cb();
    if (!r.polled) continue;
    if (!r.yielded || !*r.polled || !(*r.polled)->empty() || clock::now() >= deadline) return std::move(*r.polled);
  }
}

result<void> consumer::commit_sync(std::chrono::milliseconds timeout) {
  auto r = run_on(*io_, engine_->commit_sync(std::nullopt, clock::now() + timeout));
  run_callbacks();
  return r;
}

result<void> consumer::commit_sync(const topic_partition_offsets& offsets, std::chrono::milliseconds timeout) {
  auto r = run_on(*io_, engine_->commit_sync(offsets, clock::now() + timeout));
  run_callbacks();
  return r;
}

void consumer::commit_async(commit_callback callback) {
  run_on(*io_, [&]() -> boost::asio::awaitable<void> {
    engine_->commit_async(std::nullopt, callback);
    co_return;
  }());
}

void consumer::commit_async(const topic_partition_offsets& offsets, commit_callback callback) {
  run_on(*io_, [&]() -> boost::asio::awaitable<void> {
    engine_->commit_async(offsets, callback);
    co_return;
  }());
}

result<void> consumer::seek(const topic_partition& tp, int64_t offset) {
  return run_on(*io_, 
      [&]() -> boost::asio::awaitable<result<void>> { co_return engine_->seek(tp, offset, std::nullopt); }());
}

result<void> consumer::seek(const topic_partition& tp, const offset_and_metadata& position) {
  return run_on(*io_, [&]() -> boost::asio::awaitable<result<void>> {
    co_return engine_->seek(tp, position.offset, position.leader_epoch);
  }());
}

result<void> consumer::seek_to_beginning(const std::vector<topic_partition>& partitions) {
  return run_on(*io_, [&]() -> boost::asio::awaitable<result<void>> {
    co_return engine_->seek_to(partitions, consuming::offset_reset_strategy::earliest);
  }());
}

result<void> consumer::seek_to_end(const std::vector<topic_partition>& partitions) {
  return run_on(*io_, [&]() -> boost::asio::awaitable<result<void>> {
    co_return engine_->seek_to(partitions, consuming::offset_reset_strategy::latest);
  }());
}

result<int64_t> consumer::position(const topic_partition& tp, std::chrono::milliseconds timeout) {
  return run_on(*io_, engine_->position(tp, clock::now() + timeout));
}

result<std::map<topic_partition, std::optional<offset_and_metadata>>> consumer::committed(
    const std::set<topic_partition>& partitions, std::chrono::milliseconds timeout) {
  return run_on(*io_, engine_->committed(partitions, clock::now() + timeout));
}

result<std::map<topic_partition, std::optional<offset_and_timestamp>>> consumer::offsets_for_times(
    const std::map<topic_partition, int64_t>& timestamps, std::chrono::milliseconds timeout) {
  for (const auto& [tp, ts] : timestamps)
    if (ts < 0)
      return common::error{common::kafka_error::invalid_request,
                           "The target time for partition " + tp.topic + "-" + std::to_string(tp.partition) +
                               " is " + std::to_string(ts) + ". The target time cannot be negative."};
  return run_on(*io_, engine_->list_offsets(timestamps, clock::now() + timeout));
}

namespace {
result<std::map<topic_partition, int64_t>> offsets_only(
    result<std::map<topic_partition, std::optional<offset_and_timestamp>>> r) {
  if (!r) return r.err();
  std::map<topic_partition, int64_t> out;
  for (const auto& [tp, o] : *r) out[tp] = o ? o->offset : -1;
  return out;
}
}  // namespace

result<std::map<topic_partition, int64_t>> consumer::beginning_offsets(const std::vector<topic_partition>& partitions,
                                                                       std::chrono::milliseconds timeout) {
  std::map<topic_partition, int64_t> asks;
  for (const auto& tp : partitions) asks[tp] = -2;
  return offsets_only(run_on(*io_, engine_->list_offsets(asks, clock::now() + timeout)));
}

result<std::map<topic_partition, int64_t>> consumer::end_offsets(const std::vector<topic_partition>& partitions,
                                                                 std::chrono::milliseconds timeout) {
  std::map<topic_partition, int64_t> asks;
  for (const auto& tp : partitions) asks[tp] = -1;
  return offsets_only(run_on(*io_, engine_->list_offsets(asks, clock::now() + timeout)));
}

result<void> consumer::pause(const std::vector<topic_partition>& partitions) {
  return run_on(*io_, [&]() -> boost::asio::awaitable<result<void>> { co_return engine_->pause(partitions, true); }());
}

result<void> consumer::resume(const std::vector<topic_partition>& partitions) {
  return run_on(*io_, [&]() -> boost::asio::awaitable<result<void>> { co_return engine_->pause(partitions, false); }());
}

std::set<topic_partition> consumer::paused() const {
  return run_on(*io_, [&]() -> boost::asio::awaitable<std::set<topic_partition>> {
    co_return engine_->subscriptions().paused_partitions();
  }());
}

std::string consumer::member_id() const {
  return run_on(*io_, [&]() -> boost::asio::awaitable<std::string> { co_return engine_->member_id(); }());
}

int32_t consumer::generation() const {
  return run_on(*io_, [&]() -> boost::asio::awaitable<int32_t> { co_return engine_->generation(); }());
}

void consumer::wakeup() { engine_->wakeup(); }

result<void> consumer::close(std::chrono::milliseconds timeout) {
  if (closed_) return {};
  const auto deadline = clock::now() + timeout;
  run_on(*io_, engine_->prepare_close(deadline));
  run_callbacks();  // on_partitions_revoked, while the member can still commit
  auto r = run_on(*io_, engine_->close(deadline));
  run_callbacks();
  closed_ = true;
  return r;
}

}  // namespace brook::client
