#include "broker/group/group.hpp"

#include "broker/group/coordinator.hpp"

#include <algorithm>
#include <cassert>
#include <spdlog/spdlog.h>

namespace brook::broker::group {

std::string_view state_name(group_state s) {
  switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
  }
  return "Unknown";
}

bool transition_allowed(group_state from, group_state to) {
  using s = group_state;
  switch (to) {
    case s::preparing_rebalance: return from == s::stable || from == s::completing_rebalance || from == s::empty;
    case s::completing_rebalance: return from == s::preparing_rebalance;
    case s::stable: return from == s::completing_rebalance;
    case s::empty: return from == s::preparing_rebalance;
    case s::dead: return true;
  }
  return false;
}

const std::string* member::metadata_for(std::string_view protocol) const {
  for (const auto& p : protocols)
    if (p.name == protocol) return &p.metadata;
  return nullptr;
}

group::group(std::string id, const group_limits& limits, int64_t now)
    : id_(std::move(id)), limits_(limits), state_since_ms_(now) {}

void group::restore(std::string protocol_type, int32_t generation, std::optional<std::string> protocol,
                    std::string leader, std::vector<member> members, int64_t state_since_ms, int64_t now) {
  protocol_type_ = protocol_type.empty() ? std::nullopt : std::optional<std::string>(std::move(protocol_type));
  generation_ = generation;
  state_since_ms_ = members.empty() ? state_since_ms : now;
  members_.clear();
  static_members_.clear();
  for (auto& m : members) {
    m.last_heartbeat_ms = now;
    m.is_new = false;
    if (m.instance_id) static_members_[*m.instance_id] = m.id;
    std::string id = m.id;
    members_.emplace(id, std::move(m));
  }
  if (members_.empty()) {
    state_ = group_state::empty;
    protocol_.reset();
    leader_.clear();
  } else {
    // A loaded group with members resumes where it was; members that are gone time out.
    state_ = group_state::stable;
    protocol_ = std::move(protocol);
    leader_ = members_.count(leader) ? leader : members_.begin()->first;
  }
}

const member* group::find_member(const std::string& id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

void group::set_state(group_state to, int64_t now) {
  if (!transition_allowed(state_, to)) {
    // A coordinator bug: fatal in debug builds, loud in release ones.
    spdlog::error("group '{}': illegal transition {} -> {}", id_, state_name(state_), state_name(to));
    assert(false && "illegal group state transition");
  }
  state_ = to;
  state_since_ms_ = now;
  // Kafka stores a classic group when a generation completes (the leader's SyncGroup, see sync())
  // and when it becomes Empty or Dead; the states in between are not persisted.
  if (to == group_state::empty || to == group_state::dead) dirty = true;
}

bool group::is_static_fenced(const std::optional<std::string>& instance_id, const std::string& member_id) const {
  if (!instance_id) return false;
  auto it = static_members_.find(*instance_id);
  return it != static_members_.end() && it->second != member_id;
}

kafka_error group::validate_member(const std::string& member_id, const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto it = static_members_.find(*instance_id);
    if (it == static_members_.end()) return kafka_error::unknown_member_id;
    return it->second == member_id ? kafka_error::none : kafka_error::fenced_instance_id;
  }
  return members_.count(member_id) ? kafka_error::none : kafka_error::unknown_member_id;
}

bool group::supports_protocols(const std::string& type, const std::vector<protocol_entry>& protocols) const {
  if (state_ == group_state::empty || members_.empty()) return !type.empty() && !protocols.empty();
  if (!protocol_type_ || *protocol_type_ != type) return false;
  // Some protocol of the joiner must be supported by every current member.
  for (const auto& p : protocols) {
    bool everyone = std::all_of(members_.begin(), members_.end(),
                                [&](const auto& kv) { return kv.second.metadata_for(p.name) != nullptr; });
    if (everyone) return true;
  }
  return false;
}

bool group::accept_joining_member(const std::string& member_id) const {
  const size_t max = static_cast<size_t>(std::max(limits_.max_size, 1));
  switch (state_) {
    case group_state::empty:
    case group_state::dead: return true;
    case group_state::completing_rebalance:
    case group_state::stable: return members_.count(member_id) || members_.size() + pending_.size() < max;
    case group_state::preparing_rebalance: {
      auto it = members_.find(member_id);
      if (it != members_.end() && it->second.awaiting_join) return true;
      size_t awaiting = std::count_if(members_.begin(), members_.end(),
                                      [](const auto& kv) { return bool(kv.second.awaiting_join); });
      return awaiting < max;
    }
  }
  return false;
}

int32_t group::rebalance_timeout_ms() const {
  int32_t t = 0;
  for (const auto& [id, m] : members_) t = std::max(t, m.rebalance_timeout_ms);
  return t;
}

std::string group::select_protocol() const {
  // Candidates: protocols every member supports; each member votes for its most preferred candidate.
  const member& first = members_.count(leader_) ? members_.at(leader_) : members_.begin()->second;
  std::vector<std::string> candidates;
  for (const auto& p : first.protocols) {
    bool everyone = std::all_of(members_.begin(), members_.end(),
                                [&](const auto& kv) { return kv.second.metadata_for(p.name) != nullptr; });
    if (everyone) candidates.push_back(p.name);
  }
  if (candidates.empty()) return first.protocols.empty() ? std::string() : first.protocols.front().name;
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members_)
    for (const auto& p : m.protocols)
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
  std::string best = candidates.front();
  for (const auto& c : candidates)
    if (votes[c] > votes[best]) best = c;
  return best;
}

bool group::all_members_joined() const {
  return pending_.empty() && std::all_of(members_.begin(), members_.end(),
                                         [](const auto& kv) { return bool(kv.second.awaiting_join); });
}

std::vector<join_member_info> group::current_member_metadata() const {
  std::vector<join_member_info> out;
  for (const auto& [id, m] : members_) {
    const std::string* md = protocol_ ? m.metadata_for(*protocol_) : nullptr;
    out.push_back({id, m.instance_id, md ? *md : std::string()});
  }
  return out;
}

join_result group::current_join_result(const member& m, bool as_leader) const {
  join_result r;
  r.generation = generation_;
  r.protocol_type = protocol_type_;
  r.protocol_name = protocol_;
  r.leader = leader_;
  r.member_id = m.id;
  if (as_leader) r.members = current_member_metadata();
  return r;
}

void group::heartbeat_member(member& m, int64_t now) { m.last_heartbeat_ms = now; }

bool group::keep_alive(const member& m, int64_t now) const {
  if (m.awaiting_join) return !m.is_new || m.last_heartbeat_ms + limits_.new_member_join_timeout_ms > now;
  if (m.awaiting_sync) return true;
  return m.last_heartbeat_ms + m.session_timeout_ms > now;
}

int64_t group::session_deadline(const member& m) const {
  if (m.awaiting_join) return m.is_new ? m.last_heartbeat_ms + limits_.new_member_join_timeout_ms : INT64_MAX;
  if (m.awaiting_sync) return INT64_MAX;
  return m.last_heartbeat_ms + m.session_timeout_ms;
}

// ---- JoinGroup ----

void group::join(const join_request& req, int64_t now, join_callback done) {
  auto fail = [&](kafka_error e) {
    join_result r;
    r.error = e;
    r.member_id = req.member_id;
    done(std::move(r));
  };
  if (state_ == group_state::dead) return fail(kafka_error::coordinator_not_available);
  if (req.session_timeout_ms < limits_.min_session_timeout_ms || req.session_timeout_ms > limits_.max_session_timeout_ms)
    return fail(kafka_error::invalid_session_timeout);
  if (!accept_joining_member(req.member_id)) return fail(kafka_error::group_max_size_reached);
  if (req.member_id.empty())
    join_unknown(req, now, done);
  else
    join_known(req, now, done);
}

void group::join_unknown(const join_request& req, int64_t now, join_callback& done) {
  if (!supports_protocols(req.protocol_type, req.protocols)) {
    join_result r;
    r.error = kafka_error::inconsistent_group_protocol;
    return done(std::move(r));
  }
  const std::string& new_id = req.new_member_id;
  if (req.instance_id) {
    auto it = static_members_.find(*req.instance_id);
    if (it != static_members_.end()) return replace_static_member(req, it->second, now, done);
    return add_member_and_rebalance(req, new_id, now, done);
  }
  if (req.require_known_member_id) {
    // KIP-394: hand out the id and make the client come back with it, so that a client that never
    // receives this response leaves no member behind.
    pending_[new_id] = now + req.session_timeout_ms;
    join_result r;
    r.error = kafka_error::member_id_required;
    r.member_id = new_id;
    return done(std::move(r));
  }
  add_member_and_rebalance(req, new_id, now, done);
}

void group::join_known(const join_request& req, int64_t now, join_callback& done) {
  auto fail = [&](kafka_error e) {
    join_result r;
    r.error = e;
    r.member_id = req.member_id;
    done(std::move(r));
  };
  if (!supports_protocols(req.protocol_type, req.protocols)) return fail(kafka_error::inconsistent_group_protocol);
  if (pending_.count(req.member_id)) {
    pending_.erase(req.member_id);
    return add_member_and_rebalance(req, req.member_id, now, done);
  }
  if (is_static_fenced(req.instance_id, req.member_id)) return fail(kafka_error::fenced_instance_id);
  auto it = members_.find(req.member_id);
  if (it == members_.end()) return fail(kafka_error::unknown_member_id);
  member& m = it->second;
  switch (state_) {
    case group_state::preparing_rebalance:
      return update_member_and_rebalance(m, req, now, done);
    case group_state::completing_rebalance:
      if (m.protocols == req.protocols) {
        // The member may have missed the first response: answer again for this generation.
        heartbeat_member(m, now);
        return done(current_join_result(m, m.id == leader_));
      }
      return update_member_and_rebalance(m, req, now, done);
    case group_state::stable:
      if (m.id == leader_ || m.protocols != req.protocols) return update_member_and_rebalance(m, req, now, done);
      heartbeat_member(m, now);
      return done(current_join_result(m, false));
    case group_state::empty:
    case group_state::dead:
      return fail(kafka_error::unknown_member_id);
  }
}

void group::add_member_and_rebalance(const join_request& req, const std::string& member_id, int64_t now,
                                     join_callback& done) {
  member m;
  m.id = member_id;
  m.instance_id = req.instance_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.protocol_type = req.protocol_type;
  m.protocols = req.protocols;
  m.is_new = true;
  m.last_heartbeat_ms = now;
  m.awaiting_join = std::move(done);
  if (members_.empty()) protocol_type_ = req.protocol_type;
  if (leader_.empty()) leader_ = member_id;
  if (m.instance_id) static_members_[*m.instance_id] = member_id;
  members_.emplace(member_id, std::move(m));
  if (state_ == group_state::preparing_rebalance) new_member_added_ = true;
  if (state_ == group_state::preparing_rebalance)
    maybe_complete_join(now);
  else
    prepare_rebalance(now);
}

void group::update_member_and_rebalance(member& m, const join_request& req, int64_t now, join_callback& done) {
  m.protocols = req.protocols;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.session_timeout_ms = req.session_timeout_ms;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  if (m.awaiting_join) {
    // A duplicate join for the same member: the older request is superseded.
    join_result r;
    r.error = kafka_error::unknown_member_id;
    r.member_id = m.id;
    auto old = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    old(std::move(r));
  }
  m.awaiting_join = std::move(done);
  heartbeat_member(m, now);
  if (state_ == group_state::preparing_rebalance)
    maybe_complete_join(now);
  else
    prepare_rebalance(now);
}

void group::replace_static_member(const join_request& req, std::string old_id, int64_t now,
                                  join_callback& done) {
  const std::string& new_id = req.new_member_id;
  auto node = members_.extract(old_id);
  member m = std::move(node.mapped());
  // The old incarnation is fenced: its parked requests learn so now.
  if (m.awaiting_join) {
    join_result r;
    r.error = kafka_error::fenced_instance_id;
    r.member_id = old_id;
    auto cb = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    cb(std::move(r));
  }
  if (m.awaiting_sync) {
    sync_result r;
    r.error = kafka_error::fenced_instance_id;
    auto cb = std::move(m.awaiting_sync);
    m.awaiting_sync = nullptr;
    cb(std::move(r));
  }
  m.id = new_id;
  m.client_id = req.client_id;
  m.client_host = req.client_host;
  m.session_timeout_ms = req.session_timeout_ms;
  m.rebalance_timeout_ms = req.rebalance_timeout_ms;
  m.last_heartbeat_ms = now;
  m.is_new = false;
  const bool was_leader = leader_ == old_id;
  if (was_leader) leader_ = new_id;
  static_members_[*req.instance_id] = new_id;
  if (pending_sync_.erase(old_id)) pending_sync_.insert(new_id);
  auto& placed = members_.emplace(new_id, std::move(m)).first->second;
  dirty = true;
  placed.protocols = req.protocols;
  switch (state_) {
    case group_state::stable:
      // As in Kafka (GroupMetadataManager.updateStaticMemberThenRebalanceOrCompleteJoin), only a change of
      // the protocol the group would select rebalances, not new metadata alone (a restarted Kafka Streams
      // instance subscribes with the task offsets it found): a leader sees it among the members it gets.
      if (protocol_ && select_protocol() == *protocol_) {
        // The group's protocol stays: the member resumes its old assignment under the new id. A leader
        // that knows skipAssignment (JoinGroup v9+) is told it leads and gets the members; an older one
        // is named no leader (the old member id leads, no members): it syncs as a follower and gets its
        // assignment back, as Kafka answers it.
        const bool skip = was_leader && req.supports_skip_assignment;
        join_result r = current_join_result(placed, skip);
        r.skip_assignment = skip;
        if (was_leader && !skip) r.leader = old_id;
        return done(std::move(r));
      }
      placed.awaiting_join = std::move(done);
      return prepare_rebalance(now);
    case group_state::completing_rebalance:
      // The leader may be assigning to the old id: rebalance again.
      placed.awaiting_join = std::move(done);
      return prepare_rebalance(now);
    case group_state::preparing_rebalance:
      placed.awaiting_join = std::move(done);
      return maybe_complete_join(now);
    case group_state::empty:
    case group_state::dead: {
      join_result r;
      r.error = kafka_error::unknown_member_id;
      return done(std::move(r));
    }
  }
}

void group::prepare_rebalance(int64_t now) {
  if (state_ == group_state::completing_rebalance) propagate_assignment(kafka_error::rebalance_in_progress);
  pending_sync_.clear();
  sync_deadline_.reset();
  const int32_t timeout = rebalance_timeout_ms();
  if (state_ == group_state::empty) {
    initial_join_ = true;
    const int64_t delay = std::min<int64_t>(limits_.initial_rebalance_delay_ms, timeout);
    initial_remaining_ms_ = std::max<int64_t>(0, timeout - delay);
    join_deadline_ = now + delay;
  } else {
    initial_join_ = false;
    join_deadline_ = now + timeout;
  }
  new_member_added_ = false;
  set_state(group_state::preparing_rebalance, now);
  maybe_complete_join(now);
}

void group::maybe_complete_join(int64_t now) {
  if (state_ != group_state::preparing_rebalance) return;
  if (!initial_join_ && all_members_joined()) complete_join(now);
}

void group::complete_join(int64_t now) {
  if (initial_join_ && new_member_added_ && initial_remaining_ms_ > 0) {
    // Members are still arriving: wait another delay, within the rebalance timeout.
    const int64_t delay = std::min<int64_t>(limits_.initial_rebalance_delay_ms, initial_remaining_ms_);
    initial_remaining_ms_ -= delay;
    new_member_added_ = false;
    join_deadline_ = now + delay;
    return;
  }
  join_deadline_.reset();
  initial_join_ = false;
  new_member_added_ = false;
  // Dynamic members that did not rejoin in time are gone; static ones keep their place until their
  // session expires.
  std::vector<std::string> gone;
  for (const auto& [id, m] : members_)
    if (!m.awaiting_join && !m.instance_id) gone.push_back(id);
  for (const auto& id : gone) remove_member(id, kafka_error::unknown_member_id);

  ++generation_;
  if (members_.empty()) {
    protocol_.reset();
    set_state(group_state::empty, now);
    return;
  }
  if (auto it = members_.find(leader_); it == members_.end() || !it->second.awaiting_join) {
    for (const auto& [id, m] : members_)
      if (m.awaiting_join) {
        leader_ = id;
        break;
      }
  }
  protocol_ = select_protocol();
  set_state(group_state::completing_rebalance, now);
  for (auto& [id, m] : members_) {
    m.assignment.clear();
    if (!m.awaiting_join) continue;
    join_result r = current_join_result(m, id == leader_);
    auto cb = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    m.is_new = false;
    heartbeat_member(m, now);
    pending_sync_.insert(id);
    cb(std::move(r));
  }
  // Members that never send SyncGroup are removed after the rebalance timeout.
  if (!pending_sync_.empty()) sync_deadline_ = now + rebalance_timeout_ms();
}

void group::remove_member(const std::string& member_id, kafka_error join_error) {
  auto node = members_.extract(member_id);
  if (node.empty()) return;
  member& m = node.mapped();
  if (m.awaiting_join) {
    join_result r;
    r.error = join_error;
    r.member_id = member_id;
    auto cb = std::move(m.awaiting_join);
    cb(std::move(r));
  }
  if (m.awaiting_sync) {
    sync_result r;
    r.error = join_error;
    auto cb = std::move(m.awaiting_sync);
    cb(std::move(r));
  }
  if (m.instance_id) {
    auto it = static_members_.find(*m.instance_id);
    if (it != static_members_.end() && it->second == member_id) static_members_.erase(it);
  }
  pending_sync_.erase(member_id);
  if (pending_sync_.empty()) sync_deadline_.reset();
  if (leader_ == member_id) leader_ = members_.empty() ? std::string() : members_.begin()->first;
}

void group::remove_member_and_update(const std::string& member_id, int64_t now) {
  remove_member(member_id, kafka_error::unknown_member_id);
  switch (state_) {
    case group_state::dead:
    case group_state::empty: break;
    case group_state::stable:
    case group_state::completing_rebalance: prepare_rebalance(now); break;
    case group_state::preparing_rebalance: maybe_complete_join(now); break;
  }
}

void group::propagate_assignment(kafka_error error) {
  for (auto& [id, m] : members_) {
    if (!m.awaiting_sync) continue;
    sync_result r;
    r.error = error;
    if (error == kafka_error::none) {
      r.protocol_type = protocol_type_;
      r.protocol_name = protocol_;
      r.assignment = m.assignment;
    }
    auto cb = std::move(m.awaiting_sync);
    m.awaiting_sync = nullptr;
    cb(std::move(r));
  }
}

// ---- SyncGroup ----

void group::sync(const sync_request& req, int64_t now, sync_callback done) {
  auto fail = [&](kafka_error e) {
    sync_result r;
    r.error = e;
    done(std::move(r));
  };
  if (state_ == group_state::dead) return fail(kafka_error::coordinator_not_available);
  if (is_static_fenced(req.instance_id, req.member_id)) return fail(kafka_error::fenced_instance_id);
  auto it = members_.find(req.member_id);
  if (it == members_.end()) return fail(kafka_error::unknown_member_id);
  if (req.generation != generation_) return fail(kafka_error::illegal_generation);
  if ((req.protocol_type && protocol_type_ && *req.protocol_type != *protocol_type_) ||
      (req.protocol_name && protocol_ && *req.protocol_name != *protocol_))
    return fail(kafka_error::inconsistent_group_protocol);
  member& m = it->second;
  switch (state_) {
    case group_state::empty: return fail(kafka_error::unknown_member_id);
    case group_state::preparing_rebalance: return fail(kafka_error::rebalance_in_progress);
    case group_state::completing_rebalance: {
      heartbeat_member(m, now);
      if (m.awaiting_sync) {
        // A duplicate SyncGroup supersedes the parked one.
        sync_result r;
        r.error = kafka_error::rebalance_in_progress;
        auto old = std::move(m.awaiting_sync);
        m.awaiting_sync = nullptr;
        old(std::move(r));
      }
      m.awaiting_sync = std::move(done);
      pending_sync_.erase(m.id);
      if (m.id == leader_) {
        for (auto& [id, other] : members_) other.assignment.clear();
        for (const auto& [id, bytes] : req.assignments) {
          auto target = members_.find(id);
          if (target != members_.end()) target->second.assignment = bytes;
        }
        const size_t record_bytes = group_coordinator::encoded_size(*this);
        if (limits_.max_record_bytes > 0 && record_bytes > static_cast<size_t>(limits_.max_record_bytes)) {
          // Kafka stores the generation as one __consumer_offsets record; one larger than
          // max.message.bytes (message.max.bytes) fails with RecordTooLarge, which every member
          // waiting in SyncGroup hears as UNKNOWN_SERVER_ERROR, and the group rebalances.
          spdlog::warn("group '{}': generation {} would be stored as {} bytes, over message.max.bytes ({}); "
                       "the SyncGroup fails and the group rebalances",
                       id_, generation_, record_bytes, limits_.max_record_bytes);
          for (auto& [id, other] : members_) other.assignment.clear();
          propagate_assignment(kafka_error::unknown_server_error);
          pending_sync_.clear();
          sync_deadline_.reset();
          prepare_rebalance(now);
          return;
        }
        set_state(group_state::stable, now);
        dirty = true;  // the completed generation with its assignment (Kafka's GroupMetadata record)
        propagate_assignment(kafka_error::none);
      }
      if (pending_sync_.empty()) sync_deadline_.reset();
      return;
    }
    case group_state::stable: {
      heartbeat_member(m, now);
      pending_sync_.erase(m.id);
      if (pending_sync_.empty()) sync_deadline_.reset();
      sync_result r;
      r.protocol_type = protocol_type_;
      r.protocol_name = protocol_;
      r.assignment = m.assignment;
      return done(std::move(r));
    }
    case group_state::dead: return fail(kafka_error::coordinator_not_available);
  }
}

// ---- Heartbeat, LeaveGroup, OffsetCommit checks ----

kafka_error group::heartbeat(const std::string& member_id, const std::optional<std::string>& instance_id,
                             int32_t generation, int64_t now) {
  if (state_ == group_state::dead) return kafka_error::coordinator_not_available;
  if (is_static_fenced(instance_id, member_id)) return kafka_error::fenced_instance_id;
  auto it = members_.find(member_id);
  if (it == members_.end()) return kafka_error::unknown_member_id;
  if (generation != generation_) return kafka_error::illegal_generation;
  switch (state_) {
    case group_state::empty: return kafka_error::unknown_member_id;
    case group_state::completing_rebalance:
    case group_state::stable: heartbeat_member(it->second, now); return kafka_error::none;
    case group_state::preparing_rebalance: heartbeat_member(it->second, now); return kafka_error::rebalance_in_progress;
    case group_state::dead: break;
  }
  return kafka_error::coordinator_not_available;
}

std::vector<kafka_error> group::leave(const std::vector<leave_member>& leaving, int64_t now) {
  std::vector<kafka_error> out;
  for (const auto& l : leaving) {
    if (state_ == group_state::dead) {
      out.push_back(kafka_error::coordinator_not_available);
      continue;
    }
    std::string id = l.member_id;
    if (l.instance_id) {
      auto it = static_members_.find(*l.instance_id);
      if (it == static_members_.end()) {
        out.push_back(kafka_error::unknown_member_id);
        continue;
      }
      if (!id.empty() && it->second != id) {
        out.push_back(kafka_error::fenced_instance_id);
        continue;
      }
      id = it->second;
    }
    if (pending_.erase(id)) {
      out.push_back(kafka_error::none);
      maybe_complete_join(now);
      continue;
    }
    if (!members_.count(id)) {
      out.push_back(kafka_error::unknown_member_id);
      continue;
    }
    remove_member_and_update(id, now);
    out.push_back(kafka_error::none);
  }
  return out;
}

kafka_error group::validate_commit(const std::string& member_id, const std::optional<std::string>& instance_id,
                                   int32_t generation, int64_t now) {
  if (state_ == group_state::dead) return kafka_error::coordinator_not_available;
  // Kafka's first rule (ClassicGroup.validateOffsetCommit): generation < 0 on an Empty group is
  // the admin client or a consumer that assigns partitions itself, whatever member id it sends
  // (a KIP-848 consumer using assign() sends its own).
  if (generation < 0 && state_ == group_state::empty) return kafka_error::none;
  if (generation >= 0 || !member_id.empty() || instance_id) {
    if (auto e = validate_member(member_id, instance_id); e != kafka_error::none) return e;
    if (generation != generation_) return kafka_error::illegal_generation;
  } else if (state_ != group_state::empty) {
    // A committer outside the group may not commit for a group with members.
    return kafka_error::unknown_member_id;
  }
  switch (state_) {
    case group_state::empty: return kafka_error::none;
    case group_state::completing_rebalance: return kafka_error::rebalance_in_progress;
    case group_state::stable:
    case group_state::preparing_rebalance:
      if (auto it = members_.find(member_id); it != members_.end()) heartbeat_member(it->second, now);
      return kafka_error::none;
    case group_state::dead: break;
  }
  return kafka_error::coordinator_not_available;
}

kafka_error group::validate_txn_commit(const std::string& member_id, const std::optional<std::string>& instance_id,
                                       int32_t generation) const {
  if (state_ == group_state::dead) return kafka_error::coordinator_not_available;
  if (generation < 0 && state_ == group_state::empty) return kafka_error::none;
  if (generation >= 0 || !member_id.empty() || instance_id) {
    if (auto e = validate_member(member_id, instance_id); e != kafka_error::none) return e;
    if (generation != generation_) return kafka_error::illegal_generation;
  }
  return kafka_error::none;
}

// ---- timers ----

std::optional<int64_t> group::next_deadline() const {
  std::optional<int64_t> next;
  auto consider = [&](int64_t t) {
    if (!next || t < *next) next = t;
  };
  if (state_ == group_state::dead) return std::nullopt;
  if (join_deadline_) consider(*join_deadline_);
  if (sync_deadline_) consider(*sync_deadline_);
  for (const auto& [id, deadline] : pending_) consider(deadline);
  for (const auto& [id, m] : members_) {
    int64_t d = session_deadline(m);
    if (d != INT64_MAX) consider(d);
  }
  return next;
}

void group::advance(int64_t now) {
  if (state_ == group_state::dead) return;
  // Each step may change the group; repeat until nothing is due.
  for (int guard = 0; guard < 1000; ++guard) {
    bool acted = false;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second <= now) {
        it = pending_.erase(it);
        acted = true;
      } else {
        ++it;
      }
    }
    if (acted) maybe_complete_join(now);
    std::vector<std::string> expired;
    for (const auto& [id, m] : members_)
      if (!keep_alive(m, now)) expired.push_back(id);
    for (const auto& id : expired) {
      if (members_.count(id)) remove_member_and_update(id, now);
      acted = true;
    }
    if (join_deadline_ && *join_deadline_ <= now && state_ == group_state::preparing_rebalance) {
      complete_join(now);
      acted = true;
    }
    if (sync_deadline_ && *sync_deadline_ <= now) {
      sync_deadline_.reset();
      std::vector<std::string> missing(pending_sync_.begin(), pending_sync_.end());
      pending_sync_.clear();
      if (!missing.empty() && (state_ == group_state::completing_rebalance || state_ == group_state::stable)) {
        for (const auto& id : missing) remove_member(id, kafka_error::unknown_member_id);
        prepare_rebalance(now);
      }
      acted = true;
    }
    if (!acted) return;
  }
}

void group::mark_dead() {
  abort_all(kafka_error::coordinator_not_available);
  join_deadline_.reset();
  sync_deadline_.reset();
  state_ = group_state::dead;
  dirty = true;
}

void group::abort_all(kafka_error error) {
  for (auto& [id, m] : members_) {
    if (m.awaiting_join) {
      join_result r;
      r.error = error;
      r.member_id = id;
      auto cb = std::move(m.awaiting_join);
      m.awaiting_join = nullptr;
      cb(std::move(r));
    }
    if (m.awaiting_sync) {
      sync_result r;
      r.error = error;
      auto cb = std::move(m.awaiting_sync);
      m.awaiting_sync = nullptr;
      cb(std::move(r));
    }
  }
}

// ---- consumer protocol ----

namespace {
// ConsumerProtocolSubscription v0-3 (not flexible): i16 version, i32 topic count, then i16-length
// topic names; the rest (user data, owned partitions, rack) does not matter here.
std::optional<std::vector<std::string>> parse_subscription(const std::string& bytes) {
  size_t pos = 0;
  auto need = [&](size_t n) { return pos + n <= bytes.size(); };
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if (!need(6)) return std::nullopt;
  int16_t version = static_cast<int16_t>((u8(0) << 8) | u8(1));
  if (version < 0) return std::nullopt;
  pos = 2;
  int32_t count = static_cast<int32_t>((uint32_t(u8(2)) << 24) | (uint32_t(u8(3)) << 16) | (uint32_t(u8(4)) << 8) | u8(5));
  pos = 6;
  if (count < 0) return std::nullopt;
  std::vector<std::string> topics;
  for (int32_t i = 0; i < count; ++i) {
    if (!need(2)) return std::nullopt;
    int16_t len = static_cast<int16_t>((u8(pos) << 8) | u8(pos + 1));
    pos += 2;
    if (len < 0 || !need(static_cast<size_t>(len))) return std::nullopt;
    topics.emplace_back(bytes.substr(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len);
  }
  return topics;
}
}  // namespace

std::optional<std::set<std::string>> group::subscribed_topics() const {
  if (!protocol_type_ || *protocol_type_ != "consumer" || !protocol_ || members_.empty()) return std::nullopt;
  std::set<std::string> out;
  for (const auto& [id, m] : members_) {
    const std::string* md = m.metadata_for(*protocol_);
    if (!md) return std::nullopt;
    auto topics = parse_subscription(*md);
    if (!topics) return std::nullopt;
    out.insert(topics->begin(), topics->end());
  }
  return out;
}

}  // namespace brook::broker::group
