// The consumer engine's group side: coordinator, classic membership, KIP-848 membership, commits
// (see consumer_engine.hpp).
#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "client/consuming/consumer_engine.hpp"
#include "client/consuming/consumer_protocol.hpp"
#include "client/core/errors.hpp"

namespace brook::client::consuming {

namespace proto = common::protocol;
using asio::awaitable;
using asio::use_awaitable;
using common::kafka_error;

namespace {

std::string name_of(kafka_error e) { return std::string(common::error_name(e)); }

bool coordinator_moved(kafka_error e) {
  return e == kafka_error::coordinator_not_available || e == kafka_error::not_coordinator ||
         e == kafka_error::network_exception || e == kafka_error::request_timed_out;
}

awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

// The ids of these topics in the cached metadata, for OffsetCommit / OffsetFetch v10+ (topics named
// by id, as Java's consumer sends them when it knows every id); nullopt when one is not known, and
// the request then names them at v9.
std::optional<std::map<std::string, common::uuid>> topic_ids_of(const core::metadata_snapshot& meta,
                                                                const std::set<std::string>& topics) {
  std::map<std::string, common::uuid> out;
  for (const auto& t : topics) {
    const core::topic_info* info = meta.topic(t);
    if (!info || info->id.is_zero()) return std::nullopt;
    out.emplace(t, info->id);
  }
  return out;
}

// Names the topics of a v10+ answer, which carries only their ids (`ids`: the request's).
std::string name_for(const std::map<std::string, common::uuid>& ids, const common::uuid& id) {
  for (const auto& [name, known] : ids)
    if (known == id) return name;
  return {};
}

std::vector<topic_partition> minus(const std::set<topic_partition>& a, const std::set<topic_partition>& b) {
  std::vector<topic_partition> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

awaitable<result<int32_t>> consumer_engine::coordinator() {
  if (coordinator_) co_return *coordinator_;
  auto c = co_await cluster_->coordinator(core::coordinator_type::group, *config_.group_id);
  if (c) coordinator_ = *c;
  co_return c;
}

void consumer_engine::coordinator_lost() {
  if (config_.group_id) cluster_->forget_coordinator(core::coordinator_type::group, *config_.group_id);
  coordinator_.reset();
}

assignors::rebalance_protocol consumer_engine::protocol_kind() const {
  // The strongest protocol every configured assignor supports (Java's rule).
  for (const auto& a : assignors_) {
    auto p = a->supported_protocols();
    if (std::find(p.begin(), p.end(), assignors::rebalance_protocol::cooperative) == p.end())
      return assignors::rebalance_protocol::eager;
  }
  return assignors_.empty() ? assignors::rebalance_protocol::eager : assignors::rebalance_protocol::cooperative;
}

void consumer_engine::revoke(const std::vector<topic_partition>& partitions, bool lost) {
  if (partitions.empty() && lost) return;
  std::set<topic_partition> gone(partitions.begin(), partitions.end());
  std::erase_if(buffer_, [&](const completed_fetch& cf) { return gone.count(cf.tp) != 0; });
  if (listener_) {
    auto l = listener_;
    callbacks_.push_back([l, partitions, lost] {
      if (lost) l->on_partitions_lost(partitions);
      else l->on_partitions_revoked(partitions);
    });
  }
}

void consumer_engine::assigned(const std::vector<topic_partition>& partitions) {
  if (listener_) {
    auto l = listener_;
    callbacks_.push_back([l, partitions] { l->on_partitions_assigned(partitions); });
  }
}

void consumer_engine::reset_generation(bool lost) {
  generation_ = config_.protocol == group_protocol::consumer ? 0 : -1;
  joined_ = false;
  rejoin_needed_ = true;
  if (lost) partitions_lost_ = true;
}

void consumer_engine::start_heartbeats() {
  const uint64_t session = ++heartbeat_session_;
  if (!heartbeat_wakeup_) heartbeat_wakeup_ = std::make_unique<asio::steady_timer>(ex_);
  if (config_.protocol == group_protocol::consumer)
    asio::co_spawn(ex_, consumer_heartbeat_loop(session), asio::detached);
  else
    asio::co_spawn(ex_, heartbeat_loop(session), asio::detached);
}

void consumer_engine::stop_heartbeats() {
  ++heartbeat_session_;
  if (heartbeat_wakeup_) heartbeat_wakeup_->cancel();
}

awaitable<result<void>> consumer_engine::poll_group(clock::time_point deadline) {
  if (!in_group()) co_return result<void>{};
  if (partitions_lost_) {
    auto owned = subs_.assigned_partitions();
    revoke({owned.begin(), owned.end()}, true);
    (void)subs_.assign_from_subscribed({});
    partitions_lost_ = false;
  }
  if (config_.protocol == group_protocol::consumer) {
    if (!joined_ || rejoin_needed_) {
      for (int attempt = 0; !joined_ && clock::now() < deadline; ++attempt) {
        auto r = co_await consumer_heartbeat(false);
        if (pending_error_) co_return std::exchange(pending_error_, std::nullopt).value();
        if (joined_) break;
        co_await sleep_for(ex_, std::min(cluster_->retry_backoff(attempt),
                                         std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now())));
      }
      if (joined_) {
        rejoin_needed_ = false;
        start_heartbeats();
      }
    } else if (last_subscribed_topics_ != subs_.subscription() && heartbeat_wakeup_) {
      heartbeat_wakeup_->cancel();  // tell the broker about the new subscription now
    }
  } else if (!joined_ || rejoin_needed_) {
    auto r = co_await join_group(deadline);
    if (!r) co_return r;
  }
  co_await maybe_auto_commit(false, deadline);
  co_return result<void>{};
}

// ---- classic protocol -----------------------------------------------------------------------

awaitable<result<void>> consumer_engine::join_group(clock::time_point deadline) {
  if (!rebalancing_) {
    // Java's onJoinPrepare: commit what was consumed, then give up what must be given up.
    rebalancing_ = true;
    co_await maybe_auto_commit(true, deadline);
    auto owned = subs_.assigned_partitions();
    if (protocol_kind() == assignors::rebalance_protocol::eager) {
      revoke({owned.begin(), owned.end()}, false);
      (void)subs_.assign_from_subscribed({});
      if (!callbacks_.empty() && !owned.empty()) {
        // The listener runs on the caller's thread before JoinGroup goes out (it may commit).
        yielded_for_callbacks_ = true;
        co_return result<void>{};
      }
    } else {
      std::vector<topic_partition> unsubscribed;
      std::set<topic_partition> keep;
      for (const auto& tp : owned) {
        if (subs_.subscription().count(tp.topic)) keep.insert(tp);
        else unsubscribed.push_back(tp);
      }
      if (!unsubscribed.empty()) {
        revoke(unsubscribed, false);
        (void)subs_.assign_from_subscribed(keep);
      }
    }
  }
  for (int attempt = 0; clock::now() < deadline; ++attempt) {
    auto backoff = [&]() -> awaitable<void> {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      co_await sleep_for(ex_, std::max(std::chrono::milliseconds(0), std::min(cluster_->retry_backoff(attempt), left)));
    };
    auto coord = co_await coordinator();
    if (!coord) {
      if (!core::is_retriable(coord.err().code)) co_return coord.err();
      co_await backoff();
      continue;
    }
    proto::join_group::request req;
    req.group_id = *config_.group_id;
    req.session_timeout_ms = config_.session_timeout_ms;
    req.rebalance_timeout_ms = config_.max_poll_interval_ms;
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;
    req.protocol_type = consumer_protocol_type;
    auto owned = subs_.assigned_partitions();
    for (const auto& a : assignors_) {
      subscription s;
      s.topics.assign(subs_.subscription().begin(), subs_.subscription().end());
      s.user_data = a->subscription_user_data(subs_.subscription());
      s.owned_partitions.assign(owned.begin(), owned.end());
      s.generation_id = generation_;
      if (!config_.client_rack.empty()) s.rack_id = config_.client_rack;
      req.protocols.push_back({std::string(a->name()), encode_subscription(s)});
    }
    last_subscribed_topics_ = subs_.subscription();
    auto resp = co_await cluster_->call(*coord, req);
    if (!resp) {
      if (!core::is_retriable(resp.err().code)) co_return resp.err();
      coordinator_lost();
      co_await backoff();
      continue;
    }
    const auto& j = resp->body;
    const auto e = static_cast<kafka_error>(j.error_code);
    if (e == kafka_error::member_id_required) {
      member_id_ = j.member_id;
      continue;
    }
    if (e == kafka_error::unknown_member_id) {
      member_id_.clear();
      generation_ = -1;
      continue;
    }
    if (e == kafka_error::illegal_generation) {
      generation_ = -1;
      continue;
    }
    if (coordinator_moved(e)) {
      coordinator_lost();
      co_await backoff();
      continue;
    }
    if (e == kafka_error::coordinator_load_in_progress || e == kafka_error::rebalance_in_progress) {
      co_await backoff();
      continue;
    }
    if (e != kafka_error::none)
      co_return common::error{e, "JoinGroup for group " + *config_.group_id + " failed: " + name_of(e)};
    member_id_ = j.member_id;
    generation_ = j.generation_id;
    protocol_name_ = j.protocol_name.value_or("");
    auto a = co_await sync_group(j, resp->version);
    if (!a) {
      const auto se = a.err().code;
      if (se == kafka_error::rebalance_in_progress) continue;
      if (se == kafka_error::unknown_member_id || se == kafka_error::illegal_generation) {
        if (se == kafka_error::unknown_member_id) member_id_.clear();
        generation_ = -1;
        continue;
      }
      if (coordinator_moved(se)) {
        coordinator_lost();
        co_await backoff();
        continue;
      }
      if (core::is_retriable(se)) {
        co_await backoff();
        continue;
      }
      co_return a.err();
    }
    on_join_complete(*a, protocol_name_);
    joined_ = true;
    rebalancing_ = false;
    start_heartbeats();
    co_return result<void>{};
  }
  co_return result<void>{};  // not joined yet; the next poll goes on
}

awaitable<result<assignment>> consumer_engine::sync_group(const proto::join_group::response& joined, int16_t) {
  proto::sync_group::request req;
  req.group_id = *config_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  req.protocol_type = consumer_protocol_type;
  req.protocol_name = protocol_name_;
  if (joined.leader == member_id_ && !joined.skip_assignment) {
    assignors::assignor* chosen = nullptr;
    for (const auto& a : assignors_)
      if (a->name() == protocol_name_) chosen = a.get();
    if (!chosen)
      co_return common::error{kafka_error::inconsistent_group_protocol,
                              "the group chose assignor " + protocol_name_ + ", which this consumer does not have"};
    std::vector<assignors::member_subscription> members;
    std::set<std::string> topics;
    for (const auto& m : joined.members) {
      auto s = decode_subscription(m.metadata);
      if (!s) co_return s.err();
      topics.insert(s->topics.begin(), s->topics.end());
      members.push_back({m.member_id, m.group_instance_id, std::move(*s)});
    }
    assignors::partition_counts counts;
    if (!topics.empty()) {
      const std::vector<std::string> asked(topics.begin(), topics.end());  // named: see pause_for()
      auto meta = co_await cluster_->refresh_metadata(asked, false);
      if (!meta) co_return meta.err();
      for (const auto& t : topics) {
        const auto* info = (*meta)->topic(t);
        if (info && info->error == kafka_error::none && !info->partitions.empty())
          counts[t] = static_cast<int32_t>(info->partitions.size());
      }
    }
    auto result_assignment = chosen->assign(counts, members);
    for (const auto& [member, parts] : result_assignment)
      req.assignments.push_back({member, encode_assignment({parts, std::nullopt})});
  }
  auto coord = co_await coordinator();
  if (!coord) co_return coord.err();
  auto resp = co_await cluster_->call(*coord, req);
  if (!resp) co_return resp.err();
  const auto e = static_cast<kafka_error>(resp->body.error_code);
  if (e != kafka_error::none)
    co_return common::error{e, "SyncGroup for group " + *config_.group_id + " failed: " + name_of(e)};
  co_return decode_assignment(resp->body.assignment);
}

void consumer_engine::on_join_complete(const assignment& a, const std::string& protocol) {
  for (const auto& as : assignors_)
    if (as->name() == protocol) as->on_assignment(a, generation_);
  std::set<topic_partition> next;
  for (const auto& tp : a.partitions)
    if (subs_.subscription().count(tp.topic)) next.insert(tp);
  const auto owned = subs_.assigned_partitions();
  if (protocol_kind() == assignors::rebalance_protocol::eager) {
    (void)subs_.assign_from_subscribed(next);
    assigned({next.begin(), next.end()});
    rejoin_needed_ = false;
    return;
  }
  // Cooperative: revoke what moves away (and rejoin so that the group can hand it over), keep the rest.
  auto revoked = minus(owned, next);
  auto added = minus(next, owned);
  if (!revoked.empty()) revoke(revoked, false);
  (void)subs_.assign_from_subscribed(next);
  assigned(added);
  rejoin_needed_ = !revoked.empty();
}

awaitable<void> consumer_engine::heartbeat_loop(uint64_t session) {
  const auto alive = alive_;
  while (session == heartbeat_session_ && !closed_) {
    // The shared wake-up timer, so that stop_heartbeats() ends the wait at once.
    heartbeat_wakeup_->expires_after(std::chrono::milliseconds(config_.heartbeat_interval_ms));
    boost::system::error_code ec;
    co_await heartbeat_wakeup_->async_wait(asio::redirect_error(use_awaitable, ec));
    if (!*alive || session != heartbeat_session_ || closed_) co_return;
    if (ec) continue;  // woken early: wait a full interval again
    if (!joined_ || rebalancing_) continue;
    if (clock::now() - last_poll_ > std::chrono::milliseconds(config_.max_poll_interval_ms)) {
      spdlog::warn("consumer poll timeout has expired: leaving group {}", *config_.group_id);
      co_await leave_group("consumer poll timeout has expired");
      if (!*alive) co_return;
      reset_generation(true);
      member_id_.clear();
      continue;
    }
    auto coord = co_await coordinator();
    if (!*alive) co_return;
    if (!coord) continue;
    proto::heartbeat::request req;
    req.group_id = *config_.group_id;
    req.generation_id = generation_;
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;
    const auto sent_generation = generation_;
    auto resp = co_await cluster_->call(*coord, req);
    if (!*alive) co_return;
    if (session != heartbeat_session_ || sent_generation != generation_) continue;
    if (!resp) {
      coordinator_lost();
      continue;
    }
    const auto e = static_cast<kafka_error>(resp->body.error_code);
    if (e == kafka_error::none) continue;
    if (e == kafka_error::rebalance_in_progress) rejoin_needed_ = true;
    else if (e == kafka_error::illegal_generation) reset_generation(true);
    else if (e == kafka_error::unknown_member_id || e == kafka_error::fenced_instance_id) {
      reset_generation(true);
      member_id_.clear();
      if (e == kafka_error::fenced_instance_id)
        pending_error_ = common::error{e, "another consumer with the same group.instance.id has joined group " +
                                              *config_.group_id};
    } else if (coordinator_moved(e)) coordinator_lost();
  }
}

awaitable<void> consumer_engine::leave_group(const std::string& reason) {
  if (member_id_.empty() || !config_.group_id) co_return;
  if (config_.group_instance_id) co_return;  // a static member keeps its place until its session expires
  auto coord = co_await coordinator();
  if (!coord) co_return;
  proto::leave_group::request req;
  req.group_id = *config_.group_id;
  req.member_id = member_id_;
  req.members.push_back({member_id_, std::nullopt, reason});
  (void)co_await cluster_->call(*coord, req);
}

// ---- KIP-848 consumer protocol ----------------------------------------------------------------

awaitable<result<void>> consumer_engine::consumer_heartbeat(bool leaving) {
  if (heartbeat_in_flight_ && !leaving) co_return result<void>{};
  auto coord = co_await coordinator();
  if (!coord) co_return coord.err();
  if (member_id_.empty()) member_id_ = common::uuid::random().to_string();  // KIP-1082: the member names itself
  proto::consumer_group_heartbeat::request req;
  req.group_id = *config_.group_id;
  req.member_id = member_id_;
  req.member_epoch = leaving ? (config_.group_instance_id ? -2 : -1) : (joined_ ? generation_ : 0);
  req.instance_id = config_.group_instance_id;
  if (!config_.client_rack.empty()) req.rack_id = config_.client_rack;
  req.rebalance_timeout_ms = config_.max_poll_interval_ms;
  req.subscribed_topic_names = std::vector<std::string>(subs_.subscription().begin(), subs_.subscription().end());
  req.server_assignor = config_.group_remote_assignor;
  // What this member owns, by topic id.
  auto meta = cluster_->metadata();
  std::vector<proto::consumer_group_heartbeat::topic_id_partitions> owned;
  for (const auto& tp : subs_.assigned_partitions()) {
    const auto* t = meta->topic(tp.topic);
    if (!t || t->id.is_zero()) continue;
    if (owned.empty() || owned.back().topic_id != t->id) owned.push_back({t->id, {}});
    owned.back().partitions.push_back(tp.partition);
  }
  req.topic_partitions = std::move(owned);
  last_subscribed_topics_ = subs_.subscription();
  heartbeat_in_flight_ = true;
  auto resp = co_await cluster_->call(*coord, req);
  heartbeat_in_flight_ = false;
  if (leaving) co_return result<void>{};
  if (!resp) {
    coordinator_lost();
    co_return resp.err();
  }
  const auto& h = resp->body;
  const auto e = static_cast<kafka_error>(h.error_code);
  if (e == kafka_error::fenced_member_epoch || e == kafka_error::unknown_member_id) {
    // Fenced: whatever this member held is gone; it rejoins at epoch 0 with the same id.
    reset_generation(true);
    if (e == kafka_error::unknown_member_id) member_id_.clear();
    co_return common::error{e, "ConsumerGroupHeartbeat: " + name_of(e)};
  }
  if (coordinator_moved(e)) {
    coordinator_lost();
    co_return common::error{e, "ConsumerGroupHeartbeat: " + name_of(e)};
  }
  if (e == kafka_error::coordinator_load_in_progress || e == kafka_error::unreleased_instance_id ||
      e == kafka_error::rebalance_in_progress)
    co_return common::error{e, "ConsumerGroupHeartbeat: " + name_of(e)};
  if (e != kafka_error::none) {
    pending_error_ = common::error{e, "ConsumerGroupHeartbeat for group " + *config_.group_id + " failed: " + name_of(e) +
                                          (h.error_message ? " (" + *h.error_message + ")" : std::string())};
    co_return *pending_error_;
  }
  if (h.member_id && !h.member_id->empty()) member_id_ = *h.member_id;
  generation_ = h.member_epoch;
  if (h.heartbeat_interval_ms > 0) heartbeat_interval_ = std::chrono::milliseconds(h.heartbeat_interval_ms);
  joined_ = true;
  if (h.assignment) co_return co_await reconcile(*h.assignment);
  co_return result<void>{};
}

awaitable<result<void>> consumer_engine::reconcile(const proto::consumer_group_heartbeat::member_assignment& target) {
  auto meta = cluster_->metadata();
  auto name_of_id = [&](const common::uuid& id) -> std::optional<std::string> {
    for (const auto& [name, t] : meta->topics)
      if (t.id == id) return name;
    return std::nullopt;
  };
  bool unknown = false;
  for (const auto& t : target.topic_partitions)
    if (!name_of_id(t.topic_id)) unknown = true;
  if (unknown) {
    const std::vector<std::string> asked(subs_.subscription().begin(), subs_.subscription().end());
    auto refreshed = co_await cluster_->refresh_metadata(asked, false);
    if (refreshed) meta = *refreshed;
  }
  std::set<topic_partition> next;
  for (const auto& t : target.topic_partitions) {
    auto name = name_of_id(t.topic_id);
    if (!name || !subs_.subscription().count(*name)) continue;  // resolved at a later heartbeat
    for (int32_t p : t.partitions) next.insert({*name, p});
  }
  const auto owned = subs_.assigned_partitions();
  auto revoked = minus(owned, next);
  auto added = minus(next, owned);
  if (!revoked.empty()) {
    // Revoke first: commit what was consumed from them, tell the listener, then let go.
    if (config_.enable_auto_commit) {
      topic_partition_offsets offsets;
      for (const auto& [tp, c] : subs_.all_consumed())
        if (std::find(revoked.begin(), revoked.end(), tp) != revoked.end())
          offsets[tp] = offset_and_metadata{c.offset, c.leader_epoch, c.metadata};
      (void)co_await commit(offsets, clock::now() + std::chrono::milliseconds(config_.default_api_timeout_ms));
    }
    revoke(revoked, false);
  }
  (void)subs_.assign_from_subscribed(next);
  if (!added.empty()) assigned(added);
  if ((!revoked.empty() || !added.empty()) && heartbeat_wakeup_) heartbeat_wakeup_->cancel();  // acknowledge soon
  co_return result<void>{};
}

awaitable<void> consumer_engine::consumer_heartbeat_loop(uint64_t session) {
  const auto alive = alive_;
  while (session == heartbeat_session_ && !closed_) {
    heartbeat_wakeup_->expires_after(heartbeat_interval_);
    boost::system::error_code ec;
    co_await heartbeat_wakeup_->async_wait(asio::redirect_error(use_awaitable, ec));
    if (!*alive || session != heartbeat_session_ || closed_) co_return;
    if (!joined_) continue;
    if (clock::now() - last_poll_ > std::chrono::milliseconds(config_.max_poll_interval_ms)) {
      spdlog::warn("consumer poll timeout has expired: leaving group {}", *config_.group_id);
      (void)co_await consumer_heartbeat(true);
      if (!*alive) co_return;
      reset_generation(true);
      continue;
    }
    (void)co_await consumer_heartbeat(false);
    if (!*alive) co_return;
  }
}

// ---- offsets ------------------------------------------------------------------------------------

awaitable<void> consumer_engine::maybe_auto_commit(bool force, clock::time_point deadline) {
  if (!config_.enable_auto_commit || !config_.group_id) co_return;
  const auto now = clock::now();
  if (!force && now < next_auto_commit_) co_return;
  next_auto_commit_ = now + std::chrono::milliseconds(config_.auto_commit_interval_ms);
  topic_partition_offsets offsets;
  for (const auto& [tp, c] : subs_.all_consumed()) {
    auto last = subs_.committed(tp);
    if (last && last->offset == c.offset) continue;  // nothing new since the last commit
    offsets[tp] = offset_and_metadata{c.offset, c.leader_epoch, c.metadata};
  }
  if (offsets.empty()) co_return;
  auto r = co_await commit(offsets, std::max(deadline, now + std::chrono::milliseconds(config_.default_api_timeout_ms)));
  if (!r) spdlog::warn("auto commit for group {} failed: {}", *config_.group_id, r.err().message);
}

awaitable<result<void>> consumer_engine::commit(topic_partition_offsets offsets, clock::time_point deadline) {
  if (!config_.group_id)
    co_return common::error{kafka_error::invalid_group_id,
                            "To use the group management or offset commit APIs, you must provide a valid group.id"};
  if (offsets.empty()) co_return result<void>{};
  bool refresh_ids = false;  // an id was unknown to the broker: the topic may have been created again
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      if (clock::now() + cluster_->retry_backoff(attempt) >= deadline)
        co_return common::error{kafka_error::request_timed_out, "OffsetCommit timed out"};
      co_await pause_for(cluster_->retry_backoff(attempt));
      if (wakeable_commit_)
        if (auto w = take_wakeup()) co_return *w;
    }
    std::set<std::string> topics;
    for (const auto& [tp, o] : offsets) topics.insert(tp.topic);
    if (refresh_ids) {
      refresh_ids = false;
      const std::vector<std::string> asked(topics.begin(), topics.end());  // named: see pause_for()
      auto refreshed = co_await cluster_->refresh_metadata(asked, false);
      if (!refreshed) spdlog::debug("metadata refresh before OffsetCommit failed: {}", refreshed.err().message);
    }
    auto coord = co_await coordinator();
    if (!coord) {
      if (!core::is_retriable(coord.err().code)) co_return coord.err();
      continue;
    }
    const auto ids = topic_ids_of(*cluster_->metadata(), topics);
    proto::offset_commit::request req;
    req.group_id = *config_.group_id;
    const bool member = in_group() && joined_;
    req.generation_id_or_member_epoch = member ? generation_ : -1;
    req.member_id = member ? member_id_ : "";
    req.group_instance_id = member ? config_.group_instance_id : std::nullopt;
    for (const auto& [tp, o] : offsets) {
      if (req.topics.empty() || req.topics.back().name != tp.topic) {
        auto& t = req.topics.emplace_back();
        t.name = tp.topic;
        if (ids) t.topic_id = ids->at(tp.topic);
      }
      proto::offset_commit::offset_commit_request_partition p;
      p.partition_index = tp.partition;
      p.committed_offset = o.offset;
      p.committed_leader_epoch = o.leader_epoch.value_or(-1);
      p.committed_metadata = o.metadata;
      req.topics.back().partitions.push_back(p);
    }
    auto resp = co_await cluster_->call(*coord, req, proto::offset_commit::min_version,
                                        ids ? proto::offset_commit::max_version : int16_t{9});
    if (!resp) {
      if (!core::is_retriable(resp.err().code)) co_return resp.err();
      coordinator_lost();
      continue;
    }
    auto topic_name = [&](const proto::offset_commit::offset_commit_response_topic& t) {
      return resp->version >= 10 && ids ? name_for(*ids, t.topic_id) : t.name;
    };
    std::optional<common::error> fatal;
    bool retry = false;
    for (const auto& t : resp->body.topics)
      for (const auto& p : t.partitions) {
        const auto e = static_cast<kafka_error>(p.error_code);
        topic_partition tp{topic_name(t), p.partition_index};
        if (e == kafka_error::none) {
          auto it = offsets.find(tp);
          if (it != offsets.end()) subs_.set_committed(tp, {it->second.offset, it->second.leader_epoch, it->second.metadata});
          continue;
        }
        if (coordinator_moved(e)) {
          coordinator_lost();
          retry = true;
        } else if (e == kafka_error::coordinator_load_in_progress || e == kafka_error::unknown_topic_or_partition) {
          retry = true;
        } else if (e == kafka_error::unknown_topic_id) {
          retry = refresh_ids = true;
        } else if (e == kafka_error::illegal_generation || e == kafka_error::unknown_member_id ||
                   e == kafka_error::fenced_instance_id || e == kafka_error::stale_member_epoch ||
                   e == kafka_error::fenced_member_epoch) {
          fatal = common::error{e, "Commit cannot be completed since the group has already rebalanced and assigned the "
                                   "partitions to another member (" + name_of(e) + ")"};
          if (e != kafka_error::stale_member_epoch) reset_generation(true);
        } else if (e == kafka_error::rebalance_in_progress) {
          rejoin_needed_ = true;
          fatal = common::error{e, "Commit cannot be completed since the group is rebalancing"};
        } else {
          fatal = common::error{e, "OffsetCommit of " + to_string(tp) + " failed: " + name_of(e)};
        }
      }
    if (fatal) co_return *fatal;
    if (!retry) co_return result<void>{};
    // Only the partitions still failing are sent again.
    for (const auto& t : resp->body.topics)
      for (const auto& p : t.partitions)
        if (p.error_code == 0) offsets.erase(topic_partition{topic_name(t), p.partition_index});
  }
}

awaitable<result<std::map<topic_partition, std::optional<offset_and_metadata>>>> consumer_engine::fetch_committed(
    const std::set<topic_partition>& partitions, clock::time_point deadline) {
  std::map<topic_partition, std::optional<offset_and_metadata>> out;
  if (!config_.group_id)
    co_return common::error{kafka_error::invalid_group_id,
                            "To use the group management or offset commit APIs, you must provide a valid group.id"};
  if (partitions.empty()) co_return out;
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& tp : partitions) by_topic[tp.topic].push_back(tp.partition);
  std::set<std::string> topics;
  for (const auto& [t, ps] : by_topic) topics.insert(t);
  bool refresh_ids = false;  // an id was unknown to the broker: the topic may have been created again
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      if (clock::now() + cluster_->retry_backoff(attempt) >= deadline)
        co_return common::error{kafka_error::request_timed_out, "OffsetFetch timed out"};
      co_await sleep_for(ex_, cluster_->retry_backoff(attempt));
    }
    if (refresh_ids) {
      refresh_ids = false;
      const std::vector<std::string> asked(topics.begin(), topics.end());  // named: see pause_for()
      auto refreshed = co_await cluster_->refresh_metadata(asked, false);
      if (!refreshed) spdlog::debug("metadata refresh before OffsetFetch failed: {}", refreshed.err().message);
    }
    auto coord = co_await coordinator();
    if (!coord) {
      if (!core::is_retriable(coord.err().code)) co_return coord.err();
      continue;
    }
    auto conn = co_await cluster_->connection_to(*coord);
    if (!conn) {
      coordinator_lost();
      continue;
    }
    const auto ids = topic_ids_of(*cluster_->metadata(), topics);
    auto version = (*conn)->version_for<proto::offset_fetch::request>(1, ids ? proto::offset_fetch::max_version : 9);
    if (!version) co_return common::error{kafka_error::unsupported_version, "the coordinator serves no OffsetFetch v1+"};
    proto::offset_fetch::request req;
    req.require_stable = true;
    if (*version >= 8) {
      proto::offset_fetch::offset_fetch_request_group g;
      g.group_id = *config_.group_id;
      if (config_.protocol == group_protocol::consumer && joined_) {
        g.member_id = member_id_;
        g.member_epoch = generation_;
      }
      g.topics.emplace();
      for (const auto& [t, ps] : by_topic) {
        auto& rt = g.topics->emplace_back();
        rt.name = t;
        if (ids) rt.topic_id = ids->at(t);
        rt.partition_indexes = ps;
      }
      req.groups.push_back(std::move(g));
    } else {
      req.group_id = *config_.group_id;
      req.topics.emplace();
      for (const auto& [t, ps] : by_topic) req.topics->push_back({t, ps});
    }
    auto resp = co_await (*conn)->call_at(req, *version);
    if (!resp) {
      if (!core::is_retriable(resp.err().code)) co_return resp.err();
      coordinator_lost();
      continue;
    }
    kafka_error top = kafka_error::none;
    bool retry = false;
    auto take = [&](const std::string& topic, int32_t partition, int64_t offset, int32_t epoch,
                    const std::optional<std::string>& metadata, int16_t code) -> std::optional<common::error> {
      const auto e = static_cast<kafka_error>(code);
      topic_partition tp{topic, partition};
      if (e == kafka_error::unstable_offset_commit || coordinator_moved(e) ||
          e == kafka_error::coordinator_load_in_progress) {
        retry = true;
        return std::nullopt;
      }
      if (e == kafka_error::unknown_topic_id) {
        retry = refresh_ids = true;
        return std::nullopt;
      }
      if (e != kafka_error::none)
        return common::error{e, "OffsetFetch of " + to_string(tp) + " failed: " + name_of(e)};
      if (offset < 0) out[tp] = std::nullopt;
      else out[tp] = offset_and_metadata{offset, epoch >= 0 ? std::optional<int32_t>(epoch) : std::nullopt,
                                         metadata.value_or("")};
      return std::nullopt;
    };
    if (*version >= 8) {
      for (const auto& g : resp->groups) {
        top = static_cast<kafka_error>(g.error_code);
        if (top != kafka_error::none) break;
        for (const auto& t : g.topics) {
          const std::string name = *version >= 10 && ids ? name_for(*ids, t.topic_id) : t.name;
          for (const auto& p : t.partitions)
            if (auto e = take(name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata,
                              p.error_code))
              co_return *e;
        }
      }
    } else {
      top = static_cast<kafka_error>(resp->error_code);
      if (top == kafka_error::none)
        for (const auto& t : resp->topics)
          for (const auto& p : t.partitions)
            if (auto e = take(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata,
                              p.error_code))
              co_return *e;
    }
    if (top != kafka_error::none) {
      if (coordinator_moved(top)) {
        coordinator_lost();
        continue;
      }
      if (core::is_retriable(top)) continue;
      co_return common::error{top, "OffsetFetch for group " + *config_.group_id + " failed: " + name_of(top)};
    }
    if (!retry) co_return out;
  }
}

}  // namespace brook::client::consuming
