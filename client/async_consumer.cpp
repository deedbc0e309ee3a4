#include "brook/client/async_consumer.hpp"

#include "client/consuming/consumer_engine.hpp"

namespace brook::client {

using boost::asio::awaitable;
using common::result;
using consuming::clock;

result<std::unique_ptr<async_consumer>> async_consumer::create(boost::asio::any_io_executor executor,
                                                               const properties& given) {
  core::properties props(given.begin(), given.end());
  auto config = consuming::consumer_config::parse(props);
  if (!config) return config.err();
  std::unique_ptr<async_consumer> c(new async_consumer());
  c->engine_ = std::make_unique<consuming::consumer_engine>(executor, std::move(*config));
  return c;
}

async_consumer::~async_consumer() = default;

void async_consumer::run_callbacks() {
  for (auto& cb : engine_->take_callbacks()) cb();
}

result<void> async_consumer::subscribe(const std::vector<std::string>& topics, std::shared_ptr<rebalance_listener> listener) {
  return engine_->subscribe({topics.begin(), topics.end()}, std::move(listener));
}

result<void> async_consumer::subscribe_pattern(const std::string& regex, std::shared_ptr<rebalance_listener> listener) {
  return engine_->subscribe_pattern(regex, std::move(listener));
}

result<void> async_consumer::assign(const std::vector<topic_partition>& partitions) {
  return engine_->assign({partitions.begin(), partitions.end()});
}

awaitable<result<void>> async_consumer::unsubscribe() {
  auto r = co_await engine_->unsubscribe();
  run_callbacks();
  co_return r;
}

std::set<topic_partition> async_consumer::assignment() const { return engine_->subscriptions().assigned_partitions(); }

awaitable<result<std::vector<consumer_record>>> async_consumer::poll(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    run_callbacks();
    auto left = std::max(std::chrono::milliseconds(0),
                         std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
    auto r = co_await engine_->poll(left);
    run_callbacks();
    if (!engine_->take_yield() || !r || !r->empty() || clock::now() >= deadline) co_return r;
  }
}

awaitable<result<void>> async_consumer::commit(std::optional<topic_partition_offsets> offsets,
                                               std::chrono::milliseconds timeout) {
  auto r = co_await engine_->commit_sync(std::move(offsets), clock::now() + timeout);
  run_callbacks();
  co_return r;
}

awaitable<result<std::map<topic_partition, std::optional<offset_and_metadata>>>> async_consumer::committed(
    std::set<topic_partition> partitions, std::chrono::milliseconds timeout) {
  co_return co_await engine_->committed(std::move(partitions), clock::now() + timeout);
}

awaitable<result<int64_t>> async_consumer::position(topic_partition tp, std::chrono::milliseconds timeout) {
  co_return co_await engine_->position(std::move(tp), clock::now() + timeout);
}

awaitable<result<std::map<topic_partition, std::optional<offset_and_timestamp>>>> async_consumer::offsets_for_times(
    std::map<topic_partition, int64_t> timestamps, std::chrono::milliseconds timeout) {
  for (const auto& [tp, ts] : timestamps)
    if (ts < 0)
      co_return common::error{common::kafka_error::invalid_request, "The target time cannot be negative."};
  co_return co_await engine_->list_offsets(std::move(timestamps), clock::now() + timeout);
}

result<void> async_consumer::seek(const topic_partition& tp, int64_t offset) {
  return engine_->seek(tp, offset, std::nullopt);
}

result<void> async_consumer::seek(const topic_partition& tp, const offset_and_metadata& position) {
  return engine_->seek(tp, position.offset, position.leader_epoch);
}

void async_consumer::wakeup() { engine_->wakeup(); }

result<void> async_consumer::seek_to_beginning(const std::vector<topic_partition>& partitions) {
  return engine_->seek_to(partitions, consuming::offset_reset_strategy::earliest);
}

result<void> async_consumer::seek_to_end(const std::vector<topic_partition>& partitions) {
  return engine_->seek_to(partitions, consuming::offset_reset_strategy::latest);
}

result<void> async_consumer::pause(const std::vector<topic_partition>& partitions) {
  return engine_->pause(partitions, true);
}

result<void> async_consumer::resume(const std::vector<topic_partition>& partitions) {
  return engine_->pause(partitions, false);
}

awaitable<result<void>> async_consumer::close(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  co_await engine_->prepare_close(deadline);
  run_callbacks();  // on_partitions_revoked, while the member can still commit
  auto r = co_await engine_->close(deadline);
  run_callbacks();
  co_return r;
}

}  // namespace brook::client
