// brook-server [server.properties] [--override key=value ...]: the broker process, started the way
// kafka-server-start.sh starts Kafka. SIGINT/SIGTERM stop it cleanly (exit 0).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <csignal>
#include <cstdio>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "broker/config/server_config.hpp"
#include "common/os/file_io.hpp"

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
  auto config = broker::server_config::load(*command);
  if (!config) {
    spdlog::error("refusing to start: {}", config.err().message);
    return 1;
  }
  for (const auto& w : config->warnings()) spdlog::warn("{}", w);

  const uint64_t files = common::os::raise_open_file_limit();
  spdlog::debug("open-file limit: {}", files);

  // Signals are waited for from the start on their own thread (asio's signal_set is the portable
  // interface), so that SIGTERM during a long recovery stops the opening instead of waiting for it.
  std::mutex mutex;
  std::condition_variable signalled;
  std::atomic<bool> stop_requested{false};
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}, shutting down", signal);
    std::lock_guard lock(mutex);
    stop_requested = true;
    signalled.notify_all();
  });
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
  {
    std::unique_lock lock(mutex);
    signalled.wait(lock, [&] { return stop_requested.load(); });
  }
  (*b)->stop();
  (*b)->wait();
  return finish(0);
}
