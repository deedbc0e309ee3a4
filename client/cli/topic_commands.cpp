// `brook topic create|list|describe|alter-config|add-partitions|delete`, as Kafka's kafka-topics and
// kafka-configs tools do them.
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli.hpp"

namespace brook::client::cli {

namespace {

struct create_args {
  std::string topic;
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  std::vector<std::string> configs;
  bool if_not_exists = false;
  bool validate_only = false;
};

int create_topic(context& ctx, const create_args& a) {
  new_topic t;
  t.name = a.topic;
  t.partitions = a.partitions;
  t.replication_factor = a.replication_factor;
  for (const auto& c : a.configs) {
    auto [key, value] = split_key_value(c, "--config");
    t.configs[key] = value;
  }
  create_topics_options o;
  o.validate_only = a.validate_only;
  std::vector<new_topic> topics{t};
  auto r = ctx.admin().create_topics(topics, o);
  if (!r) return report(r.err());
  const auto& one = r->at(a.topic);
  if (!one) {
    if (a.if_not_exists && one.err().code == kafka_error::topic_already_exists) return exit_ok;
    return report(one.err());
  }
  if (a.validate_only) std::cout << fmt::format("Topic '{}' can be created (nothing was changed).\n", a.topic);
  else std::cout << fmt::format("Created topic {}.\n", a.topic);
  return exit_ok;
}

int list_topics(context& ctx, bool include_internal) {
  list_topics_options o;
  o.list_internal = include_internal;
  auto r = ctx.admin().list_topics(o);
  if (!r) return report(r.err());
  for (const auto& t : *r) std::cout << t.name << '\n';
  return exit_ok;
}

std::string join_ids(const std::vector<int32_t>& ids) { return fmt::format("{}", fmt::join(ids, ",")); }

int describe_topics(context& ctx, std::vector<std::string> names, bool include_internal) {
  auto& admin = ctx.admin();
  if (names.empty()) {
    list_topics_options lo;
    lo.list_internal = include_internal;
    auto listed = admin.list_topics(lo);
    if (!listed) return report(listed.err());
    for (const auto& t : *listed) names.push_back(t.name);
  }
  if (names.empty()) return exit_ok;
  auto described = admin.describe_topics(names);
  if (!described) return report(described.err());
  // The topics' own settings (those not inherited from defaults), as kafka-topics shows them.
  std::vector<config_resource> resources;
  for (const auto& [name, d] : *described)
    if (d) resources.push_back(config_resource{config_resource::kind::topic, name});
  std::map<std::string, std::string> configs_of;
  if (!resources.empty()) {
    auto configs = admin.describe_configs(resources);
    if (configs) {
      for (const auto& [res, entries] : *configs) {
        if (!entries) continue;
        std::vector<std::string> set;
        for (const auto& e : *entries)
          if (e.source == config_source::dynamic_topic_config)
            set.push_back(fmt::format("{}={}", e.name, e.sensitive ? "(sensitive)" : e.value.value_or("")));
        configs_of[res.name] = fmt::format("{}", fmt::join(set, ","));
      }
    }
  }
  int status = exit_ok;
  for (const auto& name : names) {
    const auto& d = described->at(name);
    if (!d) {
      status = report(d.err());
      continue;
    }
    const size_t rf = d->partitions.empty() ? 0 : d->partitions.front().replicas.size();
    std::cout << fmt::format("Topic: {}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}\n",
                             d->name, d->topic_id.to_string(), d->partitions.size(), rf, configs_of[name]);
    for (const auto& p : d->partitions) {
      std::cout << fmt::format("\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}", d->name, p.partition,
                               p.leader >= 0 ? std::to_string(p.leader) : "none", join_ids(p.replicas),
                               join_ids(p.isr));
      if (!p.offline_replicas.empty()) std::cout << "\tOffline: " << join_ids(p.offline_replicas);
      std::cout << '\n';
    }
  }
  return status;
}

struct alter_args {
  std::string topic;
  std::vector<std::string> set, remove, append, subtract;
  bool validate_only = false;
};

int alter_config(context& ctx, const alter_args& a) {
  std::vector<alter_config_op> ops;
  for (const auto& s : a.set) {
    auto [k, v] = split_key_value(s, "--set");
    ops.push_back(alter_config_op{k, alter_config_op::kind::set, v});
  }
  for (const auto& k : a.remove) ops.push_back(alter_config_op{k, alter_config_op::kind::remove, std::nullopt});
  for (const auto& s : a.append) {
    auto [k, v] = split_key_value(s, "--append");
    ops.push_back(alter_config_op{k, alter_config_op::kind::append, v});
  }
  for (const auto& s : a.subtract) {
    auto [k, v] = split_key_value(s, "--subtract");
    ops.push_back(alter_config_op{k, alter_config_op::kind::subtract, v});
  }
  if (ops.empty()) throw usage_error("give at least one of --set, --delete, --append, --subtract");
  const config_resource res{config_resource::kind::topic, a.topic};
  std::map<config_resource, std::vector<alter_config_op>> changes{{res, ops}};
  alter_configs_options o;
  o.validate_only = a.validate_only;
  auto r = ctx.admin().incremental_alter_configs(changes, o);
  if (!r) return report(r.err());
  const auto& one = r->at(res);
  if (!one) return report(one.err());
  std::cout << fmt::format("{} config for topic {}.\n", a.validate_only ? "Validated" : "Completed updating", a.topic);
  return exit_ok;
}

int add_partitions(context& ctx, const std::string& topic, int32_t total, bool validate_only) {
  std::map<std::string, int32_t> totals{{topic, total}};
  create_partitions_options o;
  o.validate_only = validate_only;
  auto r = ctx.admin().create_partitions(totals, o);
  if (!r) return report(r.err());
  const auto& one = r->at(topic);
  if (!one) return report(one.err());
  std::cout << fmt::format("Topic {} {} {} partitions.\n", topic, validate_only ? "can have" : "now has", total);
  return exit_ok;
}

int delete_topics(context& ctx, const std::vector<std::string>& names, bool if_exists) {
  auto r = ctx.admin().delete_topics(names);
  if (!r) return report(r.err());
  int status = exit_ok;
  for (const auto& name : names) {
    const auto& one = r->at(name);
    if (one) {
      std::cout << fmt::format("Deleted topic {}.\n", name);
    } else if (!(if_exists && one.err().code == kafka_error::unknown_topic_or_partition)) {
      status = report(one.err());
    }
  }
  return status;
}

}  // namespace

void add_topic_commands(CLI::App& app, context& ctx) {
  auto* topic = app.add_subcommand("topic", "Create, list, describe, configure and delete topics");
  topic->require_subcommand(1);

  {
    auto a = std::make_shared<create_args>();
    auto* c = topic->add_subcommand("create", "Create a topic");
    c->add_option("topic", a->topic, "The topic's name")->required();
    c->add_option("-p,--partitions", a->partitions, "The number of partitions (default: the broker's num.partitions)")
        ->check(CLI::PositiveNumber);
    c->add_option("-r,--replication-factor", a->replication_factor,
                  "The number of replicas of each partition (default: the broker's default.replication.factor)")
        ->check(CLI::PositiveNumber);
    c->add_option("-c,--config", a->configs, "A topic configuration key=value, repeatable")->type_name("KEY=VALUE");
    c->add_flag("--if-not-exists", a->if_not_exists, "Succeed when the topic exists already");
    c->add_flag("--validate-only", a->validate_only, "Only check that the topic could be created");
    c->callback([&ctx, a] { ctx.run([&] { return create_topic(ctx, *a); }); });
  }
  {
    auto internal = std::make_shared<bool>(false);
    auto* c = topic->add_subcommand("list", "List the topics' names");
    c->add_flag("--include-internal", *internal, "Also list internal topics (__consumer_offsets, ...)");
    c->callback([&ctx, internal] { ctx.run([&] { return list_topics(ctx, *internal); }); });
  }
  {
    auto names = std::make_shared<std::vector<std::string>>();
    auto internal = std::make_shared<bool>(false);
    auto* c = topic->add_subcommand("describe", "Describe topics: partitions, leaders, replicas, ISR and settings");
    c->add_option("topics", *names, "The topics (default: every topic)");
    c->add_flag("--include-internal", *internal, "With no topic named, describe internal topics too");
    c->callback([&ctx, names, internal] { ctx.run([&] { return describe_topics(ctx, *names, *internal); }); });
  }
  {
    auto a = std::make_shared<alter_args>();
    auto* c = topic->add_subcommand("alter-config", "Change a topic's configuration (incrementally)");
    c->add_option("topic", a->topic, "The topic")->required();
    c->add_option("--set", a->set, "Set a key: key=value, repeatable")->type_name("KEY=VALUE");
    c->add_option("--delete", a->remove, "Remove a key (back to its default), repeatable")->type_name("KEY");
    c->add_option("--append", a->append, "Append to a list key: key=value, repeatable")->type_name("KEY=VALUE");
    c->add_option("--subtract", a->subtract, "Remove from a list key: key=value, repeatable")->type_name("KEY=VALUE");
    c->add_flag("--validate-only", a->validate_only, "Only check that the change is valid");
    c->callback([&ctx, a] { ctx.run([&] { return alter_config(ctx, *a); }); });
  }
  {
    struct args {
      std::string topic;
      int32_t total = 0;
      bool validate_only = false;
    };
    auto a = std::make_shared<args>();
    auto* c = topic->add_subcommand("add-partitions", "Raise a topic's partition count");
    c->add_option("topic", a->topic, "The topic")->required();
    c->add_option("-p,--partitions", a->total, "The new total number of partitions")
        ->required()
        ->check(CLI::PositiveNumber);
    c->add_flag("--validate-only", a->validate_only, "Only check that the change is valid");
    c->callback([&ctx, a] { ctx.run([&] { return add_partitions(ctx, a->topic, a->total, a->validate_only); }); });
  }
  {
    auto names = std::make_shared<std::vector<std::string>>();
    auto if_exists = std::make_shared<bool>(false);
    auto* c = topic->add_subcommand("delete", "Delete topics");
    c->add_option("topics", *names, "The topics")->required();
    c->add_flag("--if-exists", *if_exists, "Succeed for topics that do not exist");
    c->callback([&ctx, names, if_exists] { ctx.run([&] { return delete_topics(ctx, *names, *if_exists); }); });
  }
}

}  // namespace brook::client::cli
