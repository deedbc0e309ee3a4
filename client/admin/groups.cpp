// The admin engine's group operations: each goes to the group's coordinator (found with
// FindCoordinator and looked up again after NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE), except
// ListGroups, which asks every broker, as Java's listGroups does.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "client/admin/engine.hpp"
#include "client/consuming/consumer_protocol.hpp"
#include "client/admin/item_loop.hpp"
#include "client/core/errors.hpp"

namespace brook::client::admin {

namespace {

std::string group_what(std::string_view group) { return fmt::format("group '{}'", group); }

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool matches(const std::set<std::string>& filter, const std::optional<std::string>& value) {
  if (filter.empty() || !value) return true;
  for (const auto& f : filter)
    if (lower_case(f) == lower_case(*value)) return true;
  return false;
}

void sort_partitions(std::vector<topic_partition>& tps) { std::sort(tps.begin(), tps.end()); }

std::vector<topic_partition> partitions_of(const proto::consumer_group_describe::member_assignment& a) {
  std::vector<topic_partition> out;
  for (const auto& t : a.topic_partitions)
    for (int32_t p : t.partitions) out.push_back(topic_partition{t.topic_name, p});
  sort_partitions(out);
  return out;
}

}  // namespace

awaitable<result<std::shared_ptr<core::connection>>> engine::coordinator_connection(const std::string& group, budget& b) {
  while (true) {
    auto node = co_await cluster_.coordinator(core::coordinator_type::group, group);
    common::error failure{kafka_error::coordinator_not_available, ""};
    if (node) {
      auto conn = co_await cluster_.connection_to(*node);
      if (conn) co_return conn;
      failure = conn.err();
      cluster_.forget_coordinator(core::coordinator_type::group, group);
    } else {
      failure = node.err();
    }
    if (!core::is_retriable(failure.code) || !co_await pause(b)) co_return item_loop_gave_up(failure);
  }
}

awaitable<result<std::vector<group_listing>>> engine::list_groups(list_groups_options o) {
  auto b = budget_for(o);
  std::optional<std::vector<std::string>> no_topics{std::vector<std::string>{}};
  std::shared_ptr<const core::metadata_snapshot> md;
  while (true) {
    auto r = co_await cluster_.refresh_metadata(no_topics);
    if (r) {
      md = *r;
      break;
    }
    if (!core::is_retriable(r.err().code) || !co_await pause(b)) co_return item_loop_gave_up(r.err());
  }
  std::map<std::string, group_listing> found;
  for (const auto& [id, broker] : md->brokers) {
    while (true) {
      common::error failure{kafka_error::none, ""};
      auto conn = co_await cluster_.connection_to(id);
      if (!conn) {
        failure = conn.err();
      } else {
        const auto v = (*conn)->version_for<proto::list_groups::request>();
        proto::list_groups::request req;
        if (v && *v >= 4) req.states_filter.assign(o.states.begin(), o.states.end());
        if (v && *v >= 5) req.types_filter.assign(o.types.begin(), o.types.end());
        auto resp = co_await (*conn)->call(req);
        if (!resp) {
          failure = resp.err();
        } else if (resp->body.error_code != 0) {
          failure = item_error(static_cast<kafka_error>(resp->body.error_code), std::nullopt,
                               fmt::format("ListGroups on broker {}", id));
        } else {
          for (const auto& g : resp->body.groups) {
            group_listing l;
            l.group_id = g.group_id;
            l.protocol_type = g.protocol_type;
            if (resp->version >= 4) l.state = g.group_state;
            if (resp->version >= 5) l.type = g.group_type;
            if (!matches(o.states, l.state) || !matches(o.types, l.type)) continue;
            found.insert_or_assign(l.group_id, std::move(l));
          }
          break;
        }
      }
      if (!core::is_retriable(failure.code) || !co_await pause(b)) co_return item_loop_gave_up(failure);
    }
  }
  std::vector<group_listing> out;
  for (auto& [id, l] : found) out.push_back(std::move(l));
  co_return out;
}

awaitable<result<results_by<std::string, group_description>>> engine::describe_groups(std::vector<std::string> groups,
                                                                                     call_options o) {
  auto b = budget_for(o);
  results_by<std::string, group_description> out;
  for (const auto& group : groups) {
    if (out.count(group)) continue;
    // Consumer (KIP-848) groups answer ConsumerGroupDescribe; a classic group answers it with
    // GROUP_ID_NOT_FOUND and is then described with DescribeGroups, as Java's admin client does.
    bool classic = false;
    std::optional<result<group_description>> answer;
    while (!answer) {
      auto conn = co_await coordinator_connection(group, b);
      if (!conn) {
        answer.emplace(conn.err());
        break;
      }
      common::error failure{kafka_error::none, ""};
      if (!classic && (*conn)->version_for<proto::consumer_group_describe::request>()) {
        proto::consumer_group_describe::request req;
        req.group_ids = {group};
        auto resp = co_await (*conn)->call(req);
        if (!resp) {
          failure = resp.err();
        } else if (resp->body.groups.empty()) {
          classic = true;
          continue;
        } else {
          const auto& g = resp->body.groups.front();
          const auto code = static_cast<kafka_error>(g.error_code);
          if (code == kafka_error::group_id_not_found || code == kafka_error::unsupported_version) {
            classic = true;
            continue;
          }
          if (code == kafka_error::none) {
            group_description d;
            d.group_id = g.group_id;
            d.type = "consumer";
            d.state = g.group_state;
            d.protocol_type = "consumer";
            d.assignor = g.assignor_name;
            d.coordinator = (*conn)->node_id();
            d.group_epoch = g.group_epoch;
            for (const auto& m : g.members) {
              group_member gm;
              gm.member_id = m.member_id;
              gm.group_instance_id = m.instance_id;
              gm.client_id = m.client_id;
              gm.host = m.client_host;
              gm.assignment = partitions_of(m.assignment);
              gm.target_assignment = partitions_of(m.target_assignment);
              gm.member_epoch = m.member_epoch;
              d.members.push_back(std::move(gm));
            }
            answer.emplace(std::move(d));
            break;
          }
          failure = item_error(code, g.error_message, group_what(group));
        }
      } else {
        proto::describe_groups::request req;
        req.groups = {group};
        auto resp = co_await (*conn)->call(req);
        if (!resp) {
          failure = resp.err();
        } else if (resp->body.groups.empty()) {
          failure = common::error{kafka_error::unknown_server_error, "DescribeGroups answered no group"};
        } else {
          const auto& g = resp->body.groups.front();
          const auto code = static_cast<kafka_error>(g.error_code);
          if (code == kafka_error::none && g.group_state == "Dead") {
            answer.emplace(item_error(kafka_error::group_id_not_found, std::nullopt, group_what(group)));
            break;
          }
          if (code == kafka_error::none) {
            group_description d;
            d.group_id = g.group_id;
            d.type = "classic";
            d.state = g.group_state;
            d.protocol_type = g.protocol_type;
            d.assignor = g.protocol_data;
            d.coordinator = (*conn)->node_id();
            for (const auto& m : g.members) {
              group_member gm;
              gm.member_id = m.member_id;
              gm.group_instance_id = m.group_instance_id;
              gm.client_id = m.client_id;
              gm.host = m.client_host;
              // A consumer group's members carry their partitions in the consumer protocol's bytes;
              // other protocol types (connect, ...) have their own formats, left undecoded.
              if (g.protocol_type == consuming::consumer_protocol_type) {
                if (auto a = consuming::decode_assignment(m.member_assignment)) gm.assignment = std::move(a->partitions);
              }
              d.members.push_back(std::move(gm));
            }
            answer.emplace(std::move(d));
            break;
          }
          failure = item_error(code, g.error_message, group_what(group));  // v6+: GROUP_ID_NOT_FOUND's message
        }
      }
      co_await after_error(failure.code, &group);
      if (!core::is_retriable(failure.code) || !co_await pause(b)) answer.emplace(item_loop_gave_up(failure));
    }
    out.emplace(group, std::move(*answer));
  }
  co_return out;
}

awaitable<result<results_by<std::string, void>>> engine::delete_groups(std::vector<std::string> groups, call_options o) {
  auto b = budget_for(o);
  results_by<std::string, void> out;
  for (const auto& group : groups) {
    if (out.count(group)) continue;
    std::optional<result<void>> answer;
    while (!answer) {
      auto conn = co_await coordinator_connection(group, b);
      if (!conn) {
        answer.emplace(conn.err());
        break;
      }
      common::error failure{kafka_error::none, ""};
      proto::delete_groups::request req;
      req.groups_names = {group};
      auto resp = co_await (*conn)->call(req);
      if (!resp) {
        failure = resp.err();
      } else if (resp->body.results.empty()) {
        failure = common::error{kafka_error::unknown_server_error, "DeleteGroups answered no group"};
      } else {
        const auto& r = resp->body.results.front();
        const auto code = static_cast<kafka_error>(r.error_code);
        if (code == kafka_error::none) {
          answer.emplace();
          break;
        }
        failure = item_error(code, r.error_message, group_what(group));  // v3+: the broker's cause, if any
      }
      co_await after_error(failure.code, &group);
      if (!core::is_retriable(failure.code) || !co_await pause(b)) answer.emplace(item_loop_gave_up(failure));
    }
    out.emplace(group, std::move(*answer));
  }
  co_return out;
}

awaitable<result<results_by<topic_partition, offset_and_metadata>>> engine::list_consumer_group_offsets(
    std::string group, std::optional<std::vector<topic_partition>> partitions, list_group_offsets_options o) {
  auto b = budget_for(o);
  while (true) {
    auto conn = co_await coordinator_connection(group, b);
    if (!conn) co_return conn.err();
    common::error failure{kafka_error::none, ""};
    // Topics by name, as Java's admin client asks: at most v9 (v10+ names them by id).
    const auto v = (*conn)->version_for<proto::offset_fetch::request>(partitions ? 1 : 2, 9);
    if (!v) co_return common::error{kafka_error::unsupported_version, "the coordinator serves no usable OffsetFetch version"};
    // The partitions asked for, by topic, in the request's order.
    std::map<std::string, std::vector<int32_t>> asked;
    if (partitions)
      for (const auto& tp : *partitions) asked[tp.topic].push_back(tp.partition);
    proto::offset_fetch::request req;
    req.require_stable = o.require_stable;
    if (*v >= 8) {
      proto::offset_fetch::offset_fetch_request_group g;
      g.group_id = group;
      if (partitions) {
        g.topics.emplace();
        for (const auto& [topic, ps] : asked) {
          proto::offset_fetch::offset_fetch_request_topics t;
          t.name = topic;
          t.partition_indexes = ps;
          g.topics->push_back(std::move(t));
        }
      } else {
        g.topics.reset();
      }
      req.groups.push_back(std::move(g));
    } else {
      req.group_id = group;
      if (partitions) {
        req.topics.emplace();
        for (const auto& [topic, ps] : asked) {
          proto::offset_fetch::offset_fetch_request_topic t;
          t.name = topic;
          t.partition_indexes = ps;
          req.topics->push_back(std::move(t));
        }
      } else {
        req.topics.reset();
      }
    }
    auto resp = co_await (*conn)->call_at(req, *v);
    if (!resp) {
      failure = resp.err();
    } else {
      results_by<topic_partition, offset_and_metadata> out;
      kafka_error group_code = kafka_error::none;
      auto take = [&](const std::string& topic, int32_t partition, int64_t offset, int32_t epoch,
                      const std::optional<std::string>& metadata, int16_t error_code) {
        topic_partition tp{topic, partition};
        const auto code = static_cast<kafka_error>(error_code);
        if (code != kafka_error::none) {
          out.insert_or_assign(tp, result<offset_and_metadata>(item_error(code, std::nullopt, partition_what(tp))));
        } else if (offset >= 0) {
          offset_and_metadata om;
          om.offset = offset;
          if (epoch >= 0) om.leader_epoch = epoch;
          om.metadata = metadata.value_or("");
          out.insert_or_assign(tp, result<offset_and_metadata>(std::move(om)));
        }
      };
      if (*v >= 8) {
        if (resp->groups.empty()) {
          group_code = kafka_error::unknown_server_error;
        } else {
          const auto& g = resp->groups.front();
          group_code = static_cast<kafka_error>(g.error_code);
          for (const auto& t : g.topics)
            for (const auto& p : t.partitions)
              take(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code);
        }
      } else {
        group_code = static_cast<kafka_error>(resp->error_code);
        for (const auto& t : resp->topics)
          for (const auto& p : t.partitions)
            take(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code);
      }
      // Coordinator errors may also come per partition (OffsetFetch v0-1).
      for (const auto& [tp, r] : out)
        if (!r && core::invalidates_coordinator(r.err().code) && group_code == kafka_error::none) group_code = r.err().code;
      if (group_code == kafka_error::none) co_return out;
      failure = item_error(group_code, std::nullopt, group_what(group));
    }
    co_await after_error(failure.code, &group);
    if (!core::is_retriable(failure.code) || !co_await pause(b)) co_return item_loop_gave_up(failure);
  }
}

awaitable<result<results_by<topic_partition, void>>> engine::alter_consumer_group_offsets(
    std::string group, std::map<topic_partition, offset_and_metadata> offsets, call_options o) {
  auto b = budget_for(o);
  item_loop<topic_partition, void> items;
  for (const auto& [tp, om] : offsets) items.add(tp);
  while (items.has_pending()) {
    auto conn = co_await coordinator_connection(group, b);
    if (!conn) {
      items.call_failed(conn.err());
      break;
    }
    // As Java's alterConsumerGroupOffsets: a commit from outside the group (generation -1, no member
    // id), which the coordinator accepts only while the group has no active members.
    proto::offset_commit::request req;
    req.group_id = group;
    req.generation_id_or_member_epoch = -1;
    req.member_id = "";
    req.group_instance_id.reset();
    for (const auto& tp : items.pending()) {
      if (req.topics.empty() || req.topics.back().name != tp.topic) {
        proto::offset_commit::offset_commit_request_topic t;
        t.name = tp.topic;
        req.topics.push_back(std::move(t));
      }
      const auto& om = offsets.at(tp);
      proto::offset_commit::offset_commit_request_partition p;
      p.partition_index = tp.partition;
      p.committed_offset = om.offset;
      p.committed_leader_epoch = om.leader_epoch.value_or(-1);
      p.committed_metadata = om.metadata;
      req.topics.back().partitions.push_back(std::move(p));
    }
    // Topics by name, as Java's admin client commits them: at most v9 (v10+ names them by id).
    auto resp = co_await (*conn)->call(req, proto::offset_commit::min_version, 9);
    kafka_error worst = kafka_error::none;
    if (!resp) {
      items.call_failed(resp.err());
      worst = resp.err().code;
    } else {
      for (const auto& t : resp->body.topics) {
        for (const auto& p : t.partitions) {
          topic_partition tp{t.name, p.partition_index};
          const auto code = static_cast<kafka_error>(p.error_code);
          if (code == kafka_error::none) {
            items.succeed(tp);
          } else if (code == kafka_error::unknown_member_id || code == kafka_error::illegal_generation ||
                     code == kafka_error::rebalance_in_progress || code == kafka_error::stale_member_epoch) {
            items.fail(tp, common::error{code, fmt::format("{} has active members: its offsets can only be changed "
                                                           "while it is empty ({})",
                                                           group_what(group), common::error_name(code))});
          } else {
            items.item_failed(tp, item_error(code, std::nullopt, partition_what(tp)));
            if (core::invalidates_coordinator(code)) worst = code;
          }
        }
      }
    }
    co_await after_error(worst, &group);
    if (!items.has_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

awaitable<result<results_by<topic_partition, void>>> engine::delete_consumer_group_offsets(
    std::string group, std::set<topic_partition> partitions, call_options o) {
  auto b = budget_for(o);
  item_loop<topic_partition, void> items;
  for (const auto& tp : partitions) items.add(tp);
  while (items.has_pending()) {
    auto conn = co_await coordinator_connection(group, b);
    if (!conn) {
      items.call_failed(conn.err());
      break;
    }
    proto::offset_delete::request req;
    req.group_id = group;
    for (const auto& tp : items.pending()) {
      if (req.topics.empty() || req.topics.back().name != tp.topic) {
        proto::offset_delete::offset_delete_request_topic t;
        t.name = tp.topic;
        req.topics.push_back(std::move(t));
      }
      proto::offset_delete::offset_delete_request_partition p;
      p.partition_index = tp.partition;
      req.topics.back().partitions.push_back(p);
    }
    auto resp = co_await (*conn)->call(req);
    kafka_error worst = kafka_error::none;
    if (!resp) {
      items.call_failed(resp.err());
      worst = resp.err().code;
    } else if (resp->body.error_code != 0) {
      worst = static_cast<kafka_error>(resp->body.error_code);
      items.call_failed(item_error(worst, std::nullopt, group_what(group)));
    } else {
      for (const auto& t : resp->body.topics) {
        for (const auto& p : t.partitions) {
          topic_partition tp{t.name, p.partition_index};
          const auto code = static_cast<kafka_error>(p.error_code);
          if (code == kafka_error::none) items.succeed(tp);
          else items.item_failed(tp, item_error(code, std::nullopt, partition_what(tp)));
        }
      }
    }
    co_await after_error(worst, &group);
    if (!items.has_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

}  // namespace brook::client::admin
