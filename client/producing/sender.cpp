#include "client/producing/sender.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client/core/errors.hpp"

namespace brook::client::producing {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;
using asio::awaitable;
using common::error;
using common::kafka_error;

cluster_snapshot snapshot_of(const core::metadata_snapshot& metadata) {
  cluster_snapshot out;
  for (const auto& [name, topic] : metadata.topics) {
    if (topic.error != kafka_error::none || topic.partitions.empty()) continue;
    auto& parts = out.topics[name];
    for (const auto& p : topic.partitions) {
      const auto leader = metadata.leader_for(name, p.partition);
      parts.push_back({p.partition, leader.value_or(-1), p.leader_epoch});
    }
  }
  return out;
}

sender::sender(producer_config config, core::cluster& cluster, record_accumulator& accumulator,
               idempotence_manager* idempotence, const clock& clock)
    : config_(std::move(config)),
      cluster_(cluster),
      accumulator_(accumulator),
      idempotence_(idempotence),
      clock_(clock),
      wake_timer_(cluster.executor()),
      metadata_backoff_(config_.retry_backoff_ms, config_.retry_backoff_max_ms),
      snapshot_(std::make_shared<cluster_snapshot>()) {}

void sender::wakeup() {
  // One pending wake-up is enough: the loop reads woken_ before it waits and clears it after, so a wake-up
  // that finds woken_ already set is covered by the one that set it (appends may call this per record).
  if (woken_.exchange(true)) return;
  asio::post(cluster_.executor(), [this] { wake_timer_.cancel(); });
}

void sender::add_topic(const std::string& topic) { add_topic(topic, clock_.now_ms()); }

void sender::add_topic(const std::string& topic, int64_t now_ms) {
  std::lock_guard lock(shared_mutex_);
  topics_[topic] = now_ms;
}

std::shared_ptr<const cluster_snapshot> sender::current_snapshot() const {
  std::lock_guard lock(shared_mutex_);
  return snapshot_;
}

void sender::update_snapshot() {
  auto metadata = cluster_.metadata();
  std::lock_guard lock(shared_mutex_);
  if (metadata == snapshot_source_) return;
  snapshot_source_ = metadata;
  snapshot_ = std::make_shared<cluster_snapshot>(snapshot_of(*metadata));
}

awaitable<common::result<std::shared_ptr<const cluster_snapshot>>> sender::fetch_topic(std::string topic) {
  add_topic(topic);
  // The producer may create topics on first use, as Java's producer asks Metadata to.
  const std::vector<std::string> wanted{topic};
  auto r = co_await cluster_.refresh_metadata(wanted, true);
  if (!r) co_return r.err();
  update_snapshot();
  auto snap = current_snapshot();
  const auto* t = (*r)->topic(topic);
  if (!t) co_return error{kafka_error::unknown_topic_or_partition, "Topic " + topic + " not present in metadata"};
  if (t->error != kafka_error::none)
    co_return error{t->error, fmt::format("Topic {}: {}", topic, common::error_name(t->error))};
  co_return snap;
}

void sender::initiate_close() {
  closing_ = true;
  accumulator_.close();
  wakeup();
}

void sender::force_close(common::error why) {
  forced_reason_ = std::move(why);
  forced_ = true;
  initiate_close();
}

bool sender::has_in_flight() const {
  for (const auto& [node, n] : in_flight_requests_)
    if (n > 0) return true;
  return false;
}

awaitable<void> sender::run() {
  while (true) {
    if (forced_) {
      for (const auto& b : accumulator_.abort_undrained_batches(forced_reason_)) {
        b->fail(forced_reason_);
        accumulator_.deallocate(b);
      }
      // Batches in flight fail now too: their answers will find them done.
      for (auto& [tp, batches] : in_flight_batches_)
        for (const auto& b : batches) {
          if (b->fail(forced_reason_)) accumulator_.deallocate(b);
        }
      in_flight_batches_.clear();
      co_return;
    }
    if (closing_ && !accumulator_.has_undrained() && !has_in_flight()) {
      // Every queued batch was drained and answered (or failed).
      if (!accumulator_.has_incomplete()) co_return;
    }
    co_await run_once();
  }
}

awaitable<void> sender::run_once() {
  const int64_t now = clock_.now_ms();
  int64_t poll_ms = 1000;

  if (idempotence_) {
    if (auto fatal = idempotence_->fatal_error()) {
      // The producer cannot go on: everything queued fails with the fatal error.
      for (const auto& b : accumulator_.abort_undrained_batches(*fatal)) {
        b->fail(*fatal);
        accumulator_.deallocate(b);
      }
    } else {
      idempotence_->maybe_resolve_sequences();
      if (idempotence_->bump_epoch_and_reset_id_if_needed()) initializing_producer_id_ = false;
      if (!idempotence_->has_producer_id() && !initializing_producer_id_ && now >= next_init_attempt_ms_) {
        initializing_producer_id_ = true;
        asio::co_spawn(cluster_.executor(), init_producer_id(), asio::detached);
      }
    }
  }

  {
    bool refresh = metadata_update_requested_ || cluster_.metadata_stale();
    if (refresh && !metadata_refreshing_ && now >= next_metadata_attempt_ms_) {
      metadata_refreshing_ = true;
      metadata_update_requested_ = false;
      asio::co_spawn(cluster_.executor(), refresh_metadata(), asio::detached);
    }
  }
  update_snapshot();
  const auto snapshot = current_snapshot();

  auto ready = accumulator_.ready(*snapshot, now);
  if (!ready.unknown_leader_topics.empty()) metadata_update_requested_ = true;

  std::set<int32_t> sendable;
  for (int32_t node : ready.ready_nodes) {
    const bool can_send = in_flight_requests_[node] < config_.max_in_flight_requests_per_connection;
    accumulator_.update_node_latency_stats(node, now, can_send);
    if (can_send) sendable.insert(node);
  }
  auto drained = accumulator_.drain(*snapshot, sendable, config_.max_request_size, now);
  for (auto& [node, batches] : drained) {
    if (batches.empty()) continue;
    for (const auto& b : batches) in_flight_batches_[b->tp()].push_back(b);
    ++in_flight_requests_[node];
    asio::co_spawn(cluster_.executor(), send_produce(node, std::move(batches)), asio::detached);
  }

  fail_expired(now);

  poll_ms = std::min<int64_t>(poll_ms, ready.next_ready_check_delay_ms);
  const int64_t expiry = accumulator_.next_expiry_time_ms();
  if (expiry != INT64_MAX) poll_ms = std::min<int64_t>(poll_ms, std::max<int64_t>(expiry - now, 0));
  if ((!ready.unknown_leader_topics.empty() || metadata_update_requested_) && !metadata_refreshing_)
    poll_ms = std::min<int64_t>(poll_ms, std::max<int64_t>(next_metadata_attempt_ms_ - now, 10));
  // (An InitProducerId under way wakes the loop when it ends.)
  if (idempotence_ && !idempotence_->has_producer_id() && !initializing_producer_id_)
    poll_ms = std::min<int64_t>(poll_ms, std::max<int64_t>(next_init_attempt_ms_ - now, 10));
  if (closing_ && accumulator_.has_undrained()) poll_ms = std::min<int64_t>(poll_ms, 10);
  poll_ms = std::max<int64_t>(poll_ms, 0);

  if (woken_.exchange(false)) co_return;
  if (poll_ms == 0) co_return;
  wake_timer_.expires_after(std::chrono::milliseconds(poll_ms));
  boost::system::error_code ec;
  co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  woken_ = false;
}

void sender::fail_expired(int64_t now) {
  // Queued batches past delivery.timeout.ms.
  for (const auto& b : accumulator_.expired_batches(now)) {
    const error e{kafka_error::request_timed_out,
                  fmt::format("Expiring {} record(s) for {}-{}: {} ms has passed since batch creation",
                              b->record_count(), b->tp().topic, b->tp().partition, now - b->created_ms())};
    if (b->fail(e)) {
      if (idempotence_) {
        idempotence_->handle_failed_batch(b, e, false);
        if (b->in_retry()) idempotence_->mark_sequence_unresolved(*b);
      }
      accumulator_.deallocate(b);
    }
  }
  // In-flight batches too: their answers are ignored once they are done.
  for (auto& [tp, batches] : in_flight_batches_) {
    for (const auto& b : batches) {
      if (b->is_done() || !b->has_reached_delivery_timeout(config_.delivery_timeout_ms, now)) continue;
      const error e{kafka_error::request_timed_out,
                    fmt::format("Expiring {} record(s) for {}-{}: {} ms has passed since batch creation",
                                b->record_count(), tp.topic, tp.partition, now - b->created_ms())};
      if (b->fail(e)) {
        if (idempotence_) {
          idempotence_->handle_failed_batch(b, e, false);
          // A retried batch may or may not have been written: its sequence is unknown until the rest settle.
          if (b->in_retry()) idempotence_->mark_sequence_unresolved(*b);
        }
        accumulator_.deallocate(b);
      }
    }
  }
}

awaitable<void> sender::refresh_metadata() {
  std::vector<std::string> topics;
  {
    const int64_t now = clock_.now_ms();
    std::lock_guard lock(shared_mutex_);
    for (auto it = topics_.begin(); it != topics_.end();) {
      if (now - it->second > config_.metadata_max_idle_ms) {
        it = topics_.erase(it);  // ProducerMetadata: an idle topic leaves the refresh set
      } else {
        topics.push_back(it->first);
        ++it;
      }
    }
  }
  std::optional<std::vector<std::string>> asked = std::move(topics);
  auto r = co_await cluster_.refresh_metadata(std::move(asked), true);
  metadata_refreshing_ = false;
  if (r) {
    // Java's Metadata keeps retry.backoff.ms between updates even when they succeed, so a partition that
    // stays without a leader is not asked about in a tight loop.
    metadata_attempts_ = 0;
    next_metadata_attempt_ms_ = clock_.now_ms() + config_.retry_backoff_ms;
  } else {
    next_metadata_attempt_ms_ = clock_.now_ms() + metadata_backoff_.backoff(metadata_attempts_++);
    spdlog::debug("producer: metadata refresh failed: {}", r.err().message);
  }
  update_snapshot();
  wakeup();
}

awaitable<void> sender::init_producer_id() {
  proto::init_producer_id::request req;
  req.transactional_id = std::nullopt;
  req.transaction_timeout_ms = INT32_MAX;
  req.producer_id = -1;
  req.producer_epoch = -1;
  std::optional<error> failure;
  auto conn = co_await cluster_.any_connection();
  if (!conn) {
    failure = conn.err();
  } else {
    auto resp = co_await (*conn)->call(req);
    if (!resp) {
      failure = resp.err();
    } else {
      const auto code = static_cast<kafka_error>(resp->body.error_code);
      if (code == kafka_error::none) {
        idempotence_->set_producer_id_and_epoch({resp->body.producer_id, resp->body.producer_epoch});
        init_attempts_ = 0;
        spdlog::debug("producer: producer id {} epoch {}", resp->body.producer_id, resp->body.producer_epoch);
      } else if (core::is_retriable(code)) {
        failure = core::error_from(code, "InitProducerId");
      } else {
        // Java's InitProducerIdHandler: anything else is fatal for an idempotent producer.
        idempotence_->set_fatal_error(core::error_from(code, "InitProducerId"));
      }
    }
  }
  if (failure) {
    if (failure->code == kafka_error::unsupported_version) {
      idempotence_->set_fatal_error(*failure);
    } else {
      next_init_attempt_ms_ = clock_.now_ms() + metadata_backoff_.backoff(init_attempts_++);
      spdlog::debug("producer: InitProducerId failed: {}", failure->message);
    }
  }
  idempotence_->set_initializing(false);
  initializing_producer_id_ = false;
  wakeup();
}

awaitable<void> sender::send_produce(int32_t node, std::vector<batch_ptr> batches) {
  proto::produce::request req;
  req.transactional_id = std::nullopt;
  req.acks = config_.acks;
  req.timeout_ms = config_.request_timeout_ms;
  std::map<std::string, std::vector<batch_ptr>> by_topic;
  for (const auto& b : batches) by_topic[b->tp().topic].push_back(b);
  // About the encoded request's size (the batches, plus a little per topic and partition), so that the
  // connection encodes it into a buffer of the right size at once.
  size_t size_hint = 64;
  for (const auto& b : batches) size_hint += static_cast<size_t>(b->estimated_size_bytes()) + 16 + b->tp().topic.size();
  // v13 names topics by id, which Metadata (v10+) taught us; without every topic's id, at most v12.
  const auto metadata = cluster_.metadata();
  bool all_ids_known = true;
  std::map<common::uuid, std::string> name_of_id;
  for (const auto& [topic, list] : by_topic) {
    proto::produce::topic_produce_data t;
    t.name = topic;
    const core::topic_info* info = metadata->topic(topic);
    if (info && !info->id.is_zero()) {
      t.topic_id = info->id;
      name_of_id[info->id] = topic;
    } else {
      all_ids_known = false;
    }
    for (const auto& b : list) {
      proto::produce::partition_produce_data p;
      p.index = b->tp().partition;
      // Borrowed: the batch (alive in `batches` until this coroutine ends) holds the encoded bytes.
      p.records = proto::record_set::borrow(b->encode_in_place());
      t.partition_data.push_back(std::move(p));
    }
    req.topic_data.push_back(std::move(t));
  }

  auto finish_all = [&](kafka_error code, const std::string& message) {
    for (const auto& b : batches) complete_batch(b, code, message, -1, -1, -1, {});
  };

  auto conn = co_await cluster_.connection_to(node);
  if (!conn) {
    finish_all(kafka_error::network_exception, conn.err().message);
  } else {
    // v3 is the first to carry v2 record batches.
    const auto version = (*conn)->version_for<proto::produce::request>(3, all_ids_known ? proto::produce::max_version : 12);
    if (!version) {
      finish_all(kafka_error::unsupported_version, "the broker serves no Produce version from 3");
    } else if (config_.acks == 0) {
      proto::writer w;
      req.encode(w, *version);
      auto sent = co_await (*conn)->send_raw(proto::produce::api_key, *version, w.take(), false);
      if (!sent) finish_all(sent.err().code, sent.err().message);
      else
        for (const auto& b : batches) complete_batch(b, kafka_error::none, {}, -1, -1, -1, {});
    } else {
      auto resp = co_await (*conn)->call_at(req, *version, size_hint);
      if (!resp) {
        finish_all(resp.err().code, resp.err().message);
      } else {
        std::set<producer_batch*> answered;
        for (const auto& t : resp->responses) {
          const std::string* name = &t.name;
          if (*version >= 13) {
            auto id = name_of_id.find(t.topic_id);
            if (id == name_of_id.end()) continue;  // not a topic we asked about
            name = &id->second;
          }
          for (const auto& p : t.partition_responses) {
            for (const auto& b : by_topic[*name]) {
              if (b->tp().partition != p.index) continue;
              std::vector<std::pair<int32_t, error>> record_errors;
              for (const auto& re : p.record_errors)
                record_errors.push_back(
                    {re.batch_index, error{static_cast<kafka_error>(p.error_code),
                                           re.batch_index_error_message.value_or(p.error_message.value_or(""))}});
              complete_batch(b, static_cast<kafka_error>(p.error_code), p.error_message.value_or(""), p.base_offset,
                             p.log_append_time_ms, p.log_start_offset, record_errors);
              answered.insert(b.get());
            }
          }
        }
        for (const auto& b : batches)
          if (!answered.count(b.get()))
            complete_batch(b, kafka_error::unknown_server_error, "the Produce answer left the partition out", -1, -1,
                           -1, {});
      }
    }
  }
  --in_flight_requests_[node];
  wakeup();
}

void sender::complete_batch(const batch_ptr& batch, kafka_error code, const std::string& message,
                            int64_t base_offset, int64_t log_append_time, int64_t log_start_offset,
                            const std::vector<std::pair<int32_t, common::error>>& record_errors) {
  auto& list = in_flight_batches_[batch->tp()];
  list.erase(std::remove(list.begin(), list.end(), batch), list.end());
  if (config_.guarantee_message_order()) accumulator_.unmute_partition(batch->tp());
  if (batch->is_done()) {
    // Expired (or failed on close) while in flight: its answer changes nothing for the records.
    if (idempotence_) idempotence_->remove_in_flight_batch(batch);
    return;
  }
  const int64_t now = clock_.now_ms();
  if (code == kafka_error::none) {
    succeed_batch(batch, base_offset, log_append_time);
    return;
  }
  if (code == kafka_error::message_too_large && batch->record_count() > 1) {
    // Too large for the broker (compression did worse than estimated): split it and send the parts, without
    // counting an attempt (Sender.completeBatch).
    if (idempotence_) idempotence_->remove_in_flight_batch(batch);
    accumulator_.split_and_reenqueue(batch);
    accumulator_.deallocate(batch);
    return;
  }
  const std::string text = message.empty() ? std::string(common::error_name(code)) : message;
  const error e{code, fmt::format("{}-{}: {}", batch->tp().topic, batch->tp().partition, text)};
  const bool retry = !batch->has_reached_delivery_timeout(config_.delivery_timeout_ms, now) &&
                     batch->attempts() < config_.retries && !forced_ &&
                     (idempotence_ ? idempotence_->can_retry(code, log_start_offset, *batch) : core::is_retriable(code));
  if (retry) {
    spdlog::debug("producer: retrying {} ({} attempts so far)", e.message, batch->attempts() + 1);
    accumulator_.reenqueue(batch, now);
  } else if (code == kafka_error::duplicate_sequence_number) {
    // The broker has this batch already but no longer its offsets: success without them.
    succeed_batch(batch, base_offset, log_append_time);
  } else {
    if (record_errors.empty()) fail_batch(batch, e, batch->attempts() < config_.retries);
    else {
      batch->fail(e, record_errors);
      if (idempotence_) idempotence_->handle_failed_batch(batch, e, batch->attempts() < config_.retries);
      accumulator_.deallocate(batch);
    }
  }
  if (core::invalidates_metadata(code)) metadata_update_requested_ = true;
}

void sender::succeed_batch(const batch_ptr& batch, int64_t base_offset, int64_t log_append_time) {
  if (idempotence_) idempotence_->handle_completed_batch(batch, base_offset);
  if (batch->complete(base_offset, log_append_time)) accumulator_.deallocate(batch);
}

void sender::fail_batch(const batch_ptr& batch, const common::error& e, bool adjust_sequences) {
  if (batch->fail(e)) {
    if (idempotence_) idempotence_->handle_failed_batch(batch, e, adjust_sequences);
    accumulator_.deallocate(batch);
  }
}

}  // namespace brook::client::producing
