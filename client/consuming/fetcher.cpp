// The consumer engine's fetching: Fetch through per-broker sessions, record decoding, offset resets
// and ListOffsets (see consumer_engine.hpp).
#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/consuming/consumer_engine.hpp"
#include "client/core/errors.hpp"
#include "common/compression.hpp"
#include "common/record_batch.hpp"

namespace brook::client::consuming {

namespace proto = common::protocol;
using asio::awaitable;
using asio::use_awaitable;
using common::kafka_error;

// The Fetches of one round: a count of those still out, and a timer that is cancelled when none is.
struct consumer_engine::fetch_round_state {
  explicit fetch_round_state(asio::any_io_executor ex) : done(ex, clock::time_point::max()) {}
  size_t outstanding = 0;
  asio::steady_timer done;
  void finished() {
    if (--outstanding == 0) done.cancel();
  }
};

namespace {

std::optional<std::string_view> to_optional_view(const std::optional<common::bytes_view>& v) {
  if (!v) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(v->data()), v->size());
}

bool needs_metadata_refresh(kafka_error e) {
  switch (e) {
    case kafka_error::not_leader_or_follower:
    case kafka_error::unknown_topic_or_partition:
    case kafka_error::leader_not_available:
    case kafka_error::fenced_leader_epoch:
    case kafka_error::unknown_leader_epoch:
    case kafka_error::kafka_storage_error:
    case kafka_error::replica_not_available:
    case kafka_error::offset_not_available:
    case kafka_error::unknown_topic_id:
    case kafka_error::inconsistent_topic_id:
    case kafka_error::fetch_session_topic_id_error:
    case kafka_error::unknown_server_error:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Shared by the records (consumer_record's `storage`) and the completed fetch they come from: the topic's
// name, the response frame that holds the batches, and the decompressed bytes of compressed batches. Freed
// with the last of them. Changed (a batch's decompressed bytes added) only on the engine's thread while the
// completed fetch holds it.
struct consumer_engine::fetched_bytes {
  std::string topic;
  std::shared_ptr<uint8_t[]> frame;
  std::vector<std::vector<uint8_t>> decompressed;
};

std::set<std::string> consumer_engine::wanted_topics() const {
  std::set<std::string> topics = subs_.subscription();
  for (const auto& tp : subs_.assigned_partitions()) topics.insert(tp.topic);
  return topics;
}

awaitable<result<std::shared_ptr<const core::metadata_snapshot>>> consumer_engine::metadata_for_assignment() {
  std::set<std::string> topics;
  for (const auto& tp : subs_.assigned_partitions()) topics.insert(tp.topic);
  std::vector<std::string> list(topics.begin(), topics.end());
  if (metadata_refresh_needed_ && !list.empty()) {
    metadata_refresh_needed_ = false;
    co_return co_await cluster_->refresh_metadata(list, false);
  }
  co_return co_await cluster_->metadata_for(list, false);
}

bool consumer_engine::has_buffered() const {
  for (const auto& cf : buffer_)
    if (cf.has_records() && !subs_.is_paused(cf.tp)) return true;
  return false;
}

awaitable<result<void>> consumer_engine::fetch_round(clock::time_point deadline) {
  auto meta = co_await metadata_for_assignment();
  if (!meta) co_return meta.err();
  validate_positions_on_metadata_change();  // a new leader: its partitions await validation, unfetched
  auto by_leader = fetches_to_send(**meta, false);
  // Brokers that lead nothing we fetch any more still hold a session with partitions: an empty
  // incremental fetch tells them to drop those (the next full fetch would do the same).
  if (by_leader.empty() && !fetching_from_.empty() && !wakeup_requested_) {
    // Fetches sent ahead (as the last poll returned) are still out: their answers are what this poll waits for.
    fetch_landed_.expires_at(deadline);
    boost::system::error_code ec;
    interruptible_waits_.insert(&fetch_landed_);
    co_await fetch_landed_.async_wait(asio::redirect_error(use_awaitable, ec));
    interruptible_waits_.erase(&fetch_landed_);
    co_return result<void>{};
  }
  if (by_leader.empty()) {
    // Nothing to fetch now (leaders unknown, positions awaiting validation, all paused): not a busy loop.
    co_await pause_for(std::max(std::chrono::milliseconds(0),
                                std::min(config_.cluster.retry_backoff,
                                         std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()))));
    co_return result<void>{};
  }
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  const int32_t max_wait = static_cast<int32_t>(std::clamp<int64_t>(remaining, 0, config_.fetch_max_wait_ms));
  auto round = std::make_shared<fetch_round_state>(ex_);
  round->outstanding = by_leader.size();
  for (auto& [node, wanted] : by_leader) {
    fetching_from_.insert(node);  // now, so that nothing sends another Fetch to it before this one starts
    asio::co_spawn(ex_, fetch_from(node, std::move(wanted), max_wait, round), asio::detached);
  }
  boost::system::error_code ec;
  if (!wakeup_requested_) {
    interruptible_waits_.insert(&round->done);
    co_await round->done.async_wait(asio::redirect_error(use_awaitable, ec));
    interruptible_waits_.erase(&round->done);
  }
  co_return result<void>{};
}

std::map<int32_t, std::map<topic_partition, fetch_position>> consumer_engine::fetches_to_send(
    const core::metadata_snapshot& meta, bool ahead) {
  std::set<topic_partition> buffered;
  for (const auto& cf : buffer_) buffered.insert(cf.tp);
  std::map<int32_t, std::map<topic_partition, fetch_position>> by_leader;
  for (const auto& tp : subs_.fetchable_partitions()) {
    if (buffered.count(tp)) continue;
    auto pos = *subs_.position(tp);
    if (ahead) {
      // Only where records are known to wait (below the high watermark): the broker answers at once, so no
      // Fetch sent ahead sits out fetch.max.wait.ms in front of the consumer's other requests.
      auto hw = subs_.high_watermark(tp);
      if (!hw || pos.offset >= *hw) continue;
    }
    auto leader = meta.leader_for(tp.topic, tp.partition);
    if (!leader) {
      metadata_refresh_needed_ = true;
      continue;
    }
    if (fetching_from_.count(*leader)) continue;  // its last Fetch (sent ahead, or left by a wakeup) is still out
    const auto* topic = meta.topic(tp.topic);
    fetch_position fp;
    fp.topic_id = topic->id;
    fp.fetch_offset = pos.offset;
    fp.max_bytes = config_.max_partition_fetch_bytes;
    fp.current_leader_epoch = topic->partitions[static_cast<size_t>(tp.partition)].leader_epoch;
    fp.last_fetched_epoch = pos.offset_epoch.value_or(-1);
    by_leader[*leader].emplace(tp, fp);
  }
  return by_leader;
}

void consumer_engine::fetch_ahead() {
  if (closed_ || wakeup_requested_ || (in_group() && (!joined_ || rejoin_needed_ || rebalancing_))) return;
  // From the cached metadata: a leader it lacks is fetched from by the next poll, after a refresh.
  auto by_leader = fetches_to_send(*cluster_->metadata(), true);
  for (auto& [node, wanted] : by_leader) {
    auto round = std::make_shared<fetch_round_state>(ex_);
    round->outstanding = 1;
    fetching_from_.insert(node);
    asio::co_spawn(ex_, fetch_from(node, std::move(wanted), config_.fetch_max_wait_ms, round), asio::detached);
  }
}

awaitable<void> consumer_engine::fetch_from(int32_t node, std::map<topic_partition, fetch_position> wanted,
                                            int32_t max_wait_ms, std::shared_ptr<fetch_round_state> round) {
  struct finish_guard {
    std::shared_ptr<fetch_round_state> r;
    std::shared_ptr<bool> alive;
    std::set<int32_t>* fetching;
    asio::steady_timer* landed;
    int32_t node;
    ~finish_guard() {
      r->finished();
      if (*alive) {
        fetching->erase(node);
        landed->cancel();  // a poll waiting for a Fetch sent ahead
      }
    }
  } guard{round, alive_, &fetching_from_, &fetch_landed_, node};
  fetching_from_.insert(node);
  auto alive = alive_;
  auto conn = co_await cluster_->connection_to(node);
  auto& session = sessions_.try_emplace(node, node).first->second;
  if (!conn) {
    session.handle_error();
    metadata_refresh_needed_ = true;
    co_return;
  }
  auto data = session.build(wanted);
  auto version = (*conn)->version_for<proto::fetch::request>(4, data.use_topic_ids ? proto::fetch::max_version : 12);
  if (!version) {
    pending_error_ = common::error{kafka_error::unsupported_version, "the broker serves no Fetch version from 4"};
    session.handle_error();
    co_return;
  }
  auto request = fetch_session::to_request(data, *version, max_wait_ms, config_.fetch_min_bytes,
                                           config_.fetch_max_bytes, static_cast<int8_t>(config_.isolation),
                                           config_.client_rack);
  // The response's record sets borrow from its frame: records are decoded from there, and point into it.
  auto response = co_await (*conn)->call_borrowing(request, *version);
  if (!*alive) co_return;
  if (!response) {
    session.handle_error();
    metadata_refresh_needed_ = true;
    co_return;
  }
  if (!session.handle_response(data, response->body, *version)) co_return;
  for (const auto& topic : response->body.responses) {
    std::optional<std::string> name = *version >= 13 ? session.topic_name(topic.topic_id) : topic.topic;
    if (!name) continue;
    for (const auto& p : topic.partitions) {
      topic_partition tp{*name, p.partition_index};
      auto sent = data.session.find(tp);
      if (sent == data.session.end()) continue;
      if (auto r = take_partition_data(tp, sent->second.fetch_offset, p, response->frame.bytes); !r && !pending_error_)
        pending_error_ = r.err();
    }
  }
}

result<void> consumer_engine::take_partition_data(const topic_partition& tp, int64_t fetch_offset,
                                                  const proto::fetch::partition_data& data,
                                                  const std::shared_ptr<uint8_t[]>& frame) {
  auto pos = subs_.position(tp);
  if (!subs_.is_assigned(tp) || !pos || pos->offset != fetch_offset) return {};  // moved on meanwhile
  const auto error = static_cast<kafka_error>(data.error_code);
  if (error == kafka_error::offset_out_of_range) {
    if (config_.auto_offset_reset == offset_reset_strategy::none)
      return common::error{kafka_error::offset_out_of_range,
                           "Fetch position " + std::to_string(fetch_offset) + " is out of range for partition " +
                               to_string(tp) + " and auto.offset.reset is none"};
    subs_.request_offset_reset(tp);
    return {};
  }
  if (needs_metadata_refresh(error)) {
    metadata_refresh_needed_ = true;
    return {};
  }
  if (error != kafka_error::none)
    return common::error{error, "Fetch of " + to_string(tp) + " failed: " + std::string(common::error_name(error))};
  // The broker found our last record's epoch diverging from its log (Fetch v12+): a truncation.
  if (data.diverging_epoch.epoch >= 0 || data.diverging_epoch.end_offset >= 0) {
    auto truncated =
        subs_.handle_diverging_epoch(tp, *pos, data.diverging_epoch.epoch, data.diverging_epoch.end_offset);
    if (!truncated) return {};
    subs_.set_next_allowed_retry({tp}, clock::now() + config_.cluster.connection.request_timeout);
    return truncation_error({*truncated});
  }

  subs_.update_high_watermark(tp, data.high_watermark);
  if (data.last_stable_offset >= 0) subs_.update_last_stable_offset(tp, data.last_stable_offset);
  if (data.log_start_offset >= 0) subs_.update_log_start_offset(tp, data.log_start_offset);
  if (!data.records) return {};
  auto bytes = data.records->memory();

  // read_committed: batches of a producer from an aborted transaction's first offset on are
  // skipped until that producer's abort marker.
  std::vector<std::pair<int64_t, int64_t>> aborted;  // (first offset, producer id)
  if (config_.isolation == isolation_level::read_committed && data.aborted_transactions)
    for (const auto& a : *data.aborted_transactions) aborted.emplace_back(a.first_offset, a.producer_id);
  std::sort(aborted.begin(), aborted.end());
  size_t next_aborted = 0;
  std::set<int64_t> aborting;

  completed_fetch cf;
  cf.tp = tp;
  cf.fetch_offset = fetch_offset;
  cf.next_offset = fetch_offset;
  cf.next_epoch = pos->offset_epoch;
  size_t at = 0;
  while (at < bytes.size()) {
    auto rest = bytes.subspan(at);
    auto size = common::record_batch_view::peek_size(rest);
    if (!size || *size > rest.size()) break;  // a partial batch at the end of the response
    auto batch = common::record_batch_view::parse(rest.first(*size));
    at += *size;
    if (!batch) return common::error{kafka_error::corrupt_message, "Fetch of " + to_string(tp) + ": " + batch.err().message};
    if (config_.check_crcs)
      if (auto v = batch->validate(); !v)
        return common::error{kafka_error::corrupt_message, "Fetch of " + to_string(tp) + ": " + v.err().message};
    if (batch->next_offset() <= fetch_offset) continue;
    while (next_aborted < aborted.size() && aborted[next_aborted].first <= batch->last_offset())
      aborting.insert(aborted[next_aborted++].second);
    const int32_t epoch = batch->partition_leader_epoch();
    if (batch->is_control()) {
      // A transaction marker: its key is (version int16, type int16), type 0 being ABORT.
      if (batch->is_transactional() && aborting.count(batch->producer_id())) {
        auto it = batch->records(1 << 20);
        if (it) {
          auto rec = it->next();
          if (rec && *rec && (*rec)->key && (*rec)->key->size() >= 4 && (*(*rec)->key)[2] == 0 && (*(*rec)->key)[3] == 0)
            aborting.erase(batch->producer_id());
        }
      }
    } else if (!(batch->is_transactional() && aborting.count(batch->producer_id())) && batch->record_count() > 0) {
      cf.batches.push_back(*batch);  // its records are decoded as they are handed out (drain)
    }
    cf.next_offset = batch->next_offset();
    if (epoch >= 0) cf.next_epoch = epoch;
  }
  if (!cf.batches.empty()) {
    cf.storage = std::make_shared<fetched_bytes>();
    cf.storage->topic = tp.topic;
    cf.storage->frame = frame;
  }
  if (cf.has_records() || cf.next_offset > fetch_offset) buffer_.push_back(std::move(cf));
  return {};
}

result<void> consumer_engine::decode_into(completed_fetch& cf, std::vector<consumer_record>& out, size_t max) {
  const auto& tp = cf.tp;
  while (out.size() < max && cf.has_records()) {
    if (!cf.current) {
      const auto& batch = cf.batches[cf.next_batch++];
      auto records = batch.records(common::uncompressed_limit(batch.record_count(), INT32_MAX));
      if (!records) return common::error{records.err().code, "Fetch of " + to_string(tp) + ": " + records.err().message};
      // The records of a compressed batch point into its decompressed bytes: they move to the storage now (the
      // bytes stay where they are, so the iterator's views stay valid).
      if (batch.compression() != common::compression_codec::none)
        cf.storage->decompressed.push_back(records->take_decompressed());
      cf.current.emplace(std::move(*records));
      cf.current_epoch = batch.partition_leader_epoch();
      cf.current_log_append_time = batch.ts_type() == common::timestamp_type::log_append_time;
    }
    auto& records = *cf.current;
    for (;;) {
      if (out.size() >= max) return {};
      auto next = records.next();
      if (!next) return common::error{kafka_error::corrupt_message, "Fetch of " + to_string(tp) + ": " + next.err().message};
      if (!*next) break;
      const auto& r = **next;
      if (r.offset < cf.fetch_offset) continue;
      consumer_record& rec = out.emplace_back();
      rec.topic = cf.storage->topic;
      rec.partition = tp.partition;
      rec.offset = r.offset;
      rec.timestamp = r.timestamp;
      rec.log_append_time = cf.current_log_append_time;
      rec.key = to_optional_view(r.key);
      rec.value = to_optional_view(r.value);
      if (!r.headers.empty()) {
        rec.headers.reserve(r.headers.size());
        for (const auto& h : r.headers) rec.headers.push_back({h.key, to_optional_view(h.value)});
      }
      if (cf.current_epoch >= 0) rec.leader_epoch = cf.current_epoch;
      rec.storage = cf.storage;
      cf.fetch_offset = r.offset + 1;
    }
    cf.current.reset();
  }
  return {};
}

result<std::vector<consumer_record>> consumer_engine::drain(size_t max) {
  std::vector<consumer_record> out;
  size_t buffered = 0;  // at most this many records (the batches' counts)
  for (const auto& cf : buffer_) {
    if (cf.current) buffered += static_cast<size_t>(std::max(cf.current->remaining(), 0));
    for (size_t b = cf.next_batch; b < cf.batches.size() && buffered < max; ++b)
      buffered += static_cast<size_t>(std::max(cf.batches[b].record_count(), 0));
  }
  out.reserve(std::min(max, buffered));
  for (auto it = buffer_.begin(); it != buffer_.end() && out.size() < max;) {
    auto pos = subs_.position(it->tp);
    if (!subs_.is_assigned(it->tp) || !pos || pos->offset != it->fetch_offset) {
      it = buffer_.erase(it);  // sought elsewhere or unassigned since it was fetched
      continue;
    }
    if (subs_.is_paused(it->tp)) {
      ++it;
      continue;
    }
    // The position moves past every record handed out; it is stored once, after the last of them.
    const size_t first = out.size();
    auto decoded = decode_into(*it, out, max);
    if (out.size() > first) {
      fetch_offset next = *pos;
      next.offset = out.back().offset + 1;
      next.offset_epoch = out.back().leader_epoch;
      subs_.set_position(it->tp, next);
    }
    if (!decoded) {
      // The records before the one that does not decode are handed out; the partition is fetched again from
      // there, and this error is the next poll's (or this one's, without records).
      it = buffer_.erase(it);
      if (out.empty()) return decoded.err();
      if (!pending_error_) pending_error_ = decoded.err();
      break;
    }
    if (!it->has_records()) {
      if (it->next_offset > it->fetch_offset)
        subs_.set_position(it->tp, {it->next_offset, it->next_epoch, pos->current_leader_epoch, pos->current_leader});
      it = buffer_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

awaitable<result<void>> consumer_engine::update_positions(clock::time_point deadline) {
  auto initializing = subs_.initializing_partitions();
  if (!initializing.empty() && config_.group_id) {
    const std::set<topic_partition> asked(initializing.begin(), initializing.end());  // named: see pause_for()
    auto committed = co_await fetch_committed(asked, deadline);
    if (!committed) co_return committed.err();
    for (const auto& [tp, c] : *committed) {
      if (!c || subs_.has_valid_position(tp)) continue;
      subs_.set_committed(tp, {c->offset, c->leader_epoch, c->metadata});
      subs_.seek_unvalidated(tp, position_under_current_leader(tp, c->offset, c->leader_epoch));
    }
    initializing = subs_.initializing_partitions();
  }
  if (auto r = subs_.reset_to_default(initializing); !r) co_return r;
  if (auto r = co_await reset_offsets(deadline); !r) co_return r;
  co_return co_await validate_positions(deadline);
}

awaitable<result<void>> consumer_engine::reset_offsets(clock::time_point deadline) {
  std::map<topic_partition, int64_t> asks;
  std::map<topic_partition, offset_reset_strategy> strategies;
  for (const auto& tp : subs_.partitions_needing_reset()) {
    auto s = subs_.reset_strategy(tp);
    if (!s) continue;
    asks[tp] = *s == offset_reset_strategy::earliest ? -2 : -1;
    strategies[tp] = *s;
  }
  if (asks.empty()) co_return result<void>{};
  auto found = co_await list_offsets(asks, deadline);
  if (!found) co_return found.err();
  for (const auto& [tp, o] : *found)
    // Without the offset's epoch, as Java's: a reset position is not validated.
    if (o) subs_.maybe_seek_after_reset(tp, strategies[tp], position_under_current_leader(tp, o->offset, std::nullopt));
  co_return result<void>{};
}

awaitable<result<std::map<topic_partition, std::optional<offset_and_timestamp>>>> consumer_engine::list_offsets(
    std::map<topic_partition, int64_t> timestamps, clock::time_point deadline) {
  std::map<topic_partition, std::optional<offset_and_timestamp>> out;
  for (int attempt = 0; !timestamps.empty(); ++attempt) {
    std::set<std::string> topic_set;
    for (const auto& [tp, ts] : timestamps) topic_set.insert(tp.topic);
    std::vector<std::string> topics(topic_set.begin(), topic_set.end());
    result<std::shared_ptr<const core::metadata_snapshot>> meta = common::error{kafka_error::none, {}};
    if (attempt == 0) meta = co_await cluster_->metadata_for(topics, false);
    else meta = co_await cluster_->refresh_metadata(topics, false);
    if (!meta) co_return meta.err();
    std::map<int32_t, proto::list_offsets::request> by_leader;
    std::optional<common::error> retriable;
    for (const auto& [tp, ts] : timestamps) {
      const auto* topic = (*meta)->topic(tp.topic);
      if (topic && topic->error != kafka_error::none && !core::is_retriable(topic->error))
        co_return common::error{topic->error, "ListOffsets for " + to_string(tp) + ": " +
                                                  std::string(common::error_name(topic->error))};
      if (topic && (tp.partition < 0 || static_cast<size_t>(tp.partition) >= topic->partitions.size()) &&
          topic->error == kafka_error::none)
        co_return common::error{kafka_error::unknown_topic_or_partition, "no partition " + to_string(tp)};
      auto leader = (*meta)->leader_for(tp.topic, tp.partition);
      if (!leader) {
        retriable = common::error{kafka_error::leader_not_available, "no leader for " + to_string(tp)};
        continue;
      }
      auto& req = by_leader[*leader];
      req.replica_id = -1;
      req.isolation_level = static_cast<int8_t>(config_.isolation);
      if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}});
      proto::list_offsets::list_offsets_partition p;
      p.partition_index = tp.partition;
      p.current_leader_epoch = topic->partitions[static_cast<size_t>(tp.partition)].leader_epoch;
      p.timestamp = ts;
      req.topics.back().partitions.push_back(p);
    }
    for (auto& [leader, req] : by_leader) {
      auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      req.timeout_ms = static_cast<int32_t>(std::clamp<int64_t>(remaining, 0, INT32_MAX));
      auto resp = co_await cluster_->call(leader, req, 1);
      if (!resp) {
        if (!core::is_retriable(resp.err().code)) co_return resp.err();
        retriable = resp.err();
        continue;
      }
      for (const auto& t : resp->body.topics)
        for (const auto& p : t.partitions) {
          topic_partition tp{t.name, p.partition_index};
          const auto e = static_cast<kafka_error>(p.error_code);
          if (e == kafka_error::none) {
            if (p.offset >= 0)
              out[tp] = offset_and_timestamp{p.offset, p.timestamp,
                                             p.leader_epoch >= 0 ? std::optional<int32_t>(p.leader_epoch) : std::nullopt};
            else
              out[tp] = std::nullopt;
            timestamps.erase(tp);
          } else if (core::is_retriable(e)) {
            retriable = common::error{e, "ListOffsets for " + to_string(tp) + ": " + std::string(common::error_name(e))};
          } else {
            co_return common::error{e, "ListOffsets for " + to_string(tp) + ": " + std::string(common::error_name(e))};
          }
        }
    }
    if (timestamps.empty()) break;
    auto wait = cluster_->retry_backoff(attempt);
    if (clock::now() + wait >= deadline)
      co_return retriable.value_or(common::error{kafka_error::request_timed_out, "ListOffsets timed out"});
    co_await pause_for(wait);
  }
  co_return out;
}

}  // namespace brook::client::consuming
