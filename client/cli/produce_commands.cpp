// `brook produce TOPIC`: one record per line of standard input, as kcat -P and kafka-console-producer do.
#include <algorithm>
#include <charconv>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "brook/client/producer.hpp"
#include "cli.hpp"

namespace brook::client::cli {

namespace {

struct produce_options {
  std::string topic;
  std::string key_separator;  // empty: lines are values only
  std::vector<std::string> headers;
  std::string acks = "all";
  std::string compression = "none";
  std::optional<int32_t> partition;
  std::string null_marker;  // a line (or key) equal to this is a null value (key)
};

// Whether the brokers would create a missing topic on a producer's metadata request: false only when
// every broker's auto.create.topics.enable says so (unknown, as on any failure to find out, counts as true).
bool brokers_create_topics(admin_client& admin) {
  auto cluster = admin.describe_cluster();
  if (!cluster || cluster->brokers.empty()) return true;
  std::vector<config_resource> brokers;
  for (const auto& b : cluster->brokers) brokers.push_back({config_resource::kind::broker, std::to_string(b.id)});
  auto configs = admin.describe_configs(brokers);
  if (!configs) return true;
  for (const auto& [resource, entries] : *configs) {
    if (!entries) return true;
    auto it = std::find_if(entries->begin(), entries->end(),
                           [](const config_entry& e) { return e.name == "auto.create.topics.enable"; });
    if (it == entries->end() || it->value != "false") return true;
  }
  return false;
}

int produce(context& ctx, const produce_options& o) {
  auto props = ctx.client_properties();
  props.insert_or_assign("acks", o.acks);
  props.insert_or_assign("compression.type", o.compression);
  if (o.acks != "all" && o.acks != "-1" && !props.count("enable.idempotence")) props.insert_or_assign("enable.idempotence", "false");
  auto created = producer::create(props);
  if (!created) throw usage_error(created.err().message);
  auto& p = **created;

  // A topic that does not exist and that no broker will create: said at once, instead of after the
  // producer has waited max.block.ms for it to appear in the metadata. The look-up is bounded by
  // max.block.ms too (the producer has no default.api.timeout.ms), and unreachable brokers end it.
  call_options lookup;
  if (auto it = props.find("max.block.ms"); it != props.end()) {
    int64_t ms = 0;
    const auto& text = it->second;
    if (std::from_chars(text.data(), text.data() + text.size(), ms).ec == std::errc() && ms >= 0)
      lookup.timeout = std::chrono::milliseconds(ms);
  } else {
    lookup.timeout = std::chrono::milliseconds(60000);
  }
  auto described = ctx.lookup_admin().describe_topics({o.topic}, lookup);
  if (!described) return report(described.err());
  if (!described->empty()) {
    const auto& topic = described->begin()->second;
    if (!topic && topic.err().code == kafka_error::unknown_topic_or_partition && !brokers_create_topics(ctx.lookup_admin()))
      return report(topic.err());
    if (topic && o.partition && *o.partition >= static_cast<int32_t>(topic->partitions.size()))
      throw usage_error(fmt::format("topic '{}' has no partition {}", o.topic, *o.partition));
  }

  std::vector<header> headers;
  for (const auto& h : o.headers) {
    auto [k, v] = split_key_value(h, "the header");
    headers.push_back(header{k, v});
  }
  std::atomic<int64_t> failed{0};
  std::mutex first_error_mutex;
  std::optional<error> first_error;
  std::string line;
  int64_t sent = 0;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    record r;
    r.topic = o.topic;
    r.partition = o.partition;
    r.headers = headers;
    std::string value = line;
    if (!o.key_separator.empty()) {
      const auto at = line.find(o.key_separator);
      if (at != std::string::npos) {
        r.key = line.substr(0, at);
        value = line.substr(at + o.key_separator.size());
        if (!o.null_marker.empty() && *r.key == o.null_marker) r.key.reset();
      }
    }
    if (o.null_marker.empty() || value != o.null_marker) r.value = std::move(value);
    auto queued = p.send(std::move(r), [&](const delivery_report& report) {
      if (report.ok()) return;
      ++failed;
      std::lock_guard lock(first_error_mutex);
      if (!first_error) first_error = report.error;
    });
    if (!queued) {
      p.close();
      return report(queued.err());
    }
    ++sent;
  }
  if (auto f = p.flush(); !f) return report(f.err());
  p.close();
  if (failed > 0) {
    std::lock_guard lock(first_error_mutex);
    std::cerr << fmt::format("{} of {} records were not delivered\n", failed.load(), sent);
    return report(*first_error);
  }
  return exit_ok;
}

}  // namespace

void add_produce_commands(CLI::App& app, context& ctx) {
  auto o = std::make_shared<produce_options>();
  auto* c = app.add_subcommand("produce", "Produce one record per line of standard input");
  c->add_option("topic", o->topic, "The topic")->required();
  c->add_option("-K,--key-separator", o->key_separator,
                "Split each line at the first occurrence of this text into key and value");
  c->add_option("-H,--header", o->headers, "A header key=value added to every record (repeatable)")
      ->type_name("KEY=VALUE");
  c->add_option("--acks", o->acks, "Acknowledgements: all, 1 or 0")
      ->check(CLI::IsMember({"all", "-1", "1", "0"}))
      ->capture_default_str();
  c->add_option("-z,--compression", o->compression, "Compression codec")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))
      ->capture_default_str();
  c->add_option("-p,--partition", o->partition, "Write to this partition (default: the partitioner picks)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--null", o->null_marker, "A value (or key) equal to this text is produced as null");
  c->callback([&ctx, o] { ctx.run([&] { return produce(ctx, *o); }); });
}

}  // namespace brook::client::cli
