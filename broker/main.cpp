// brook-server [server.properties] [--override key=value ...]: the broker process, started the way
// kafka-server-start.sh starts Kafka. SIGINT/SIGTERM stop it cleanly (exit 0).
//
// brook-server --ephemeral [--override ...] [--exit-on-stdin-eof]: a throwaway broker for tests. Its
// data lives in a new temporary directory (under /dev/shm when there is one), removed at exit; it
// listens on 127.0.0.1 on a free port, logs to stderr, and prints exactly two lines on stdout, each
// flushed once it holds: `bootstrap.servers=127.0.0.1:PORT` once the listener accepts connections,
// then `control=http://127.0.0.1:PORT` once the control API serves. With --exit-on-stdin-eof a closed
// stdin stops it as SIGTERM does, so a test runner that dies takes its broker with it.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <csignal>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "broker/broker.hpp"
#include "broker/config/server_config.hpp"
#include "broker/control/control_server.hpp"
#include "common/os/file_io.hpp"

namespace {

// A new directory brook-XXXXXX under /dev/shm when it is a writable directory, else under the system
// temp dir ($TMPDIR, /tmp). nullopt (and `error` set) when none can be made.
std::optional<std::filesystem::path> make_temporary_dir(std::string& error) {
  std::error_code ec;
  std::filesystem::path base = "/dev/shm";
  if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK | X_OK) != 0) {
    base = std::filesystem::temp_directory_path(ec);
    if (ec) {
      error = "no temporary directory: " + ec.message();
      return std::nullopt;
    }
  }
  std::string pattern = (base / "brook-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    error = "cannot create a directory under " + base.string() + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return std::filesystem::path(pattern);
}

// Owns the --ephemeral data directory: removes it with everything in it when destroyed, which must
// be after the broker that used it is gone (declare it before the broker).
class temporary_data_dir {
 public:
  explicit temporary_data_dir(std::filesystem::path path) : path_(std::move(path)) {}
  temporary_data_dir(const temporary_data_dir&) = delete;
  temporary_data_dir& operator=(const temporary_data_dir&) = delete;
  ~temporary_data_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) spdlog::warn("could not remove {}: {}", path_.string(), ec.message());
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Reads stdin until end of file (or an error), on the io_context of the signal thread, then calls
// `closed`. A stdin that epoll cannot watch (a regular file, /dev/null) is read to its end at once.
class stdin_watch {
 public:
  stdin_watch(boost::asio::io_context& io, std::function<void()> closed)
      : in_(io), closed_(std::move(closed)) {}
  ~stdin_watch() {
    if (in_.is_open()) (void)in_.release();  // fd 0 stays open: it is not ours to close
  }
  void start() {
    boost::system::error_code ec;
    in_.assign(STDIN_FILENO, ec);
    if (ec) {
      std::array<char, 4096> buf;
      while (::read(STDIN_FILENO, buf.data(), buf.size()) > 0) {
      }
      closed_();
      return;
    }
    read_some();
  }

 private:
  void read_some() {
    in_.async_read_some(boost::asio::buffer(buf_), [this](const boost::system::error_code& ec, size_t) {
      if (ec == boost::asio::error::operation_aborted) return;
      if (ec) {
        closed_();
        return;
      }
      read_some();
    });
  }
  boost::asio::posix::stream_descriptor in_;
  std::array<char, 4096> buf_{};
  std::function<void()> closed_;
};

// One line on stdout, flushed at once (a test reads it through a pipe).
void announce(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace brook;
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S,%e] %^%l%$ %v");
  if (const char* level = std::getenv("BROOK_LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(level));

  std::vector<std::string> args(argv + 1, argv + argc);
  auto command = broker::parse_command_line(args);
  if (!command) {
    std::fprintf(stderr, "%s\n\n%s", command.err().message.c_str(), broker::command_line_usage("brook-server").c_str());
    return 2;
  }
  if (command->help) {
    std::printf("%s", broker::command_line_usage("brook-server").c_str());
    return 0;
  }
  if (command->version) {
    std::printf("brook-server %s\n", BROOK_VERSION);
    return 0;
  }

  // --ephemeral: stdout is for the announcement lines only, so the logs go to stderr.
  std::optional<temporary_data_dir> temp_dir;
  broker::property_list ephemeral_defaults;
  if (command->ephemeral) {
    auto level = spdlog::default_logger()->level();
    auto logger = spdlog::stderr_color_mt("brook");
    logger->set_level(level);
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("[%Y-%m-%d %H:%M:%S,%e] %^%l%$ %v");
    std::string error;
    auto path = make_temporary_dir(error);
    if (!path) {
      spdlog::error("refusing to start: {}", error);
      return 1;
    }
    temp_dir.emplace(*path);
    spdlog::info("ephemeral data directory {} (removed at exit)", temp_dir->path().string());
    ephemeral_defaults = broker::ephemeral_properties(temp_dir->path().string());
  }

  auto config = broker::server_config::load(*command, ephemeral_defaults);
  if (!config) {
    spdlog::error("refusing to start: {}", config.err().message);
    return 1;
  }
  for (const auto& w : config->warnings()) spdlog::warn("{}", w);

  const uint64_t files = common::os::raise_open_file_limit();
  spdlog::debug("open-file limit: {}", files);

  // Signals are waited for from the start on their own thread (asio's signal_set is the portable
  // interface), so that SIGTERM during a long recovery stops the opening instead of waiting for it.
  // The same thread watches stdin for --exit-on-stdin-eof.
  std::mutex mutex;
  std::condition_variable signalled;
  std::atomic<bool> stop_requested{false};
  auto request_stop = [&] {
    std::lock_guard lock(mutex);
    stop_requested = true;
    signalled.notify_all();
  };
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", signal);
    request_stop();
  });
  stdin_watch stdin_closed(signals_io, [&] {
    spdlog::info("stdin closed, shutting down");
    request_stop();
  });
  if (command->exit_on_stdin_eof) stdin_closed.start();
  std::thread signal_thread([&] { signals_io.run(); });
  auto finish = [&](int code) {
    signals_io.stop();
    signal_thread.join();
    return code;
  };

  auto b = broker::broker::open(std::move(*config), &stop_requested);
  if (stop_requested) {
    spdlog::info("stopped while opening the data directory");
    if (b) (*b)->wait();  // opened after all: close what it opened cleanly
    return finish(0);
  }
  if (!b) {
    spdlog::error("refusing to start: {}", b.err().message);
    return finish(1);
  }
  if (auto started = (*b)->start(); !started) {
    spdlog::error("refusing to start: {}", started.err().message);
    return finish(1);
  }
  std::unique_ptr<broker::control_server> control;  // --ephemeral only
  if (command->ephemeral) {
    // start() returned: the listener is bound and listening, so connections are accepted from here on.
    const auto& listeners = (*b)->listeners();
    if (listeners.empty()) {
      spdlog::error("refusing to start: --ephemeral needs a listener");
      (*b)->stop();
      (*b)->wait();
      return finish(1);
    }
    const auto& endpoint = listeners.front().endpoint;
    announce("bootstrap.servers=" + endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
    auto started_control = broker::control_server::start(**b, 0);
    if (!started_control) {
      spdlog::error("refusing to start: control API: {}", started_control.err().message);
      (*b)->stop();
      (*b)->wait();
      return finish(1);
    }
    control = std::move(*started_control);
    spdlog::info("control API on http://127.0.0.1:{}", control->port());
    announce("control=http://127.0.0.1:" + std::to_string(control->port()));
  }
  {
    std::unique_lock lock(mutex);
    signalled.wait(lock, [&] { return stop_requested.load(); });
  }
  control.reset();  // stops the control API before the broker it drives
  (*b)->stop();
  (*b)->wait();
  b->reset();  // destroys the broker (closing its stores) before the temporary directory goes
  return finish(0);
}
