// brook_log_bench: throughput of brook::log::partition_log against the raw system calls it is built on, on the
// same disk and in the same process, so that the ratios hold even on a busy machine.
//
// Phases, each repeated --runs times with the order of the two sides alternating between runs:
//   append  partition_log::append of --chunk-kib of pre-built v2 batches (--batch-kib each) per call, no fsync,
//           vs write(2) of the same bytes to a file in the same directory;
//   commit  append one chunk then flush() (group commit: fdatasync) per call,
//           vs write(2) + fdatasync(2) per chunk;
//   read    partition_log::read + file_region::load_into of the whole log, --chunk-kib at most per call, into
//           one reused buffer, vs read(2) of the raw file in chunks of the same size into one reused buffer;
//           page cache warm (the files were just
//           written), or cold with --drop-caches (sync, then `3 > /proc/sys/vm/drop_caches` before each side).
// Prints one line per side and run, then the medians: MB/s (10^6 bytes per second) and log/raw ratios, by
// wall time and by CPU time (user + system of this process): on a machine shared with other work, time slices
// lost to other processes and page-cache writeback stalls move the wall-time ratio, much less the CPU one.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/record_batch.hpp"
#include "log/partition_log.hpp"

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct options {
  fs::path dir;                  // parent of the scratch directory
  uint64_t append_mib = 512;     // bytes per run of the append and read phases
  uint64_t commit_mib = 64;      // bytes per run of the commit phase
  uint64_t chunk_kib = 1024;     // bytes per append call, per commit, per read call
  uint64_t batch_kib = 16;       // size of each pre-built batch
  uint64_t value_bytes = 100;    // record value size inside the batches
  int runs = 5;
  bool drop_caches = false;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "brook_log_bench: %s\n", what.c_str());
  std::exit(1);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// User + system CPU seconds used by this process so far.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One chunk of back-to-back uncompressed v2 batches of about batch_kib each, as a producer would send them.
std::vector<uint8_t> build_chunk(const options& o) {
  std::vector<uint8_t> chunk;
  std::string value(o.value_bytes, 'v');
  uint64_t chunk_bytes = o.chunk_kib * 1024;
  uint64_t batch_bytes = o.batch_kib * 1024;
  int64_t ts = 1700000000000;
  while (true) {
    brook::common::record_batch_builder builder;
    // 61 bytes of batch header; each record adds the value plus about 10 bytes of framing.
    while ((builder.record_count() + 1) * (o.value_bytes + 12) + 61 <= batch_bytes)
      builder.add(std::nullopt, value, ts++);
    if (builder.record_count() == 0) builder.add(std::nullopt, value, ts++);
    auto batch = builder.build();
    if (chunk.size() + batch.size() > chunk_bytes && !chunk.empty()) break;
    chunk.insert(chunk.end(), batch.begin(), batch.end());
  }
  return chunk;
}

void drop_page_cache() {
  ::sync();
  std::ofstream f("/proc/sys/vm/drop_caches");
  f << "3\n";
  if (!f) die("cannot write /proc/sys/vm/drop_caches (needs root)");
}

int open_or_die(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + p.string() + ": " + std::strerror(errno));
  return fd;
}

void write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die(std::string("write: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

std::unique_ptr<brook::log::partition_log> open_log(const fs::path& dir) {
  fs::create_directories(dir);
  auto log = brook::log::partition_log::open(dir, brook::log::log_config{}, nullptr, nullptr, false);
  if (!log) die("open log " + dir.string() + ": " + log.err().message);
  return std::move(*log);
}

// Appends `calls` chunks; with `sync`, flushes after each one. Returns seconds.
double log_write(brook::log::partition_log& log, std::vector<uint8_t>& chunk, uint64_t calls, bool sync) {
  auto start = clock_type::now();
  for (uint64_t i = 0; i < calls; ++i) {
    // append rewrites only the base offsets in place, so the same chunk can be appended again.
    auto r = log.append(chunk);
    if (!r) die("append: " + r.err().message);
    if (sync) {
      if (auto f = log.flush(); !f) die("flush: " + f.err().message);
    }
  }
  return seconds_since(start);
}

double raw_write(const fs::path& file, const std::vector<uint8_t>& chunk, uint64_t calls, bool sync) {
  auto start = clock_type::now();
  int fd = open_or_die(file, O_WRONLY | O_CREAT | O_TRUNC);
  for (uint64_t i = 0; i < calls; ++i) {
    write_all(fd, chunk.data(), chunk.size());
    if (sync && ::fdatasync(fd) != 0) die(std::string("fdatasync: ") + std::strerror(errno));
  }
  ::close(fd);
  return seconds_since(start);
}

// Reads the whole log as a fetch would: read() of at most chunk bytes at a time, then the region's bytes into
// one buffer reused across calls (as the raw side reuses its buffer).
double log_read(const brook::log::partition_log& log, uint64_t chunk_bytes, uint64_t expect_bytes) {
  std::vector<uint8_t> buf(chunk_bytes);
  auto start = clock_type::now();
  int64_t offset = log.log_start_offset();
  uint64_t total = 0;
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, chunk_bytes);
    if (!r) die("read: " + r.err().message);
    if (r->region.length > buf.size()) buf.resize(r->region.length);  // a first batch above chunk_bytes
    if (auto loaded = r->region.load_into(buf); !loaded) die("load: " + loaded.err().message);
    total += r->region.length;
    offset = r->region.next_offset;
  }
  double s = seconds_since(start);
  if (total != expect_bytes) die("log read " + std::to_string(total) + " bytes, expected " + std::to_string(expect_bytes));
  return s;
}

double raw_read(const fs::path& file, uint64_t chunk_bytes, uint64_t expect_bytes) {
  std::vector<uint8_t> buf(chunk_bytes);
  auto start = clock_type::now();
  int fd = open_or_die(file, O_RDONLY);
  uint64_t total = 0;
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      die(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  double s = seconds_since(start);
  if (total != expect_bytes) die("raw read " + std::to_string(total) + " bytes, expected " + std::to_string(expect_bytes));
  return s;
}

struct phase_results {
  std::vector<double> log_mbps, raw_mbps, ratio, cpu_ratio;
};

// Wall seconds of one side (returned by `side`) and the CPU seconds it used.
struct side_time {
  double wall = 0, cpu = 0;
};
template <class F>
side_time timed(F&& side) {
  double c0 = cpu_seconds();
  double wall = side();
  return {wall, cpu_seconds() - c0};
}

void print_run(const char* phase, int run, const char* side, double bytes, double secs) {
  std::printf("%-7s run %d %-4s %9.1f MB/s  (%.0f bytes in %.3f s)\n", phase, run, side, bytes / secs / 1e6, bytes,
              secs);
  std::fflush(stdout);
}

void usage() {
  std::puts(
      "usage: brook_log_bench [--dir DIR] [--append-mib N] [--commit-mib N] [--chunk-kib N] [--batch-kib N]\n"
      "                       [--value-bytes N] [--runs N] [--drop-caches]\n"
      "  --dir DIR     parent of the scratch directory (default: $TMPDIR or /tmp); removed at exit");
}

options parse(int argc, char** argv) {
  options o;
  const char* tmp = std::getenv("TMPDIR");
  o.dir = tmp && *tmp ? tmp : "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--dir") o.dir = next();
    else if (a == "--append-mib") o.append_mib = std::stoull(next());
    else if (a == "--commit-mib") o.commit_mib = std::stoull(next());
    else if (a == "--chunk-kib") o.chunk_kib = std::stoull(next());
    else if (a == "--batch-kib") o.batch_kib = std::stoull(next());
    else if (a == "--value-bytes") o.value_bytes = std::stoull(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--drop-caches") o.drop_caches = true;
    else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else {
      usage();
      die("unknown argument " + a);
    }
  }
  if (o.runs < 1 || o.chunk_kib == 0 || o.batch_kib == 0) die("runs, chunk and batch sizes must be positive");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  options o = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::string templ = (o.dir / "brook-log-bench-XXXXXX").string();
  if (!::mkdtemp(templ.data())) die("mkdtemp in " + o.dir.string() + ": " + std::strerror(errno));
  fs::path scratch = templ;

  std::vector<uint8_t> chunk = build_chunk(o);
  const uint64_t append_calls = std::max<uint64_t>(1, o.append_mib * 1024 * 1024 / chunk.size());
  const uint64_t commit_calls = std::max<uint64_t>(1, o.commit_mib * 1024 * 1024 / chunk.size());
  const double append_bytes = static_cast<double>(append_calls * chunk.size());
  const double commit_bytes = static_cast<double>(commit_calls * chunk.size());
  size_t batches = 0;
  for (size_t pos = 0; pos < chunk.size();) {
    pos += *brook::common::record_batch_view::peek_size(std::span<const uint8_t>(chunk).subspan(pos));
    ++batches;
  }
  std::printf("scratch dir %s\n", scratch.c_str());
  std::printf("chunk %zu bytes = %zu batches of ~%zu bytes (%llu-byte values); append/read %llu chunks, commit %llu chunks; "
              "%d runs; read cache %s\n",
              chunk.size(), batches, chunk.size() / batches, static_cast<unsigned long long>(o.value_bytes),
              static_cast<unsigned long long>(append_calls), static_cast<unsigned long long>(commit_calls), o.runs,
              o.drop_caches ? "cold (drop_caches)" : "warm");

  std::map<std::string, phase_results> results;
  auto record = [&](const char* phase, int run, double bytes, side_time log_t, side_time raw_t) {
    auto& r = results[phase];
    r.log_mbps.push_back(bytes / log_t.wall / 1e6);
    r.raw_mbps.push_back(bytes / raw_t.wall / 1e6);
    r.ratio.push_back(raw_t.wall / log_t.wall);
    double cpu_ratio = log_t.cpu > 0 ? raw_t.cpu / log_t.cpu : 0;
    r.cpu_ratio.push_back(cpu_ratio);
    std::printf("%-7s run %d ratio log/raw %.3f (cpu time %.3f: log %.3f s, raw %.3f s)\n", phase, run,
                raw_t.wall / log_t.wall, cpu_ratio, log_t.cpu, raw_t.cpu);
  };

  for (int run = 1; run <= o.runs; ++run) {
    bool log_first = run % 2 == 1;
    fs::path log_dir = scratch / ("log-" + std::to_string(run));
    fs::path raw_file = scratch / ("raw-" + std::to_string(run) + ".bin");
    auto log = open_log(log_dir);

    // append (no fsync)
    side_time log_s, raw_s;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == log_first) {
        log_s = timed([&] { return log_write(*log, chunk, append_calls, false); });
        print_run("append", run, "log", append_bytes, log_s.wall);
      } else {
        raw_s = timed([&] { return raw_write(raw_file, chunk, append_calls, false); });
        print_run("append", run, "raw", append_bytes, raw_s.wall);
      }
    }
    record("append", run, append_bytes, log_s, raw_s);

    // read the whole log back vs the raw file of the same size
    uint64_t log_size = log->size_bytes();
    for (int side = 0; side < 2; ++side) {
      if (o.drop_caches) drop_page_cache();
      if ((side == 0) == log_first) {
        log_s = timed([&] { return log_read(*log, o.chunk_kib * 1024, log_size); });
        print_run("read", run, "log", static_cast<double>(log_size), log_s.wall);
      } else {
        raw_s = timed([&] { return raw_read(raw_file, o.chunk_kib * 1024, log_size); });
        print_run("read", run, "raw", static_cast<double>(log_size), raw_s.wall);
      }
    }
    record("read", run, static_cast<double>(log_size), log_s, raw_s);
    if (auto c = log->close(); !c) die("close: " + c.err().message);
    log.reset();
    fs::remove_all(log_dir);
    fs::remove(raw_file);

    // group commit: one chunk then fdatasync per call
    auto sync_log = open_log(log_dir);
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == log_first) {
        log_s = timed([&] { return log_write(*sync_log, chunk, commit_calls, true); });
        print_run("commit", run, "log", commit_bytes, log_s.wall);
      } else {
        raw_s = timed([&] { return raw_write(raw_file, chunk, commit_calls, true); });
        print_run("commit", run, "raw", commit_bytes, raw_s.wall);
      }
    }
    record("commit", run, commit_bytes, log_s, raw_s);
    sync_log.reset();
    fs::remove_all(log_dir);
    fs::remove(raw_file);
  }
  fs::remove_all(scratch);

  std::printf("\nmedians over %d runs (MB/s = 10^6 bytes/s; ratio = raw time / log time, per run)\n", o.runs);
  std::printf("%-7s %10s %10s %8s %8s %8s %10s %8s %8s\n", "phase", "log MB/s", "raw MB/s", "ratio", "min", "max",
              "cpu ratio", "min", "max");
  for (const char* phase : {"append", "commit", "read"}) {
    auto& r = results[phase];
    std::printf("%-7s %10.1f %10.1f %8.3f %8.3f %8.3f %10.3f %8.3f %8.3f\n", phase, median(r.log_mbps),
                median(r.raw_mbps), median(r.ratio), *std::min_element(r.ratio.begin(), r.ratio.end()),
                *std::max_element(r.ratio.begin(), r.ratio.end()), median(r.cpu_ratio),
                *std::min_element(r.cpu_ratio.begin(), r.cpu_ratio.end()),
                *std::max_element(r.cpu_ratio.begin(), r.cpu_ratio.end()));
  }
  return 0;
}
