// `brook consume TOPIC`: prints records, from a chosen start, alone or as a consumer group member, in a
// kcat-style format or as JSON lines; stops on Ctrl+C, after -n records, or at the end of the log (-e).
#include <atomic>
#include <charconv>
#include <csignal>
#include <iostream>
#include <map>
#include <string>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "brook/client/consumer.hpp"
#include "cli.hpp"

namespace brook::client::cli {

namespace {

std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted = true; }

struct consume_options {
  std::string topic;
  std::string offset = "end";  // kcat's -o: beginning | end | stored | N | -N | s@MS
  bool from_beginning = false;
  std::string group;
  std::vector<int32_t> partitions;
  int64_t count = 0;
  bool exit_at_end = false;
  std::string format = "%s\\n";
  bool json = false;
};

// Where each partition starts when not in a group (or has no committed offset in one).
struct start_position {
  enum kind_t { beginning, end, stored, absolute, from_end, at_time } kind = end;
  int64_t value = 0;
};

start_position parse_offset(const std::string& text) {
  auto number = [&](std::string_view s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
      throw usage_error(fmt::format("offset '{}' is not beginning, end, stored, N, -N or s@TIMESTAMP_MS", text));
    return v;
  };
  if (text == "beginning") return {start_position::beginning, 0};
  if (text == "end") return {start_position::end, 0};
  if (text == "stored") return {start_position::stored, 0};
  if (text.rfind("s@", 0) == 0) return {start_position::at_time, number(std::string_view(text).substr(2))};
  if (!text.empty() && text[0] == '-') return {start_position::from_end, number(std::string_view(text).substr(1))};
  return {start_position::absolute, number(text)};
}

std::string headers_text(const std::vector<consumer_header>& headers) {
  std::string out;
  for (const auto& h : headers) {
    if (!out.empty()) out += ',';
    out += h.key;
    out += '=';
    out += h.value.value_or("");
  }
  return out;
}

// kcat's -f tokens: %t topic, %p partition, %o offset, %k key, %s value, %K/%S their lengths (-1 for
// null), %h headers (k=v,...), %T timestamp (ms), %% a percent sign; \n, \t, \r and \\ escapes.
std::string render(const std::string& format, const consumer_record& r) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '\\' && i + 1 < format.size()) {
      const char e = format[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
    } else if (c == '%' && i + 1 < format.size()) {
      switch (format[++i]) {
        case 't': out += r.topic; break;
        case 'p': out += std::to_string(r.partition); break;
        case 'o': out += std::to_string(r.offset); break;
        case 'k': out += r.key.value_or(""); break;
        case 's': out += r.value.value_or(""); break;
        case 'K': out += std::to_string(r.key ? static_cast<int64_t>(r.key->size()) : -1); break;
        case 'S': out += std::to_string(r.value ? static_cast<int64_t>(r.value->size()) : -1); break;
        case 'h': out += headers_text(r.headers); break;
        case 'T': out += std::to_string(r.timestamp); break;
        case '%': out += '%'; break;
        default: throw usage_error(fmt::format("unknown format token '%{}' (known: %t %p %o %k %s %K %S %h %T %%)",
                                               format[i]));
      }
    } else {
      out += c;
    }
  }
  return out;
}

std::string json_line(const consumer_record& r) {
  boost::json::object o;
  o["topic"] = r.topic;
  o["partition"] = r.partition;
  o["offset"] = r.offset;
  o["timestamp"] = r.timestamp;
  o["timestamp_type"] = r.log_append_time ? "LogAppendTime" : "CreateTime";
  o["key"] = r.key ? boost::json::value(*r.key) : boost::json::value(nullptr);
  o["value"] = r.value ? boost::json::value(*r.value) : boost::json::value(nullptr);
  boost::json::array hs;
  for (const auto& h : r.headers) {
    boost::json::object ho;
    ho["key"] = h.key;
    ho["value"] = h.value ? boost::json::value(*h.value) : boost::json::value(nullptr);
    hs.push_back(std::move(ho));
  }
  o["headers"] = std::move(hs);
  return boost::json::serialize(o);
}

// Places every assigned partition at its start (outside a group, or in one for -o other than stored).
result<void> position_partitions(consumer& c, const std::vector<topic_partition>& tps, const start_position& s) {
  switch (s.kind) {
    case start_position::beginning: return c.seek_to_beginning(tps);
    case start_position::end: return c.seek_to_end(tps);
    case start_position::stored: return {};
    case start_position::absolute:
      for (const auto& tp : tps)
        if (auto r = c.seek(tp, s.value); !r) return r;
      return {};
    case start_position::from_end: {
      auto ends = c.end_offsets(tps);
      if (!ends) return ends.err();
      auto begins = c.beginning_offsets(tps);
      if (!begins) return begins.err();
      for (const auto& tp : tps)
        if (auto r = c.seek(tp, std::max((*begins)[tp], (*ends)[tp] - s.value)); !r) return r;
      return {};
    }
    case start_position::at_time: {
      std::map<topic_partition, int64_t> times;
      for (const auto& tp : tps) times[tp] = s.value;
      auto found = c.offsets_for_times(times);
      if (!found) return found.err();
      auto ends = c.end_offsets(tps);
      if (!ends) return ends.err();
      for (const auto& tp : tps) {
        const auto& f = (*found)[tp];
        if (auto r = c.seek(tp, f ? f->offset : (*ends)[tp]); !r) return r;
      }
      return {};
    }
  }
  return {};
}

int consume(context& ctx, const consume_options& o) {
  if (o.json && o.format != "%s\\n") throw usage_error("--json and --format cannot be used together");
  render(o.format, consumer_record{});  // an unknown token is a usage error before anything is read
  const auto start = o.from_beginning ? start_position{start_position::beginning, 0} : parse_offset(o.offset);
  if (start.kind == start_position::stored && o.group.empty()) throw usage_error("-o stored needs a group (-g)");
  // A group member starts at the group's committed offsets; -o only says where to start without one.
  if (!o.group.empty() && start.kind != start_position::beginning && start.kind != start_position::end &&
      start.kind != start_position::stored)
    throw usage_error("with a group (-g), -o takes beginning, end or stored (where to start without a committed offset)");

  auto props = ctx.client_properties();
  props.try_emplace("client.id", "brook-consume");
  if (!o.group.empty()) {
    props.insert_or_assign("group.id", o.group);
    props.try_emplace("auto.offset.reset", start.kind == start_position::beginning ? "earliest" : "latest");
    props.try_emplace("enable.auto.commit", "false");  // committed below, for exactly what was printed
  } else {
    props.try_emplace("enable.auto.commit", "false");
  }
  auto created = consumer::create(props);
  if (!created) throw usage_error(created.err().message);
  auto& c = **created;

  // The topic must exist (a consumer would otherwise wait for it forever).
  auto& admin = ctx.lookup_admin();
  auto described = admin.describe_topics({o.topic});
  if (!described) return report(described.err());
  const auto& topic = described->begin()->second;
  if (!topic) return report(topic.err());
  std::vector<topic_partition> all;
  for (const auto& p : topic->partitions) {
    if (o.partitions.empty() || std::find(o.partitions.begin(), o.partitions.end(), p.partition) != o.partitions.end())
      all.push_back(topic_partition{o.topic, p.partition});
  }
  for (int32_t p : o.partitions) {
    if (std::none_of(all.begin(), all.end(), [&](const topic_partition& tp) { return tp.partition == p; }))
      throw usage_error(fmt::format("topic '{}' has no partition {}", o.topic, p));
  }

  if (!o.group.empty()) {
    if (!o.partitions.empty()) throw usage_error("-p cannot be used with a group (-g): the group assigns partitions");
    if (auto r = c.subscribe({o.topic}); !r) return report(r.err());
  } else {
    if (auto r = c.assign(all); !r) return report(r.err());
    if (auto r = position_partitions(c, all, start); !r) return report(r.err());
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  // For -e: the end of each partition as it was when first seen.
  std::map<topic_partition, int64_t> ends;
  int64_t printed = 0;
  int status = exit_ok;
  while (!interrupted && (o.count == 0 || printed < o.count)) {
    auto records = c.poll(std::chrono::milliseconds(100));
    if (!records) {
      status = report(records.err());
      break;
    }
    topic_partition_offsets done;
    for (const auto& r : *records) {
      std::cout << (o.json ? json_line(r) + '\n' : render(o.format, r));
      done[topic_partition{std::string(r.topic), r.partition}] = offset_and_metadata{r.offset + 1, r.leader_epoch, ""};
      if (o.count > 0 && ++printed >= o.count) break;
    }
    std::cout.flush();
    // In a group, exactly what was printed counts as consumed.
    if (!o.group.empty() && !done.empty()) {
      if (auto r = c.commit_sync(done); !r) std::cerr << "Warning: commit failed: " << r.err().message << '\n';
    }
    if (o.exit_at_end) {
      const auto assigned = c.assignment();
      std::vector<topic_partition> unseen;
      for (const auto& tp : assigned)
        if (!ends.count(tp)) unseen.push_back(tp);
      if (!unseen.empty()) {
        auto e = c.end_offsets(unseen);
        if (!e) {
          status = report(e.err());
          break;
        }
        ends.insert(e->begin(), e->end());
      }
      bool at_end = !assigned.empty();
      for (const auto& tp : assigned) {
        auto pos = c.position(tp);
        if (!pos || *pos < ends[tp]) at_end = false;
      }
      if (at_end) break;
    }
  }
  if (auto closed = c.close(); !closed && status == exit_ok) status = report(closed.err());
  return status;
}

}  // namespace

void add_consume_commands(CLI::App& app, context& ctx) {
  auto o = std::make_shared<consume_options>();
  auto* c = app.add_subcommand("consume", "Print a topic's records");
  c->add_option("topic", o->topic, "The topic")->required();
  c->add_option("-o,--offset", o->offset,
                "Where to start: beginning, end, stored (the group's committed offsets), N, -N (N before the end) "
                "or s@TIMESTAMP_MS")
      ->capture_default_str();
  c->add_flag("--from-beginning", o->from_beginning, "The same as -o beginning");
  c->add_option("-g,--group", o->group, "Consume as a member of this consumer group (committing its offsets)");
  c->add_option("-p,--partition", o->partitions, "Only these partitions (repeatable; not with -g)");
  c->add_option("-n,--count", o->count, "Exit after this many records")->check(CLI::PositiveNumber);
  c->add_flag("-e,--exit-at-end", o->exit_at_end, "Exit once every partition has been read to its end");
  c->add_option("-f,--format", o->format,
                "Output format, as kcat's -f: %t topic, %p partition, %o offset, %k key, %s value, %K/%S their "
                "lengths, %h headers, %T timestamp, %% percent; \\n \\t escapes")
      ->capture_default_str();
  c->add_flag("--json", o->json, "One JSON object per record (topic, partition, offset, timestamp, key, value, headers)");
  c->callback([&ctx, o] { ctx.run([&] { return consume(ctx, *o); }); });
}

}  // namespace brook::client::cli
