// brook_client_bench: Brook's own client (brook_client) against librdkafka at the same settings, against the
// same brook-server, in one process and one run. The broker is started by this program (or given with
// --bootstrap); it is another process, so this process's CPU time is the client's.
//
// For each test, --runs times, alternating which client goes first:
//   - produce N records of 100 B and of 1 KiB to a new one-partition topic (partition 0 given explicitly), with
//     acks=1 and acks=all; both clients get linger.ms=5, batch.size=1000000, compression.type=none,
//     max.in.flight.requests.per.connection=5, 1 GiB of buffer (Brook's buffer.memory, librdkafka's
//     queue.buffering.max.kbytes) and the same enable.idempotence: off with acks=1 (idempotence needs
//     acks=all), on with acks=all (Brook's and Java's default; librdkafka's default is off, so it is set);
//     timed from the first send to the last delivery report;
//   - consume the acks=1 topic of that size (the one librdkafka wrote in this run, so both clients read the
//     same batches) from its beginning: the partition assigned by hand, no group.id, check.crcs=true on both
//     (Java's default; librdkafka's default is false), 500 records per poll on both (Brook's max.poll.records
//     default; librdkafka's rd_kafka_consume_batch size); both clients connect first (librdkafka's watermark
//     query, Brook's end_offsets) and the timing starts at the seek to the beginning;
// each with msgs/s, MB/s (10^6 bytes/s of payload) and the client's CPU time per million messages (this
// process's user + system time over the test, producer or consumer creation included, closing excluded), the
// ratios Brook / librdkafka within each run and the medians over the runs.
// Once per size it also runs the `brook perf produce` / `brook perf consume` command (the CLI, a separate
// process; acks=1, the same producer settings) and shows its own summary figures beside the library's.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "brook/client/consumer.hpp"
#include "brook/client/producer.hpp"

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string broker_bin;  // brook-server to start
  std::string cli_bin;     // the `brook` command
  std::string server_config = "conf/server.properties";
  std::string bootstrap;  // use a running broker instead of starting one
  fs::path dir;
  long small_messages = 1000000;
  long large_messages = 300000;
  int runs = 3;
  bool cli = true;
  std::vector<std::string> sizes = {"100B", "1KiB"};
  std::vector<std::string> clients = {"librdkafka", "brook"};
  std::vector<std::string> tests = {"produce", "consume"};
  std::string consume_source;  // who writes the consumed topic: librdkafka (when among the clients) or brook
  int consume_repeat = 1;      // reads of that topic per client and run (more: a profile dominated by reading)
};

pid_t started_broker_pid = -1;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "brook_client_bench: %s\n", what.c_str());
  if (started_broker_pid > 0) ::kill(started_broker_pid, SIGTERM);
  std::exit(1);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// User + system CPU seconds of this process (all threads: the clients' own I/O threads included).
double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// ---------------------------------------------------------------------------------------------------------
// brook-server as a child process

struct broker_process {
  pid_t pid = -1;
  std::string bootstrap;
};

broker_process start_broker(const options& o, const fs::path& scratch) {
  broker_process b;
  const fs::path data = scratch / "broker-data";
  fs::create_directories(data);
  const fs::path log_file = scratch / "broker.log";
  std::vector<std::string> args = {o.broker_bin, o.server_config, "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                                   "--override", "log.dirs=" + data.string()};
  b.pid = ::fork();
  if (b.pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (b.pid == 0) {
    const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
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
  const std::regex listening(R"(listening on PLAINTEXT://([0-9.]+):([0-9]+))");
  const auto deadline = clock_type::now() + std::chrono::seconds(30);
  while (clock_type::now() < deadline) {
    std::ifstream in(log_file);
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    std::smatch m;
    if (std::regex_search(s, m, listening)) {
      b.bootstrap = m[1].str() + ":" + m[2].str();
      return b;
    }
    int status = 0;
    if (::waitpid(b.pid, &status, WNOHANG) == b.pid) die("brook-server exited at start; its output:\n" + s);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  die("brook-server did not log its listener within 30 s; see " + log_file.string());
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
// The settings both clients get

using settings = std::map<std::string, std::string>;

settings producer_settings(const std::string& acks) {
  return {{"acks", acks},
          {"linger.ms", "5"},
          {"batch.size", "1000000"},
          {"compression.type", "none"},
          {"max.in.flight.requests.per.connection", "5"},
          {"enable.idempotence", acks == "all" ? "true" : "false"}};
}

struct result {
  double msgs_per_s = 0;
  double mb_per_s = 0;
  double cpu_s_per_million = 0;
};

// Records per poll() (Brook's max.poll.records, at its default) and per rd_kafka_consume_batch() call.
constexpr int records_per_poll = 500;

result make_result(long count, uint64_t bytes, double seconds, double cpu) {
  return {static_cast<double>(count) / seconds, static_cast<double>(bytes) / seconds / 1e6,
          cpu / static_cast<double>(count) * 1e6};
}

// ---------------------------------------------------------------------------------------------------------
// librdkafka

rd_kafka_conf_t* rdk_conf(const std::string& bootstrap, const settings& s) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      die("librdkafka config " + k + "=" + v + ": " + err);
  };
  set("bootstrap.servers", bootstrap);
  for (const auto& [k, v] : s) set(k, v);
  return conf;
}

void create_topic(const std::string& bootstrap, const std::string& topic) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, rdk_conf(bootstrap, {}), err, sizeof err);
  if (!rk) die(std::string("admin client: ") + err);
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), 1, 1, err, sizeof err);
  if (!nt) die(std::string("NewTopic: ") + err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (!ev) die("CreateTopics timed out");
  if (rd_kafka_event_error(ev)) die(std::string("CreateTopics: ") + rd_kafka_event_error_string(ev));
  size_t n = 0;
  const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i)
    if (rd_kafka_topic_result_error(res[i]))
      die("CreateTopics " + topic + ": " + rd_kafka_topic_result_error_string(res[i]));
  rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

struct rdk_delivery {
  std::atomic<long> delivered{0};
  std::atomic<long> failed{0};
  std::atomic<int> first_error{0};
};

void rdk_on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<rdk_delivery*>(opaque);
  if (m->err) {
    int none = 0;
    st->first_error.compare_exchange_strong(none, static_cast<int>(m->err));
    st->failed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  st->delivered.fetch_add(1, std::memory_order_relaxed);
}

result rdk_produce(const std::string& bootstrap, const std::string& topic, long count, size_t size,
                   const std::string& acks) {
  rdk_delivery st;
  const double cpu_start = process_cpu_seconds();
  settings s = producer_settings(acks);
  s["queue.buffering.max.messages"] = "2000000";
  s["queue.buffering.max.kbytes"] = "1048576";
  rd_kafka_conf_t* conf = rdk_conf(bootstrap, s);
  rd_kafka_conf_set_dr_msg_cb(conf, rdk_on_delivery);
  rd_kafka_conf_set_opaque(conf, &st);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) die(std::string("librdkafka producer: ") + err);
  const std::string payload(size, 'p');
  const auto start = clock_type::now();
  for (long i = 0; i < count; ++i) {
    while (true) {
      const rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
          RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("librdkafka produce: " + std::string(rd_kafka_err2str(e)));
      rd_kafka_poll(rk, 1);
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  while (st.delivered.load() + st.failed.load() < count) {
    rd_kafka_poll(rk, 100);
    if (seconds_since(start) > 300) die("librdkafka produce to " + topic + ": deliveries did not finish within 300 s");
  }
  const double seconds = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu_start;
  rd_kafka_destroy(rk);
  if (st.failed.load() > 0)
    die("librdkafka produce to " + topic + ": " + std::to_string(st.failed.load()) + " failed, first: " +
        rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(st.first_error.load())));
  return make_result(count, static_cast<uint64_t>(count) * size, seconds, cpu);
}

result rdk_consume(const std::string& bootstrap, const std::string& topic, long count, size_t size) {
  rd_kafka_conf_t* conf = rdk_conf(bootstrap, {{"enable.auto.commit", "false"},
                                               {"enable.auto.offset.store", "false"},
                                               {"enable.partition.eof", "false"},
                                               {"check.crcs", "true"},
                                               {"queued.max.messages.kbytes", "262144"}});
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) die(std::string("librdkafka consumer: ") + err);
  // The simple consumer: partition 0 assigned by hand from the log start, no group.id. The watermark query
  // connects to the broker first, so that the timed part is the reading only, as for Brook's consumer.
  int64_t low = 0, high = 0;
  if (auto e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), 0, &low, &high, 30000); e)
    die("watermarks of " + topic + ": " + rd_kafka_err2str(e));
  if (high - low != count) die("librdkafka: " + topic + " holds " + std::to_string(high - low) + " records");
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const double cpu_start = process_cpu_seconds();
  const auto start = clock_type::now();
  if (rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING) != 0)
    die("consume_start: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
  std::vector<rd_kafka_message_t*> msgs(records_per_poll);
  long got = 0;
  uint64_t bytes = 0;
  auto last_progress = clock_type::now();
  while (got < count) {
    const ssize_t n = rd_kafka_consume_batch(rkt, 0, 100, msgs.data(), msgs.size());
    if (n < 0) die("librdkafka consume: " + std::string(rd_kafka_err2str(rd_kafka_last_error())));
    for (ssize_t i = 0; i < n; ++i) {
      if (msgs[i]->err) die("librdkafka consume " + topic + ": " + rd_kafka_message_errstr(msgs[i]));
      ++got;
      bytes += msgs[i]->len;
      rd_kafka_message_destroy(msgs[i]);
    }
    if (n > 0) last_progress = clock_type::now();
    if (seconds_since(last_progress) > 30) die("librdkafka consume " + topic + ": no progress for 30 s");
  }
  const double seconds = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu_start;
  rd_kafka_consume_stop(rkt, 0);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  if (got != count || bytes != static_cast<uint64_t>(count) * size)
    die("librdkafka consume " + topic + ": records or payload bytes do not add up");
  return make_result(count, bytes, seconds, cpu);
}

// ---------------------------------------------------------------------------------------------------------
// Brook's client

struct brook_delivery {
  std::atomic<long> delivered{0};
  std::atomic<long> failed{0};
  std::atomic<bool> has_error{false};
  std::string first_error;  // written once, by whoever sets has_error first
};

result brook_produce(const std::string& bootstrap, const std::string& topic, long count, size_t size,
                     const std::string& acks) {
  brook_delivery st;
  const double cpu_start = process_cpu_seconds();
  brook::client::properties props;
  for (const auto& [k, v] : producer_settings(acks)) props[k] = v;
  props["bootstrap.servers"] = bootstrap;
  props["buffer.memory"] = "1073741824";
  auto created = brook::client::producer::create(props);
  if (!created) die("brook producer: " + created.err().message);
  auto& p = **created;
  const std::string payload(size, 'p');
  // A callback of one pointer, as librdkafka's is a function with an opaque pointer.
  auto on_delivery = [s = &st](const brook::client::delivery_report& report) {
    if (!report.ok()) {
      if (!s->has_error.exchange(true)) s->first_error = report.error.message;
      s->failed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    s->delivered.fetch_add(1, std::memory_order_relaxed);
  };
  const auto start = clock_type::now();
  for (long i = 0; i < count; ++i) {
    brook::client::record r;
    r.topic = topic;
    r.partition = 0;
    r.value = payload;
    auto queued = p.send(std::move(r), on_delivery);
    if (!queued) die("brook produce: " + queued.err().message);
  }
  if (auto flushed = p.flush(); !flushed) die("brook flush: " + flushed.err().message);
  // flush() returns when every batch is done; the last callbacks may still be running.
  const auto flushed_at = clock_type::now();
  while (st.delivered.load() + st.failed.load() < count) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    if (seconds_since(flushed_at) > 30)
      die("brook produce to " + topic + ": deliveries did not finish within 30 s of flush() (" +
          std::to_string(st.delivered.load()) + " delivered, " + std::to_string(st.failed.load()) + " failed of " +
          std::to_string(count) + ")");
  }
  const double seconds = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu_start;
  p.close();
  if (st.failed.load() > 0)
    die("brook produce to " + topic + ": " + std::to_string(st.failed.load()) + " failed, first: " + st.first_error);
  return make_result(count, static_cast<uint64_t>(count) * size, seconds, cpu);
}

result brook_consume(const std::string& bootstrap, const std::string& topic, long count, size_t size) {
  auto created = brook::client::consumer::create({{"bootstrap.servers", bootstrap},
                                                  {"enable.auto.commit", "false"},
                                                  {"check.crcs", "true"},
                                                  {"max.poll.records", std::to_string(records_per_poll)}});
  if (!created) die("brook consumer: " + created.err().message);
  auto& c = **created;
  const std::vector<brook::client::topic_partition> parts{{topic, 0}};
  if (auto r = c.assign(parts); !r) die("brook assign: " + r.err().message);
  // Connects first (as the watermark query does for librdkafka), so that the timed part is the reading only.
  auto ends = c.end_offsets(parts);
  if (!ends) die("brook end_offsets: " + ends.err().message);
  const double cpu_start = process_cpu_seconds();
  const auto start = clock_type::now();
  if (auto r = c.seek_to_beginning(parts); !r) die("brook seek_to_beginning: " + r.err().message);
  long got = 0;
  uint64_t bytes = 0;
  auto last_progress = clock_type::now();
  while (got < count) {
    auto records = c.poll(std::chrono::milliseconds(100));
    if (!records) die("brook poll: " + records.err().message);
    for (const auto& r : *records) {
      ++got;
      bytes += r.value ? r.value->size() : 0;
    }
    if (!records->empty()) last_progress = clock_type::now();
    if (seconds_since(last_progress) > 30) die("brook consume " + topic + ": no progress for 30 s");
  }
  const double seconds = seconds_since(start);
  const double cpu = process_cpu_seconds() - cpu_start;
  (void)c.close();
  if (got != count || bytes != static_cast<uint64_t>(count) * size)
    die("brook consume " + topic + ": records or payload bytes do not add up");
  return make_result(count, bytes, seconds, cpu);
}

// ---------------------------------------------------------------------------------------------------------
// The `brook perf` command

// Runs the command, returns its standard output (the --json summary line).
std::string run_command(const std::vector<std::string>& args) {
  int out[2];
  if (::pipe(out) != 0) die("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    die("command failed: " + cmd + "\noutput: " + text);
  }
  return text;
}

double json_number(const std::string& json, const std::string& key) {
  const std::regex re("\"" + key + "\":([-0-9.eE+]+)");
  std::smatch m;
  if (!std::regex_search(json, m, re)) die("no " + key + " in: " + json);
  return std::stod(m[1].str());
}

result cli_perf(const options& o, const std::string& bootstrap, const std::string& mode, const std::string& topic,
                long count, size_t size) {
  std::vector<std::string> args = {o.cli_bin, "-b", bootstrap};
  if (mode == "produce") {
    for (const auto& [k, v] : producer_settings("1")) {
      if (k == "acks" || k == "compression.type") continue;  // the command's own options
      args.push_back("-X");
      args.push_back(k + "=" + v);
    }
    args.insert(args.end(), {"-X", "buffer.memory=1073741824", "perf", "produce", "--acks", "1", "-z", "none"});
  } else {
    // The consumer's defaults: check.crcs=true, max.poll.records=500, as the library test above.
    args.insert(args.end(), {"perf", "consume"});
  }
  args.insert(args.end(), {"-t", topic, "-s", std::to_string(size), "-n", std::to_string(count), "--json"});
  const std::string out = run_command(args);
  result r;
  r.msgs_per_s = json_number(out, "msgs_per_sec");
  r.mb_per_s = json_number(out, "mb_per_sec");
  r.cpu_s_per_million = json_number(out, "cpu_seconds_per_million");
  if (static_cast<long>(json_number(out, "records")) != count) die("brook perf " + mode + " did not finish: " + out);
  return r;
}

// ---------------------------------------------------------------------------------------------------------

using figures = std::map<std::string, double>;

void record_result(figures& f, const std::string& name, const result& r) {
  f[name + " msgs/s"] = r.msgs_per_s;
  f[name + " MB/s"] = r.mb_per_s;
  f[name + " CPU s/M msgs"] = r.cpu_s_per_million;
  std::printf("  %-36s %11.0f msgs/s %9.2f MB/s   client CPU %6.3f s per million\n", name.c_str(), r.msgs_per_s,
              r.mb_per_s, r.cpu_s_per_million);
  std::fflush(stdout);
}

void usage() {
  std::puts(
      "usage: brook_client_bench [--broker PATH] [--cli PATH] [--server-config PATH] [--bootstrap HOST:PORT]\n"
      "         [--dir DIR] [--messages-100b N] [--messages-1kib N] [--runs N] [--sizes 100B,1KiB] [--no-cli]\n"
      "  --broker         brook-server to start (default: brook-server next to this program)\n"
      "  --cli            the brook command (default: brook next to this program)\n"
      "  --server-config  the broker's properties file (default: conf/server.properties, run from the repository root)\n"
      "  --bootstrap      use an already running broker instead of starting one\n"
      "  --dir            parent of the scratch directory for the broker's data (default $TMPDIR or /tmp)\n"
      "  --no-cli         skip the `brook perf` runs\n"
      "  --clients        librdkafka,brook (default both; e.g. brook alone to profile it)\n"
      "  --tests          produce,consume (default both)\n"
      "  --consume-source librdkafka|brook: whose producer writes the consumed topic (default librdkafka when\n"
      "                   among --clients), e.g. --clients brook --consume-source librdkafka to profile Brook's\n"
      "                   consumer alone on librdkafka's batches\n"
      "  --consume-repeat N: read the consumed topic N times per client and run (default 1; each is printed,\n"
      "                   the last one counts in the table)");
}

options parse(int argc, char** argv) {
  options o;
  const fs::path here = fs::absolute(fs::path(argv[0])).parent_path();
  o.broker_bin = (here / "brook-server").string();
  o.cli_bin = (here / "brook").string();
  const char* tmp = std::getenv("TMPDIR");
  o.dir = tmp && *tmp ? tmp : "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--broker") o.broker_bin = next();
    else if (a == "--cli") o.cli_bin = next();
    else if (a == "--server-config") o.server_config = next();
    else if (a == "--bootstrap") o.bootstrap = next();
    else if (a == "--dir") o.dir = next();
    else if (a == "--messages-100b") o.small_messages = std::stol(next());
    else if (a == "--messages-1kib") o.large_messages = std::stol(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--no-cli") o.cli = false;
    else if (a == "--consume-source") {
      o.consume_source = next();
      if (o.consume_source != "librdkafka" && o.consume_source != "brook") die("unknown consume source " + o.consume_source);
    } else if (a == "--consume-repeat") o.consume_repeat = std::stoi(next());
    else if (a == "--clients" || a == "--tests") {
      auto& list = a == "--clients" ? o.clients : o.tests;
      list.clear();
      std::stringstream ss(next());
      for (std::string s; std::getline(ss, s, ',');) list.push_back(s);
    }
    else if (a == "--sizes") {
      o.sizes.clear();
      std::stringstream ss(next());
      for (std::string s; std::getline(ss, s, ',');) {
        if (s != "100B" && s != "1KiB") die("unknown size " + s);
        o.sizes.push_back(s);
      }
    } else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else {
      usage();
      die("unknown argument " + a);
    }
  }
  if (o.runs < 1 || o.small_messages < 1 || o.large_messages < 1 || o.consume_repeat < 1)
    die("counts must be positive");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  std::string templ = (o.dir / "brook-client-bench-XXXXXX").string();
  if (!::mkdtemp(templ.data())) die("mkdtemp in " + o.dir.string() + ": " + std::strerror(errno));
  const fs::path scratch = templ;
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  std::printf("librdkafka %s; %d runs; load average %.2f %.2f %.2f\n", rd_kafka_version_str(), o.runs, load[0],
              load[1], load[2]);

  broker_process broker;
  std::string bootstrap = o.bootstrap;
  if (bootstrap.empty()) {
    broker = start_broker(o, scratch);
    bootstrap = broker.bootstrap;
    std::printf("brook-server pid %d at %s\n", static_cast<int>(broker.pid), bootstrap.c_str());
  }

  struct kind {
    std::string label;
    size_t size;
    long count;
  };
  std::vector<kind> kinds;
  for (const auto& s : o.sizes)
    kinds.push_back(s == "100B" ? kind{s, 100, o.small_messages} : kind{s, 1024, o.large_messages});
  const std::vector<std::string>& clients = o.clients;
  const bool produce_tests = std::count(o.tests.begin(), o.tests.end(), "produce") > 0;
  const bool consume_tests = std::count(o.tests.begin(), o.tests.end(), "consume") > 0;
  // The consume tests read what librdkafka wrote with acks=1 (Brook's producer's topic when librdkafka is left
  // out), or what --consume-source wrote.
  const std::string consume_source =
      !o.consume_source.empty() ? o.consume_source
                                : std::count(clients.begin(), clients.end(), "librdkafka") ? "librdkafka" : "brook";
  // Topic names unique to this invocation, so that runs against one --bootstrap broker do not collide.
  const std::string prefix = "cb" + std::to_string(::getpid()) + "-";

  std::vector<figures> all;
  for (int run = 1; run <= o.runs; ++run) {
    figures f;
    std::vector<std::string> order = clients;
    if (run % 2 == 0) std::reverse(order.begin(), order.end());
    std::printf("run %d (%s first)\n", run, order.front().c_str());
    for (const auto& k : kinds) {
      for (const std::string acks : {"1", "all"}) {
        if (!produce_tests && !(consume_tests && acks == "1")) continue;
        const std::string test = "produce " + k.label + " acks=" + acks;
        std::vector<std::string> writers = order;
        if (consume_tests && acks == "1" && std::count(order.begin(), order.end(), consume_source) == 0)
          writers.push_back(consume_source);  // writes the consumed topic only
        for (const auto& client : writers) {
          // Without the produce tests, only the topic the consume test reads is written.
          if (!produce_tests && client != consume_source) continue;
          const std::string topic = prefix + std::to_string(run) + "-" + client + "-" + k.label + "-acks" + acks;
          create_topic(bootstrap, topic);
          const result r = client == "brook" ? brook_produce(bootstrap, topic, k.count, k.size, acks)
                                             : rdk_produce(bootstrap, topic, k.count, k.size, acks);
          if (produce_tests && std::count(order.begin(), order.end(), client)) record_result(f, client + " " + test, r);
        }
      }
      if (!consume_tests) continue;
      const std::string topic = prefix + std::to_string(run) + "-" + consume_source + "-" + k.label + "-acks1";
      for (const auto& client : order)
        for (int i = 0; i < o.consume_repeat; ++i) {
          const result r = client == "brook" ? brook_consume(bootstrap, topic, k.count, k.size)
                                             : rdk_consume(bootstrap, topic, k.count, k.size);
          record_result(f, client + " consume " + k.label, r);
        }
    }
    for (const auto& [name, value] : figures(f)) {
      if (name.rfind("brook ", 0) != 0) continue;
      const std::string rest = name.substr(6);
      const auto other = f.find("librdkafka " + rest);
      if (other == f.end() || other->second <= 0) continue;
      f["ratio " + rest] = value / other->second;
    }
    all.push_back(std::move(f));
  }

  // The CLI, once per size: brook perf produce (acks=1) into a new topic, then brook perf consume of it.
  figures cli;
  if (o.cli) {
    std::printf("brook perf (the CLI)\n");
    for (const auto& k : kinds) {
      const std::string topic = prefix + "cli-" + k.label;
      create_topic(bootstrap, topic);
      record_result(cli, "brook perf produce " + k.label + " acks=1",
                    cli_perf(o, bootstrap, "produce", topic, k.count, k.size));
      record_result(cli, "brook perf consume " + k.label, cli_perf(o, bootstrap, "consume", topic, k.count, k.size));
    }
  }

  stop_broker(broker);
  fs::remove_all(scratch);
  ::getloadavg(load, 3);
  std::printf("load average at the end %.2f %.2f %.2f\n", load[0], load[1], load[2]);

  std::printf("\nmedians over %d runs (MB/s = 10^6 bytes/s of payload; CPU = this process's CPU seconds per million "
              "messages; ratios brook/librdkafka taken within each run)\n",
              o.runs);
  auto stat = [&](const std::string& name) {
    std::vector<double> v;
    for (const auto& f : all)
      if (f.count(name)) v.push_back(f.at(name));
    struct s {
      double med, lo, hi;
    };
    if (v.empty()) return s{0, 0, 0};
    return s{median(v), *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
  };
  std::printf("| test | librdkafka msgs/s | brook msgs/s | brook/librdkafka msgs/s | librdkafka MB/s | brook MB/s | "
              "librdkafka CPU s/M | brook CPU s/M | brook/librdkafka CPU |\n|---|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> tests;
  for (const auto& k : kinds) {
    tests.push_back("produce " + k.label + " acks=1");
    tests.push_back("produce " + k.label + " acks=all");
    tests.push_back("consume " + k.label);
  }
  for (const auto& t : tests) {
    if (stat("librdkafka " + t + " msgs/s").med == 0 && stat("brook " + t + " msgs/s").med == 0) continue;
    const auto rm = stat("librdkafka " + t + " msgs/s"), bm = stat("brook " + t + " msgs/s");
    const auto rt = stat("ratio " + t + " msgs/s");
    const auto rb = stat("librdkafka " + t + " MB/s"), bb = stat("brook " + t + " MB/s");
    const auto rc = stat("librdkafka " + t + " CPU s/M msgs"), bc = stat("brook " + t + " CPU s/M msgs");
    const auto ct = stat("ratio " + t + " CPU s/M msgs");
    std::printf("| %s | %.0f | %.0f | %.2f (%.2f-%.2f) | %.1f | %.1f | %.3f | %.3f | %.2f (%.2f-%.2f) |\n", t.c_str(),
                rm.med, bm.med, rt.med, rt.lo, rt.hi, rb.med, bb.med, rc.med, bc.med, ct.med, ct.lo, ct.hi);
  }
  if (!cli.empty()) {
    std::printf("\nbrook perf (one run each)\n| command | msgs/s | MB/s | CPU s/M |\n|---|---|---|---|\n");
    for (const auto& k : kinds)
      for (const std::string& what : {"produce " + k.label + " acks=1", "consume " + k.label}) {
        const std::string n = "brook perf " + what;
        std::printf("| %s | %.0f | %.1f | %.3f |\n", n.c_str(), cli[n + " msgs/s"], cli[n + " MB/s"],
                    cli[n + " CPU s/M msgs"]);
      }
  }
  return 0;
}
