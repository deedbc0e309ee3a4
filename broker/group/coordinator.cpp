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

// ---- the metadata value encoding (see the header) ----
void put_u32(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xFF));
}
void put_i64(std::string& out, int64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> s) & 0xFF));
}
void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

struct decoder {
  std::string_view in;
  size_t pos = 0;
  bool ok = true;
  bool need(size_t n) {
    if (!ok || pos + n > in.size()) ok = false;
    return ok;
  }
  uint8_t u8() { return need(1) ? static_cast<uint8_t>(in[pos++]) : 0; }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(in[pos++]);
    return v;
  }
  int64_t i64() {
    if (!need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[pos++]);
    return static_cast<int64_t>(v);
  }
  std::string str() {
    uint32_t n = u32();
    if (!need(n)) return {};
    std::string s(in.substr(pos, n));
    pos += n;
    return s;
  }
};

// Kafka's Uuid.randomUuid().toString(): 16 random bytes in URL-safe base64 without padding.
std::string random_member_id() { return common::uuid::random().to_string(); }

void put_i32(std::string& out, int32_t v) { put_u32(out, static_cast<uint32_t>(v)); }
void put_opt(std::string& out, const std::optional<std::string>& s) {
  out.push_back(s ? 1 : 0);
  if (s) put_str(out, *s);
}
void put_uuid(std::string& out, const common::uuid& id) { out.append(id.bytes.begin(), id.bytes.end()); }
void put_partitions(std::string& out, const topic_partitions& tp) {
  put_u32(out, static_cast<uint32_t>(tp.size()));
  for (const auto& [topic, parts] : tp) {
    put_uuid(out, topic);
    put_u32(out, static_cast<uint32_t>(parts.size()));
    for (int32_t p : parts) put_i32(out, p);
  }
}

// The consumer-protocol group value's versions (coordinator.hpp): written, and the oldest still read.
constexpr uint8_t consumer_value_version = 4;
constexpr uint8_t oldest_consumer_value_version = 2;

// A member's assignment epochs (v4): for each partition of `assigned` then `pending_revocation`, in
// their order, its epoch; the partitions themselves are not repeated.
void put_assignment_epochs(std::string& out, const consumer_member& m) {
  auto put = [&](const topic_partitions& held) {
    for (const auto& [topic, parts] : held) {
      auto t = m.assignment_epochs.find(topic);
      for (int32_t p : parts) {
        int32_t epoch = m.member_epoch;  // (every held partition has one; see consumer_member)
        if (t != m.assignment_epochs.end())
          if (auto e = t->second.find(p); e != t->second.end()) epoch = e->second;
        put_i32(out, epoch);
      }
    }
  };
  put(m.assigned);
  put(m.pending_revocation);
}

std::optional<std::string> get_opt(decoder& d) {
  if (!d.u8()) return std::nullopt;
  return d.str();
}
common::uuid get_uuid(decoder& d) {
  common::uuid id;
  if (!d.need(16)) return id;
  for (auto& b : id.bytes) b = static_cast<uint8_t>(d.in[d.pos++]);
  return id;
}
topic_partitions get_partitions(decoder& d) {
  topic_partitions tp;
  uint32_t n = d.u32();
  for (uint32_t i = 0; i < n && d.ok; ++i) {
    common::uuid topic = get_uuid(d);
    uint32_t m = d.u32();
    auto& parts = tp[topic];
    for (uint32_t j = 0; j < m && d.ok; ++j) parts.insert(static_cast<int32_t>(d.u32()));
  }
  return tp;
}

std::optional<consumer_group_snapshot> decode_consumer(std::string_view bytes) {
  decoder d{bytes};
  const uint8_t version = d.u8();
  if (version < oldest_consumer_value_version || version > consumer_value_version) return std::nullopt;
  consumer_group_snapshot s;
  s.group_epoch = static_cast<int32_t>(d.u32());
  s.assignment_epoch = static_cast<int32_t>(d.u32());
  if (version >= 3 && d.u8()) s.assignment_time_ms = d.i64();
  s.state_since_ms = d.i64();
  uint32_t n = d.u32();
  for (uint32_t i = 0; i < n && d.ok; ++i) {
    consumer_member m;
    m.id = d.str();
    m.instance_id = get_opt(d);
    m.rack_id = get_opt(d);
    m.client_id = d.str();
    m.client_host = d.str();
    m.member_epoch = static_cast<int32_t>(d.u32());
    m.previous_member_epoch = static_cast<int32_t>(d.u32());
    uint8_t st = d.u8();
    if (st > 2) d.ok = false;
    m.state = static_cast<member_state>(st);
    m.rebalance_timeout_ms = static_cast<int32_t>(d.u32());
    uint32_t k = d.u32();
    for (uint32_t j = 0; j < k && d.ok; ++j) m.subscribed_topic_names.push_back(d.str());
    m.subscribed_topic_regex = get_opt(d);
    m.server_assignor = get_opt(d);
    m.assigned = get_partitions(d);
    m.pending_revocation = get_partitions(d);
    // Before v4 no assignment epochs were kept: the member epoch stands for each (commits with an
    // older epoch are refused, as they were then).
    auto get_epochs = [&](const topic_partitions& held) {
      for (const auto& [topic, parts] : held)
        for (int32_t p : parts)
          m.assignment_epochs[topic][p] = version >= 4 ? static_cast<int32_t>(d.u32()) : m.member_epoch;
    };
    get_epochs(m.assigned);
    get_epochs(m.pending_revocation);
    s.members.push_back(std::move(m));
  }
  uint32_t t = d.u32();
  for (uint32_t i = 0; i < t && d.ok; ++i) {
    std::string id = d.str();
    s.target[id] = get_partitions(d);
  }
  uint32_t k = d.u32();
  for (uint32_t i = 0; i < k && d.ok; ++i) {
    std::string name = d.str();
    topic_metadata md;
    md.id = get_uuid(d);
    md.partitions = static_cast<int32_t>(d.u32());
    s.subscribed_metadata[name] = md;
  }
  if (!d.ok || d.pos != bytes.size()) return std::nullopt;
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
  auto it = offsets_.find(group_id);
  if (it == offsets_.end()) return;
  for (int32_t p : partitions) it->second.erase({topic, p});
}

void group_coordinator::forget_topic(const std::string& topic) {
  for (auto& [id, map] : offsets_)
    for (auto it = map.begin(); it != map.end();) it = it->first.first == topic ? map.erase(it) : std::next(it);
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
  auto expire = [&out, wall_now, retention](const std::string& id, offset_map& map, bool empty,
                                       const std::set<std::string>* subscribed, auto base_ms) {
    expired_offsets e;
    e.group = id;
    for (auto it = map.begin(); it != map.end();) {
      const auto& o = it->second;
      int64_t expires = o.expire_ms ? *o.expire_ms : base_ms(o) + retention;
      bool eligible = empty || !subscribed->count(it->first.first);
      if (eligible && wall_now >= expires) {
        e.partitions[it->first.first].push_back(it->first.second);
        it = map.erase(it);
      } else {
        ++it;
      }
    }
    if (empty && map.empty() && !e.partitions.empty()) e.remove_group = true;
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
        std::none_of(out.begin(), out.end(), [&group = id](const expired_offsets& e) { return e.group == group; }))
      out.push_back({id, {}, true});
  }
  for (const auto& [id, g] : consumer_groups_) {
    auto it = offsets_.find(id);
    if (g->is_empty() && !g->dead() && (it == offsets_.end() || it->second.empty()) &&
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

std::string group_coordinator::encode(const group& g, int64_t wall_offset_ms) {
  std::string out;
  out.push_back(1);
  put_str(out, g.protocol_type().value_or(""));
  put_u32(out, static_cast<uint32_t>(g.generation()));
  out.push_back(g.protocol_name() ? 1 : 0);
  if (g.protocol_name()) put_str(out, *g.protocol_name());
  put_str(out, g.leader());
  put_i64(out, g.state_since_ms() + wall_offset_ms);
  put_u32(out, static_cast<uint32_t>(g.members().size()));
  for (const auto& [id, m] : g.members()) {
    put_str(out, id);
    out.push_back(m.instance_id ? 1 : 0);
    if (m.instance_id) put_str(out, *m.instance_id);
    put_str(out, m.client_id);
    put_str(out, m.client_host);
    put_u32(out, static_cast<uint32_t>(m.session_timeout_ms));
    put_u32(out, static_cast<uint32_t>(m.rebalance_timeout_ms));
    put_str(out, m.protocol_type);
    // Only the selected protocol's metadata is kept (Kafka's member subscription); before a
    // protocol is selected, none.
    const std::string* selected = g.protocol_name() ? m.metadata_for(*g.protocol_name()) : nullptr;
    put_u32(out, selected ? 1 : 0);
    if (selected) {
      put_str(out, *g.protocol_name());
      put_str(out, *selected);
    }
    put_str(out, m.assignment);
  }
  return out;
}

size_t group_coordinator::encoded_size(const group& g) {
  auto str = [](size_t n) { return 4 + n; };
  size_t n = 1 + str(g.protocol_type().value_or("").size()) + 4 + 1 + (g.protocol_name() ? str(g.protocol_name()->size()) : 0) +
             str(g.leader().size()) + 8 + 4;
  for (const auto& [id, m] : g.members()) {
    n += str(id.size()) + 1 + (m.instance_id ? str(m.instance_id->size()) : 0) + str(m.client_id.size()) +
         str(m.client_host.size()) + 4 + 4 + str(m.protocol_type.size()) + 4 + str(m.assignment.size());
    if (const std::string* selected = g.protocol_name() ? m.metadata_for(*g.protocol_name()) : nullptr)
      n += str(g.protocol_name()->size()) + str(selected->size());
  }
  return n;
}

std::string group_coordinator::encode(const consumer_group& g, int64_t wall_offset_ms) {
  auto s = g.snapshot();
  s.state_since_ms += wall_offset_ms;
  std::string out;
  out.push_back(static_cast<char>(consumer_value_version));
  put_i32(out, s.group_epoch);
  put_i32(out, s.assignment_epoch);
  out.push_back(s.assignment_time_ms ? 1 : 0);
  if (s.assignment_time_ms) put_i64(out, *s.assignment_time_ms + wall_offset_ms);
  put_i64(out, s.state_since_ms);
  put_u32(out, static_cast<uint32_t>(s.members.size()));
  for (const auto& m : s.members) {
    put_str(out, m.id);
    put_opt(out, m.instance_id);
    put_opt(out, m.rack_id);
    put_str(out, m.client_id);
    put_str(out, m.client_host);
    put_i32(out, m.member_epoch);
    put_i32(out, m.previous_member_epoch);
    out.push_back(static_cast<char>(m.state));
    put_i32(out, m.rebalance_timeout_ms);
    put_u32(out, static_cast<uint32_t>(m.subscribed_topic_names.size()));
    for (const auto& t : m.subscribed_topic_names) put_str(out, t);
    put_opt(out, m.subscribed_topic_regex);
    put_opt(out, m.server_assignor);
    put_partitions(out, m.assigned);
    put_partitions(out, m.pending_revocation);
    put_assignment_epochs(out, m);
  }
  put_u32(out, static_cast<uint32_t>(s.target.size()));
  for (const auto& [id, tp] : s.target) {
    put_str(out, id);
    put_partitions(out, tp);
  }
  put_u32(out, static_cast<uint32_t>(s.subscribed_metadata.size()));
  for (const auto& [name, md] : s.subscribed_metadata) {
    put_str(out, name);
    put_uuid(out, md.id);
    put_i32(out, md.partitions);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> group_coordinator::take_dirty(int64_t now, int64_t wall_now) {
  std::vector<std::pair<std::string, std::string>> out;
  const int64_t wall_offset = wall_now - now;
  for (auto& [id, g] : groups_) {
    if (!g->dirty) continue;
    g->dirty = false;
    if (g->state() != group_state::dead) out.emplace_back(id, encode(*g, wall_offset));
  }
  for (auto& [id, g] : consumer_groups_) {
    if (!g->dirty) continue;
    g->dirty = false;
    if (!g->dead()) out.emplace_back(id, encode(*g, wall_offset));
  }
  return out;
}

void group_coordinator::mark_dirty(const std::vector<std::pair<std::string, std::string>>& unwritten) {
  for (const auto& [id, bytes] : unwritten) {
    if (auto it = groups_.find(id); it != groups_.end()) it->second->dirty = true;
    if (auto it = consumer_groups_.find(id); it != consumer_groups_.end()) it->second->dirty = true;
  }
}

std::vector<std::string> group_coordinator::load(const std::vector<log::group_blob>& metadata,
                                                 const std::map<std::string, std::vector<log::partition_offset>>& offsets,
                                                 int64_t now, int64_t wall_now) {
  std::vector<std::string> bad;
  const int64_t wall_offset = wall_now - now;  // stored state times are wall-clock time
  for (const auto& blob : metadata) {
    const auto version = blob.bytes.empty() ? 0 : static_cast<uint8_t>(blob.bytes[0]);
    if (version >= oldest_consumer_value_version && version <= consumer_value_version) {
      auto snapshot = decode_consumer(blob.bytes);
      if (!snapshot) {
        bad.push_back(blob.group);
        continue;
      }
      snapshot->state_since_ms -= wall_offset;
      if (snapshot->assignment_time_ms) *snapshot->assignment_time_ms -= wall_offset;
      auto& cg = create_consumer(blob.group, now);
      cg.restore(std::move(*snapshot), now);
      cg.dirty = false;
      if (topics_known_) cg.set_topics(topics_, now);
      continue;
    }
    decoder d{blob.bytes};
    if (d.u8() != 1) {
      bad.push_back(blob.group);
      continue;
    }
    std::string protocol_type = d.str();
    int32_t generation = static_cast<int32_t>(d.u32());
    std::optional<std::string> protocol;
    if (d.u8()) protocol = d.str();
    std::string leader = d.str();
    int64_t since = d.i64() - wall_offset;
    uint32_t n = d.u32();
    std::vector<member> members;
    for (uint32_t i = 0; i < n && d.ok; ++i) {
      member m;
      m.id = d.str();
      if (d.u8()) m.instance_id = d.str();
      m.client_id = d.str();
      m.client_host = d.str();
      m.session_timeout_ms = static_cast<int32_t>(d.u32());
      m.rebalance_timeout_ms = static_cast<int32_t>(d.u32());
      m.protocol_type = d.str();
      uint32_t k = d.u32();
      for (uint32_t j = 0; j < k && d.ok; ++j) {
        protocol_entry p;
        p.name = d.str();
        p.metadata = d.str();
        m.protocols.push_back(std::move(p));
      }
      m.assignment = d.str();
      members.push_back(std::move(m));
    }
    if (!d.ok) {
      bad.push_back(blob.group);
      continue;
    }
    auto& g = get_or_create(blob.group, now);
    g.restore(std::move(protocol_type), generation, std::move(protocol), std::move(leader), std::move(members), since,
              now);
    g.dirty = false;
  }
  for (const auto& [id, list] : offsets) {
    if (list.empty()) continue;
    if (!find_consumer(id)) get_or_create(id, now);
    auto& map = offsets_[id];
    for (const auto& po : list) map[{po.topic, po.partition}] = po.offset;
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
    auto more = g->take_regex_jobs();
    for (auto& j : more) jobs.push_back(std::move(j));
  }
  return jobs;
}

bool group_coordinator::regex_jobs_pending() const {
  for (const auto& [id, g] : consumer_groups_)
    if (!g->dead() && g->regexes_pending()) return true;
  return false;
}

void group_coordinator::apply_regex(const regex_job& job, std::set<std::string> matched, int64_t now) {
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
