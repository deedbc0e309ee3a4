#include "client/admin/engine.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "client/admin/item_loop.hpp"
#include "client/core/errors.hpp"

namespace brook::client::admin {

using asio::use_awaitable;

namespace {

std::string topic_what(std::string_view name) { return fmt::format("topic '{}'", name); }

std::string resource_what(const config_resource& r) {
  switch (r.type) {
    case config_resource::kind::topic:
      return topic_what(r.name);
    case config_resource::kind::broker:
      return r.name.empty() ? std::string("the brokers' default configuration") : fmt::format("broker {}", r.name);
    case config_resource::kind::broker_logger:
      return fmt::format("broker {}'s loggers", r.name);
  }
  return r.name;
}

config_source source_of(int8_t wire) {
  if (wire < 0 || wire > 8) return config_source::unknown;
  return static_cast<config_source>(wire);
}

// Where a configuration resource's requests go: a broker's own resources to that broker (only it
// knows its dynamic and static settings), everything else to any broker (-1).
int32_t target_of(const config_resource& r) {
  if (r.type == config_resource::kind::topic || r.name.empty()) return -1;
  int32_t id = -1;
  const auto [p, ec] = std::from_chars(r.name.data(), r.name.data() + r.name.size(), id);
  if (ec != std::errc() || p != r.name.data() + r.name.size()) return -1;
  return id;
}

}  // namespace

result<admin_options> read_admin_options(const core::properties& props) {
  core::config_reader c(props, "admin client");
  admin_options o;
  o.cluster = core::read_cluster_options(c, "brook-admin", 30000);
  o.cluster.allow_auto_topic_creation = false;
  o.default_api_timeout = c.millis("default.api.timeout.ms", 60000, 0, INT32_MAX);
  o.retries = c.int32("retries", INT32_MAX, 0);
  c.accept({"bootstrap.controllers", "metadata.recovery.strategy", "metadata.recovery.rebootstrap.trigger.ms",
            "sasl.mechanism", "sasl.jaas.config"});
  if (auto done = c.finish(); !done) return done.err();
  // As Java's admin client: a call must be allowed at least one whole request.
  o.default_api_timeout = std::max(o.default_api_timeout, o.cluster.connection.request_timeout);
  return o;
}

std::string partition_what(const topic_partition& tp) { return fmt::format("partition {}-{}", tp.topic, tp.partition); }

common::error item_error(kafka_error code, const std::optional<std::string>& server_message, std::string_view what) {
  const bool has_message = server_message && !server_message->empty();
  switch (code) {
    case kafka_error::unknown_topic_or_partition:
    case kafka_error::unknown_topic_id:
    case kafka_error::group_id_not_found:
    case kafka_error::resource_not_found:
      return {code, fmt::format("{} does not exist", what)};
    case kafka_error::topic_already_exists:
      return {code, fmt::format("{} already exists", what)};
    case kafka_error::non_empty_group:
      return {code, fmt::format("{} is not empty: it has active members", what)};
    case kafka_error::group_subscribed_to_topic:
      return {code, fmt::format("{}: the group is still subscribed to the topic", what)};
    case kafka_error::topic_deletion_disabled:
      return {code, fmt::format("{}: topic deletion is disabled on the broker (delete.topic.enable=false)", what)};
    default:
      break;
  }
  if (has_message) return {code, fmt::format("{}: {}", what, *server_message)};
  std::string name(common::error_name(code));
  std::replace(name.begin(), name.end(), '_', ' ');
  return {code, fmt::format("{}: {}", what, name)};
}

engine::engine(asio::any_io_executor ex, admin_options opts) : cluster_(ex, opts.cluster), opts_(std::move(opts)) {}

engine::~engine() { cluster_.close(); }

engine::budget engine::budget_for(const call_options& o) const {
  return budget{clock::now() + o.timeout.value_or(opts_.default_api_timeout), 0};
}

awaitable<bool> engine::pause(budget& b) {
  ++b.attempt;
  if (b.attempt > opts_.retries) co_return false;
  const auto wait = cluster_.retry_backoff(b.attempt - 1);
  if (clock::now() + wait >= b.deadline) co_return false;
  asio::steady_timer timer(cluster_.executor(), wait);
  co_await timer.async_wait(use_awaitable);
  co_return true;
}

int32_t engine::request_timeout_ms(const budget& b) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(b.deadline - clock::now()).count();
  return static_cast<int32_t>(std::clamp<int64_t>(left, 0, INT32_MAX));
}

awaitable<void> engine::after_error(kafka_error code, const std::string* group) {
  if (group && core::invalidates_coordinator(code)) cluster_.forget_coordinator(core::coordinator_type::group, *group);
  if (core::invalidates_metadata(code)) {
    std::optional<std::vector<std::string>> no_topics{std::vector<std::string>{}};
    auto refreshed = co_await cluster_.refresh_metadata(no_topics);
    (void)refreshed;
  }
}

awaitable<result<std::shared_ptr<core::connection>>> engine::controller_connection() {
  auto md = cluster_.metadata();
  if (cluster_.metadata_stale()) {
    std::optional<std::vector<std::string>> no_topics{std::vector<std::string>{}};
    auto refreshed = co_await cluster_.refresh_metadata(no_topics);
    if (refreshed) md = *refreshed;
  }
  if (md->controller_id >= 0 && md->broker(md->controller_id)) {
    auto conn = co_await cluster_.connection_to(md->controller_id);
    if (conn) co_return conn;
  }
  co_return co_await cluster_.any_connection();
}

// Conditional awaits are written as if/else: GCC 12 mishandles `c ? co_await x : co_await y`.
awaitable<result<std::shared_ptr<core::connection>>> engine::connection_to_target(int32_t target) {
  if (target < 0) co_return co_await cluster_.any_connection();
  if (!cluster_.metadata()->broker(target)) {
    // The broker's address comes from Metadata, which this client may not have asked yet.
    std::optional<std::vector<std::string>> no_topics{std::vector<std::string>{}};
    auto refreshed = co_await cluster_.refresh_metadata(no_topics);
    if (!refreshed) co_return refreshed.err();
    if (!(*refreshed)->broker(target))
      co_return common::error{kafka_error::broker_not_available, fmt::format("broker {} is not in the cluster", target)};
  }
  co_return co_await cluster_.connection_to(target);
}

awaitable<result<std::shared_ptr<const core::metadata_snapshot>>> engine::leader_metadata(std::vector<std::string> topics,
                                                                                         bool refresh) {
  if (!refresh) co_return co_await cluster_.metadata_for(topics);
  std::optional<std::vector<std::string>> asked{std::move(topics)};
  co_return co_await cluster_.refresh_metadata(asked);
}

// ---- topics -----------------------------------------------------------------------------------

awaitable<result<results_by<std::string, created_topic>>> engine::create_topics(std::vector<new_topic> topics,
                                                                                create_topics_options o) {
  auto b = budget_for(o);
  item_loop<std::string, created_topic> items;
  std::map<std::string, const new_topic*> given;
  for (const auto& t : topics) {
    if (t.name.empty()) {
      items.fail(t.name, common::error{kafka_error::invalid_topic_exception, "a topic name must not be empty"});
    } else if (!given.emplace(t.name, &t).second) {
      items.fail(t.name, common::error{kafka_error::invalid_request, fmt::format("{} is given more than once",
                                                                                 topic_what(t.name))});
      given.erase(t.name);
    } else {
      items.add(t.name);
    }
  }
  while (items.has_pending()) {
    auto conn = co_await controller_connection();
    if (!conn) {
      items.call_failed(conn.err());
    } else {
      proto::create_topics::request req;
      for (const auto& name : items.pending()) {
        const new_topic& t = *given.at(name);
        proto::create_topics::creatable_topic ct;
        ct.name = t.name;
        ct.num_partitions = t.replica_assignment.empty() ? t.partitions : -1;
        ct.replication_factor = t.replica_assignment.empty() ? t.replication_factor : int16_t{-1};
        for (const auto& [partition, brokers] : t.replica_assignment) {
          proto::create_topics::creatable_replica_assignment a;
          a.partition_index = partition;
          a.broker_ids = brokers;
          ct.assignments.push_back(std::move(a));
        }
        for (const auto& [key, value] : t.configs) {
          proto::create_topics::creatable_topic_config c;
          c.name = key;
          c.value = value;
          ct.configs.push_back(std::move(c));
        }
        req.topics.push_back(std::move(ct));
      }
      req.timeout_ms = request_timeout_ms(b);
      req.validate_only = o.validate_only;
      auto r = co_await (*conn)->call(req, o.validate_only ? int16_t{1} : int16_t{0});
      if (!r) {
        items.call_failed(r.err());
      } else {
        for (const auto& t : r->body.topics) {
          const auto code = static_cast<kafka_error>(t.error_code);
          if (code == kafka_error::none) {
            created_topic c;
            c.topic_id = t.topic_id;
            c.partitions = t.num_partitions;
            c.replication_factor = t.replication_factor;
            if (t.configs) {
              for (const auto& ce : *t.configs) {
                config_entry e;
                e.name = ce.name;
                e.value = ce.value;
                e.read_only = ce.read_only;
                e.sensitive = ce.is_sensitive;
                e.source = source_of(ce.config_source);
                c.configs.push_back(std::move(e));
              }
            }
            items.succeed(t.name, std::move(c));
          } else {
            items.item_failed(t.name, item_error(code, t.error_message, topic_what(t.name)));
            co_await after_error(code, nullptr);
          }
        }
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

awaitable<result<results_by<std::string, void>>> engine::delete_topics(std::vector<std::string> topics, call_options o) {
  auto b = budget_for(o);
  item_loop<std::string, void> items;
  for (const auto& t : topics) items.add(t);
  while (items.has_pending()) {
    auto conn = co_await controller_connection();
    if (!conn) {
      items.call_failed(conn.err());
    } else {
      const auto v = (*conn)->version_for<proto::delete_topics::request>();
      proto::delete_topics::request req;
      for (const auto& name : items.pending()) {
        if (v && *v >= 6) {
          proto::delete_topics::delete_topic_state s;
          s.name = name;
          req.topics.push_back(std::move(s));
        } else {
          req.topic_names.push_back(name);
        }
      }
      req.timeout_ms = request_timeout_ms(b);
      auto r = co_await (*conn)->call(req);
      if (!r) {
        items.call_failed(r.err());
      } else {
        for (const auto& t : r->body.responses) {
          if (!t.name) continue;
          const auto code = static_cast<kafka_error>(t.error_code);
          if (code == kafka_error::none) items.succeed(*t.name);
          else items.item_failed(*t.name, item_error(code, t.error_message, topic_what(*t.name)));
          co_await after_error(code, nullptr);
        }
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

awaitable<result<std::vector<topic_listing>>> engine::list_topics(list_topics_options o) {
  auto b = budget_for(o);
  while (true) {
    std::optional<std::vector<std::string>> every_topic;
    auto md = co_await cluster_.refresh_metadata(every_topic);
    if (md) {
      std::vector<topic_listing> out;
      for (const auto& [name, t] : (*md)->topics) {
        if (t.error != kafka_error::none) continue;
        if (t.internal && !o.list_internal) continue;
        out.push_back(topic_listing{name, t.id, t.internal});
      }
      co_return out;
    }
    if (!core::is_retriable(md.err().code) || !co_await pause(b)) co_return item_loop_gave_up(md.err());
  }
}

awaitable<result<results_by<std::string, topic_description>>> engine::describe_topics(std::vector<std::string> topics,
                                                                                     call_options o) {
  auto b = budget_for(o);
  item_loop<std::string, topic_description> items;
  for (const auto& t : topics) items.add(t);
  while (items.has_pending()) {
    std::optional<std::vector<std::string>> asked{std::vector<std::string>(items.pending().begin(), items.pending().end())};
    auto md = co_await cluster_.refresh_metadata(asked);
    if (!md) {
      items.call_failed(md.err());
    } else {
      for (const auto& name : *asked) {
        const auto* t = (*md)->topic(name);
        if (!t) continue;
        if (t->error == kafka_error::none) {
          topic_description d;
          d.name = name;
          d.topic_id = t->id;
          d.internal = t->internal;
          for (const auto& p : t->partitions) {
            d.partitions.push_back(partition_description{p.partition, p.leader, p.leader_epoch, p.replicas, p.isr,
                                                         p.offline_replicas});
          }
          items.succeed(name, std::move(d));
        } else if (t->error == kafka_error::unknown_topic_or_partition) {
          // Final for a describe: waiting would not make the topic exist.
          items.fail(name, item_error(t->error, std::nullopt, topic_what(name)));
        } else {
          items.item_failed(name, item_error(t->error, std::nullopt, topic_what(name)));
        }
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

awaitable<result<cluster_description>> engine::describe_cluster(call_options o) {
  auto b = budget_for(o);
  while (true) {
    common::error failure{kafka_error::network_exception, "no broker answered"};
    auto conn = co_await cluster_.any_connection();
    if (!conn) {
      failure = conn.err();
    } else if ((*conn)->version_for<proto::describe_cluster::request>()) {
      proto::describe_cluster::request req;
      auto r = co_await (*conn)->call(req);
      if (!r) {
        failure = r.err();
      } else if (r->body.error_code != 0) {
        const auto code = static_cast<kafka_error>(r->body.error_code);
        failure = item_error(code, r->body.error_message, "DescribeCluster");
      } else {
        cluster_description d;
        d.cluster_id = r->body.cluster_id;
        for (const auto& br : r->body.brokers) {
          node n{br.broker_id, br.host, static_cast<uint16_t>(br.port), br.rack};
          if (br.broker_id == r->body.controller_id) d.controller = n;
          d.brokers.push_back(std::move(n));
        }
        std::sort(d.brokers.begin(), d.brokers.end(), [](const node& a, const node& c) { return a.id < c.id; });
        co_return d;
      }
    } else {
      std::optional<std::vector<std::string>> no_topics{std::vector<std::string>{}};
      auto md = co_await cluster_.refresh_metadata(no_topics);
      if (!md) {
        failure = md.err();
      } else {
        cluster_description d;
        d.cluster_id = (*md)->cluster_id.value_or("");
        for (const auto& [id, br] : (*md)->brokers) {
          node n{id, br.host, br.port, br.rack};
          if (id == (*md)->controller_id) d.controller = n;
          d.brokers.push_back(std::move(n));
        }
        co_return d;
      }
    }
    if (!core::is_retriable(failure.code) || !co_await pause(b)) co_return item_loop_gave_up(failure);
  }
}

// ---- configurations -------------------------------------------------------------------------

awaitable<result<results_by<config_resource, std::vector<config_entry>>>> engine::describe_configs(
    std::vector<config_resource> resources, describe_configs_options o) {
  auto b = budget_for(o);
  item_loop<config_resource, std::vector<config_entry>> items;
  for (const auto& r : resources) items.add(r);
  while (items.has_pending()) {
    std::map<int32_t, std::vector<config_resource>> by_target;
    for (const auto& r : items.pending()) by_target[target_of(r)].push_back(r);
    for (const auto& [target, batch] : by_target) {
      auto conn = co_await connection_to_target(target);
      if (!conn) {
        items.call_failed(conn.err(), batch);
        continue;
      }
      proto::describe_configs::request req;
      for (const auto& r : batch) {
        proto::describe_configs::describe_configs_resource dr;
        dr.resource_type = static_cast<int8_t>(r.type);
        dr.resource_name = r.name;
        dr.configuration_keys.reset();
        req.resources.push_back(std::move(dr));
      }
      req.include_synonyms = o.include_synonyms;
      auto resp = co_await (*conn)->call(req);
      if (!resp) {
        items.call_failed(resp.err(), batch);
        continue;
      }
      for (const auto& res : resp->body.results) {
        config_resource key{static_cast<config_resource::kind>(res.resource_type), res.resource_name};
        const auto code = static_cast<kafka_error>(res.error_code);
        if (code != kafka_error::none) {
          items.item_failed(key, item_error(code, res.error_message, resource_what(key)));
          continue;
        }
        std::vector<config_entry> entries;
        for (const auto& c : res.configs) {
          config_entry e;
          e.name = c.name;
          e.value = c.value;
          e.read_only = c.read_only;
          e.sensitive = c.is_sensitive;
          e.source = source_of(c.config_source);  // v1+ (Kafka 4.0 removed v0 and its is_default)
          for (const auto& s : c.synonyms) e.synonyms.push_back(config_synonym{s.name, s.value, source_of(s.source)});
          entries.push_back(std::move(e));
        }
        items.succeed(key, std::move(entries));
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

awaitable<result<results_by<config_resource, void>>> engine::incremental_alter_configs(
    std::map<config_resource, std::vector<alter_config_op>> changes, alter_configs_options o) {
  auto b = budget_for(o);
  item_loop<config_resource, void> items;
  for (const auto& [r, ops] : changes) items.add(r);
  while (items.has_pending()) {
    std::map<int32_t, std::vector<config_resource>> by_target;
    for (const auto& r : items.pending()) by_target[target_of(r)].push_back(r);
    for (const auto& [target, batch] : by_target) {
      auto conn = co_await connection_to_target(target);
      if (!conn) {
        items.call_failed(conn.err(), batch);
        continue;
      }
      proto::incremental_alter_configs::request req;
      for (const auto& r : batch) {
        proto::incremental_alter_configs::alter_configs_resource ar;
        ar.resource_type = static_cast<int8_t>(r.type);
        ar.resource_name = r.name;
        for (const auto& op : changes.at(r)) {
          proto::incremental_alter_configs::alterable_config c;
          c.name = op.name;
          c.config_operation = static_cast<int8_t>(op.op);
          if (op.op == alter_config_op::kind::remove) c.value.reset();
          else c.value = op.value;
          ar.configs.push_back(std::move(c));
        }
        req.resources.push_back(std::move(ar));
      }
      req.validate_only = o.validate_only;
      auto resp = co_await (*conn)->call(req);
      if (!resp) {
        items.call_failed(resp.err(), batch);
        continue;
      }
      for (const auto& res : resp->body.responses) {
        config_resource key{static_cast<config_resource::kind>(res.resource_type), res.resource_name};
        const auto code = static_cast<kafka_error>(res.error_code);
        if (code == kafka_error::none) items.succeed(key);
        else items.item_failed(key, item_error(code, res.error_message, resource_what(key)));
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

awaitable<result<results_by<std::string, void>>> engine::create_partitions(std::map<std::string, int32_t> new_totals,
                                                                          create_partitions_options o) {
  auto b = budget_for(o);
  item_loop<std::string, void> items;
  for (const auto& [t, n] : new_totals) items.add(t);
  while (items.has_pending()) {
    auto conn = co_await controller_connection();
    if (!conn) {
      items.call_failed(conn.err());
    } else {
      proto::create_partitions::request req;
      for (const auto& name : items.pending()) {
        proto::create_partitions::create_partitions_topic t;
        t.name = name;
        t.count = new_totals.at(name);
        t.assignments.reset();
        req.topics.push_back(std::move(t));
      }
      req.timeout_ms = request_timeout_ms(b);
      req.validate_only = o.validate_only;
      auto r = co_await (*conn)->call(req);
      if (!r) {
        items.call_failed(r.err());
      } else {
        for (const auto& t : r->body.results) {
          const auto code = static_cast<kafka_error>(t.error_code);
          if (code == kafka_error::none) items.succeed(t.name);
          else items.item_failed(t.name, item_error(code, t.error_message, topic_what(t.name)));
          co_await after_error(code, nullptr);
        }
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

// ---- records and offsets, through each partition's leader ------------------------------------

namespace {


// Sorts `pending` by leader; partitions whose topic or partition does not exist are failed, those
// without a leader now are left for a retry.
template <class T>
std::map<int32_t, std::vector<topic_partition>> by_leader(const core::metadata_snapshot& md, item_loop<topic_partition, T>& items) {
  std::map<int32_t, std::vector<topic_partition>> out;
  const auto pending = items.pending();
  for (const auto& tp : pending) {
    const auto* t = md.topic(tp.topic);
    if (!t) {
      items.retry(tp, item_error(kafka_error::unknown_topic_or_partition, std::nullopt, topic_what(tp.topic)));
    } else if (t->error == kafka_error::unknown_topic_or_partition || t->error == kafka_error::invalid_topic_exception) {
      items.fail(tp, item_error(t->error, std::nullopt, topic_what(tp.topic)));
    } else if (t->error != kafka_error::none) {
      items.item_failed(tp, item_error(t->error, std::nullopt, topic_what(tp.topic)));
    } else if (tp.partition < 0 || static_cast<size_t>(tp.partition) >= t->partitions.size()) {
      items.fail(tp, item_error(kafka_error::unknown_topic_or_partition, std::nullopt, partition_what(tp)));
    } else if (auto leader = md.leader_for(tp.topic, tp.partition)) {
      out[*leader].push_back(tp);
    } else {
      items.retry(tp, common::error{kafka_error::leader_not_available,
                                          fmt::format("{} has no leader now", partition_what(tp))});
    }
  }
  return out;
}

std::vector<std::string> topics_of(const std::set<topic_partition>& tps) {
  std::set<std::string> names;
  for (const auto& tp : tps) names.insert(tp.topic);
  return {names.begin(), names.end()};
}

}  // namespace

awaitable<result<results_by<topic_partition, listed_offset>>> engine::list_offsets(std::map<topic_partition, offset_spec> specs,
                                                                                  list_offsets_options o) {
  auto b = budget_for(o);
  item_loop<topic_partition, listed_offset> items;
  int16_t min_version = 1;
  for (const auto& [tp, spec] : specs) {
    items.add(tp);
    if (spec.type == offset_spec::kind::max_timestamp) min_version = 7;
    else if (o.read_committed) min_version = std::max<int16_t>(min_version, 2);
  }
  while (items.has_pending()) {
    const auto topics = topics_of(items.pending());
    auto md = co_await leader_metadata(topics, b.attempt > 0);
    if (!md) {
      items.call_failed(md.err());
    } else {
      const auto leaders = by_leader(**md, items);
      for (const auto& [leader, batch] : leaders) {
        auto conn = co_await cluster_.connection_to(leader);
        if (!conn) {
          items.call_failed(conn.err(), batch);
          continue;
        }
        proto::list_offsets::request req;
        req.replica_id = -1;
        req.isolation_level = o.read_committed ? 1 : 0;
        req.timeout_ms = request_timeout_ms(b);
        for (const auto& tp : batch) {
          if (req.topics.empty() || req.topics.back().name != tp.topic) {
            proto::list_offsets::list_offsets_topic t;
            t.name = tp.topic;
            req.topics.push_back(std::move(t));
          }
          proto::list_offsets::list_offsets_partition p;
          p.partition_index = tp.partition;
          const auto& spec = specs.at(tp);
          switch (spec.type) {
            case offset_spec::kind::earliest: p.timestamp = -2; break;
            case offset_spec::kind::latest: p.timestamp = -1; break;
            case offset_spec::kind::max_timestamp: p.timestamp = -3; break;
            case offset_spec::kind::timestamp: p.timestamp = spec.timestamp_ms; break;
          }
          req.topics.back().partitions.push_back(p);
        }
        auto r = co_await (*conn)->call(req, min_version);
        if (!r) {
          items.call_failed(r.err(), batch);
          continue;
        }
        for (const auto& t : r->body.topics) {
          for (const auto& p : t.partitions) {
            topic_partition tp{t.name, p.partition_index};
            const auto code = static_cast<kafka_error>(p.error_code);
            if (code == kafka_error::none) {
              listed_offset lo;
              lo.offset = p.offset;
              lo.timestamp = p.timestamp;
              if (p.leader_epoch >= 0) lo.leader_epoch = p.leader_epoch;
              items.succeed(tp, lo);
            } else {
              items.item_failed(tp, item_error(code, std::nullopt, partition_what(tp)));
            }
          }
        }
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

awaitable<result<results_by<topic_partition, deleted_records>>> engine::delete_records(std::map<topic_partition, int64_t> before,
                                                                                      call_options o) {
  auto b = budget_for(o);
  item_loop<topic_partition, deleted_records> items;
  for (const auto& [tp, offset] : before) items.add(tp);
  while (items.has_pending()) {
    const auto topics = topics_of(items.pending());
    auto md = co_await leader_metadata(topics, b.attempt > 0);
    if (!md) {
      items.call_failed(md.err());
    } else {
      const auto leaders = by_leader(**md, items);
      for (const auto& [leader, batch] : leaders) {
        auto conn = co_await cluster_.connection_to(leader);
        if (!conn) {
          items.call_failed(conn.err(), batch);
          continue;
        }
        proto::delete_records::request req;
        req.timeout_ms = request_timeout_ms(b);
        for (const auto& tp : batch) {
          if (req.topics.empty() || req.topics.back().name != tp.topic) {
            proto::delete_records::delete_records_topic t;
            t.name = tp.topic;
            req.topics.push_back(std::move(t));
          }
          proto::delete_records::delete_records_partition p;
          p.partition_index = tp.partition;
          p.offset = before.at(tp);
          req.topics.back().partitions.push_back(p);
        }
        auto r = co_await (*conn)->call(req);
        if (!r) {
          items.call_failed(r.err(), batch);
          continue;
        }
        for (const auto& t : r->body.topics) {
          for (const auto& p : t.partitions) {
            topic_partition tp{t.name, p.partition_index};
            const auto code = static_cast<kafka_error>(p.error_code);
            if (code == kafka_error::none) items.succeed(tp, deleted_records{p.low_watermark});
            else items.item_failed(tp, item_error(code, std::nullopt, partition_what(tp)));
          }
        }
      }
    }
    if (!items.has_pending() || !items.retry_pending() || !co_await pause(b)) break;
  }
  co_return items.finish();
}

}  // namespace brook::client::admin
