// brook_produce_consume_bench: a librdkafka load program. In one process and one run it measures, for a real
// brook-server (started by this program, or given with --bootstrap) and for librdkafka's in-process mock
// cluster, back to back:
//   - produce throughput of N messages of 100 B and of 1 KiB, acks=1 and acks=all (linger.ms=5,
//     batch.size=1000000, compression none): msgs/s and MB/s of payload (10^6 bytes/s);
//   - consume throughput of the acks=1 topics read back from the log start (partition assigned by hand, no
//     group); the mock cluster keeps only the last few MB of a partition, so it serves fewer messages;
//   - acks=all latency (enqueue to delivery report) at a fixed rate, p50/p99;
// and the yardsticks: loopback TCP bandwidth (one socket pair through 127.0.0.1), the disk's fdatasync
// latency after 1 KiB appends (a burst) and after 100 B appends paced like the latency test, the message
// latency of an ideal group-commit writer at the latency test's rate, and the disk's durable write bandwidth (16 MiB write + fdatasync at a time),
// in the directory that holds the broker's log.dirs: no broker can acknowledge fsynced data faster; and the
// page cache's write bandwidth there (write(2) of the 1 KiB test's bytes to a new file, no fsync), which bounds
// any broker that writes what it acknowledges to files.
// Each produce and consume test also reports the CPU time it cost the broker (brook-server's threads, or the
// mock cluster's threads) and the client (this process without the mock's threads): unlike throughput on a
// shared 2-core machine, CPU time per message does not depend on what else runs.
// Every test is repeated --runs times, alternating which target goes first; medians are printed at the end,
// with brook/mock ratios taken per run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string broker_bin;                            // brook-server to start
  std::string server_config = "conf/server.properties";
  std::string bootstrap;                             // use a running broker instead of starting one
  fs::path dir;                                      // parent of the scratch dir (broker data, fsync file)
  std::vector<std::string> targets = {"brook", "mock"};
  long small_messages = 1000000;                     // 100-byte messages per produce test
  long large_messages = 250000;                      // 1 KiB messages per produce test
  int rate = 1000;                                   // latency test: messages per second
  int latency_seconds = 10;
  int latency_linger_ms = 0;                         // latency test producer's linger.ms
  double tcp_gib = 1.0;
  int fsync_count = 1000;
  int sync_mib = 256;
  int runs = 3;
  // --targets external: one test against --bootstrap, its figures printed as one "RESULT {json}" line.
  std::string test;                                  // create, produce, consume, e2e, tcp
  std::string topic;
  size_t size = 100;                                 // record size in bytes
  long count = 100000;                               // produce: messages (all producers together)
  std::string acks = "1";
  int partitions = 1;                                // create: partitions; produce: spread over this many
  int producers = 1;                                 // produce: producer instances (threads)
  int consumers = 1;                                 // consume: consumer instances, partitions split between them
  int linger_ms = 5;
};

// The broker this program started, stopped by die() too so that a failed run leaves no process behind.
pid_t started_broker_pid = -1;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "brook_produce_consume_bench: %s\n", what.c_str());
  if (started_broker_pid > 0) ::kill(started_broker_pid, SIGTERM);
  std::exit(1);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Nearest-rank percentile of an unsorted sample, q in (0, 1].
double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

// Nanoseconds on a CPU of every thread of process `pid` (0: this process) whose name starts with `prefix`
// (empty: every thread), from /proc/<pid>/task/*/schedstat (Linux; 0 where it is missing).
double threads_cpu_seconds(pid_t pid, const std::string& prefix = "") {
  fs::path tasks = pid > 0 ? fs::path("/proc") / std::to_string(pid) / "task" : fs::path("/proc/self/task");
  std::error_code ec;
  double total = 0;
  for (const auto& task : fs::directory_iterator(tasks, ec)) {
    if (!prefix.empty()) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name.rfind(prefix, 0) != 0) continue;
    }
    std::ifstream stat(task.path() / "schedstat");
    double ns = 0;
    if (stat >> ns) total += ns / 1e9;
  }
  return total;
}

// CPU seconds of one test, split between the broker side and the client side.
struct cpu_split {
  double broker = 0;
  double client = 0;
};

// Samples the CPU time of the broker side (brook-server's threads, or the in-process mock cluster's threads,
// named "rdk:mock...") and of the client side (this process, less the mock's threads).
class cpu_meter {
 public:
  explicit cpu_meter(pid_t broker_pid) : broker_pid_(broker_pid) { start_ = sample(); }
  cpu_split elapsed() const {
    cpu_split now = sample();
    return {now.broker - start_.broker, now.client - start_.client};
  }

 private:
  cpu_split sample() const {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    const double process = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    if (broker_pid_ > 0) return {threads_cpu_seconds(broker_pid_), process};
    const double mock = threads_cpu_seconds(0, "rdk:mock");
    return {mock, process - mock};
  }
  pid_t broker_pid_;
  cpu_split start_;
};

// ---------------------------------------------------------------------------------------------------------
// Yardsticks

// Pushes `bytes` through one TCP connection on 127.0.0.1 (a sender thread, this thread reads). MB/s.
double loopback_tcp_mbps(uint64_t bytes) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    die(std::string("loopback listen: ") + std::strerror(errno));
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    die(std::string("loopback connect: ") + std::strerror(errno));
  int server = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  auto start = clock_type::now();
  std::thread sender([client, bytes] {
    std::vector<char> buf(256 * 1024, 'x');
    uint64_t left = bytes;
    while (left > 0) {
      ssize_t n = ::send(client, buf.data(), std::min<uint64_t>(left, buf.size()), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        die(std::string("loopback send: ") + std::strerror(errno));
      }
      left -= static_cast<uint64_t>(n);
    }
    ::shutdown(client, SHUT_WR);
  });
  std::vector<char> buf(256 * 1024);
  uint64_t got = 0;
  while (true) {
    ssize_t n = ::recv(server, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(std::string("loopback recv: ") + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<uint64_t>(n);
  }
  double s = seconds_since(start);
  sender.join();
  ::close(client);
  ::close(server);
  if (got != bytes) die("loopback received fewer bytes than sent");
  return static_cast<double>(bytes) / s / 1e6;
}

// A new file for a disk probe. Probe files stay until the scratch directory is removed at exit: on a file system
// mounted with `discard`, deleting a file makes the next journal commits issue TRIMs, and an fdatasync of the
// broker's log can then wait tens of milliseconds behind them, which would charge the probe's clean-up to the
// broker's latency test that follows.
fs::path probe_file(const fs::path& dir, const std::string& stem) {
  static int next = 0;
  return dir / (stem + "-" + std::to_string(++next) + ".bin");
}

// fdatasync latencies (ms) after each of `count` appends of `size` bytes to a new file in `dir`, one every
// 1/rate s (rate 0: back to back). Paced like the latency test, the probe sees what the disk does over the
// same seconds (the file system's periodic journal commits among them), which a short burst does not.
std::vector<double> paced_fdatasync_latencies_ms(const fs::path& dir, int count, int rate, size_t size) {
  fs::path file = probe_file(dir, "fdatasync-probe");
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + file.string() + ": " + std::strerror(errno));
  std::vector<char> data(size, 'd');
  std::vector<double> out;
  out.reserve(count);
  auto begin = clock_type::now();
  for (int i = 0; i < count; ++i) {
    if (rate > 0) std::this_thread::sleep_until(begin + std::chrono::nanoseconds(1000000000LL / rate) * i);
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) die("probe write failed");
    auto start = clock_type::now();
    if (::fdatasync(fd) != 0) die(std::string("fdatasync: ") + std::strerror(errno));
    out.push_back(seconds_since(start) * 1e3);
  }
  ::close(fd);
  return out;
}

// fdatasync latencies (ms) after each of `count` 1 KiB appends to a new file in `dir`, back to back (a burst
// of a fraction of a second).
std::vector<double> fdatasync_latencies_ms(const fs::path& dir, int count) {
  return paced_fdatasync_latencies_ms(dir, count, 0, 1024);
}

// Per-message latency (ms) of an ideal durable writer on this disk, with no network and no broker: messages of
// `size` bytes arrive every 1/rate s for `seconds`; one thread writes whatever has arrived and fdatasyncs it
// (group commit), and a message is done when an fdatasync begun after its write returns. A slow fdatasync
// delays every message that arrives meanwhile, which a per-call fdatasync percentile does not show: this is the
// best any fsync-before-acknowledge system can do on this disk at this rate.
std::vector<double> ideal_group_commit_latencies_ms(const fs::path& dir, int rate, int seconds, size_t size) {
  fs::path file = probe_file(dir, "group-commit-probe");
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + file.string() + ": " + std::strerror(errno));
  const long total = static_cast<long>(rate) * seconds;
  const auto interval = std::chrono::nanoseconds(1000000000LL / rate);
  std::vector<char> data(size * 64, 'g');
  std::vector<double> out;
  out.reserve(static_cast<size_t>(total));
  auto start = clock_type::now();
  long written = 0;
  while (written < total) {
    auto now = clock_type::now();
    long arrived = std::min(total, static_cast<long>((now - start) / interval) + 1);
    if (arrived == written) {
      std::this_thread::sleep_until(start + interval * written);
      continue;
    }
    for (long left = arrived - written; left > 0;) {
      long n = std::min<long>(left, 64);
      if (::write(fd, data.data(), size * n) != static_cast<ssize_t>(size * n)) die("probe write failed");
      left -= n;
    }
    if (::fdatasync(fd) != 0) die(std::string("fdatasync: ") + std::strerror(errno));
    auto done = clock_type::now();
    for (long i = written; i < arrived; ++i)
      out.push_back(std::chrono::duration<double, std::milli>(done - (start + interval * i)).count());
    written = arrived;
  }
  ::close(fd);
  return out;
}

// Sequential write bandwidth (MB/s) of `dir`: `bytes` written to a new file `chunk` bytes at a time with
// write(2), each chunk followed by fdatasync when `sync`.
double write_probe_mbps(const fs::path& dir, const std::string& stem, uint64_t bytes, size_t chunk, bool sync) {
  fs::path file = probe_file(dir, stem);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + file.string() + ": " + std::strerror(errno));
  std::vector<char> data(chunk, 'w');
  uint64_t written = 0;
  auto start = clock_type::now();
  while (written < bytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, bytes - written));
    for (size_t off = 0; off < want;) {
      ssize_t n = ::write(fd, data.data() + off, want - off);
      if (n <= 0) die(std::string("probe write: ") + std::strerror(errno));
      off += static_cast<size_t>(n);
    }
    if (sync && ::fdatasync(fd) != 0) die(std::string("fdatasync: ") + std::strerror(errno));
    written += want;
  }
  double secs = seconds_since(start);
  ::close(fd);
  return static_cast<double>(written) / 1e6 / secs;
}

// Durable sequential write bandwidth (MB/s) of `dir`: `total_mib` MiB written to a new file 16 MiB at a time,
// each followed by fdatasync (a broker's group commit covers at most its in-flight requests, about this much).
double durable_write_mbps(const fs::path& dir, int total_mib) {
  return write_probe_mbps(dir, "durable-write-probe", static_cast<uint64_t>(total_mib) << 20, 16u << 20, true);
}

// Page-cache write bandwidth (MB/s) of `dir`: `bytes` written to a new file 1 MiB at a time, no fsync: what
// writing the bytes of a produce test to a file costs here, before any broker work. (On a virtual machine,
// pages the guest has not touched before are much slower to fill than recycled ones.)
double page_cache_write_mbps(const fs::path& dir, uint64_t bytes) {
  return write_probe_mbps(dir, "page-cache-write-probe", bytes, 1u << 20, false);
}

// ---------------------------------------------------------------------------------------------------------
// brook-server as a child process

struct broker_process {
  pid_t pid = -1;
  std::string bootstrap;
  fs::path log_file;
};

broker_process start_broker(const options& o, const fs::path& scratch) {
  broker_process b;
  fs::path data = scratch / "broker-data";
  fs::create_directories(data);
  b.log_file = scratch / "broker.log";
  std::vector<std::string> args = {o.broker_bin,   o.server_config,
                                   "--override",   "listeners=PLAINTEXT://127.0.0.1:0",
                                   "--override",   "log.dirs=" + data.string()};
  b.pid = ::fork();
  if (b.pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (b.pid == 0) {
    int fd = ::open(b.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  started_broker_pid = b.pid;
  std::regex listening(R"(listening on PLAINTEXT://([0-9.]+):([0-9]+))");
  auto deadline = clock_type::now() + std::chrono::seconds(30);
  while (clock_type::now() < deadline) {
    std::ifstream in(b.log_file);
    std::stringstream text;
    text << in.rdbuf();
    std::smatch m;
    std::string s = text.str();
    if (std::regex_search(s, m, listening)) {
      b.bootstrap = m[1].str() + ":" + m[2].str();
      return b;
    }
    int status = 0;
    if (::waitpid(b.pid, &status, WNOHANG) == b.pid) die("brook-server exited at start; its output:\n" + s);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(b.pid, SIGKILL);
  die("brook-server did not log its listener within 30 s; see " + b.log_file.string());
}

void stop_broker(broker_process& b) {
  if (b.pid <= 0) return;
  ::kill(b.pid, SIGTERM);
  int status = 0;
  ::waitpid(b.pid, &status, 0);
  b.pid = -1;
  started_broker_pid = -1;
}

// ---------------------------------------------------------------------------------------------------------
// librdkafka clients

rd_kafka_conf_t* make_conf(const std::string& bootstrap, const std::map<std::string, std::string>& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      die("config " + k + "=" + v + ": " + err);
  };
  set("bootstrap.servers", bootstrap);
  for (auto& [k, v] : settings) set(k, v);
  return conf;
}

// One topic of `partitions` partitions (default one); the mock cluster gets it through its own API.
void create_topic(const std::string& bootstrap, rd_kafka_mock_cluster_t* mock, const std::string& topic,
                  int partitions = 1) {
  if (mock) {
    if (auto e = rd_kafka_mock_topic_create(mock, topic.c_str(), partitions, 1); e)
      die("mock topic create: " + std::string(rd_kafka_err2str(e)));
    return;
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, make_conf(bootstrap, {}), err, sizeof err);
  if (!rk) die(std::string("admin client: ") + err);
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  if (!nt) die(std::string("NewTopic: ") + err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 120000);
  if (!ev) die("CreateTopics timed out");
  if (rd_kafka_event_error(ev)) die(std::string("CreateTopics: ") + rd_kafka_event_error_string(ev));
  size_t n = 0;
  const rd_kafka_topic_result_t** res =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i)
    if (rd_kafka_topic_result_error(res[i]))
      die("CreateTopics " + topic + ": " + rd_kafka_topic_result_error_string(res[i]));
  rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

struct delivery_state {
  std::atomic<long> delivered{0};
  std::atomic<long> failed{0};
  std::mutex mutex;
  std::string first_error;
  std::vector<double> latencies_ms;  // filled in the latency test only
  bool record_latency = false;
  clock_type::time_point epoch;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<delivery_state*>(opaque);
  if (m->err) {
    if (st->failed.fetch_add(1) == 0) {
      std::lock_guard lock(st->mutex);
      st->first_error = rd_kafka_err2str(m->err);
    }
    return;
  }
  if (st->record_latency) {
    auto sent_ns = reinterpret_cast<intptr_t>(m->_private);
    double now_ns = std::chrono::duration<double, std::nano>(clock_type::now() - st->epoch).count();
    std::lock_guard lock(st->mutex);
    st->latencies_ms.push_back((now_ns - static_cast<double>(sent_ns)) / 1e6);
  }
  st->delivered.fetch_add(1, std::memory_order_relaxed);
}

rd_kafka_t* make_producer(const std::string& bootstrap, const std::string& acks, int linger_ms, delivery_state& st) {
  rd_kafka_conf_t* conf = make_conf(bootstrap, {{"acks", acks},
                                                {"linger.ms", std::to_string(linger_ms)},
                                                {"batch.size", "1000000"},
                                                {"compression.type", "none"},
                                                {"queue.buffering.max.messages", "2000000"},
                                                {"queue.buffering.max.kbytes", "1048576"}});
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &st);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) die(std::string("producer: ") + err);
  return rk;
}

struct throughput {
  double msgs_per_s = 0;
  double mb_per_s = 0;
  long messages = 0;
  cpu_split cpu;  // CPU seconds the test cost each side
};

throughput produce(const std::string& bootstrap, pid_t broker_pid, const std::string& topic, long count,
                   size_t size, const std::string& acks) {
  delivery_state st;
  cpu_meter cpu(broker_pid);
  rd_kafka_t* rk = make_producer(bootstrap, acks, 5, st);
  std::vector<char> payload(size, 'p');
  auto start = clock_type::now();
  for (long i = 0; i < count; ++i) {
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                                RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce: " + std::string(rd_kafka_err2str(e)));
      rd_kafka_poll(rk, 1);
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  while (st.delivered.load() + st.failed.load() < count) {
    rd_kafka_poll(rk, 100);
    if (seconds_since(start) > 300) die("produce to " + topic + ": deliveries did not finish within 300 s");
  }
  double s = seconds_since(start);
  cpu_split used = cpu.elapsed();
  rd_kafka_destroy(rk);
  if (st.failed.load() > 0)
    die("produce to " + topic + ": " + std::to_string(st.failed.load()) + " deliveries failed, first: " + st.first_error);
  return {static_cast<double>(count) / s, static_cast<double>(count) * static_cast<double>(size) / s / 1e6, count,
          used};
}

throughput consume(const std::string& bootstrap, pid_t broker_pid, const std::string& topic, long count,
                   size_t size) {
  rd_kafka_conf_t* conf = make_conf(bootstrap, {{"enable.auto.commit", "false"},
                                                {"enable.auto.offset.store", "false"},
                                                {"enable.partition.eof", "false"},
                                                {"queued.max.messages.kbytes", "262144"}});
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) die(std::string("consumer: ") + err);
  // The simple (legacy) consumer: the partition is assigned by hand from offset 0, with no group.id, so no
  // coordinator or group traffic is involved.
  // The mock cluster keeps only the last few MB of a partition, so count what the log still holds.
  int64_t low = 0, high = 0;
  if (auto e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), 0, &low, &high, 30000); e)
    die("watermarks of " + topic + ": " + rd_kafka_err2str(e));
  count = static_cast<long>(high - low);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  cpu_meter cpu(broker_pid);
  auto start = clock_type::now();
  if (rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING) != 0)
    die("consume_start: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
  std::vector<rd_kafka_message_t*> msgs(10000);
  long got = 0;
  uint64_t bytes = 0;
  auto last_progress = clock_type::now();
  while (got < count) {
    ssize_t n = rd_kafka_consume_batch(rkt, 0, 100, msgs.data(), msgs.size());
    if (n < 0) die("consume: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
    for (ssize_t i = 0; i < n; ++i) {
      if (msgs[i]->err) die("consume " + topic + ": " + rd_kafka_message_errstr(msgs[i]));
      ++got;
      bytes += msgs[i]->len;
      rd_kafka_message_destroy(msgs[i]);
    }
    if (n > 0) last_progress = clock_type::now();
    if (seconds_since(last_progress) > 30) die("consume " + topic + ": no progress for 30 s at " + std::to_string(got));
  }
  double s = seconds_since(start);
  cpu_split used = cpu.elapsed();
  rd_kafka_consume_stop(rkt, 0);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  if (bytes != static_cast<uint64_t>(count) * size) die("consume " + topic + ": payload bytes do not add up");
  return {static_cast<double>(count) / s, static_cast<double>(bytes) / s / 1e6, count, used};
}

// acks=all, one message of `size` every 1/rate s for `seconds`; latency from enqueue to delivery report.
std::vector<double> latency(const std::string& bootstrap, const std::string& topic, int rate, int seconds,
                            int linger_ms, size_t size) {
  delivery_state st;
  st.record_latency = true;
  st.epoch = clock_type::now();
  rd_kafka_t* rk = make_producer(bootstrap, "all", linger_ms, st);
  std::vector<char> payload(size, 'l');
  // A few warm-up messages so connection set-up and metadata are not in the sample.
  for (int i = 0; i < 10; ++i)
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                      RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(intptr_t{0})), RD_KAFKA_V_END);
  rd_kafka_flush(rk, 30000);
  {
    std::lock_guard lock(st.mutex);
    st.latencies_ms.clear();
  }
  long warmup = st.delivered.load();
  // Delivery reports are served by their own thread, so they are stamped when they arrive.
  std::atomic<bool> done{false};
  std::thread poller([&] {
    while (!done.load()) rd_kafka_poll(rk, 10);
  });
  long total = static_cast<long>(rate) * seconds;
  auto start = clock_type::now();
  auto interval = std::chrono::nanoseconds(1000000000LL / rate);
  for (long i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + interval * i);
    auto sent_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - st.epoch).count();
    auto e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                               RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(sent_ns))), RD_KAFKA_V_END);
    if (e) die("latency produce: " + std::string(rd_kafka_err2str(e)));
  }
  while (st.delivered.load() + st.failed.load() < warmup + total) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (seconds_since(start) > seconds + 60) die("latency test: deliveries did not finish");
  }
  done = true;
  poller.join();
  rd_kafka_destroy(rk);
  if (st.failed.load() > 0) die("latency test: deliveries failed, first: " + st.first_error);
  std::lock_guard lock(st.mutex);
  return st.latencies_ms;
}

// ---------------------------------------------------------------------------------------------------------

// Every figure of a run, by name ("brook produce 100B acks=1 msgs/s", ...).
using figures = std::map<std::string, double>;

void report(figures& f, const std::string& name, double value, const char* unit) {
  f[name] = value;
  std::printf("  %-44s %12.2f %s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}

// A test's CPU cost per million messages, each side and both.
void report_cpu(figures& f, const std::string& name, const throughput& t) {
  const double per_million = 1e6 / static_cast<double>(std::max<long>(t.messages, 1));
  report(f, name + " broker CPU s/M msgs", t.cpu.broker * per_million, "s");
  report(f, name + " client CPU s/M msgs", t.cpu.client * per_million, "s");
  report(f, name + " total CPU s/M msgs", (t.cpu.broker + t.cpu.client) * per_million, "s");
}

// broker_pid: brook-server's process when this program started it, else 0 (then a brook target's broker
// CPU is not measured and reads 0).
void run_target(const options& o, const std::string& target, const std::string& bootstrap,
                rd_kafka_mock_cluster_t* mock, pid_t broker_pid, int run, figures& f) {
  std::printf("run %d: %s (%s)\n", run, target.c_str(), bootstrap.c_str());
  struct kind {
    const char* label;
    size_t size;
    long count;
  };
  for (kind k : {kind{"100B", 100, o.small_messages}, kind{"1KiB", 1024, o.large_messages}}) {
    for (const char* acks : {"1", "all"}) {
      std::string topic = "bench-" + std::to_string(run) + "-" + k.label + "-acks" + acks;
      create_topic(bootstrap, mock, topic);
      auto t = produce(bootstrap, broker_pid, topic, k.count, k.size, acks);
      std::string name = target + " produce " + k.label + " acks=" + acks;
      report(f, name + " msgs/s", t.msgs_per_s, "msgs/s");
      report(f, name + " MB/s", t.mb_per_s, "MB/s");
      report_cpu(f, name, t);
    }
    std::string topic = "bench-" + std::to_string(run) + "-" + k.label + "-acks1";
    auto t = consume(bootstrap, broker_pid, topic, k.count, k.size);
    std::string name = target + " consume " + k.label;
    report(f, name + " msgs/s", t.msgs_per_s, "msgs/s");
    report(f, name + " MB/s", t.mb_per_s, "MB/s");
    report(f, name + " messages read", static_cast<double>(t.messages), "msgs");
    report_cpu(f, name, t);
  }
  std::string topic = "bench-" + std::to_string(run) + "-latency";
  create_topic(bootstrap, mock, topic);
  auto lat = latency(bootstrap, topic, o.rate, o.latency_seconds, o.latency_linger_ms, 100);
  std::string name = target + " acks=all latency @" + std::to_string(o.rate) + "/s";
  report(f, name + " p50", percentile(lat, 0.50), "ms");
  report(f, name + " p99", percentile(lat, 0.99), "ms");
  report(f, name + " max", percentile(lat, 1.0), "ms");
}

void usage() {
  std::puts(
      "usage: brook_produce_consume_bench [--broker PATH] [--server-config PATH] [--bootstrap HOST:PORT]\n"
      "         [--dir DIR] [--targets brook,mock] [--messages-100b N] [--messages-1kib N] [--rate N]\n"
      "         [--latency-seconds N] [--latency-linger-ms N] [--tcp-gib X] [--fsync-count N] [--sync-mib N]\n"
      "         [--runs N]\n"
      "  --broker         brook-server to start (default: brook-server next to this program)\n"
      "  --server-config  its properties file (default: conf/server.properties, run from the repository root)\n"
      "  --bootstrap      measure an already running broker instead of starting one\n"
      "  --dir            parent of the scratch directory: broker data and the fdatasync probe (default $TMPDIR or /tmp)\n"
      "\n"
      "One test against a running broker (bench/kafka_compare.py drives Brook and Kafka with these):\n"
      "  --targets external --bootstrap HOST:PORT --test create|produce|consume|e2e|tcp [--topic T]\n"
      "         [--partitions N] [--size BYTES] [--count N] [--acks 1|all] [--producers N] [--consumers N]\n"
      "         [--linger-ms N] [--rate N] [--latency-seconds N] [--tcp-gib X]\n"
      "  create   a topic of --partitions partitions\n"
      "  produce  --count records of --size bytes, round-robin over partitions 0..--partitions-1, from\n"
      "           --producers producers (threads), linger.ms=--linger-ms, batch.size=1000000\n"
      "  consume  the whole topic from its log start (simple consumers, partitions assigned by hand)\n"
      "  e2e      end-to-end latency: one producer (acks=all, linger.ms=0) sends --size byte records at --rate\n"
      "           msgs/s for --latency-seconds to partition 0; a consumer in the same process stamps arrival\n"
      "  tcp      loopback TCP bandwidth (no broker)\n"
      "  fsync    the disk under --dir (no broker): --size byte appends each followed by fdatasync at --rate\n"
      "           for --latency-seconds (p50/p99/max), then an ideal group-commit writer at the same rate\n"
      "  prints one line: RESULT {\"msgs_per_s\":..., ...} (client CPU: this process's user+system time)");
}

options parse(int argc, char** argv) {
  options o;
  o.broker_bin = (fs::absolute(fs::path(argv[0])).parent_path() / "brook-server").string();
  const char* tmp = std::getenv("TMPDIR");
  o.dir = tmp && *tmp ? tmp : "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--broker") o.broker_bin = next();
    else if (a == "--server-config") o.server_config = next();
    else if (a == "--bootstrap") o.bootstrap = next();
    else if (a == "--dir") o.dir = next();
    else if (a == "--targets") {
      o.targets.clear();
      std::stringstream ss(next());
      for (std::string t; std::getline(ss, t, ',');) {
        if (t != "brook" && t != "mock" && t != "external") die("unknown target " + t);
        o.targets.push_back(t);
      }
    } else if (a == "--messages-100b") o.small_messages = std::stol(next());
    else if (a == "--messages-1kib") o.large_messages = std::stol(next());
    else if (a == "--rate") o.rate = std::stoi(next());
    else if (a == "--latency-seconds") o.latency_seconds = std::stoi(next());
    else if (a == "--latency-linger-ms") o.latency_linger_ms = std::stoi(next());
    else if (a == "--tcp-gib") o.tcp_gib = std::stod(next());
    else if (a == "--fsync-count") o.fsync_count = std::stoi(next());
    else if (a == "--sync-mib") o.sync_mib = std::stoi(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--test") o.test = next();
    else if (a == "--topic") o.topic = next();
    else if (a == "--size") o.size = std::stoul(next());
    else if (a == "--count") o.count = std::stol(next());
    else if (a == "--acks") o.acks = next();
    else if (a == "--partitions") o.partitions = std::stoi(next());
    else if (a == "--producers") o.producers = std::stoi(next());
    else if (a == "--consumers") o.consumers = std::stoi(next());
    else if (a == "--linger-ms") o.linger_ms = std::stoi(next());
    else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else {
      usage();
      die("unknown argument " + a);
    }
  }
  if (o.runs < 1 || o.rate < 1 || o.small_messages < 1 || o.large_messages < 1) die("counts must be positive");
  if (std::find(o.targets.begin(), o.targets.end(), "external") != o.targets.end()) {
    if (o.targets.size() != 1) die("--targets external cannot be combined with other targets");
    if (o.test.empty()) die("--targets external needs --test");
    if (o.bootstrap.empty() && o.test != "tcp" && o.test != "fsync") die("--targets external needs --bootstrap");
    if (o.topic.empty() && o.test != "tcp" && o.test != "fsync") die("--targets external needs --topic");
    if (o.partitions < 1 || o.producers < 1 || o.consumers < 1 || o.count < 1 || o.size < 1)
      die("--partitions, --producers, --consumers, --count and --size must be positive");
  }
  return o;
}


// A flat JSON object of numbers, for the one RESULT line of --targets external.
class json_line {
 public:
  void add(const std::string& key, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(value) ? value : 0.0);
    text_ += (text_.empty() ? "" : ",") + ("\"" + key + "\":") + buf;
  }
  std::string text() const { return "{" + text_ + "}"; }

 private:
  std::string text_;
};

// ---------------------------------------------------------------------------------------------------------
// --targets external: one test against a running broker, for bench/kafka_compare.py

double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Waits until every partition of `topic` has a leader in the broker's metadata (a new topic on Kafka takes
// a moment), so that the timed part of a test does not include it.
void wait_for_leaders(rd_kafka_t* rk, const std::string& topic, int partitions) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  auto deadline = clock_type::now() + std::chrono::seconds(60);
  while (true) {
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
      const auto& t = md->topics[0];
      int ready = 0;
      for (int i = 0; i < t.partition_cnt; ++i)
        if (t.partitions[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partitions[i].leader >= 0) ++ready;
      bool ok = t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt >= partitions && ready == t.partition_cnt;
      rd_kafka_metadata_destroy(md);
      if (ok) break;
    } else if (md) {
      rd_kafka_metadata_destroy(md);
    }
    if (clock_type::now() > deadline) die("topic " + topic + " has no leader for every partition after 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  rd_kafka_topic_destroy(rkt);
}

// `o.count` records of `o.size` bytes from `o.producers` producers (threads), each sending its share
// round-robin over partitions 0..o.partitions-1; timed from the first send to the last delivery report.
void external_produce(const options& o, json_line& out) {
  std::vector<std::unique_ptr<delivery_state>> states;
  std::vector<rd_kafka_t*> handles;
  for (int p = 0; p < o.producers; ++p) {
    states.push_back(std::make_unique<delivery_state>());
    handles.push_back(make_producer(o.bootstrap, o.acks, o.linger_ms, *states.back()));
  }
  wait_for_leaders(handles[0], o.topic, o.partitions);
  // Connections and metadata up before the clock starts: one record to partition 0 from every producer.
  std::vector<char> payload(o.size, 'p');
  for (auto* rk : handles) {
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(0),
                      RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_END);
    rd_kafka_flush(rk, 60000);
  }
  for (auto& st : states) st->delivered = 0;
  const double cpu_start = process_cpu_seconds();
  auto start = clock_type::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < o.producers; ++p) {
    threads.emplace_back([&, p] {
      rd_kafka_t* rk = handles[static_cast<size_t>(p)];
      delivery_state& st = *states[static_cast<size_t>(p)];
      const long mine = o.count / o.producers + (p < o.count % o.producers ? 1 : 0);
      for (long i = 0; i < mine; ++i) {
        const int32_t partition = static_cast<int32_t>((i * o.producers + p) % o.partitions);
        while (true) {
          rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                                                    RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
          if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
          if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce: " + std::string(rd_kafka_err2str(e)));
          rd_kafka_poll(rk, 1);
        }
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
      }
      while (st.delivered.load() + st.failed.load() < mine) {
        rd_kafka_poll(rk, 50);
        if (seconds_since(start) > 600) die("produce to " + o.topic + ": deliveries did not finish within 600 s");
      }
    });
  }
  for (auto& t : threads) t.join();
  const double s = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu_start;
  for (size_t p = 0; p < handles.size(); ++p) {
    rd_kafka_destroy(handles[p]);
    if (states[p]->failed.load() > 0)
      die("produce to " + o.topic + ": " + std::to_string(states[p]->failed.load()) +
          " deliveries failed, first: " + states[p]->first_error);
  }
  out.add("messages", static_cast<double>(o.count));
  out.add("seconds", s);
  out.add("msgs_per_s", static_cast<double>(o.count) / s);
  out.add("mb_per_s", static_cast<double>(o.count) * static_cast<double>(o.size) / s / 1e6);
  out.add("client_cpu_s", cpu);
}

// The whole topic from its log start, by `o.consumers` simple consumers (partition p to consumer
// p % consumers, assigned by hand, no group), each in its own thread, until every consumer has read up to
// the high watermark it saw before. The rate is steady-state: timed from the first record any consumer
// received to the last one, the records of each consumer's first batch not counted; the time from the
// start of the fetches to the first record is reported apart (first_record_ms).
void external_consume(const options& o, json_line& out) {
  struct part_range {
    int32_t partition;
    int64_t low, high;
  };
  char err[512];
  // Partition count and watermarks first, with a handle of its own.
  rd_kafka_t* probe = rd_kafka_new(RD_KAFKA_CONSUMER, make_conf(o.bootstrap, {}), err, sizeof err);
  if (!probe) die(std::string("consumer: ") + err);
  wait_for_leaders(probe, o.topic, 1);
  rd_kafka_topic_t* probe_topic = rd_kafka_topic_new(probe, o.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(probe, 0, probe_topic, &md, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("metadata of " + o.topic);
  const int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(probe_topic);
  std::vector<std::vector<part_range>> shares(static_cast<size_t>(o.consumers));
  long total = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (auto e = rd_kafka_query_watermark_offsets(probe, o.topic.c_str(), p, &low, &high, 30000); e)
      die("watermarks of " + o.topic + ": " + rd_kafka_err2str(e));
    total += static_cast<long>(high - low);
    if (high > low) shares[static_cast<size_t>(p % o.consumers)].push_back({p, low, high});
  }
  rd_kafka_destroy(probe);
  std::vector<rd_kafka_t*> handles;
  for (int c = 0; c < o.consumers; ++c) {
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER,
                                  make_conf(o.bootstrap, {{"enable.auto.commit", "false"},
                                                          {"enable.auto.offset.store", "false"},
                                                          {"enable.partition.eof", "false"},
                                                          {"queued.max.messages.kbytes", "262144"}}),
                                  err, sizeof err);
    if (!rk) die(std::string("consumer: ") + err);
    handles.push_back(rk);
  }
  struct consumer_stats {
    clock_type::time_point first{}, last{};
    long counted = 0;  // records after the first batch
    uint64_t bytes = 0;
  };
  std::vector<consumer_stats> stats(static_cast<size_t>(o.consumers));
  const double cpu_start = process_cpu_seconds();
  auto start = clock_type::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < o.consumers; ++c) {
    threads.emplace_back([&, c] {
      rd_kafka_t* rk = handles[static_cast<size_t>(c)];
      const auto& share = shares[static_cast<size_t>(c)];
      consumer_stats& mine = stats[static_cast<size_t>(c)];
      long want = 0;
      for (const auto& r : share) want += static_cast<long>(r.high - r.low);
      if (want == 0) return;
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
      rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
      for (const auto& r : share)
        if (rd_kafka_consume_start_queue(rkt, r.partition, RD_KAFKA_OFFSET_BEGINNING, q) != 0)
          die("consume_start: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
      std::vector<rd_kafka_message_t*> msgs(1000);
      long got = 0;
      auto last_progress = clock_type::now();
      while (got < want) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 10, msgs.data(), msgs.size());
        if (n < 0) die("consume: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
        const bool first_batch = got == 0 && n > 0;
        for (ssize_t i = 0; i < n; ++i) {
          if (msgs[i]->err) die("consume " + o.topic + ": " + rd_kafka_message_errstr(msgs[i]));
          ++got;
          if (!first_batch) {
            ++mine.counted;
            mine.bytes += msgs[i]->len;
          }
          rd_kafka_message_destroy(msgs[i]);
        }
        if (n > 0) {
          last_progress = clock_type::now();
          if (first_batch) mine.first = last_progress;
          mine.last = last_progress;
        }
        if (seconds_since(last_progress) > 30)
          die("consume " + o.topic + ": no progress for 30 s at " + std::to_string(got));
      }
      for (const auto& r : share) rd_kafka_consume_stop(rkt, r.partition);
      rd_kafka_queue_destroy(q);
      rd_kafka_topic_destroy(rkt);
    });
  }
  for (auto& t : threads) t.join();
  const double cpu = process_cpu_seconds() - cpu_start;
  for (auto* rk : handles) rd_kafka_destroy(rk);
  clock_type::time_point first = clock_type::time_point::max(), last{};
  long counted = 0;
  uint64_t bytes = 0;
  for (const auto& st : stats) {
    if (st.counted == 0 && st.first == clock_type::time_point{}) continue;
    first = std::min(first, st.first);
    last = std::max(last, st.last);
    counted += st.counted;
    bytes += st.bytes;
  }
  const double s = std::chrono::duration<double>(last - first).count();
  if (counted == 0 || s <= 0) die("consume " + o.topic + ": too few records to time (one batch)");
  out.add("messages", static_cast<double>(total));
  out.add("seconds", s);
  out.add("msgs_per_s", static_cast<double>(counted) / s);
  out.add("mb_per_s", static_cast<double>(bytes) / s / 1e6);
  out.add("first_record_ms", std::chrono::duration<double, std::milli>(first - start).count());
  out.add("client_cpu_s", cpu);
}

// End-to-end latency: one producer (acks=all, linger.ms=0) sends a record of `o.size` bytes every 1/rate s
// for `o.latency_seconds` s to partition 0; a consumer in the same process (simple consumer from the log end)
// reads them, and each record's latency is its arrival at the consumer less the send time it carries.
void external_e2e(const options& o, json_line& out) {
  delivery_state st;
  rd_kafka_t* producer = make_producer(o.bootstrap, "all", 0, st);
  wait_for_leaders(producer, o.topic, 1);
  char err[512];
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER,
                                      make_conf(o.bootstrap, {{"enable.auto.commit", "false"},
                                                              {"enable.auto.offset.store", "false"},
                                                              {"enable.partition.eof", "false"}}),
                                      err, sizeof err);
  if (!consumer) die(std::string("consumer: ") + err);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(consumer, o.topic.c_str(), nullptr);
  if (rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_END) != 0)
    die("consume_start: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
  const size_t size = std::max<size_t>(o.size, 16);
  std::vector<char> payload(size, 'e');
  const auto epoch = clock_type::now();
  auto send = [&](int64_t stamp) {
    std::memcpy(payload.data(), &stamp, sizeof stamp);
    while (true) {
      auto e = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                 RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("e2e produce: " + std::string(rd_kafka_err2str(e)));
      rd_kafka_poll(producer, 1);
    }
  };
  // Warm-up: until the consumer has seen a record (its fetch position resolved, connections up).
  std::atomic<bool> warm{false}, done{false};
  std::vector<double> lat;
  const long total = static_cast<long>(o.rate) * o.latency_seconds;
  lat.reserve(static_cast<size_t>(total));
  std::thread reader([&] {
    while (!done.load()) {
      rd_kafka_message_t* m = rd_kafka_consume(rkt, 0, 50);
      if (!m) continue;
      if (!m->err && m->len >= sizeof(int64_t)) {
        int64_t stamp = 0;
        std::memcpy(&stamp, m->payload, sizeof stamp);
        const double now_ns = std::chrono::duration<double, std::nano>(clock_type::now() - epoch).count();
        if (stamp < 0) warm = true;
        else lat.push_back((now_ns - static_cast<double>(stamp)) / 1e6);
        if (static_cast<long>(lat.size()) >= total) done = true;
      }
      rd_kafka_message_destroy(m);
    }
  });
  std::atomic<bool> polling{true};
  std::thread poller([&] {
    while (polling.load()) rd_kafka_poll(producer, 10);
  });
  auto warm_deadline = clock_type::now() + std::chrono::seconds(60);
  while (!warm.load()) {
    send(-1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (clock_type::now() > warm_deadline) die("e2e: the consumer saw no record within 60 s");
  }
  const double cpu_start = process_cpu_seconds();
  auto start = clock_type::now();
  const auto interval = std::chrono::nanoseconds(1000000000LL / o.rate);
  for (long i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + interval * i);
    send(std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - epoch).count());
  }
  auto deadline = clock_type::now() + std::chrono::seconds(60);
  while (!done.load() && clock_type::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool complete = done.load();
  done = true;
  reader.join();
  polling = false;
  poller.join();
  const double cpu = process_cpu_seconds() - cpu_start;
  rd_kafka_consume_stop(rkt, 0);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(consumer);
  rd_kafka_flush(producer, 10000);
  rd_kafka_destroy(producer);
  if (!complete) die("e2e: only " + std::to_string(lat.size()) + " of " + std::to_string(total) + " records arrived");
  if (st.failed.load() > 0) die("e2e: deliveries failed, first: " + st.first_error);
  out.add("messages", static_cast<double>(total));
  out.add("p50_ms", percentile(lat, 0.50));
  out.add("p99_ms", percentile(lat, 0.99));
  out.add("p999_ms", percentile(lat, 0.999));
  out.add("max_ms", percentile(lat, 1.0));
  out.add("client_cpu_s", cpu);
}

int run_external(const options& o) {
  json_line out;
  if (o.test == "create") {
    create_topic(o.bootstrap, nullptr, o.topic, o.partitions);
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, make_conf(o.bootstrap, {}), err, sizeof err);
    if (!rk) die(std::string("client: ") + err);
    wait_for_leaders(rk, o.topic, o.partitions);
    rd_kafka_destroy(rk);
    out.add("partitions", o.partitions);
  } else if (o.test == "produce") {
    external_produce(o, out);
  } else if (o.test == "consume") {
    external_consume(o, out);
  } else if (o.test == "e2e") {
    external_e2e(o, out);
  } else if (o.test == "tcp") {
    out.add("mb_per_s", loopback_tcp_mbps(static_cast<uint64_t>(o.tcp_gib * 1024 * 1024 * 1024)));
  } else if (o.test == "fsync") {
    // The disk's yardsticks at the latency test's rate, in --dir (the broker's file system).
    auto paced = paced_fdatasync_latencies_ms(o.dir, o.rate * o.latency_seconds, o.rate, o.size);
    out.add("fdatasync_p50_ms", percentile(paced, 0.50));
    out.add("fdatasync_p99_ms", percentile(paced, 0.99));
    out.add("fdatasync_max_ms", percentile(paced, 1.0));
    auto ideal = ideal_group_commit_latencies_ms(o.dir, o.rate, o.latency_seconds, o.size);
    out.add("group_commit_p50_ms", percentile(ideal, 0.50));
    out.add("group_commit_p99_ms", percentile(ideal, 0.99));
    out.add("group_commit_max_ms", percentile(ideal, 1.0));
  } else {
    die("unknown --test " + o.test);
  }
  std::printf("RESULT %s\n", out.text().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  if (o.targets == std::vector<std::string>{"external"}) return run_external(o);
  std::string templ = (o.dir / "brook-pc-bench-XXXXXX").string();
  if (!::mkdtemp(templ.data())) die("mkdtemp in " + o.dir.string() + ": " + std::strerror(errno));
  fs::path scratch = templ;
  std::printf("scratch dir %s; librdkafka %s; %d runs\n", scratch.c_str(), rd_kafka_version_str(), o.runs);

  bool want_brook = std::find(o.targets.begin(), o.targets.end(), "brook") != o.targets.end();
  bool want_mock = std::find(o.targets.begin(), o.targets.end(), "mock") != o.targets.end();
  broker_process broker;
  std::string brook_bootstrap = o.bootstrap;
  if (want_brook && brook_bootstrap.empty()) {
    broker = start_broker(o, scratch);
    brook_bootstrap = broker.bootstrap;
    std::printf("brook-server pid %d at %s\n", static_cast<int>(broker.pid), brook_bootstrap.c_str());
  }
  rd_kafka_t* mock_handle = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  std::string mock_bootstrap;
  if (want_mock) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    mock_handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!mock_handle) die(std::string("mock handle: ") + err);
    mock = rd_kafka_mock_cluster_new(mock_handle, 1);
    if (!mock) die("rd_kafka_mock_cluster_new failed");
    mock_bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
  }

  std::vector<figures> all;
  for (int run = 1; run <= o.runs; ++run) {
    figures f;
    std::printf("run %d: yardsticks\n", run);
    report(f, "loopback TCP", loopback_tcp_mbps(static_cast<uint64_t>(o.tcp_gib * 1024 * 1024 * 1024)), "MB/s");
    auto sync = fdatasync_latencies_ms(scratch, o.fsync_count);
    report(f, "fdatasync after 1 KiB write p50", percentile(sync, 0.50), "ms");
    report(f, "fdatasync after 1 KiB write p99", percentile(sync, 0.99), "ms");
    auto paced = paced_fdatasync_latencies_ms(scratch, o.rate * o.latency_seconds, o.rate, 100);
    std::string paced_name = "fdatasync after 100 B write @" + std::to_string(o.rate) + "/s";
    report(f, paced_name + " p50", percentile(paced, 0.50), "ms");
    report(f, paced_name + " p99", percentile(paced, 0.99), "ms");
    auto ideal = ideal_group_commit_latencies_ms(scratch, o.rate, o.latency_seconds, 100);
    std::string ideal_name = "ideal group commit @" + std::to_string(o.rate) + "/s";
    report(f, ideal_name + " p50", percentile(ideal, 0.50), "ms");
    report(f, ideal_name + " p99", percentile(ideal, 0.99), "ms");
    report(f, "disk write+fdatasync 16 MiB", durable_write_mbps(scratch, o.sync_mib), "MB/s");
    report(f, "page cache write", page_cache_write_mbps(scratch, static_cast<uint64_t>(o.large_messages) * 1024), "MB/s");
    std::vector<std::string> order = o.targets;
    if (run % 2 == 0) std::reverse(order.begin(), order.end());
    for (auto& t : order) {
      if (t == "brook") run_target(o, t, brook_bootstrap, nullptr, broker.pid > 0 ? broker.pid : 0, run, f);
      else run_target(o, t, mock_bootstrap, mock, 0, run, f);
    }
    if (want_brook && want_mock) {
      // brook/mock ratios of this run, so that both sides saw the same machine load.
      std::vector<std::string> names;
      for (auto& [name, v] : f)
        if (name.rfind("brook ", 0) == 0) names.push_back(name.substr(6));
      for (auto& n : names)
        if (f.count("mock " + n) && f["mock " + n] > 0) f["ratio brook/mock " + n] = f["brook " + n] / f["mock " + n];
    }
    // The product goals' yardsticks, per run: 1 KiB throughput against loopback TCP, acks=all p99 against
    // the disk's fdatasync p99.
    for (auto& t : o.targets) {
      for (const char* n : {" produce 1KiB acks=1 MB/s", " consume 1KiB MB/s"})
        if (f.count(t + n)) f["ratio " + t + n + " / loopback TCP"] = f[t + n] / f["loopback TCP"];
      std::string p99 = t + " acks=all latency @" + std::to_string(o.rate) + "/s p99";
      if (f.count(p99)) {
        f["ratio " + p99 + " / fdatasync p99"] = f[p99] / f["fdatasync after 1 KiB write p99"];
        std::string paced_p99 = "fdatasync after 100 B write @" + std::to_string(o.rate) + "/s p99";
        f["ratio " + p99 + " / paced fdatasync p99"] = f[p99] / f[paced_p99];
        f["ratio " + p99 + " / ideal group commit p99"] =
            f[p99] / f["ideal group commit @" + std::to_string(o.rate) + "/s p99"];
      }
      std::string cached = t + " produce 1KiB acks=1 MB/s";
      if (f.count(cached)) f["ratio " + cached + " / page cache write"] = f[cached] / f["page cache write"];
      std::string durable = t + " produce 1KiB acks=all MB/s";
      if (f.count(durable)) f["ratio " + durable + " / disk write+fdatasync"] = f[durable] / f["disk write+fdatasync 16 MiB"];
    }
    all.push_back(std::move(f));
  }

  if (mock) rd_kafka_mock_cluster_destroy(mock);
  if (mock_handle) rd_kafka_destroy(mock_handle);
  stop_broker(broker);
  fs::remove_all(scratch);

  std::printf("\nmedians over %d runs (MB/s = 10^6 bytes/s of payload; ratios taken within each run)\n", o.runs);
  for (auto& [name, unused] : all.front()) {
    std::vector<double> v;
    for (auto& f : all)
      if (f.count(name)) v.push_back(f.at(name));
    std::printf("  %-58s %12.3f   (min %.3f, max %.3f)\n", name.c_str(), median(v), *std::min_element(v.begin(), v.end()),
                *std::max_element(v.begin(), v.end()));
  }
  return 0;
}
