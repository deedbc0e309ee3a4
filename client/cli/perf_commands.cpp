// `brook perf produce|consume`: the load tool. Produce: records of a given size, a count or a duration,
// optionally at a fixed rate, reporting throughput and the send-to-acknowledgement latency of every
// record. Consume: reads a topic from its beginning as fast as it can. Both print a live progress line on
// a terminal and a summary (with --json, one JSON object) that includes the client's CPU time.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "brook/client/consumer.hpp"
#include "brook/client/producer.hpp"
#include "cli.hpp"

namespace brook::client::cli {

namespace {

using clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Prints "N records, X msgs/s, Y MB/s" once a second to a terminal's stderr (nothing when redirected).
class progress_line {
 public:
  explicit progress_line(const std::atomic<int64_t>& records, int64_t record_bytes)
      : records_(records), record_bytes_(record_bytes), enabled_(isatty(STDERR_FILENO) != 0) {
    if (enabled_) thread_ = std::thread([this] { loop(); });
  }
  ~progress_line() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) {
      thread_.join();
      std::cerr << "\r\033[K" << std::flush;
    }
  }

 private:
  void loop() {
    int64_t last = 0;
    auto last_at = clock::now();
    while (!done_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const auto now = clock::now();
      if (now - last_at < std::chrono::seconds(1)) continue;
      const int64_t n = records_.load();
      const double secs = std::chrono::duration<double>(now - last_at).count();
      const double rate = static_cast<double>(n - last) / secs;
      std::cerr << fmt::format("\r\033[K{} records, {:.0f} msgs/s, {:.2f} MB/s", n, rate,
                               rate * static_cast<double>(record_bytes_) / 1e6)
                << std::flush;
      last = n;
      last_at = now;
    }
  }
  const std::atomic<int64_t>& records_;
  int64_t record_bytes_;
  bool enabled_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<size_t>(std::min<double>(static_cast<double>(sorted.size() - 1),
                                                      p * static_cast<double>(sorted.size())));
  return sorted[i];
}

struct perf_options {
  std::string topic;
  int64_t size = 100;
  int64_t count = 0;
  double duration = 0;
  std::string acks = "all";
  std::string compression = "none";
  double rate = 0;  // records per second; 0: as fast as possible
  bool json = false;
};

void print_summary(const perf_options& o, const char* what, int64_t records, int64_t failed, double seconds,
                   double cpu, std::vector<double>* latencies_ms) {
  const double rate = seconds > 0 ? static_cast<double>(records) / seconds : 0;
  const double mb = rate * static_cast<double>(o.size) / 1e6;
  const double cpu_per_million = records > 0 ? cpu / static_cast<double>(records) * 1e6 : 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  if (latencies_ms && !latencies_ms->empty()) {
    std::sort(latencies_ms->begin(), latencies_ms->end());
    p50 = percentile(*latencies_ms, 0.50);
    p99 = percentile(*latencies_ms, 0.99);
    p999 = percentile(*latencies_ms, 0.999);
    max = latencies_ms->back();
  }
  if (o.json) {
    boost::json::object j{{"mode", what},         {"records", records},          {"failed", failed},
                          {"record_bytes", o.size}, {"seconds", seconds},         {"msgs_per_sec", rate},
                          {"mb_per_sec", mb},     {"client_cpu_seconds", cpu}, {"cpu_seconds_per_million", cpu_per_million}};
    if (latencies_ms) {
      j["latency_ms"] = boost::json::object{{"p50", p50}, {"p99", p99}, {"p999", p999}, {"max", max}};
    }
    std::cout << boost::json::serialize(j) << std::endl;
    return;
  }
  std::cout << fmt::format("{} {} records of {} bytes in {:.2f} s: {:.0f} msgs/s, {:.2f} MB/s; client CPU {:.2f} s "
                           "({:.2f} s per million records)",
                           what, records, o.size, seconds, rate, mb, cpu, cpu_per_million);
  if (failed) std::cout << fmt::format("; {} failed", failed);
  std::cout << '\n';
  if (latencies_ms)
    std::cout << fmt::format("latency (ms): p50 {:.2f}, p99 {:.2f}, p99.9 {:.2f}, max {:.2f}\n", p50, p99, p999, max);
}

int perf_produce(context& ctx, const perf_options& o) {
  if (o.count <= 0 && o.duration <= 0) throw usage_error("give --count or --duration");
  auto props = ctx.client_properties();
  props.insert_or_assign("acks", o.acks);
  props.insert_or_assign("compression.type", o.compression);
  if (o.acks != "all" && o.acks != "-1" && !props.count("enable.idempotence")) props.insert_or_assign("enable.idempotence", "false");
  props.try_emplace("client.id", "brook-perf");
  auto created = producer::create(props);
  if (!created) throw usage_error(created.err().message);
  auto& p = **created;

  // Values of printable random bytes (compressible about as much as text), one per record index modulo 64.
  std::mt19937 rng(42);
  std::vector<std::string> values(64);
  for (auto& v : values) {
    v.resize(static_cast<size_t>(o.size));
    for (auto& ch : v) ch = static_cast<char>('a' + rng() % 26);
  }
  std::atomic<int64_t> acknowledged{0}, failed{0};
  std::mutex lat_mutex;
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(std::min<int64_t>(o.count > 0 ? o.count : 10'000'000, 50'000'000)));
  std::optional<error> first_error;
  progress_line progress(acknowledged, o.size);

  const auto start = clock::now();
  const auto until = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.duration));
  const double cpu_start = cpu_seconds();
  int64_t sent = 0;
  while ((o.count > 0 && sent < o.count) || (o.count <= 0 && clock::now() < until)) {
    if (o.rate > 0) {
      const auto due = start + std::chrono::duration_cast<clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(sent) / o.rate));
      if (due > clock::now()) std::this_thread::sleep_until(due);
    }
    record r;
    r.topic = o.topic;
    r.value = values[static_cast<size_t>(sent % 64)];
    const auto sent_at = clock::now();
    auto queued = p.send(std::move(r), [&, sent_at](const delivery_report& report) {
      const double ms = std::chrono::duration<double, std::milli>(clock::now() - sent_at).count();
      std::lock_guard lock(lat_mutex);
      if (report.ok()) {
        latencies.push_back(ms);
        ++acknowledged;
      } else {
        ++failed;
        if (!first_error) first_error = report.error;
      }
    });
    if (!queued) {
      progress.stop();
      return report(queued.err());
    }
    ++sent;
  }
  auto flushed = p.flush();
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_start;
  progress.stop();
  p.close();
  if (!flushed) return report(flushed.err());
  std::lock_guard lock(lat_mutex);
  print_summary(o, "produced", acknowledged.load(), failed.load(), seconds, cpu, &latencies);
  if (first_error) return report(*first_error);
  return exit_ok;
}

int perf_consume(context& ctx, const perf_options& o) {
  auto props = ctx.client_properties();
  props.try_emplace("client.id", "brook-perf");
  props.try_emplace("enable.auto.commit", "false");
  auto created = consumer::create(props);
  if (!created) throw usage_error(created.err().message);
  auto& c = **created;

  auto described = ctx.lookup_admin().describe_topics({o.topic});
  if (!described) return report(described.err());
  const auto& topic = described->begin()->second;
  if (!topic) return report(topic.err());
  std::vector<topic_partition> all;
  for (const auto& part : topic->partitions) all.push_back(topic_partition{o.topic, part.partition});
  if (auto r = c.assign(all); !r) return report(r.err());
  if (auto r = c.seek_to_beginning(all); !r) return report(r.err());
  auto ends = c.end_offsets(all);
  if (!ends) return report(ends.err());
  int64_t available = 0;
  auto begins = c.beginning_offsets(all);
  if (!begins) return report(begins.err());
  for (const auto& tp : all) available += (*ends)[tp] - (*begins)[tp];
  const int64_t target = o.count > 0 ? std::min(o.count, available) : available;

  std::atomic<int64_t> consumed{0};
  int64_t bytes = 0;
  progress_line progress(consumed, o.size);
  const auto start = clock::now();
  const double cpu_start = cpu_seconds();
  const auto until = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                                 o.duration > 0 ? o.duration : 1e9));
  while (consumed < target && clock::now() < until) {
    auto records = c.poll(std::chrono::milliseconds(500));
    if (!records) {
      progress.stop();
      return report(records.err());
    }
    for (const auto& r : *records) bytes += r.value ? static_cast<int64_t>(r.value->size()) : 0;
    consumed += static_cast<int64_t>(records->size());
  }
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_start;
  progress.stop();
  (void)c.close();
  perf_options shown = o;
  if (consumed > 0) shown.size = bytes / consumed;
  print_summary(shown, "consumed", consumed, 0, seconds, cpu, nullptr);
  return exit_ok;
}

void add_common(CLI::App* c, perf_options& o) {
  c->add_option("-t,--topic", o.topic, "The topic")->required();
  c->add_option("-s,--size", o.size, "Record size in bytes (consume: for MB/s when records are empty)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  c->add_option("-n,--count", o.count, "Number of records")->check(CLI::PositiveNumber);
  c->add_option("-d,--duration", o.duration, "Run for this many seconds (instead of --count)")
      ->check(CLI::PositiveNumber);
  c->add_flag("--json", o.json, "Print the summary as one JSON object");
}

}  // namespace

void add_perf_commands(CLI::App& app, context& ctx) {
  auto* perf = app.add_subcommand("perf", "Load tests: produce or consume as fast as possible or at a fixed rate");
  perf->require_subcommand(1);
  {
    auto o = std::make_shared<perf_options>();
    auto* c = perf->add_subcommand("produce", "Produce records and report throughput and latency");
    add_common(c, *o);
    c->add_option("--acks", o->acks, "all, 1 or 0")->check(CLI::IsMember({"all", "-1", "1", "0"}))->capture_default_str();
    c->add_option("-z,--compression", o->compression, "Compression codec")
        ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))
        ->capture_default_str();
    c->add_option("-r,--rate", o->rate, "Records per second (default: as fast as possible)")
        ->check(CLI::PositiveNumber);
    c->callback([&ctx, o] { ctx.run([&] { return perf_produce(ctx, *o); }); });
  }
  {
    auto o = std::make_shared<perf_options>();
    auto* c = perf->add_subcommand("consume", "Consume a topic from its beginning and report throughput");
    add_common(c, *o);
    c->callback([&ctx, o] { ctx.run([&] { return perf_consume(ctx, *o); }); });
  }
}

}  // namespace brook::client::cli
