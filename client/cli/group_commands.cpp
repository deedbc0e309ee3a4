// `brook group list|describe|reset-offsets|delete`, as Kafka's kafka-consumer-groups tool does them.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "cli.hpp"

namespace brook::client::cli {

namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

int list_groups(context& ctx, const std::vector<std::string>& states, const std::vector<std::string>& types,
                bool verbose) {
  list_groups_options o;
  o.states.insert(states.begin(), states.end());
  o.types.insert(types.begin(), types.end());
  auto r = ctx.admin().list_groups(o);
  if (!r) return report(r.err());
  if (!verbose && states.empty() && types.empty()) {
    for (const auto& g : *r) std::cout << g.group_id << '\n';
    return exit_ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : *r)
    rows.push_back({g.group_id, g.type.value_or("-"), g.state.value_or("-"), or_dash(g.protocol_type)});
  print_table({"GROUP", "TYPE", "STATE", "PROTOCOL-TYPE"}, rows);
  return exit_ok;
}

// One group's offsets beside its members' assignments and the partitions' log end offsets.
int describe_offsets(admin_client& admin, const group_description& g) {
  std::map<topic_partition, const group_member*> owner;
  for (const auto& m : g.members)
    for (const auto& tp : m.assignment) owner[tp] = &m;
  auto committed = admin.list_consumer_group_offsets(g.group_id);
  if (!committed) return report(committed.err());
  std::set<topic_partition> partitions;
  for (const auto& [tp, om] : *committed) partitions.insert(tp);
  for (const auto& [tp, m] : owner) partitions.insert(tp);
  std::map<topic_partition, offset_spec> specs;
  for (const auto& tp : partitions) specs.emplace(tp, offset_spec::latest());
  std::map<topic_partition, int64_t> log_end;
  if (!specs.empty()) {
    auto ends = admin.list_offsets(specs);
    if (!ends) return report(ends.err());
    for (const auto& [tp, lo] : *ends)
      if (lo) log_end[tp] = lo->offset;
  }
  if (g.members.empty()) std::cout << fmt::format("\nConsumer group '{}' has no active members.\n", g.group_id);
  std::cout << '\n';
  std::vector<std::vector<std::string>> rows;
  for (const auto& tp : partitions) {
    std::string current = "-", end = "-", lag = "-";
    auto c = committed->find(tp);
    const bool has_commit = c != committed->end() && c->second;
    if (has_commit) current = std::to_string(c->second->offset);
    if (auto e = log_end.find(tp); e != log_end.end()) end = std::to_string(e->second);
    if (has_commit && log_end.count(tp)) lag = std::to_string(std::max<int64_t>(0, log_end[tp] - c->second->offset));
    const group_member* m = owner.count(tp) ? owner[tp] : nullptr;
    rows.push_back({g.group_id, tp.topic, std::to_string(tp.partition), current, end, lag,
                    m ? m->member_id : "-", m ? or_dash(m->host) : "-", m ? or_dash(m->client_id) : "-"});
  }
  // Members without partitions are listed too, as kafka-consumer-groups does.
  for (const auto& m : g.members) {
    if (m.assignment.empty())
      rows.push_back({g.group_id, "-", "-", "-", "-", "-", m.member_id, or_dash(m.host), or_dash(m.client_id)});
  }
  print_table({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
               "CLIENT-ID"},
              rows);
  return exit_ok;
}

void describe_members(const group_description& g, bool verbose) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : g.members) {
    std::vector<std::string> row{g.group_id, m.member_id, or_dash(m.host), or_dash(m.client_id),
                                 std::to_string(m.assignment.size())};
    if (verbose) {
      std::map<std::string, std::vector<int32_t>> by_topic;
      for (const auto& tp : m.assignment) by_topic[tp.topic].push_back(tp.partition);
      std::string assignment;
      for (const auto& [topic, ps] : by_topic) {
        if (!assignment.empty()) assignment += ",";
        assignment += fmt::format("{}({})", topic, fmt::join(ps, ","));
      }
      row.push_back(or_dash(assignment));
    }
    rows.push_back(std::move(row));
  }
  if (g.members.empty()) {
    std::cout << fmt::format("\nConsumer group '{}' has no active members.\n", g.group_id);
    return;
  }
  std::cout << '\n';
  std::vector<std::string> header{"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"};
  if (verbose) header.push_back("ASSIGNMENT");
  print_table(header, rows);
}

void describe_state(const group_description& g) {
  std::cout << '\n';
  print_table({"GROUP", "COORDINATOR (ID)", "TYPE", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"},
              {{g.group_id, std::to_string(g.coordinator), g.type, or_dash(g.assignor), g.state,
                std::to_string(g.members.size())}});
}

int describe_groups(context& ctx, const std::vector<std::string>& groups, bool members, bool state, bool verbose) {
  auto& admin = ctx.admin();
  auto r = admin.describe_groups(groups);
  if (!r) return report(r.err());
  int status = exit_ok;
  for (const auto& name : groups) {
    const auto& g = r->at(name);
    if (!g) {
      status = report(g.err());
      continue;
    }
    if (state) describe_state(*g);
    else if (members) describe_members(*g, verbose);
    else if (int s = describe_offsets(admin, *g); s != exit_ok) status = s;
  }
  return status;
}

// ---- reset-offsets -------------------------------------------------------------------------------

struct reset_args {
  std::string group;
  std::vector<std::string> topics;  // "t" or "t:0,1,2"
  bool all_topics = false;
  bool to_earliest = false, to_latest = false;
  std::optional<int64_t> to_offset, shift_by;
  std::optional<std::string> to_datetime;
  bool dry_run = false, execute = false;
};

// Kafka's --to-datetime format: YYYY-MM-DDTHH:mm:SS[.sss][Z|+HH:MM|-HH:MM|+HHMM]; no zone means local time.
int64_t parse_datetime(const std::string& text) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6)
    throw usage_error(fmt::format("--to-datetime '{}' is not YYYY-MM-DDTHH:mm:SS.sss", text));
  std::string rest = text.substr(static_cast<size_t>(consumed));
  int millis = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int digits = 0;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
      if (digits < 3) millis = millis * 10 + (rest[i] - '0');
      ++digits;
      ++i;
    }
    for (; digits < 3; ++digits) millis *= 10;
    rest = rest.substr(i);
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t seconds = 0;
  if (rest.empty()) {
    tm.tm_isdst = -1;
    seconds = static_cast<int64_t>(std::mktime(&tm));
  } else if (rest == "Z") {
    seconds = static_cast<int64_t>(timegm(&tm));
  } else {
    int zh = 0, zm = 0;
    char sign = rest[0];
    if ((sign != '+' && sign != '-') ||
        (std::sscanf(rest.c_str() + 1, "%2d:%2d", &zh, &zm) != 2 && std::sscanf(rest.c_str() + 1, "%2d%2d", &zh, &zm) != 2))
      throw usage_error(fmt::format("--to-datetime '{}' has a time zone that is not Z, +HH:MM or -HH:MM", text));
    const int64_t offset = (zh * 3600 + zm * 60) * (sign == '+' ? 1 : -1);
    seconds = static_cast<int64_t>(timegm(&tm)) - offset;
  }
  return seconds * 1000 + millis;
}

int reset_offsets(context& ctx, const reset_args& a) {
  const int scenarios = int(a.to_earliest) + int(a.to_latest) + int(a.to_offset.has_value()) +
                        int(a.shift_by.has_value()) + int(a.to_datetime.has_value());
  if (scenarios != 1)
    throw usage_error("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by");
  if (a.all_topics == !a.topics.empty()) throw usage_error("give either --topic (repeatable) or --all-topics");
  if (a.dry_run && a.execute) throw usage_error("--dry-run and --execute exclude each other");
  const int64_t timestamp = a.to_datetime ? parse_datetime(*a.to_datetime) : 0;
  auto& admin = ctx.admin();

  // As kafka-consumer-groups: offsets can only be reset while the group has no active members.
  std::vector<std::string> groups{a.group};
  auto described = admin.describe_groups(groups);
  if (!described) return report(described.err());
  const auto& g = described->at(a.group);
  if (g && g->state != "Empty" && g->state != "Dead") {
    return report(error{kafka_error::non_empty_group,
                        fmt::format("offsets of group '{}' can only be reset while it is inactive, but its state is {}",
                                    a.group, g->state)});
  }
  if (!g && g.err().code != kafka_error::group_id_not_found) return report(g.err());

  auto committed = admin.list_consumer_group_offsets(a.group);
  if (!committed) return report(committed.err());

  std::set<topic_partition> partitions;
  if (a.all_topics) {
    for (const auto& [tp, om] : *committed)
      if (om) partitions.insert(tp);
  } else {
    std::vector<std::string> whole;
    for (const auto& spec : a.topics) {
      const auto colon = spec.find(':');
      const std::string topic = spec.substr(0, colon);
      if (topic.empty()) throw usage_error(fmt::format("--topic '{}' names no topic", spec));
      if (colon == std::string::npos) {
        whole.push_back(topic);
        continue;
      }
      std::string list = spec.substr(colon + 1);
      size_t pos = 0;
      while (pos <= list.size()) {
        const auto comma = list.find(',', pos);
        const std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        try {
          size_t used = 0;
          const int p = std::stoi(item, &used);
          if (used != item.size() || p < 0) throw std::invalid_argument(item);
          partitions.insert(topic_partition{topic, p});
        } catch (const std::exception&) {
          throw usage_error(fmt::format("--topic '{}': '{}' is not a partition number", spec, item));
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
    }
    if (!whole.empty()) {
      auto described_topics = admin.describe_topics(whole);
      if (!described_topics) return report(described_topics.err());
      for (const auto& name : whole) {
        const auto& t = described_topics->at(name);
        if (!t) return report(t.err());
        for (const auto& p : t->partitions) partitions.insert(topic_partition{name, p.partition});
      }
    }
  }
  if (partitions.empty()) {
    std::cout << fmt::format("Group '{}' has no committed offsets to reset.\n", a.group);
    return exit_ok;
  }

  // The range every new offset is clamped to, and the offsets for a time.
  std::map<topic_partition, offset_spec> earliest_specs, latest_specs, time_specs;
  for (const auto& tp : partitions) {
    earliest_specs.emplace(tp, offset_spec::earliest());
    latest_specs.emplace(tp, offset_spec::latest());
    time_specs.emplace(tp, offset_spec::for_timestamp(timestamp));
  }
  auto earliest = admin.list_offsets(earliest_specs);
  if (!earliest) return report(earliest.err());
  auto latest = admin.list_offsets(latest_specs);
  if (!latest) return report(latest.err());
  std::optional<result<results_by<topic_partition, listed_offset>>> by_time;
  if (a.to_datetime) {
    by_time.emplace(admin.list_offsets(time_specs));
    if (!*by_time) return report(by_time->err());
  }

  std::map<topic_partition, offset_and_metadata> target;
  for (const auto& tp : partitions) {
    const auto& lo = earliest->at(tp);
    const auto& hi = latest->at(tp);
    if (!lo) return report(lo.err());
    if (!hi) return report(hi.err());
    int64_t offset = 0;
    if (a.to_earliest) {
      offset = lo->offset;
    } else if (a.to_latest) {
      offset = hi->offset;
    } else if (a.to_offset) {
      offset = *a.to_offset;
    } else if (a.shift_by) {
      auto c = committed->find(tp);
      const int64_t base = c != committed->end() && c->second ? c->second->offset : hi->offset;
      offset = base + *a.shift_by;
    } else {
      const auto& at = (**by_time).at(tp);
      if (!at) return report(at.err());
      offset = at->offset >= 0 ? at->offset : hi->offset;  // no record that late: the end
    }
    if (offset < lo->offset) {
      if (a.to_offset)
        std::cerr << fmt::format("New offset ({}) is lower than earliest offset for {}-{}; using {}.\n", offset, tp.topic,
                                 tp.partition, lo->offset);
      offset = lo->offset;
    } else if (offset > hi->offset) {
      if (a.to_offset)
        std::cerr << fmt::format("New offset ({}) is higher than latest offset for {}-{}; using {}.\n", offset,
                                 tp.topic, tp.partition, hi->offset);
      offset = hi->offset;
    }
    target[tp] = offset_and_metadata{offset, std::nullopt, ""};
  }

  int status = exit_ok;
  if (a.execute) {
    auto r = admin.alter_consumer_group_offsets(a.group, target);
    if (!r) return report(r.err());
    for (const auto& [tp, one] : *r)
      if (!one) status = report(one.err());
  } else if (!a.dry_run) {
    std::cerr << "WARN: No action will be performed as the --execute option is missing. "
                 "In a future major release, the default behavior of this command will be to prompt the user before "
                 "executing the reset rather than doing a dry run. You should add the --dry-run option explicitly "
                 "if you are scripting this command and want to keep the current default behavior without prompting.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [tp, om] : target)
    rows.push_back({a.group, tp.topic, std::to_string(tp.partition), std::to_string(om.offset)});
  std::cout << '\n';
  print_table({"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}, rows);
  return status;
}

int delete_groups(context& ctx, const std::vector<std::string>& groups) {
  auto r = ctx.admin().delete_groups(groups);
  if (!r) return report(r.err());
  int status = exit_ok;
  for (const auto& name : groups) {
    const auto& one = r->at(name);
    if (one) std::cout << fmt::format("Deleted group '{}'.\n", name);
    else status = report(one.err());
  }
  return status;
}

}  // namespace

void add_group_commands(CLI::App& app, context& ctx) {
  auto* group = app.add_subcommand("group", "List, describe, reset the offsets of and delete consumer groups");
  group->require_subcommand(1);

  {
    struct args {
      std::vector<std::string> states, types;
      bool verbose = false;
    };
    auto a = std::make_shared<args>();
    auto* c = group->add_subcommand("list", "List the groups");
    c->add_option("--state", a->states, "Only groups in this state (Stable, Empty, ...), repeatable");
    c->add_option("--type", a->types, "Only groups of this type (classic, consumer), repeatable");
    c->add_flag("-v,--verbose", a->verbose, "Show each group's type, state and protocol type");
    c->callback([&ctx, a] { ctx.run([&] { return list_groups(ctx, a->states, a->types, a->verbose); }); });
  }
  {
    struct args {
      std::vector<std::string> groups;
      bool members = false, state = false, offsets = false, verbose = false;
    };
    auto a = std::make_shared<args>();
    auto* c = group->add_subcommand(
        "describe", "Describe groups: committed offsets, log end offsets and lag per partition (default), members or state");
    c->add_option("groups", a->groups, "The groups")->required();
    auto* offsets = c->add_flag("--offsets", a->offsets, "Show offsets and lag per partition (the default)");
    auto* members = c->add_flag("--members", a->members, "Show the members and their partitions");
    auto* state = c->add_flag("--state", a->state, "Show the group's state, coordinator and assignor");
    offsets->excludes(members)->excludes(state);
    members->excludes(state);
    c->add_flag("-v,--verbose", a->verbose, "With --members: each member's partitions");
    c->callback([&ctx, a] { ctx.run([&] { return describe_groups(ctx, a->groups, a->members, a->state, a->verbose); }); });
  }
  {
    auto a = std::make_shared<reset_args>();
    auto* c = group->add_subcommand("reset-offsets",
                                    "Reset a group's committed offsets (a dry run unless --execute is given); the "
                                    "group must have no active members");
    c->add_option("group", a->group, "The group")->required();
    c->add_option("-t,--topic", a->topics, "A topic, or topic:0,1,2 for some partitions, repeatable")
        ->type_name("TOPIC[:PARTITIONS]");
    c->add_flag("--all-topics", a->all_topics, "Every partition the group has committed offsets for");
    c->add_flag("--to-earliest", a->to_earliest, "To the earliest offset");
    c->add_flag("--to-latest", a->to_latest, "To the latest offset (the log end)");
    c->add_option("--to-offset", a->to_offset, "To this offset (kept within earliest..latest)");
    c->add_option("--to-datetime", a->to_datetime,
                  "To the first offset at or after this time: YYYY-MM-DDTHH:mm:SS.sss[Z|+HH:MM]");
    c->add_option("--shift-by", a->shift_by, "Move the committed offsets by N (negative: back)");
    c->add_flag("--dry-run", a->dry_run, "Only show the new offsets (the default)");
    c->add_flag("--execute", a->execute, "Commit the new offsets");
    c->callback([&ctx, a] { ctx.run([&] { return reset_offsets(ctx, *a); }); });
  }
  {
    auto groups = std::make_shared<std::vector<std::string>>();
    auto* c = group->add_subcommand("delete", "Delete groups (they must have no active members)");
    c->add_option("groups", *groups, "The groups")->required();
    c->callback([&ctx, groups] { ctx.run([&] { return delete_groups(ctx, *groups); }); });
  }
}

}  // namespace brook::client::cli
