#include "broker/group/consumer_group.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <re2/re2.h>

namespace brook::broker::group {

namespace {

const topic_partitions empty_partitions;

bool contains(const topic_partitions& tp, const common::uuid& topic, int32_t p) {
  auto it = tp.find(topic);
  return it != tp.end() && it->second.count(p) != 0;
}

// Whether the member still reports owning any of `revoking`; a null owned list (unchanged since
// the last heartbeat) counts as still owning them, as in Kafka.
bool owns_any(const std::optional<topic_partitions>& owned, const topic_partitions& revoking) {
  if (!owned) return true;
  for (const auto& [topic, parts] : *owned)
    for (int32_t p : parts)
      if (contains(revoking, topic, p)) return true;
  return false;
}

bool same_persisted(const consumer_member& a, const consumer_member& b) {
  return a.id == b.id && a.instance_id == b.instance_id && a.rack_id == b.rack_id && a.client_id == b.client_id &&
         a.client_host == b.client_host && a.member_epoch == b.member_epoch &&
         a.previous_member_epoch == b.previous_member_epoch && a.state == b.state &&
         a.rebalance_timeout_ms == b.rebalance_timeout_ms && a.subscribed_topic_names == b.subscribed_topic_names &&
         a.subscribed_topic_regex == b.subscribed_topic_regex && a.server_assignor == b.server_assignor &&
         a.assigned == b.assigned && a.pending_revocation == b.pending_revocation &&
         a.assignment_epochs == b.assignment_epochs;
}

// The assignment epochs of what `m` holds now: a partition it already held keeps its epoch, one it
// did not gets `added_epoch` (Kafka's CurrentAssignmentBuilder gives new partitions the target's epoch).
void update_assignment_epochs(consumer_member& m, int32_t added_epoch) {
  partition_epochs next;
  auto take = [&](const topic_partitions& held) {
    for (const auto& [topic, parts] : held) {
      auto before = m.assignment_epochs.find(topic);
      auto& out = next[topic];
      for (int32_t p : parts) {
        int32_t epoch = added_epoch;
        if (before != m.assignment_epochs.end())
          if (auto it = before->second.find(p); it != before->second.end()) epoch = it->second;
        out[p] = epoch;
      }
    }
  };
  take(m.assigned);
  take(m.pending_revocation);
  m.assignment_epochs = std::move(next);
}

std::optional<int32_t> assignment_epoch_of(const consumer_member& m, const common::uuid& topic, int32_t partition) {
  auto t = m.assignment_epochs.find(topic);
  if (t == m.assignment_epochs.end()) return std::nullopt;
  auto p = t->second.find(partition);
  if (p == t->second.end()) return std::nullopt;
  return p->second;
}

}  // namespace

std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern, std::string* error) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (!re->ok()) {
    if (error) *error = re->error();
    return nullptr;
  }
  return re;
}

std::set<std::string> resolve_regex(const regex_job& job) {
  std::set<std::string> out;
  if (!job.compiled) return out;
  // Kafka matches the whole topic name (RE2/J Matcher.matches()).
  for (const auto& name : job.topics)
    if (re2::RE2::FullMatch(name, *job.compiled)) out.insert(name);
  return out;
}

bool is_subset(const topic_partitions& a, const topic_partitions& b) {
  for (const auto& [topic, parts] : a)
    for (int32_t p : parts)
      if (!contains(b, topic, p)) return false;
  return true;
}

std::string_view state_name(consumer_group_state s) {
  switch (s) {
    case consumer_group_state::empty: return "Empty";
    case consumer_group_state::assigning: return "Assigning";
    case consumer_group_state::reconciling: return "Reconciling";
    case consumer_group_state::stable: return "Stable";
    case consumer_group_state::dead: return "Dead";
  }
  return "Unknown";
}

std::string_view state_name(member_state s) {
  switch (s) {
    case member_state::stable: return "stable";
    case member_state::unrevoked_partitions: return "unrevoked_partitions";
    case member_state::unreleased_partitions: return "unreleased_partitions";
  }
  return "unknown";
}

consumer_group::consumer_group(std::string id, const consumer_limits& limits, int64_t now)
    : id_(std::move(id)), limits_(limits), state_since_ms_(now) {}

void consumer_group::restore(consumer_group_snapshot s, int64_t now) {
  group_epoch_ = s.group_epoch;
  assignment_epoch_ = s.assignment_epoch;
  assignment_time_ms_ = s.assignment_time_ms;
  metadata_refresh_ = true;  // as Kafka checks a loaded group's metadata on its first heartbeat
  state_since_ms_ = s.state_since_ms;
  target_ = std::move(s.target);
  subscribed_metadata_ = std::move(s.subscribed_metadata);
  // Until the broker hands in every topic, the subscribed ones are the topics known.
  topics_ = subscribed_metadata_;
  members_.clear();
  static_.clear();
  for (auto& m : s.members) {
    m.session_deadline_ms = now + limits_.session_timeout_ms;
    if (m.state == member_state::unrevoked_partitions) m.rebalance_deadline_ms = now + m.rebalance_timeout_ms;
    if (m.instance_id) static_[*m.instance_id] = m.id;
    std::string id = m.id;
    members_.emplace(std::move(id), std::move(m));
  }
  regexes_.clear();
  track_regexes();
  // Until the first resolution against every topic, a restored regex keeps matching what it matched
  // when the group was stored (the subscribed topics it matches), so a restart does not take the
  // members' regex topics away for a moment. This runs while the broker loads, before it serves.
  for (auto& [pattern, entry] : regexes_) {
    entry.resolved = true;  // Kafka stores its resolved regexes with the group
    if (entry.compiled)
      for (const auto& [name, md] : subscribed_metadata_)
        if (re2::RE2::FullMatch(name, *entry.compiled)) entry.matched.insert(name);
  }
}

consumer_group_snapshot consumer_group::snapshot() const {
  consumer_group_snapshot s;
  s.group_epoch = group_epoch_;
  s.assignment_epoch = assignment_epoch_;
  s.assignment_time_ms = assignment_time_ms_;
  s.state_since_ms = state_since_ms_;
  for (const auto& [id, m] : members_) s.members.push_back(m);
  s.target = target_;
  s.subscribed_metadata = subscribed_metadata_;
  return s;
}

consumer_group_state consumer_group::state() const {
  if (dead_) return consumer_group_state::dead;
  if (members_.empty()) return consumer_group_state::empty;
  if (group_epoch_ > assignment_epoch_) return consumer_group_state::assigning;
  for (const auto& [id, m] : members_)
    if (m.member_epoch != assignment_epoch_ || m.state != member_state::stable) return consumer_group_state::reconciling;
  return consumer_group_state::stable;
}

const consumer_member* consumer_group::find_member(const std::string& id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

const topic_partitions& consumer_group::target_of(const std::string& member_id) const {
  auto it = target_.find(member_id);
  return it == target_.end() ? empty_partitions : it->second;
}

std::string consumer_group::preferred_assignor() const {
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members_)
    if (m.server_assignor) ++votes[*m.server_assignor];
  const std::string* best = nullptr;
  int most = 0;
  for (const auto& [name, n] : votes)
    if (n > most) {
      most = n;
      best = &name;
    }
  if (best) return *best;
  return limits_.assignors.empty() ? std::string("uniform") : limits_.assignors.front();
}

std::set<std::string> consumer_group::subscribed_topics() const {
  std::set<std::string> out;
  for (const auto& [id, m] : members_) {
    out.insert(m.subscribed_topic_names.begin(), m.subscribed_topic_names.end());
    if (!m.subscribed_topic_regex || m.subscribed_topic_regex->empty()) continue;
    if (auto r = regexes_.find(*m.subscribed_topic_regex); r != regexes_.end())
      for (const auto& name : r->second.matched)
        if (topics_.count(name)) out.insert(name);
  }
  return out;
}

std::set<common::uuid> consumer_group::subscribed_ids(const consumer_member& m) const {
  std::set<common::uuid> out;
  for (const auto& name : m.subscribed_topic_names)
    if (auto it = topics_.find(name); it != topics_.end()) out.insert(it->second.id);
  if (m.subscribed_topic_regex && !m.subscribed_topic_regex->empty())
    if (auto r = regexes_.find(*m.subscribed_topic_regex); r != regexes_.end())
      for (const auto& name : r->second.matched)
        if (auto it = topics_.find(name); it != topics_.end()) out.insert(it->second.id);
  return out;
}

void consumer_group::track_regexes(const std::shared_ptr<const re2::RE2>& fresh) {
  std::set<std::string> in_use;
  for (const auto& [id, m] : members_)
    if (m.subscribed_topic_regex && !m.subscribed_topic_regex->empty()) in_use.insert(*m.subscribed_topic_regex);
  for (auto it = regexes_.begin(); it != regexes_.end();) it = in_use.count(it->first) ? std::next(it) : regexes_.erase(it);
  for (const auto& pattern : in_use) {
    if (regexes_.count(pattern)) continue;
    auto& entry = regexes_[pattern];
    entry.compiled = fresh && fresh->pattern() == pattern ? fresh : compile_regex(pattern);
  }
}

bool consumer_group::regexes_pending(bool need_identity) const {
  for (const auto& [pattern, entry] : regexes_)
    if (entry.resolved_version != topics_version_ && !(need_identity && entry.principal.empty())) return true;
  return false;
}

void consumer_group::refresh_regexes() {
  for (auto& [pattern, entry] : regexes_) entry.resolved_version = 0;
}

std::vector<regex_job> consumer_group::take_regex_jobs(bool need_identity) const {
  std::vector<regex_job> jobs;
  for (const auto& [pattern, entry] : regexes_) {
    if (entry.resolved_version == topics_version_) continue;
    if (need_identity && entry.principal.empty()) continue;
    regex_job job;
    job.group = id_;
    job.pattern = pattern;
    job.compiled = entry.compiled;
    job.topics_version = topics_version_;
    job.principal = entry.principal;
    job.host = entry.host;
    job.topics.reserve(topics_.size());
    for (const auto& [name, md] : topics_) job.topics.push_back(name);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

void consumer_group::apply_regex(const std::string& pattern, uint64_t topics_version, std::set<std::string> matched,
                                 int64_t now) {
  auto it = regexes_.find(pattern);
  if (it == regexes_.end() || topics_version != topics_version_) return;  // a newer job follows
  // Kafka's handleRegularExpressionsResult: new topics for the regex (a first resolution compares
  // with none) or changed metadata of the subscribed topics bump the group epoch.
  bool bump = it->second.matched != matched;
  it->second.matched = std::move(matched);
  it->second.resolved_version = topics_version;
  it->second.resolved = true;
  const auto before = state();
  if (refresh_subscribed_metadata()) bump = true;
  if (bump && !members_.empty()) bump_group_epoch();
  note_state(before, now);
}

std::shared_ptr<const re2::RE2> consumer_group::compiled_regex(const std::string& pattern) const {
  auto it = regexes_.find(pattern);
  return it == regexes_.end() ? nullptr : it->second.compiled;
}

topic_catalog consumer_group::compute_subscribed_metadata() const {
  topic_catalog out;
  for (const auto& name : subscribed_topics())
    if (auto it = topics_.find(name); it != topics_.end()) out.emplace(name, it->second);
  return out;
}

bool consumer_group::refresh_subscribed_metadata() {
  auto now_subscribed = compute_subscribed_metadata();
  if (now_subscribed == subscribed_metadata_) return false;
  subscribed_metadata_ = std::move(now_subscribed);
  return true;
}

void consumer_group::bump_group_epoch() {
  ++group_epoch_;
  dirty = true;
}

void consumer_group::set_topics(const topic_catalog& topics, int64_t) {
  if (topics == topics_) return;
  ++topics_version_;
  topics_ = topics;
  // As Kafka's coordinator on a new metadata image: the next heartbeat compares the subscribed
  // topics' metadata with the group's, and bumps the group epoch if it changed.
  metadata_refresh_ = true;
}

void consumer_group::maybe_compute_target(int64_t now) {
  if (group_epoch_ <= assignment_epoch_) return;
  // Kafka's canComputeNextTargetAssignment: no earlier computation, no interval, or the interval passed.
  if (assignment_time_ms_ && limits_.assignment_interval_ms > 0 &&
      now < *assignment_time_ms_ + limits_.assignment_interval_ms)
    return;
  assignment_spec spec;
  for (const auto& [id, m] : members_) {
    auto& am = spec.members[id];
    am.instance_id = m.instance_id;
    am.rack_id = m.rack_id;
    am.subscribed_topics = subscribed_ids(m);
    am.current = target_of(id);
  }
  for (const auto& [name, md] : subscribed_metadata_) spec.partition_counts[md.id] = md.partitions;
  auto result = run_assignor(preferred_assignor(), spec);
  target_ = result ? std::move(*result) : assign_uniform(spec);
  for (auto it = target_.begin(); it != target_.end();) {
    for (auto t = it->second.begin(); t != it->second.end();) t = t->second.empty() ? it->second.erase(t) : std::next(t);
    ++it;
  }
  assignment_epoch_ = group_epoch_;
  assignment_time_ms_ = now;
  dirty = true;
}

bool consumer_group::owned_by_other(const std::string& member_id, const common::uuid& topic, int32_t p) const {
  for (const auto& [id, m] : members_) {
    if (id == member_id) continue;
    if (contains(m.assigned, topic, p) || contains(m.pending_revocation, topic, p)) return true;
  }
  return false;
}

void consumer_group::reconcile(consumer_member& m, const std::optional<topic_partitions>& owned,
                               bool subscription_changed) const {
  // Kafka's CurrentAssignmentBuilder.build.
  switch (m.state) {
    case member_state::stable:
      if (m.member_epoch != assignment_epoch_) move_towards_target(m, owned, m.member_epoch);
      else if (subscription_changed) drop_unsubscribed(m, owned);
      return;
    case member_state::unrevoked_partitions:
      // It may move on only once it no longer reports any partition it was asked to revoke.
      if (owns_any(owned, m.pending_revocation)) {
        if (subscription_changed) drop_unsubscribed(m, owned);
        return;
      }
      move_towards_target(m, owned, m.member_epoch);
      return;
    case member_state::unreleased_partitions:
      move_towards_target(m, owned, m.member_epoch);
      return;
  }
}

void consumer_group::move_towards_target(consumer_member& m, const std::optional<topic_partitions>& owned,
                                         int32_t epoch) const {
  // Kafka's CurrentAssignmentBuilder.computeNextAssignment.
  const topic_partitions& target = target_of(m.id);
  const std::set<common::uuid> subscribed = subscribed_ids(m);
  std::set<common::uuid> topics;
  for (const auto& [t, parts] : target) topics.insert(t);
  for (const auto& [t, parts] : m.assigned) topics.insert(t);
  bool unreleased = false;
  topic_partitions kept, revoking, adding;
  const std::set<int32_t> none;
  for (const auto& topic : topics) {
    // The target may still hold topics the member has stopped subscribing to: those are not its.
    auto tit = subscribed.count(topic) ? target.find(topic) : target.end();
    auto ait = m.assigned.find(topic);
    const auto& want = tit == target.end() ? none : tit->second;
    const auto& have = ait == m.assigned.end() ? none : ait->second;
    for (int32_t p : have) (want.count(p) ? kept : revoking)[topic].insert(p);
    for (int32_t p : want) {
      if (have.count(p)) continue;
      if (owned_by_other(m.id, topic, p))
        unreleased = true;
      else
        adding[topic].insert(p);
    }
  }
  auto move_to = [&m](int32_t new_epoch) {
    m.previous_member_epoch = m.member_epoch;
    m.member_epoch = new_epoch;
  };
  if (!revoking.empty() && owns_any(owned, revoking)) {
    // Revoke first: the member stays at its epoch until it reports the partitions gone; what it
    // is told to own meanwhile is only what it keeps.
    m.state = member_state::unrevoked_partitions;
    move_to(epoch);
    m.assigned = std::move(kept);
    m.pending_revocation = std::move(revoking);
    update_assignment_epochs(m, m.member_epoch);  // nothing is added here
    return;
  }
  for (auto& [topic, parts] : adding) kept[topic].insert(parts.begin(), parts.end());
  m.state = unreleased ? member_state::unreleased_partitions : member_state::stable;
  move_to(assignment_epoch_);
  m.assigned = std::move(kept);
  m.pending_revocation.clear();
  update_assignment_epochs(m, assignment_epoch_);
}

void consumer_group::drop_unsubscribed(consumer_member& m, const std::optional<topic_partitions>& owned) const {
  // Kafka's CurrentAssignmentBuilder.updateCurrentAssignment: the target may lag behind the new
  // subscription; the topics the member left are revoked now, at its epoch.
  const std::set<common::uuid> subscribed = subscribed_ids(m);
  topic_partitions assigned = m.assigned;
  topic_partitions revoking = m.pending_revocation;
  // Subscribed to nothing with nothing pending: all of it goes (the member is updated even when it
  // held nothing).
  bool changed = subscribed.empty() && m.pending_revocation.empty();
  for (const auto& [topic, parts] : m.assigned) {
    if (subscribed.count(topic)) continue;
    assigned.erase(topic);
    revoking[topic].insert(parts.begin(), parts.end());
    changed = true;
  }
  if (!changed) return;
  m.previous_member_epoch = m.member_epoch;
  m.assigned = std::move(assigned);
  if (!revoking.empty() && owns_any(owned, revoking)) {
    m.state = member_state::unrevoked_partitions;
    m.pending_revocation = std::move(revoking);
  }
  update_assignment_epochs(m, m.member_epoch);  // nothing is added here
}

void consumer_group::note_state(consumer_group_state before, int64_t now) {
  const auto after = state();
  if (after != before && (after == consumer_group_state::empty || before == consumer_group_state::empty)) {
    state_since_ms_ = now;
    dirty = true;
  }
}

void consumer_group::fence_member(const std::string& member_id, int64_t now) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  const auto before = state();
  if (it->second.instance_id) {
    auto s = static_.find(*it->second.instance_id);
    if (s != static_.end() && s->second == member_id) static_.erase(s);
  }
  members_.erase(it);
  target_.erase(member_id);
  track_regexes();
  // Kafka's consumerGroupFenceMembers: the group epoch is bumped, whatever else changed, with the
  // metadata of the topics the remaining members subscribe to.
  subscribed_metadata_ = compute_subscribed_metadata();
  bump_group_epoch();
  // The target is not recomputed here while members remain: their next heartbeat does it. When the
  // last member goes, the (empty) target takes the new group epoch at once, with no assignment time,
  // as Kafka 4.4 writes a target assignment metadata record (epoch, time 0) when every member is fenced.
  if (members_.empty()) {
    target_.clear();
    assignment_epoch_ = group_epoch_;
    assignment_time_ms_.reset();
  }
  note_state(before, now);
}

consumer_heartbeat_result consumer_group::heartbeat(const consumer_heartbeat_request& req, int64_t now) {
  consumer_heartbeat_result r;
  auto fail = [&r](kafka_error e, std::string message) {
    r.error = e;
    r.error_message = std::move(message);
    return r;
  };
  if (dead_) return fail(kafka_error::coordinator_not_available, "The group is being deleted.");

  // ---- leaving: -1 for good, -2 a static member for now ----
  if (req.member_epoch == -1 || req.member_epoch == -2) {
    std::string member_id = req.member_id;
    if (req.instance_id) {
      auto s = static_.find(*req.instance_id);
      if (s == static_.end())
        return fail(kafka_error::unknown_member_id, fmt::format("Instance id {} is unknown.", *req.instance_id));
      if (s->second != req.member_id)
        return fail(kafka_error::fenced_instance_id,
                    fmt::format("Static member {} with instance id {} is not the member {}.", req.member_id,
                                *req.instance_id, s->second));
    } else if (!members_.count(member_id)) {
      return fail(kafka_error::unknown_member_id,
                  fmt::format("Member {} is not a member of group {}.", member_id, id_));
    }
    r.member_id = member_id;
    r.member_epoch = req.member_epoch;
    if (req.member_epoch == -2) {
      // The static member keeps its assignment until it rejoins or its session ends.
      auto& m = members_.at(member_id);
      if (m.member_epoch != -2) {
        m.member_epoch = -2;
        m.pending_revocation.clear();
        // Kafka resets the kept partitions' assignment epochs to 0: the instance that comes back
        // may commit them at any epoch.
        update_assignment_epochs(m, 0);
        for (auto& [topic, parts] : m.assignment_epochs)
          for (auto& [p, epoch] : parts) epoch = 0;
        m.state = member_state::stable;
        m.rebalance_deadline_ms.reset();
        dirty = true;
      }
      // The session keeps running from the last heartbeat: the instance must be back within it.
    } else {
      fence_member(member_id, now);
    }
    return r;
  }

  const bool joining = req.member_epoch == 0;
  if (static_cast<int64_t>(members_.size()) >= limits_.max_size && !members_.count(req.member_id))
    return fail(kafka_error::group_max_size_reached,
                fmt::format("The consumer group has reached its maximum capacity of {} members.", limits_.max_size));

  const auto before_state = state();
  consumer_member previous;  // the member as it was (empty for a new one)
  bool is_new = false;
  std::optional<std::string> replaced;  // a static member's old id
  auto epoch_check = [&](const consumer_member& m) -> std::optional<consumer_heartbeat_result> {
    if (req.member_epoch > m.member_epoch)
      return fail(kafka_error::fenced_member_epoch,
                  fmt::format("The consumer group member has a greater member epoch ({}) than the one known by the "
                              "group coordinator ({}). The member must abandon all its partitions and rejoin.",
                              req.member_epoch, m.member_epoch));
    if (req.member_epoch < m.member_epoch &&
        (req.member_epoch != m.previous_member_epoch || !req.owned || !is_subset(*req.owned, m.assigned)))
      return fail(kafka_error::fenced_member_epoch,
                  fmt::format("The consumer group member has a smaller member epoch ({}) than the one known by the "
                              "group coordinator ({}). The member must abandon all its partitions and rejoin.",
                              req.member_epoch, m.member_epoch));
    return std::nullopt;
  };

  if (!req.instance_id) {
    auto it = members_.find(req.member_id);
    if (it == members_.end()) {
      if (!joining)
        return fail(kafka_error::unknown_member_id,
                    fmt::format("Member {} is not a member of group {}.", req.member_id, id_));
      is_new = true;
    } else {
      if (auto e = epoch_check(it->second)) return *e;
      previous = it->second;
    }
  } else {
    auto s = static_.find(*req.instance_id);
    if (joining) {
      if (s == static_.end()) {
        auto it = members_.find(req.member_id);
        if (it == members_.end()) is_new = true;
        else previous = it->second;
      } else {
        const consumer_member& old = members_.at(s->second);
        if (old.member_epoch != -2)
          return fail(kafka_error::unreleased_instance_id,
                      fmt::format("Static member {} with instance id {} cannot join the group because the instance "
                                  "id is owned by {} member.",
                                  req.member_id, *req.instance_id, old.id));
        // The new instance takes over the old one's assignment, at epoch 0.
        previous = old;
        previous.id = req.member_id;
        previous.member_epoch = 0;
        previous.previous_member_epoch = 0;
        replaced = old.id;
      }
    } else {
      if (s == static_.end())
        return fail(kafka_error::unknown_member_id, fmt::format("Instance id {} is unknown.", *req.instance_id));
      if (s->second != req.member_id)
        return fail(kafka_error::fenced_instance_id,
                    fmt::format("Static member {} with instance id {} is fenced by member {}.", req.member_id,
                                *req.instance_id, s->second));
      const consumer_member& m = members_.at(req.member_id);
      if (auto e = epoch_check(m)) return *e;
      previous = m;
    }
  }

  // ---- update the member ----
  consumer_member updated = previous;
  if (is_new) {
    updated = consumer_member{};
    updated.id = req.member_id;
    updated.member_epoch = 0;
    updated.previous_member_epoch = 0;
  }
  if (req.instance_id) updated.instance_id = req.instance_id;
  if (req.rack_id) updated.rack_id = req.rack_id;
  if (req.rebalance_timeout_ms != -1) updated.rebalance_timeout_ms = req.rebalance_timeout_ms;
  if (req.subscribed_topic_names) {
    auto names = *req.subscribed_topic_names;
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    updated.subscribed_topic_names = std::move(names);
  }
  if (req.subscribed_topic_regex) updated.subscribed_topic_regex = req.subscribed_topic_regex;
  if (req.server_assignor) updated.server_assignor = req.server_assignor;
  updated.client_id = req.client_id;
  updated.client_host = req.client_host;
  // What bumps the group epoch (Kafka's consumerGroupHeartbeat): new subscribed topic names (a new
  // member's from none), a regex changed to one already resolved or to none (a new one bumps once
  // resolved: apply_regex), or another preferred server assignor.
  const bool names_changed = updated.subscribed_topic_names != previous.subscribed_topic_names;
  const std::string old_regex = previous.subscribed_topic_regex.value_or("");
  const std::string new_regex = updated.subscribed_topic_regex.value_or("");
  const bool regex_changed = old_regex != new_regex;
  bool regex_resolved = false;
  if (regex_changed) {
    if (new_regex.empty()) {
      regex_resolved = true;
    } else {
      auto known = regexes_.find(new_regex);
      bool in_use = false;
      for (const auto& [id, other] : members_)
        if (id != updated.id && other.subscribed_topic_regex.value_or("") == new_regex) in_use = true;
      regex_resolved = in_use && known != regexes_.end() && known->second.resolved;
    }
  }
  const std::string assignor_before = preferred_assignor();

  if (replaced) {
    auto t = target_.find(*replaced);
    if (t != target_.end()) {
      auto moved = std::move(t->second);
      target_.erase(t);
      target_[updated.id] = std::move(moved);
    }
    members_.erase(*replaced);
  }
  if (updated.instance_id) static_[*updated.instance_id] = updated.id;
  const std::string member_id = updated.id;
  members_[member_id] = updated;
  track_regexes(req.compiled_regex);
  if (!new_regex.empty())
    if (auto r = regexes_.find(new_regex); r != regexes_.end()) {
      r->second.principal = req.principal;
      r->second.host = req.acl_host;
    }

  bool bump = names_changed || regex_resolved || preferred_assignor() != assignor_before;
  // The subscribed topics' metadata is compared when the epoch is bumped anyway or a topic changed.
  if (bump || metadata_refresh_) {
    if (refresh_subscribed_metadata()) bump = true;
    metadata_refresh_ = false;
  }
  if (bump) bump_group_epoch();
  maybe_compute_target(now);

  // ---- reconcile ----
  consumer_member& m = members_.at(member_id);
  reconcile(m, req.owned, names_changed || regex_changed);
  m.session_deadline_ms = now + limits_.session_timeout_ms;
  if (m.state != member_state::unrevoked_partitions)
    m.rebalance_deadline_ms.reset();
  else if (!m.rebalance_deadline_ms || m.member_epoch != previous.member_epoch || m.assigned != previous.assigned)
    m.rebalance_deadline_ms = now + m.rebalance_timeout_ms;
  if (is_new || replaced || !same_persisted(m, previous)) dirty = true;
  note_state(before_state, now);

  r.member_id = member_id;
  r.member_epoch = m.member_epoch;
  r.heartbeat_interval_ms = limits_.heartbeat_interval_ms;
  // The assignment goes out when it changed, or when the member sent a full request (joining, or
  // after an error, with every field set), as Kafka does.
  const bool full_request = req.member_epoch == 0 || (req.rebalance_timeout_ms != -1 &&
                                                      (req.subscribed_topic_names || req.subscribed_topic_regex) &&
                                                      req.owned);
  if (full_request || is_new || m.assigned != previous.assigned) r.assignment = m.assigned;
  return r;
}

kafka_error consumer_group::validate_commit(const std::string& member_id, int32_t member_epoch,
                                            int16_t api_version, std::span<const committed_partition> partitions) const {
  // Epoch -1 with no members: the admin client or a consumer assigning partitions itself.
  if (member_epoch < 0 && members_.empty()) return kafka_error::none;
  const consumer_member* m = find_member(member_id);
  if (!m) return kafka_error::unknown_member_id;
  if (api_version < 9) return kafka_error::unsupported_version;
  if (member_epoch == m->member_epoch) return kafka_error::none;
  if (member_epoch > m->member_epoch) return kafka_error::stale_member_epoch;
  // An older epoch (the member has not heard of its new one yet): partition by partition.
  for (const auto& c : partitions) {
    const auto epoch = assignment_epoch_of(*m, c.topic, c.partition);
    if (!epoch || member_epoch < *epoch) return kafka_error::stale_member_epoch;
  }
  return kafka_error::none;
}

kafka_error consumer_group::validate_txn_commit(const std::string& member_id,
                                                const std::optional<std::string>& instance_id, int32_t member_epoch,
                                                std::span<const committed_partition> partitions) const {
  if (member_epoch < 0 && members_.empty()) return kafka_error::none;
  if (member_epoch == -1 && member_id.empty() && !instance_id) return kafka_error::none;
  // The OffsetCommit check without its version requirement (v9+), which TxnOffsetCommit does not have.
  return validate_commit(member_id, member_epoch, 9, partitions);
}

kafka_error consumer_group::validate_fetch(const std::optional<std::string>& member_id, int32_t member_epoch) const {
  if (!member_id && member_epoch < 0) return kafka_error::none;
  const consumer_member* m = member_id ? find_member(*member_id) : nullptr;
  if (!m) return kafka_error::unknown_member_id;
  if (member_epoch != m->member_epoch) return kafka_error::stale_member_epoch;
  return kafka_error::none;
}

std::optional<int64_t> consumer_group::next_deadline() const {
  std::optional<int64_t> next;
  auto take = [&next](int64_t t) { next = next ? std::min(*next, t) : t; };
  for (const auto& [id, m] : members_) {
    take(m.session_deadline_ms);
    if (m.rebalance_deadline_ms) take(*m.rebalance_deadline_ms);
  }
  return next;
}

void consumer_group::advance(int64_t now) {
  std::vector<std::string> fenced;
  for (const auto& [id, m] : members_) {
    if (now >= m.session_deadline_ms) fenced.push_back(id);
    else if (m.rebalance_deadline_ms && now >= *m.rebalance_deadline_ms && m.state == member_state::unrevoked_partitions)
      fenced.push_back(id);  // it did not revoke in time
  }
  for (const auto& id : fenced) fence_member(id, now);
}

}  // namespace brook::broker::group
