// brook_embedded_bench: what an integration test pays for an embedded broker (brook/embedded/broker.hpp):
// start to ready, the first produce through Brook's client, reset with 100 topics, and resident memory
// idle and with 100 topics x 4 partitions. Run: build/bin/brook_embedded_bench [--disk DIR] [--rounds N]
// (--disk: data under DIR instead of a temporary directory on /dev/shm).
#include <brook/client/producer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

#include "brook/embedded/broker.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

struct stats {
  std::vector<double> values;
  void add(double v) { values.push_back(v); }
  void print(const char* what) {
    std::sort(values.begin(), values.end());
    std::printf("%-44s median %8.2f ms   min %8.2f   max %8.2f   (%zu runs)\n", what, values[values.size() / 2],
                values.front(), values.back(), values.size());
  }
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

brook::embedded::options options_in(const std::filesystem::path& disk, int round) {
  brook::embedded::options o;
  if (!disk.empty()) o.data_dir = disk / ("brook-embedded-bench-" + std::to_string(round) + "-" + std::to_string(std::random_device{}()));
  return o;
}

void produce_one(brook::client::producer& p, const std::string& topic, int32_t partition) {
  brook::client::record r;
  r.topic = topic;
  r.partition = partition;
  r.value = "value";
  auto report = p.send_sync(std::move(r));
  if (!report.ok()) die("produce failed: " + report.error.message);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::path disk;
  int rounds = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--disk" && i + 1 < argc) disk = argv[++i];
    else if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else die("usage: brook_embedded_bench [--disk DIR] [--rounds N]");
  }
  std::printf("data on %s, %d rounds\n", disk.empty() ? "/dev/shm (temporary directory)" : disk.c_str(), rounds);

  // Start to ready (listening), and the first produce: a new producer's first acknowledged record (acks=all)
  // to a topic created through the API.
  stats start, first_produce, stop;
  for (int round = 0; round < rounds; ++round) {
    auto t = clock_type::now();
    auto b = brook::embedded::broker::start(options_in(disk, round));
    if (!b) die("start failed: " + b.err().message);
    start.add(ms_since(t));
    if (auto made = (*b)->create_topic("first", 1); !made) die("create_topic failed: " + made.err().message);
    t = clock_type::now();
    auto p = brook::client::producer::create({{"bootstrap.servers", (*b)->bootstrap_servers()}, {"linger.ms", "0"}});
    if (!p) die("producer: " + p.err().message);
    produce_one(**p, "first", 0);
    first_produce.add(ms_since(t));
    p->reset();
    t = clock_type::now();
    (void)(*b)->stop();
    stop.add(ms_since(t));
    auto dir = (*b)->data_dir();
    b->reset();
    if (!disk.empty()) std::filesystem::remove_all(dir);
  }
  start.print("start to ready (listening)");
  first_produce.print("first produce (new producer, acks=all)");
  stop.print("clean stop");

  // Reset with 100 topics (1 and 4 partitions each, one record in every partition), and memory.
  auto b = brook::embedded::broker::start(options_in(disk, 1000));
  if (!b) die("start failed: " + b.err().message);
  const long idle = rss_kib();
  long with_topics = 0;
  for (int32_t partitions : {1, 4}) {
    stats reset;
    for (int round = 0; round < rounds; ++round) {
      // A new producer each round, as a new test would have: the topics it knew are gone.
      auto p = brook::client::producer::create({{"bootstrap.servers", (*b)->bootstrap_servers()}, {"linger.ms", "0"}});
      if (!p) die("producer: " + p.err().message);
      for (int i = 0; i < 100; ++i) {
        auto name = "topic-" + std::to_string(i);
        if (auto made = (*b)->create_topic(name, partitions); !made) die("create_topic failed: " + made.err().message);
        for (int32_t q = 0; q < partitions; ++q) produce_one(**p, name, q);
      }
      if (partitions == 4 && round == 0) with_topics = rss_kib();
      auto t = clock_type::now();
      if (auto r = (*b)->reset(); !r) die("reset failed: " + r.err().message);
      reset.add(ms_since(t));
    }
    reset.print(partitions == 1 ? "reset, 100 topics x 1 partition" : "reset, 100 topics x 4 partitions");
  }
  std::printf("%-44s %8.1f MiB\n", "RSS idle (after start, process total)", idle / 1024.0);
  std::printf("%-44s %8.1f MiB (+%.1f)\n", "RSS with 100 topics x 4 partitions", with_topics / 1024.0,
              (with_topics - idle) / 1024.0);
  auto dir = (*b)->data_dir();
  b->reset();
  if (!disk.empty()) std::filesystem::remove_all(dir);
  return 0;
}
