// brook_process_bench: what a test suite pays for `brook-server --ephemeral` as a separate process, next to
// librdkafka's mock cluster (tests/client/harness/mock_cluster.cpp, brook_mock_cluster) measured the same way.
//
// Each run starts the program and measures, from just before the spawn:
//   ready          the announcement line on its stdout: `bootstrap.servers=HOST:PORT` (brook-server
//                  --ephemeral), or the `listening on PLAINTEXT://HOST:PORT` log line (--legacy: brook-server
//                  --override with a fresh directory under /dev/shm and port 0), or the bootstrap list the
//                  mock prints as its first line once its listeners are up;
//   first produce  a new Brook producer (linger.ms=0, acks=all) created right after that line, its first
//                  acknowledged record to a topic that does not exist yet (created by the Produce path's
//                  metadata request, as auto.create.topics.enable / the mock's auto-creation do).
// For brook-server it also reads the process's memory from /proc/PID/status: VmRSS and VmHWM once the first
// record is acknowledged ("idle"), and after 100 topics x 4 partitions made through the admin client
// (CreateTopics). The program then stops the server with SIGTERM and waits for it.
//
// Run: build/bin/brook_process_bench [--runs N] [--legacy] [--server PATH] [--mock PATH]
// (PATHs default to brook-server and brook_mock_cluster beside this program).
#include <brook/client/admin.hpp>
#include <brook/client/producer.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <spdlog/spdlog.h>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "brook_process_bench: %s\n", what.c_str());
  std::exit(1);
}

struct stats {
  std::vector<double> values;
  void add(double v) { values.push_back(v); }
  double median() const {
    auto v = values;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
  }
  void print(const char* what, const char* unit = "ms") const {
    auto v = values;
    std::sort(v.begin(), v.end());
    std::printf("  %-40s median %7.1f %s  min %7.1f  max %7.1f  (%zu runs)\n", what, median(), unit, v.front(),
                v.back(), v.size());
  }
};

// A spawned program whose stdout is read line by line; the rest of its output is drained on a thread
// once the announcement was seen, so that its log never blocks it on a full pipe.
class child {
 public:
  child(const std::vector<std::string>& argv, bool stdin_pipe) {
    int out[2];
    int in[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0) die("pipe");
    if (stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);  // --ephemeral logs to stderr
    if (stdin_pipe) posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    started_ = clock_type::now();
    if (int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ); rc != 0)
      die("cannot start " + argv[0] + ": " + std::strerror(rc));
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_ = out[0];
    if (stdin_pipe) {
      ::close(in[0]);
      in_ = in[1];
    }
  }
  ~child() { stop(); }

  clock_type::time_point started() const { return started_; }
  pid_t pid() const { return pid_; }

  // The first line for which `match` returns a value, within the deadline.
  template <class Match>
  std::pair<std::string, clock_type::time_point> wait_for_line(Match match, std::chrono::milliseconds deadline) {
    const auto until = clock_type::now() + deadline;
    for (;;) {
      for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (auto found = match(line)) return {*found, clock_type::now()};
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now()).count();
      if (left <= 0) die("no announcement line within the deadline");
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) die("poll");
      char chunk[4096];
      ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n == 0) die("the program exited before announcing itself");
      if (n > 0) buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void drain_in_background() {
    drainer_ = std::thread([fd = out_] {
      char chunk[4096];
      while (::read(fd, chunk, sizeof chunk) > 0) {
      }
    });
  }

  void stop() {
    if (pid_ > 0) {
      if (in_ >= 0) ::close(in_);  // the mock exits when its stdin closes
      in_ = -1;
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (drainer_.joinable()) drainer_.join();
    if (out_ >= 0) ::close(out_);
    out_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int in_ = -1;
  std::string buffer_;
  std::thread drainer_;
  clock_type::time_point started_;
};

// VmRSS and VmHWM of a process, in KiB.
std::pair<long, long> memory_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long rss = -1, hwm = -1;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::strtol(line.c_str() + 6, nullptr, 10);
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return {rss, hwm};
}

std::optional<std::string> after_prefix(const std::string& line, std::string_view prefix) {
  auto at = line.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  return line.substr(at + prefix.size());
}

clock_type::time_point produce_first(const std::string& bootstrap, const std::string& topic) {
  auto p = brook::client::producer::create(
      {{"bootstrap.servers", bootstrap}, {"linger.ms", "0"}, {"acks", "all"}, {"client.id", "bench"}});
  if (!p) die("producer: " + p.err().message);
  brook::client::record r;
  r.topic = topic;
  r.value = "value";
  auto report = (*p)->send_sync(std::move(r));
  if (!report.ok()) die("produce to " + bootstrap + " failed: " + report.error.message);
  return clock_type::now();
}

void create_100_topics(const std::string& bootstrap) {
  auto admin = brook::client::admin_client::create({{"bootstrap.servers", bootstrap}});
  if (!admin) die("admin client: " + admin.err().message);
  std::vector<brook::client::new_topic> topics;
  for (int i = 0; i < 100; ++i) {
    brook::client::new_topic t;
    t.name = "topic-" + std::to_string(i);
    t.partitions = 4;
    t.replication_factor = 1;
    topics.push_back(std::move(t));
  }
  auto created = admin->create_topics(topics);
  if (!created) die("CreateTopics: " + created.err().message);
  for (const auto& [name, r] : *created)
    if (!r) die("CreateTopics " + name + ": " + r.err().message);
}

std::filesystem::path beside_self(const char* name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return self.parent_path() / name;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  int runs = 10;
  bool legacy = false;
  std::string server = beside_self("brook-server").string();
  std::string mock = beside_self("brook_mock_cluster").string();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--legacy") legacy = true;
    else if (a == "--server" && i + 1 < argc) server = argv[++i];
    else if (a == "--mock" && i + 1 < argc) mock = argv[++i];
    else die("usage: brook_process_bench [--runs N] [--legacy] [--server PATH] [--mock PATH]");
  }
  const bool with_mock = std::filesystem::exists(mock);
  double load[3] = {0, 0, 0};
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    std::fclose(f);
  }
  std::printf("%d runs, %s; load average %.2f %.2f %.2f\n", runs,
              legacy ? "brook-server --override (data under /dev/shm, port 0)" : "brook-server --ephemeral", load[0],
              load[1], load[2]);

  stats ready, produced, rss_idle, hwm_idle, rss_topics, hwm_topics, mock_ready, mock_produced;
  for (int run = 0; run < runs; ++run) {
    // Brook.
    {
      std::vector<std::string> args{server};
      std::filesystem::path dir;
      if (legacy) {
        char pattern[] = "/dev/shm/brook-process-bench-XXXXXX";
        if (!::mkdtemp(pattern)) die("mkdtemp");
        dir = pattern;
        args.insert(args.end(), {"--override", "log.dirs=" + dir.string(), "--override",
                                 "listeners=PLAINTEXT://127.0.0.1:0"});
      } else {
        args.push_back("--ephemeral");
      }
      child c(args, false);
      auto [bootstrap, at] = c.wait_for_line(
          [legacy](const std::string& line) -> std::optional<std::string> {
            if (legacy) {
              auto port = after_prefix(line, "listening on PLAINTEXT://");
              if (!port) return std::nullopt;
              return port->find(':') == std::string::npos ? std::nullopt : port;
            }
            return after_prefix(line, "bootstrap.servers=");
          },
          std::chrono::seconds(20));
      c.drain_in_background();
      ready.add(ms_between(c.started(), at));
      auto done = produce_first(bootstrap, "first-" + std::to_string(run));
      produced.add(ms_between(c.started(), done));
      auto [rss, hwm] = memory_kib(c.pid());
      rss_idle.add(rss / 1024.0);
      hwm_idle.add(hwm / 1024.0);
      create_100_topics(bootstrap);
      auto [rss2, hwm2] = memory_kib(c.pid());
      rss_topics.add(rss2 / 1024.0);
      hwm_topics.add(hwm2 / 1024.0);
      c.stop();
      if (!dir.empty()) std::filesystem::remove_all(dir);
    }
    // librdkafka's mock cluster, one broker.
    if (with_mock) {
      child c({mock, "1"}, true);
      auto [bootstrap, at] = c.wait_for_line(
          [](const std::string& line) -> std::optional<std::string> {
            if (line.empty()) return std::nullopt;
            return line;
          },
          std::chrono::seconds(20));
      c.drain_in_background();
      mock_ready.add(ms_between(c.started(), at));
      auto done = produce_first(bootstrap, "first-" + std::to_string(run));
      mock_produced.add(ms_between(c.started(), done));
      c.stop();
    }
  }

  std::printf("brook-server%s\n", legacy ? " (--override)" : " --ephemeral");
  ready.print("start to ready (announcement line)");
  produced.print("start to first acknowledged produce");
  rss_idle.print("VmRSS after the first produce", "MiB");
  hwm_idle.print("VmHWM after the first produce", "MiB");
  rss_topics.print("VmRSS with 100 topics x 4 partitions", "MiB");
  hwm_topics.print("VmHWM with 100 topics x 4 partitions", "MiB");
  if (with_mock) {
    std::printf("librdkafka mock cluster (brook_mock_cluster 1)\n");
    mock_ready.print("start to ready (bootstrap line)");
    mock_produced.print("start to first acknowledged produce");
    std::printf("ratio Brook / mock (medians): ready %.2f, first produce %.2f\n", ready.median() / mock_ready.median(),
                produced.median() / mock_produced.median());
  } else {
    std::printf("(no %s: the mock cluster was not measured)\n", mock.c_str());
  }
  return 0;
}
