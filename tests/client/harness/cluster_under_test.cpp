#include "tests/client/harness/cluster_under_test.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/catalog.hpp"
#include "common/protocol/messages/create_topics.hpp"

namespace brook::test {

namespace proto = common::protocol;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

void skip_test(std::string_view reason) {
  std::cout << "SKIP: " << reason << std::endl;
  if (const char* code = std::getenv("BROOK_TEST_SKIP_CODE"); code && *code) {
    std::cerr.flush();
    std::exit(std::atoi(code));
  }
  WARN("SKIPPED: " << reason);
}

namespace {

// For what the harness itself cannot do on this cluster or in this run: skipped under ctest, a failure
// with the same reason when run by hand (the harness cannot return from the test case for it).
[[noreturn]] void skip_or_fail(const std::string& reason) {
  skip_test(reason);
  FAIL(reason);
  std::abort();  // FAIL throws; not reached
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string tail(const std::string& text, size_t n = 4000) { return text.size() > n ? text.substr(text.size() - n) : text; }

// A program the harness started: its process id and, when asked for, pipes to its stdin and from its
// stdout. Owned by one cluster; killed if the test process dies (PR_SET_PDEATHSIG).
struct child_process {
  pid_t pid = -1;
  int to_child = -1;    // its stdin, when piped
  int from_child = -1;  // its stdout, when piped
  std::string pending;  // bytes read from its stdout after the last full line

  // Starts argv[0] with stdout and stderr sent to `log` (when given) or stdout piped and stderr inherited.
  static child_process spawn(const std::vector<std::string>& argv, const std::optional<fs::path>& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
    int log_fd = -1;
    if (log) {
      log_fd = ::open(log->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      REQUIRE(log_fd >= 0);
    } else {
      REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
      REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Only async-signal-safe calls until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      if (log_fd >= 0) {
        int null_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(null_fd, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
      } else {
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    child_process c;
    c.pid = pid;
    if (log_fd >= 0) ::close(log_fd);
    if (!log) {
      ::close(in_pipe[0]);
      ::close(out_pipe[1]);
      c.to_child = in_pipe[1];
      c.from_child = out_pipe[0];
      ::signal(SIGPIPE, SIG_IGN);  // a control program that died shows up as a failed write
    }
    return c;
  }

  // True once the process has exited (reaping it, its status kept).
  bool exited() {
    if (reaped || pid < 0) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != pid) return false;
    reaped = true;
    exit_status = status;
    return true;
  }

  // The next line of its stdout without the newline; nullopt at end of file or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = pending.find('\n'); nl != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{from_child, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      char buf[4096];
      const ssize_t n = ::read(from_child, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      pending.append(buf, static_cast<size_t>(n));
    }
  }

  bool write_line(const std::string& line) {
    std::string data = line + "\n";
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(to_child, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Asks it to stop (closing its stdin, then `signal` unless 0), waits up to `grace`, then kills it.
  // True when it exited by itself with status 0.
  bool stop(int signal, std::chrono::milliseconds grace) {
    if (to_child >= 0) ::close(to_child), to_child = -1;
    if (!exited() && signal != 0) ::kill(pid, signal);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (!exited() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    if (!exited()) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &exit_status, 0);
      reaped = killed = true;
    }
    if (from_child >= 0) ::close(from_child), from_child = -1;
    return !killed && WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0;
  }

  bool reaped = false;
  bool killed = false;  // by stop(), after its grace period
  int exit_status = 0;  // once reaped
};

// brook-server on 127.0.0.1 with a free port (it binds port 0 and logs the port it got) and a fresh data
// directory, both removed at exit.
class brook_cluster final : public cluster_under_test {
 public:
  static std::unique_ptr<cluster_under_test> start() {
    const std::string server = env("BROOK_SERVER");
    if (server.empty()) skip_or_fail("BROOK_SERVER is not set (the path of brook-server)");
    if (::access(server.c_str(), X_OK) != 0) skip_or_fail("BROOK_SERVER=" + server + " is not an executable file");
    std::string dir_template = (fs::temp_directory_path() / "brook-scenario-XXXXXX").string();
    REQUIRE(::mkdtemp(dir_template.data()) != nullptr);
    const fs::path dir = dir_template;
    const fs::path log = dir / "server.log";
    auto process = child_process::spawn(
        {server, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "log.dirs=" + (dir / "data").string(),
         "--override", "group.initial.rebalance.delay.ms=0"},
        log);
    static const std::regex listening(R"(listening on PLAINTEXT://([0-9.]+):([0-9]+))");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::smatch m;
    for (;;) {
      const std::string text = read_file(log);
      if (std::regex_search(text, m, listening)) break;
      if (process.exited() || std::chrono::steady_clock::now() > deadline) {
        process.stop(SIGKILL, 1s);
        fs::remove_all(dir);
        FAIL("brook-server did not start (" << server << "):\n" << tail(text));
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::unique_ptr<cluster_under_test>(new brook_cluster(std::move(process), dir, m[1].str() + ":" + m[2].str()));
  }

  ~brook_cluster() override {
    // A broker that crashed or did not stop cleanly leaves its log in the test's output.
    if (!process_.stop(SIGTERM, 20s)) {
      std::cerr << "brook-server did not exit cleanly; the end of its log:\n" << tail(read_file(dir_ / "server.log")) << std::endl;
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

 private:
  brook_cluster(child_process process, fs::path dir, std::string bootstrap)
      : cluster_under_test(cluster_kind::brook, std::move(bootstrap), 1), process_(std::move(process)), dir_(std::move(dir)) {}

  child_process process_;
  fs::path dir_;
};

// librdkafka's mock cluster of 3 brokers, run by the brook_mock_cluster program, which takes commands on
// its stdin and stops when that closes.
class mock_cluster final : public cluster_under_test {
 public:
  static constexpr int brokers = 3;

  static std::unique_ptr<cluster_under_test> start() {
    const std::string program = env("BROOK_MOCK_CLUSTER");
    if (program.empty()) skip_or_fail("BROOK_MOCK_CLUSTER is not set (the path of brook_mock_cluster, built with librdkafka-dev)");
    if (::access(program.c_str(), X_OK) != 0) skip_or_fail("BROOK_MOCK_CLUSTER=" + program + " is not an executable file");
    auto process = child_process::spawn({program, std::to_string(brokers)}, std::nullopt);
    auto line = process.read_line(20s);
    if (!line || line->empty()) {
      process.stop(SIGKILL, 1s);
      FAIL("the mock cluster program printed no bootstrap list");
    }
    return std::unique_ptr<cluster_under_test>(new mock_cluster(std::move(process), *line));
  }

  ~mock_cluster() override { process_.stop(0, 10s); }

 protected:
  std::string mock_command(const std::string& line) override {
    if (!process_.write_line(line)) return "error the mock cluster program is gone";
    auto answer = process_.read_line(20s);
    return answer ? *answer : "error no answer from the mock cluster program";
  }

 private:
  mock_cluster(child_process process, std::string bootstrap)
      : cluster_under_test(cluster_kind::mock, std::move(bootstrap), brokers), process_(std::move(process)) {}

  child_process process_;
};

// The real Kafka broker of this test run, started before the tests by tests/client/kafka/kafka_broker.py
// (a ctest fixture); this process only reads where it listens.
class kafka_cluster final : public cluster_under_test {
 public:
  static std::unique_ptr<cluster_under_test> start() {
    const std::string file = env("BROOK_KAFKA_BOOTSTRAP_FILE");
    if (file.empty()) skip_or_fail("BROOK_KAFKA_BOOTSTRAP_FILE is not set (the file kafka_broker.py start writes)");
    if (!fs::exists(file)) {
      const fs::path why = file + ".unavailable";
      if (fs::exists(why)) skip_or_fail("no Kafka broker in this run: " + read_file(why));
      skip_or_fail("no Kafka broker in this run: " + file +
                   " does not exist (ctest starts one; by hand: tests/client/kafka/kafka_broker.py start --bootstrap-file " +
                   file + ")");
    }
    std::string bootstrap = read_file(file);
    while (!bootstrap.empty() && (bootstrap.back() == '\n' || bootstrap.back() == ' ')) bootstrap.pop_back();
    REQUIRE_FALSE(bootstrap.empty());
    return std::unique_ptr<cluster_under_test>(new kafka_cluster(std::move(bootstrap)));
  }

 private:
  explicit kafka_cluster(std::string bootstrap) : cluster_under_test(cluster_kind::kafka, std::move(bootstrap), 1) {}
};

}  // namespace

cluster_under_test& cluster_under_test::current() {
  // Destroyed at exit, which stops what it started.
  static std::unique_ptr<cluster_under_test> cluster;
  if (!cluster) {
    const std::string kind = env("BROOK_TEST_CLUSTER");
    if (kind.empty() || kind == "brook") {
      cluster = brook_cluster::start();
    } else if (kind == "mock") {
      cluster = mock_cluster::start();
    } else if (kind == "kafka") {
      cluster = kafka_cluster::start();
    } else {
      FAIL("BROOK_TEST_CLUSTER=" << kind << ": expected brook, mock or kafka");
    }
  }
  return *cluster;
}

cluster_under_test::cluster_under_test(cluster_kind kind, std::string bootstrap, int broker_count)
    : kind_(kind), bootstrap_(std::move(bootstrap)), broker_count_(broker_count) {}

cluster_under_test::~cluster_under_test() = default;

std::string_view cluster_under_test::name() const {
  switch (kind_) {
    case cluster_kind::brook: return "brook";
    case cluster_kind::mock: return "mock";
    case cluster_kind::kafka: return "kafka";
  }
  return "?";
}

std::string cluster_under_test::unique_name(std::string_view prefix) {
  static const uint32_t process_random = std::random_device{}();
  std::ostringstream out;
  out << prefix << '-' << ::getpid() << '-' << ++names_made_ << '-' << std::hex << (process_random & 0xffffff);
  return out.str();
}

std::string cluster_under_test::mock_command(const std::string&) {
  skip_or_fail("the " + std::string(name()) + " cluster has no fault injection (only the mock cluster has)");
}

void cluster_under_test::require_mock_command(const std::string& what, const std::string& line) {
  if (!supports_faults()) skip_or_fail(what + ": the " + std::string(name()) + " cluster cannot do it (only the mock cluster can)");
  const std::string answer = mock_command(line);
  INFO("mock cluster command: " << line);
  if (answer != "ok") FAIL(what << " failed: " << answer);
}

void cluster_under_test::create_topic(const std::string& topic, int32_t partitions,
                                      const std::map<std::string, std::string>& configs) {
  if (kind_ == cluster_kind::mock) {
    if (!configs.empty()) skip_or_fail("the mock cluster has no topic configs");
    require_mock_command("creating topic " + topic, "create " + topic + " " + std::to_string(partitions));
  } else {
    create_topic_with_create_topics(topic, partitions, configs);
  }
  wait_for_leaders(topic, partitions);
}

void cluster_under_test::create_topic_with_create_topics(const std::string& topic, int32_t partitions,
                                                         const std::map<std::string, std::string>& configs) {
  namespace ct = proto::create_topics;
  const int16_t version = version_for(ct::api_key);
  REQUIRE(version >= 0);
  ct::request req;
  req.timeout_ms = 30000;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  for (const auto& [key, value] : configs) {
    auto& c = t.configs.emplace_back();
    c.name = key;
    c.value = value;
  }
  auto client = connect();
  auto resp = client.call<ct::response>(ct::api_key, version, req);
  REQUIRE(resp.topics.size() == 1);
  const auto& result = resp.topics[0];
  INFO("CreateTopics v" << version << " " << topic << ": "
                        << common::error_name(static_cast<common::kafka_error>(result.error_code)) << " "
                        << result.error_message.value_or(""));
  REQUIRE(result.error_code == 0);
}

void cluster_under_test::wait_for_leaders(const std::string& topic, int32_t partitions) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string last;
  for (;;) {
    auto md = metadata({topic});
    bool ready = md.topics.size() == 1 && md.topics[0].error_code == 0 &&
                 md.topics[0].partitions.size() == static_cast<size_t>(partitions);
    if (ready) {
      for (const auto& p : md.topics[0].partitions) ready = ready && p.error_code == 0 && p.leader_id >= 0;
    }
    if (!ready && md.topics.size() == 1) {
      last = std::string(common::error_name(static_cast<common::kafka_error>(md.topics[0].error_code))) + ", " +
             std::to_string(md.topics[0].partitions.size()) + " partitions";
    }
    // A real Kafka's Metadata can name a leader a moment before that broker serves the partition
    // (NOT_LEADER_OR_FOLLOWER meanwhile): wait until its leader answers ListOffsets for each partition.
    if (ready && kind_ == cluster_kind::kafka) ready = partitions_served(topic, partitions, last);
    if (ready) return;
    if (std::chrono::steady_clock::now() > deadline) FAIL("topic " << topic << " has no leader for every partition: " << last);
    std::this_thread::sleep_for(50ms);
  }
}

bool cluster_under_test::partitions_served(const std::string& topic, int32_t partitions, std::string& why) {
  namespace lo = proto::list_offsets;
  const int16_t version = version_for(lo::api_key);
  REQUIRE(version >= 0);
  lo::request req;
  req.replica_id = -1;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  for (int32_t p = 0; p < partitions; ++p) {
    auto& part = t.partitions.emplace_back();
    part.partition_index = p;
    part.timestamp = -1;
  }
  auto client = connect();
  auto resp = client.call<lo::response>(lo::api_key, version, req);
  for (const auto& rt : resp.topics) {
    for (const auto& rp : rt.partitions) {
      if (rp.error_code != 0) {
        why = "partition " + std::to_string(rp.partition_index) + ": " +
              std::string(common::error_name(static_cast<common::kafka_error>(rp.error_code)));
        return false;
      }
    }
  }
  return true;
}

void cluster_under_test::set_leader(const std::string& topic, int32_t partition, int32_t broker_id) {
  require_mock_command("moving the leader of " + topic + "-" + std::to_string(partition),
                       "leader " + topic + " " + std::to_string(partition) + " " + std::to_string(broker_id));
}

void cluster_under_test::broker_down(int32_t broker_id) {
  require_mock_command("taking broker " + std::to_string(broker_id) + " down", "down " + std::to_string(broker_id));
}

void cluster_under_test::broker_up(int32_t broker_id) {
  require_mock_command("bringing broker " + std::to_string(broker_id) + " up", "up " + std::to_string(broker_id));
}

void cluster_under_test::set_coordinator(std::string_view key_type, const std::string& key, int32_t broker_id) {
  require_mock_command("pinning a coordinator",
                       "coordinator " + std::string(key_type) + " " + key + " " + std::to_string(broker_id));
}

void cluster_under_test::set_rtt(int32_t broker_id, int ms) {
  require_mock_command("delaying broker " + std::to_string(broker_id),
                       "rtt " + std::to_string(broker_id) + " " + std::to_string(ms));
}

void cluster_under_test::push_request_errors(int16_t api_key, const std::vector<int16_t>& error_codes) {
  std::string line = "request-errors " + std::to_string(api_key);
  for (int16_t code : error_codes) {
    line += ' ';
    line += std::to_string(code);
  }
  require_mock_command("injecting request errors", line);
}

wire_client cluster_under_test::connect(std::string client_id) {
  for (const auto& hp : parse_bootstrap(bootstrap_)) {
    if (auto c = wire_client::try_connect(hp.host, hp.port, client_id)) return std::move(*c);
  }
  FAIL("no broker of " << bootstrap_ << " accepts a connection");
  std::abort();  // FAIL throws; not reached
}

int16_t cluster_under_test::version_for(int16_t api_key) {
  namespace av = proto::api_versions;
  if (!api_ranges_) {
    // v0: every cluster here serves it, and it is the one version whose answer every broker can read.
    auto client = connect();
    auto resp = client.call<av::response>(av::api_key, 0, av::request{});
    REQUIRE(resp.error_code == 0);
    api_ranges_.emplace();
    for (const auto& k : resp.api_keys) (*api_ranges_)[k.api_key] = {k.min_version, k.max_version};
  }
  const auto* ours = proto::find_api_schema(api_key);
  auto theirs = api_ranges_->find(api_key);
  if (!ours || theirs == api_ranges_->end()) return -1;
  const int16_t newest = std::min(ours->max_version, theirs->second.second);
  return newest >= std::max(ours->min_version, theirs->second.first) ? newest : int16_t{-1};
}

proto::metadata::response cluster_under_test::metadata(const std::vector<std::string>& topics) {
  namespace md = proto::metadata;
  const int16_t version = version_for(md::api_key);
  REQUIRE(version >= 0);
  md::request req;
  req.allow_auto_topic_creation = false;
  for (const auto& t : topics) req.topics->emplace_back().name = t;
  auto client = connect();
  return client.call<md::response>(md::api_key, version, req);
}

int32_t cluster_under_test::leader_of(const std::string& topic, int32_t partition) {
  for (const auto& t : metadata({topic}).topics)
    for (const auto& p : t.partitions)
      if (t.name == topic && p.partition_index == partition) return p.leader_id;
  FAIL("no partition " << partition << " of " << topic << " in Metadata");
  return -1;
}

std::vector<broker_address> cluster_under_test::brokers() {
  std::vector<broker_address> out;
  for (const auto& b : metadata().brokers) out.push_back({b.node_id, b.host, static_cast<uint16_t>(b.port)});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.node_id < b.node_id; });
  return out;
}

}  // namespace brook::test
