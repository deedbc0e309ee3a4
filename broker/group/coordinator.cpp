#include "broker/group/coordinator.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace brook::broker::group {

namespace {

std::string random_uuid_text() {
  // Java's UUID.toString() form of a random (version 4) uuid, as Kafka's member ids carry.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                     lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

}  // namespace

std::string classic_member_id(std::string_view prefix, std::string_view uuid) {
  // Every Kafka string field holds at most 32767 bytes (int16 length; the generated codecs refuse
  // longer ones even in compact form). Kafka's ClassicGroup.generateMemberId concatenates without a
  // limit, so a client id near that size makes an id no response can carry; Brook cuts the prefix
  // (at a UTF-8 character boundary) so that the id always fits.
  constexpr size_t max_string_bytes = 32767;
  const size_t room = max_string_bytes - 1 - std::min(uuid.size(), max_string_bytes - 1);
  size_t keep = std::min(prefix.size(), room);
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (keep > 0 && keep < prefix.size() && (static_cast<uint8_t>(prefix[keep]) & 0xC0) == 0x80) --keep;
  std::string id(prefix.substr(0, keep));
  id += '-';
  id += uuid;
  return id;
}

namespace {

// Kafka's Uuid.randomUuid().toString(): 16 random bytes in URL-safe base64 without padding.
std::string random_member_id() { return common::uuid::random().to_string(); }

// ---- the persisted form: group_metadata_record (common/protocol/records/) ----
namespace gmr = common::protocol::group_metadata_record;

// A member's held partitions with the epoch at which each was assigned (every held partition has
// one; see consumer_member), or a target's partitions (no epochs).
std::vector<gmr::topic_partitions> partitions_to_record(const topic_partitions& tp,
                                                        const consumer_member* epochs_of = nullptr) {
  std::vector<gmr::topic_partitions> out;
  out.reserve(tp.size());
  for (const auto& [topic, parts] : tp) {
    auto& r = out.emplace_back();
    r.topic_id = topic;
    r.partitions.assign(parts.begin(), parts.end());
    if (!epochs_of) continue;
    auto t = epochs_of->assignment_epochs.find(topic);
    for (int32_t p : parts) {
      int32_t epoch = epochs_of->member_epoch;
      if (t != epochs_of->assignment_epochs.end())
        if (auto e = t->second.find(p); e != t->second.end()) epoch = e->second;
      r.assignment_epochs.push_back(epoch);
    }
  }
  return out;
}

// The partitions of a record, and for a member's, their epochs; false if the epochs do not match.
bool partitions_from_record(const std::vector<gmr::topic_partitions>& in, topic_partitions& out,
                            consumer_member* epochs_of = nullptr) {
  for (const auto& r : in) {
    if (epochs_of && r.assignment_epochs.size() != r.partitions.size()) return false;
    auto& parts = out[r.topic_id];
    for (size_t i = 0; i < r.partitions.size(); ++i) {
      parts.insert(r.partitions[i]);
      if (epochs_of) epochs_of->assignment_epochs[r.topic_id][r.partitions[i]] = r.assignment_epochs[i];
    }
  }
  return true;
}

std::optional<consumer_group_snapshot> consumer_from_record(const gmr::consumer_group& r) {
  consumer_group_snapshot s;
  s.group_epoch = r.group_epoch;
  s.assignment_epoch = r.assignment_epoch;
  if (r.assignment_time_ms >= 0) s.assignment_time_ms = r.assignment_time_ms;
  s.state_since_ms = r.state_since_ms;
  for (const auto& rm : r.members) {
    consumer_member m;
    m.id = rm.member_id;
    m.instance_id = rm.instance_id;
    m.rack_id = rm.rack_id;
    m.client_id = rm.client_id;
    m.client_host = rm.client_host;
    m.member_epoch = rm.member_epoch;
    m.previous_member_epoch = rm.previous_member_epoch;
    if (rm.state < 0 || rm.state > 2) return std::nullopt;
    m.state = static_cast<member_state>(rm.state);
    m.rebalance_timeout_ms = rm.rebalance_timeout_ms;
    m.subscribed_topic_names = rm.subscribed_topic_names;
    m.subscribed_topic_regex = rm.subscribed_topic_regex;
    m.server_assignor = rm.server_assignor;
    if (!partitions_from_record(rm.assigned, m.assigned, &m) ||
        !partitions_from_record(rm.pending_revocation, m.pending_revocation, &m))
      return std::nullopt;
    s.members.push_back(std::move(m));
  }
  for (const auto& t : r.target) partitions_from_record(t.partitions, s.target[t.member_id]);
  for (const auto& st : r.subscribed_metadata) s.subscribed_metadata[st.name] = topic_metadata{st.topic_id, st.partitions};
  return s;
}

}  // namespace

group_coordinator::group_coordinator(coordinator_config config, int64_t now)
    : new_uuid(random_uuid_text),
      new_member_id(random_member_id),
      config_(config),
      next_retention_check_ms_(now + std::max<int64_t>(1, config.offsets_retention_check_interval_ms)) {}

group* group_coordinator::find(const std::string& id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

group& group_coordinator::get_or_create(const std::string& id, int64_t now) {
  auto& slot = groups_[id];
  if (!slot) slot = std::make_unique<group>(id, config_.limits, now);
  return *slot;
}

void group_coordinator::join(const std::string& group_id, join_request req, int64_t now, join_callback done) {
  join_result fail;
  fail.member_id = req.member_id;
  if (group_id.empty()) {
    fail.error = kafka_error::invalid_group_id;
    return done(std::move(fail));
  }
  const auto& lim = config_.limits;
  if (req.session_timeout_ms < lim.min_session_timeout_ms || req.session_timeout_ms > lim.max_session_timeout_ms) {
    fail.error = kafka_error::invalid_session_timeout;
    return done(std::move(fail));
  }
  bool replaced_consumer_group = false;
  if (consumer_group* cg = find_consumer(group_id)) {
    // Brook does not migrate groups between protocols online (Kafka's
    // group.consumer.migration.policy=disabled): a classic member may not join a consumer group
    // that has members; an empty one is replaced by a classic group (its offsets stay).
    if (!cg->is_empty() || cg->dead()) {
      fail.error = kafka_error::inconsistent_group_protocol;
      return done(std::move(fail));
    }
    consumer_groups_.erase(group_id);
    replaced_consumer_group = true;
  }
  group* g = find(group_id);
  if (!g) {
    if (!req.member_id.empty()) {
      fail.error = kafka_error::unknown_member_id;
      return done(std::move(fail));
    }
    g = &get_or_create(group_id, now);
    // A new group is stored when its first generation completes, as in Kafka; one replacing an
    // empty consumer-protocol group is stored at once, so that record does not come back.
    if (replaced_consumer_group) g->dirty = true;
  }
  if (req.member_id.empty()) req.new_member_id = classic_member_id(req.instance_id ? *req.instance_id : req.client_id, new_uuid());
  g->join(req, now, std::move(done));
}

void group_coordinator::sync(const std::string& group_id, const sync_request& req, int64_t now, sync_callback done) {
  group* g = group_id.empty() ? nullptr : find(group_id);
  if (!g) {
    sync_result r;
    r.error = group_id.empty() ? kafka_error::invalid_group_id : kafka_error::unknown_member_id;
    return done(std::move(r));
  }
  g->sync(req, now, std::move(done));
}

kafka_error group_coordinator::heartbeat(const std::string& group_id, const std::string& member_id,
                                         const std::optional<std::string>& instance_id, int32_t generation,
                                         int64_t now) {
  if (group_id.empty()) return kafka_error::invalid_group_id;
  group* g = find(group_id);
  if (!g) return kafka_error::unknown_member_id;
  return g->heartbeat(member_id, instance_id, generation, now);
}

std::vector<kafka_error> group_coordinator::leave(const std::string& group_id, const std::vector<leave_member>& leaving,
                                                  int64_t now) {
  group* g = find(group_id);
  if (!g) return std::vector<kafka_error>(leaving.size(), kafka_error::unknown_member_id);
  return g->leave(leaving, now);
}

kafka_error group_coordinator::validate_commit(const std::string& group_id, const std::string& member_id,
                                               const std::optional<std::string>& instance_id, int32_t generation,
                                               int64_t now, int16_t api_version,
                                               std::span<const committed_partition> partitions) {
  if (group_id.empty()) return kafka_error::invalid_group_id;
  if (const consumer_group* cg = find_consumer(group_id)) {
    if (cg->dead()) return kafka_error::coordinator_not_available;
    return cg->validate_commit(member_id, generation, api_version, partitions);
  }
  group* g = find(group_id);
  if (!g) {
    // Kafka (OffsetMetadataManager.validateOffsetCommit): v9+ answers GROUP_ID_NOT_FOUND, older
    // versions ILLEGAL_GENERATION.
    if (generation >= 0) return api_version >= 9 ? kafka_error::group_id_not_found : kafka_error::illegal_generation;
    get_or_create(group_id, now);
    return kafka_error::none;
  }
  return g->validate_commit(member_id, instance_id, generation, now);
}

kafka_error group_coordinator::validate_txn_commit(const std::string& group_id, const std::string& member_id,
                                                   const std::optional<std::string>& instance_id, int32_t generation,
                                                   int16_t api_version, int64_t now,
                                                   std::span<const committed_partition> partitions) {
  if (group_id.empty()) return kafka_error::invalid_group_id;
  // TxnOffsetCommitRequest.supportsGroupIdNotFoundError / supportsStaleMemberEpochError: v6+.
  const bool v6 = api_version >= 6;
  if (const consumer_group* cg = find_consumer(group_id)) {
    if (cg->dead()) return kafka_error::coordinator_not_available;
    const kafka_error e = cg->validate_txn_commit(member_id, instance_id, generation, partitions);
    return e == kafka_error::stale_member_epoch && !v6 ? kafka_error::illegal_generation : e;
  }
  group* g = find(group_id);
  if (!g) {
    if (generation >= 0) return v6 ? kafka_error::group_id_not_found : kafka_error::illegal_generation;
    get_or_create(group_id, now);
    return kafka_error::none;
  }
  return g->validate_txn_commit(member_id, instance_id, generation);
}

void group_coordinator::apply_txn_stage(const std::vector<log::txn_offset>& offsets, int64_t now) {
  for (const auto& t : offsets) {
    if (!find_consumer(t.group)) get_or_create(t.group, now);
    pending_[t.group][t.producer_id][{t.topic, t.partition}] = t.offset;
  }
}

void group_coordinator::apply_txn_completion(const std::string& group_id, int64_t producer_id, bool commit) {
  auto g = pending_.find(group_id);
  if (g == pending_.end()) return;
  auto p = g->second.find(producer_id);
  if (p == g->second.end()) return;
  if (commit) {
    auto& committed = offsets_[group_id];
    for (const auto& [key, offset] : p->second) {
      auto it = committed.find(key);
      // Kafka keeps the offset written last (replayEndTransactionMarker compares record offsets).
      if (it == committed.end() || offset.sequence > it->second.sequence) committed[key] = offset;
    }
  }
  g->second.erase(p);
  if (g->second.empty()) pending_.erase(g);
}

std::vector<std::string> group_coordinator::txn_groups(int64_t producer_id) const {
  std::vector<std::string> out;
  for (const auto& [id, producers] : pending_)
    if (producers.count(producer_id)) out.push_back(id);
  return out;
}

bool group_coordinator::has_pending_txn_offset(const std::string& group_id, const std::string& topic,
                                               int32_t partition) const {
  auto g = pending_.find(group_id);
  if (g == pending_.end()) return false;
  for (const auto& [pid, map] : g->second)
    if (map.count({topic, partition})) return true;
  return false;
}

bool group_coordinator::has_pending_txn_offsets(const std::string& group_id) const { return pending_.count(group_id) > 0; }

const std::map<int64_t, offset_map>* group_coordinator::pending_txn_offsets(const std::string& group_id) const {
  auto it = pending_.find(group_id);
  return it == pending_.end() ? nullptr : &it->second;
}

void group_coordinator::load_txn_offsets(const std::vector<log::txn_offset>& pending, int64_t now) {
  apply_txn_stage(pending, now);
  for (const auto& t : pending) next_sequence_ = std::max(next_sequence_, t.offset.sequence + 1);
}

kafka_error group_coordinator::validate_fetch(const std::string& group_id, const std::optional<std::string>& member_id,
                                              int32_t member_epoch) const {
  const consumer_group* cg = find_consumer(group_id);
  return cg ? cg->validate_fetch(member_id, member_epoch) : kafka_error::none;
}

void group_coordinator::apply_commit(const std::string& group_id, const std::vector<log::partition_offset>& offsets,
                                     int64_t now) {
  if (!find_consumer(group_id)) get_or_create(group_id, now);
  auto& map = offsets_[group_id];
  for (const auto& po : offsets) map[{po.topic, po.partition}] = po.offset;
}

const offset_map* group_coordinator::offsets(const std::string& group_id) const {
  auto it = offsets_.find(group_id);
  return it == offsets_.end() ? nullptr : &it->second;
}

void group_coordinator::remove_offsets(const std::string& group_id, const std::string& topic,
                                       const std::vector<int32_t>& partitions) {
  // Kafka's offset tombstone also clears the partition's pending transactional offsets.
  if (auto g = pending_.find(group_id); g != pending_.end()) {
    for (auto p = g->second.begin(); p != g->second.end();) {
      for (int32_t part : partitions) p->second.erase({topic, part});
      p = p->second.empty() ? g->second.erase(p) : std::next(p);
    }
    if (g->second.empty()) pending_.erase(g);
  }
  auto it = offsets_.find(group_id);
  if (it == offsets_.end()) return;
  for (int32_t p : partitions) it->second.erase({topic, p});
}

void group_coordinator::forget_topic(const std::string& topic) {
  for (auto& [id, map] : offsets_)
    for (auto it = map.begin(); it != map.end();) it = it->first.first == topic ? map.erase(it) : std::next(it);
  for (auto g = pending_.begin(); g != pending_.end();) {
    for (auto p = g->second.begin(); p != g->second.end();) {
      auto& map = p->second;
      for (auto it = map.begin(); it != map.end();) it = it->first.first == topic ? map.erase(it) : std::next(it);
      p = map.empty() ? g->second.erase(p) : std::next(p);
    }
    g = g->second.empty() ? pending_.erase(g) : std::next(g);
  }
}

kafka_error group_coordinator::can_delete(const std::string& group_id) const {
  if (group_id.empty()) return kafka_error::invalid_group_id;
  if (const consumer_group* cg = find_consumer(group_id)) {
    if (cg->dead()) return kafka_error::group_id_not_found;
    return cg->is_empty() ? kafka_error::none : kafka_error::non_empty_group;
  }
  auto it = groups_.find(group_id);
  if (it == groups_.end() || it->second->state() == group_state::dead) return kafka_error::group_id_not_found;
  if (it->second->state() != group_state::empty) return kafka_error::non_empty_group;
  return kafka_error::none;
}

void group_coordinator::mark_dead(const std::string& group_id) {
  if (group* g = find(group_id)) g->mark_dead();
  if (consumer_group* cg = find_consumer(group_id)) cg->mark_dead();
}

void group_coordinator::erase(const std::string& group_id) {
  if (group* g = find(group_id)) g->abort_all(kafka_error::coordinator_not_available);
  groups_.erase(group_id);
  consumer_groups_.erase(group_id);
  offsets_.erase(group_id);
  pending_.erase(group_id);
}

std::optional<int64_t> group_coordinator::next_deadline() const {
  int64_t next = next_retention_check_ms_;
  for (const auto& [id, g] : groups_)
    if (auto d = g->next_deadline()) next = std::min(next, *d);
  for (const auto& [id, g] : consumer_groups_)
    if (auto d = g->next_deadline()) next = std::min(next, *d);
  return next;
}

std::vector<expired_offsets> group_coordinator::advance(int64_t now, int64_t wall_now) {
  for (auto& [id, g] : groups_) g->advance(now);
  for (auto& [id, g] : consumer_groups_) g->advance(now);
  std::vector<expired_offsets> out;
  if (now < next_retention_check_ms_) return out;
  next_retention_check_ms_ = now + std::max<int64_t>(1, config_.offsets_retention_check_interval_ms);
  const int64_t retention = config_.offsets_retention_ms;
  // Removes from `map` the offsets that have expired: all of an empty group's, else only those of
  // topics the group no longer subscribes to. An offset expires at its explicit expiry time, else
  // `retention` after `base_ms` (commit time, or when a classic group became empty).
  // An offset whose partition has pending transactional offsets does not expire yet, and a group
  // with pending ones stays (Kafka's cleanupExpiredOffsets).
  auto expire = [this, &out, wall_now, retention](const std::string& id, offset_map& map, bool empty,
                                             const std::set<std::string>* subscribed, auto base_ms) {
    expired_offsets e;
    e.group = id;
    for (auto it = map.begin(); it != map.end();) {
      const auto& o = it->second;
      int64_t expires = o.expire_ms ? *o.expire_ms : base_ms(o) + retention;
      bool eligible = (empty || !subscribed->count(it->first.first)) &&
                      !has_pending_txn_offset(id, it->first.first, it->first.second);
      if (eligible && wall_now >= expires) {
        e.partitions[it->first.first].push_back(it->first.second);
        it = map.erase(it);
      } else {
        ++it;
      }
    }
    if (empty && map.empty() && !e.partitions.empty() && !has_pending_txn_offsets(id)) e.remove_group = true;
    if (!e.partitions.empty()) out.push_back(std::move(e));
  };
  auto commit_time = [](const log::committed_offset& o) { return o.commit_ms; };
  for (auto& [id, map] : offsets_) {
    if (const consumer_group* cg = find_consumer(id)) {
      // Consumer groups count from the commit time (Kafka's OffsetExpirationConditionImpl); with
      // members, the offsets of subscribed topics are kept.
      if (cg->dead()) continue;
      const auto subscribed = cg->subscribed_topics();
      expire(id, map, cg->is_empty(), &subscribed, commit_time);
      continue;
    }
    group* g = find(id);
    if (!g || g->state() == group_state::dead) continue;
    std::optional<std::set<std::string>> subscribed;
    const bool empty = g->state() == group_state::empty;
    if (!empty) {
      // A live consumer group keeps the offsets of the topics it subscribes to.
      subscribed = g->subscribed_topics();
      if (!subscribed) continue;
    }
    if (empty && g->protocol_type()) {
      // An empty classic group that has had members (it has a protocol type) counts from when it
      // became empty, as Kafka does.
      const int64_t since = g->state_since_ms() + (wall_now - now);  // as wall-clock time
      expire(id, map, true, nullptr, [since](const log::committed_offset&) { return since; });
    } else {
      expire(id, map, empty, subscribed ? &*subscribed : nullptr, commit_time);
    }
  }
  // Like Kafka, an Empty group with no offsets left is forgotten.
  for (const auto& [id, g] : groups_) {
    auto it = offsets_.find(id);
    if (g->state() == group_state::empty && g->pending_members().empty() && (it == offsets_.end() || it->second.empty()) &&
        !has_pending_txn_offsets(id) && std::none_of(out.begin(), out.end(), [&group = id](const expired_offsets& e) { return e.group == group; }))
      out.push_back({id, {}, true});
  }
  for (const auto& [id, g] : consumer_groups_) {
    auto it = offsets_.find(id);
    if (g->is_empty() && !g->dead() && (it == offsets_.end() || it->second.empty()) && !has_pending_txn_offsets(id) &&
        std::none_of(out.begin(), out.end(), [&group = id](const expired_offsets& e) { return e.group == group; }))
      out.push_back({id, {}, true});
  }
  for (const auto& e : out)
    if (e.remove_group) {
      groups_.erase(e.group);
      consumer_groups_.erase(e.group);
      offsets_.erase(e.group);
    }
  return out;
}

log::group_metadata_record group_coordinator::to_record(const group& g, int64_t wall_offset_ms) {
  gmr::classic_group r;
  r.protocol_type = g.protocol_type().value_or("");
  r.generation = g.generation();
  r.protocol_name = g.protocol_name();
  r.leader = g.leader();
  r.state_since_ms = g.state_since_ms() + wall_offset_ms;
  r.members.reserve(g.members().size());
  for (const auto& [id, m] : g.members()) {
    auto& rm = r.members.emplace_back();
    rm.member_id = id;
    rm.group_instance_id = m.instance_id;
    rm.client_id = m.client_id;
    rm.client_host = m.client_host;
    rm.session_timeout_ms = m.session_timeout_ms;
    rm.rebalance_timeout_ms = m.rebalance_timeout_ms;
    rm.protocol_type = m.protocol_type;
    // Only the selected protocol's metadata is kept (Kafka's member subscription); before a
    // protocol is selected, none.
    if (const std::string* selected = g.protocol_name() ? m.metadata_for(*g.protocol_name()) : nullptr)
      rm.protocols.push_back({*g.protocol_name(), std::vector<uint8_t>(selected->begin(), selected->end())});
    rm.assignment.assign(m.assignment.begin(), m.assignment.end());
  }
  log::group_metadata_record out;
  out.classic = std::move(r);
  return out;
}

size_t group_coordinator::encoded_size(const group& g) { return log::encode_group_metadata_record(to_record(g)).size(); }

log::group_metadata_record group_coordinator::to_record(const consumer_group& g, int64_t wall_offset_ms) {
  const auto s = g.snapshot();
  gmr::consumer_group r;
  r.group_epoch = s.group_epoch;
  r.assignment_epoch = s.assignment_epoch;
  r.assignment_time_ms = s.assignment_time_ms ? *s.assignment_time_ms + wall_offset_ms : -1;
  r.state_since_ms = s.state_since_ms + wall_offset_ms;
  r.members.reserve(s.members.size());
  for (const auto& m : s.members) {
    auto& rm = r.members.emplace_back();
    rm.member_id = m.id;
    rm.instance_id = m.instance_id;
    rm.rack_id = m.rack_id;
    rm.client_id = m.client_id;
    rm.client_host = m.client_host;
    rm.member_epoch = m.member_epoch;
    rm.previous_member_epoch = m.previous_member_epoch;
    rm.state = static_cast<int8_t>(m.state);
    rm.rebalance_timeout_ms = m.rebalance_timeout_ms;
    rm.subscribed_topic_names = m.subscribed_topic_names;
    rm.subscribed_topic_regex = m.subscribed_topic_regex;
    rm.server_assignor = m.server_assignor;
    rm.assigned = partitions_to_record(m.assigned, &m);
    rm.pending_revocation = partitions_to_record(m.pending_revocation, &m);
  }
  for (const auto& [id, tp] : s.target) r.target.push_back({id, partitions_to_record(tp)});
  for (const auto& [name, md] : s.subscribed_metadata) r.subscribed_metadata.push_back({name, md.id, md.partitions});
  log::group_metadata_record out;
  out.consumer = std::move(r);
  return out;
}

std::vector<std::pair<std::string, log::group_metadata_record>> group_coordinator::take_dirty(int64_t now,
                                                                                               int64_t wall_now) {
  std::vector<std::pair<std::string, log::group_metadata_record>> out;
  const int64_t wall_offset = wall_now - now;
  for (auto& [id, g] : groups_) {
    if (!g->dirty) continue;
    g->dirty = false;
    if (g->state() != group_state::dead) out.emplace_back(id, to_record(*g, wall_offset));
  }
  for (auto& [id, g] : consumer_groups_) {
    if (!g->dirty) continue;
    g->dirty = false;
    if (!g->dead()) out.emplace_back(id, to_record(*g, wall_offset));
  }
  return out;
}

void group_coordinator::mark_dirty(const std::vector<std::pair<std::string, log::group_metadata_record>>& unwritten) {
  for (const auto& [id, record] : unwritten) {
    if (auto it = groups_.find(id); it != groups_.end()) it->second->dirty = true;
    if (auto it = consumer_groups_.find(id); it != consumer_groups_.end()) it->second->dirty = true;
  }
}

std::vector<std::string> group_coordinator::load(const std::vector<log::group_entry>& metadata,
                                                 const std::map<std::string, std::vector<log::partition_offset>>& offsets,
                                                 int64_t now, int64_t wall_now) {
  std::vector<std::string> bad;
  const int64_t wall_offset = wall_now - now;  // stored state times are wall-clock time
  for (const auto& entry : metadata) {
    const auto& record = entry.record;
    if (record.consumer && !record.classic) {
      auto snapshot = consumer_from_record(*record.consumer);
      if (!snapshot) {
        bad.push_back(entry.group);
        continue;
      }
      snapshot->state_since_ms -= wall_offset;
      if (snapshot->assignment_time_ms) *snapshot->assignment_time_ms -= wall_offset;
      auto& cg = create_consumer(entry.group, now);
      cg.restore(std::move(*snapshot), now);
      cg.dirty = false;
      if (topics_known_) cg.set_topics(topics_, now);
      continue;
    }
    if (!record.classic || record.consumer) {
      bad.push_back(entry.group);
      continue;
    }
    const auto& r = *record.classic;
    std::vector<member> members;
    for (const auto& rm : r.members) {
      member m;
      m.id = rm.member_id;
      m.instance_id = rm.group_instance_id;
      m.client_id = rm.client_id;
      m.client_host = rm.client_host;
      m.session_timeout_ms = rm.session_timeout_ms;
      m.rebalance_timeout_ms = rm.rebalance_timeout_ms;
      m.protocol_type = rm.protocol_type;
      for (const auto& p : rm.protocols)
        m.protocols.push_back(protocol_entry{p.name, std::string(p.metadata.begin(), p.metadata.end())});
      m.assignment.assign(rm.assignment.begin(), rm.assignment.end());
      members.push_back(std::move(m));
    }
    auto& g = get_or_create(entry.group, now);
    g.restore(r.protocol_type, r.generation, r.protocol_name, r.leader, std::move(members),
              r.state_since_ms - wall_offset, now);
    g.dirty = false;
  }
  for (const auto& [id, list] : offsets) {
    if (list.empty()) continue;
    if (!find_consumer(id)) get_or_create(id, now);
    auto& map = offsets_[id];
    for (const auto& po : list) {
      map[{po.topic, po.partition}] = po.offset;
      next_sequence_ = std::max(next_sequence_, po.offset.sequence + 1);
    }
  }
  return bad;
}

void group_coordinator::clear() {
  std::vector<std::string> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (const auto& [id, g] : consumer_groups_) ids.push_back(id);
  for (const auto& id : ids) {
    mark_dead(id);
    erase(id);
  }
  offsets_.clear();
  pending_.clear();
  consumer_timings_.clear();
}

void group_coordinator::abort_all(kafka_error error) {
  for (auto& [id, g] : groups_) g->abort_all(error);
}

// ---- consumer-protocol groups ----

consumer_group* group_coordinator::find_consumer(const std::string& id) {
  auto it = consumer_groups_.find(id);
  return it == consumer_groups_.end() ? nullptr : it->second.get();
}

const consumer_group* group_coordinator::find_consumer(const std::string& id) const {
  auto it = consumer_groups_.find(id);
  return it == consumer_groups_.end() ? nullptr : it->second.get();
}

void group_coordinator::set_max_record_bytes(int64_t bytes) {
  config_.limits.max_record_bytes = bytes;
  for (auto& [id, g] : groups_) g->set_max_record_bytes(bytes);
}

void group_coordinator::set_consumer_timing(const std::string& group_id, std::optional<consumer_timing> timing) {
  if (timing) consumer_timings_[group_id] = *timing;
  else consumer_timings_.erase(group_id);
  if (auto it = consumer_groups_.find(group_id); it != consumer_groups_.end()) {
    const consumer_timing t = timing.value_or(consumer_timing{config_.consumer.session_timeout_ms,
                                                              config_.consumer.heartbeat_interval_ms,
                                                              config_.consumer.assignment_interval_ms});
    it->second->set_timing(t.session_timeout_ms, t.heartbeat_interval_ms, t.assignment_interval_ms);
  }
}

void group_coordinator::set_default_assignment_interval(int32_t ms) {
  config_.consumer.assignment_interval_ms = ms;
  for (auto& [id, g] : consumer_groups_)
    if (!consumer_timings_.contains(id))
      g->set_timing(config_.consumer.session_timeout_ms, config_.consumer.heartbeat_interval_ms, ms);
}

consumer_group& group_coordinator::create_consumer(const std::string& id, int64_t now) {
  auto& slot = consumer_groups_[id];
  if (!slot) {
    consumer_limits limits = config_.consumer;
    if (auto t = consumer_timings_.find(id); t != consumer_timings_.end()) {
      limits.session_timeout_ms = t->second.session_timeout_ms;
      limits.heartbeat_interval_ms = t->second.heartbeat_interval_ms;
      limits.assignment_interval_ms = t->second.assignment_interval_ms;
    }
    slot = std::make_unique<consumer_group>(id, limits, now);
    if (topics_known_) slot->set_topics(topics_, now);
  }
  return *slot;
}

std::vector<regex_job> group_coordinator::take_regex_jobs() const {
  std::vector<regex_job> jobs;
  for (const auto& [id, g] : consumer_groups_) {
    if (g->dead()) continue;
    auto more = g->take_regex_jobs(static_cast<bool>(regex_topic_visible_));
    for (auto& j : more) jobs.push_back(std::move(j));
  }
  return jobs;
}

bool group_coordinator::regex_jobs_pending() const {
  for (const auto& [id, g] : consumer_groups_)
    if (!g->dead() && g->regexes_pending(static_cast<bool>(regex_topic_visible_))) return true;
  return false;
}

void group_coordinator::refresh_regexes() {
  for (auto& [id, g] : consumer_groups_)
    if (!g->dead()) g->refresh_regexes();
}

void group_coordinator::apply_regex(const regex_job& job, std::set<std::string> matched, int64_t now) {
  if (regex_topic_visible_)
    std::erase_if(matched, [&](const std::string& topic) { return !regex_topic_visible_(job.principal, job.host, topic); });
  if (consumer_group* cg = find_consumer(job.group); cg && !cg->dead())
    cg->apply_regex(job.pattern, job.topics_version, std::move(matched), now);
}

void group_coordinator::resolve_regexes_inline(int64_t now) {
  for (const auto& job : take_regex_jobs()) apply_regex(job, resolve_regex(job), now);
}

void group_coordinator::set_topics(const topic_catalog& topics, int64_t now) {
  if (topics_known_ && topics == topics_) return;
  topics_ = topics;
  topics_known_ = true;
  for (auto& [id, g] : consumer_groups_) g->set_topics(topics_, now);
}

consumer_heartbeat_result group_coordinator::consumer_heartbeat(const std::string& group_id, consumer_heartbeat_request req,
                                                                int16_t api_version, int64_t now) {
  consumer_heartbeat_result r;
  auto fail = [&r](kafka_error e, std::string message) {
    r.error = e;
    r.error_message = std::move(message);
    return r;
  };
  // Kafka's request checks (GroupCoordinatorService.throwIfConsumerGroupHeartbeatRequestIsInvalid).
  // A blank string (only whitespace) counts as empty, as Kafka trims before checking.
  auto blank = [](const std::string& s) { return s.find_first_not_of(" \t\n\r\f\v") == std::string::npos; };
  if ((api_version >= 1 || req.member_epoch > 0 || req.member_epoch == -1) && blank(req.member_id))
    return fail(kafka_error::invalid_request, "MemberId can't be empty.");
  if (blank(group_id)) return fail(kafka_error::invalid_request, "GroupId can't be empty.");
  if (req.instance_id && blank(*req.instance_id)) return fail(kafka_error::invalid_request, "InstanceId can't be empty.");
  if (req.rack_id && blank(*req.rack_id)) return fail(kafka_error::invalid_request, "RackId can't be empty.");
  if (req.member_epoch == 0) {
    if (req.rebalance_timeout_ms == -1)
      return fail(kafka_error::invalid_request, "RebalanceTimeoutMs must be provided in first request.");
    if (!req.owned || !req.owned->empty())
      return fail(kafka_error::invalid_request, "TopicPartitions must be empty when (re-)joining.");
    if (!req.subscribed_topic_names && !req.subscribed_topic_regex)
      return fail(kafka_error::invalid_request,
                  "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
  } else if (req.member_epoch == -2) {
    if (!req.instance_id) return fail(kafka_error::invalid_request, "InstanceId can't be null.");
  } else if (req.member_epoch < -2) {
    return fail(kafka_error::invalid_request, "MemberEpoch is invalid.");
  }
  if (req.subscribed_topic_regex) {
    // Compiled once per subscription: a pattern the group already holds is not compiled again, a
    // new one is compiled here and handed to the group (RE2 compiles in time linear in the
    // pattern, with bounded memory; matching happens off the network thread).
    const consumer_group* existing = find_consumer(group_id);
    req.compiled_regex = existing ? existing->compiled_regex(*req.subscribed_topic_regex) : nullptr;
    if (!req.compiled_regex) req.compiled_regex = compile_regex(*req.subscribed_topic_regex);
    if (!req.compiled_regex)
      return fail(kafka_error::invalid_regular_expression,
                  fmt::format("SubscribedTopicRegex `{}` is not a valid regular expression.", *req.subscribed_topic_regex));
  }
  const auto& assignors = config_.consumer.assignors;
  if (req.server_assignor && std::find(assignors.begin(), assignors.end(), *req.server_assignor) == assignors.end()) {
    std::string names;
    for (const auto& a : assignors) names += (names.empty() ? "" : ", ") + a;
    return fail(kafka_error::unsupported_assignor,
                fmt::format("ServerAssignor {} is not supported. Supported assignors: {}.", *req.server_assignor, names));
  }

  const bool joining = req.member_epoch == 0;
  consumer_group* cg = find_consumer(group_id);
  if (!cg) {
    if (group* classic = find(group_id)) {
      // No online migration (Kafka's group.consumer.migration.policy=disabled): only an empty
      // classic group (keeping its offsets) makes way for a consumer group.
      const bool empty = classic->state() == group_state::empty && classic->pending_members().empty();
      if (!joining || !empty)
        return fail(kafka_error::group_id_not_found, fmt::format("Group {} is not a consumer group.", group_id));
      classic->abort_all(kafka_error::coordinator_not_available);
      groups_.erase(group_id);
    } else if (!joining) {
      // Kafka: GROUP_ID_NOT_FOUND, from getOrMaybeCreateConsumerGroup for a heartbeat and from
      // consumerGroup() for a leave (-1 / -2).
      const bool leaving = req.member_epoch == -1 || req.member_epoch == -2;
      return fail(kafka_error::group_id_not_found, leaving ? fmt::format("Group {} not found.", group_id)
                                                           : fmt::format("Consumer group {} not found.", group_id));
    }
    cg = &create_consumer(group_id, now);
    cg->dirty = true;
  }
  if (req.member_id.empty()) req.member_id = new_member_id();
  return cg->heartbeat(req, now);
}

}  // namespace brook::broker::group
