#include "brook/embedded/broker.hpp"

#include <stdlib.h>
#include <cstdlib>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <chrono>
#include <exception>
#include <fmt/format.h>
#include <future>
#include <spdlog/spdlog.h>
#include <system_error>

#include "broker/broker.hpp"
#include "broker/config/server_config.hpp"
#include "broker/topic_admin.hpp"
#include "common/os/file_io.hpp"

namespace brook::embedded {

namespace asio = boost::asio;
using common::kafka_error;

namespace {

// A fresh directory under /dev/shm (memory: fsync costs nothing) when there is one, else under the
// system's temporary directory.
common::result<std::filesystem::path> make_temporary_dir() {
  std::error_code ec;
  std::filesystem::path base = "/dev/shm";
  if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0)
    base = std::filesystem::temp_directory_path(ec);
  if (ec) return common::error{kafka_error::kafka_storage_error, "no temporary directory: " + ec.message()};
  std::string pattern = (base / "brook-embedded-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    return common::error{kafka_error::kafka_storage_error,
                         fmt::format("cannot create a directory in {}: {}", base.string(), std::strerror(errno))};
  return std::filesystem::path(pattern);
}

template <class T>
asio::awaitable<void> deliver(asio::awaitable<common::result<T>> work, std::shared_ptr<std::promise<common::result<T>>> done) {
  done->set_value(co_await std::move(work));
}

// Runs a coroutine on the broker's network thread and waits for its result.
template <class T>
common::result<T> run_on_network(brook::broker::broker& b, asio::awaitable<common::result<T>> work) {
  auto done = std::make_shared<std::promise<common::result<T>>>();
  auto outcome = done->get_future();
  asio::co_spawn(b.io(), deliver<T>(std::move(work), done), [done](std::exception_ptr e) {
    if (!e) return;
    std::string what = "failed with an exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    done->set_value(common::error{kafka_error::unknown_server_error, what});
  });
  return outcome.get();
}

asio::awaitable<common::result<common::uuid>> create_on_network(brook::broker::broker& b, brook::broker::new_topic t) {
  const int64_t partitions = brook::broker::resolved_partition_count(b, t.partitions);
  if (auto ok = brook::broker::check_partitions_per_request(partitions); !ok) co_return ok.err();
  auto created = co_await brook::broker::create_topic(b, t, false);
  if (!created) co_return created.err();
  co_return created->id;
}

}  // namespace

broker::broker(options opts, std::filesystem::path dir, bool temporary)
    : options_(std::move(opts)), data_dir_(std::move(dir)), temporary_dir_(temporary), port_(options_.port) {}

common::result<std::unique_ptr<broker>> broker::start(options opts) {
  // Brokers with many partitions need descriptors, as brook-server does (process-wide, raised once).
  static const uint64_t raised = common::os::raise_open_file_limit();
  (void)raised;
  std::filesystem::path dir = opts.data_dir;
  const bool temporary = dir.empty();
  if (temporary) {
    auto made = make_temporary_dir();
    if (!made) return made.err();
    dir = *made;
  }
  std::unique_ptr<broker> b(new broker(std::move(opts), std::move(dir), temporary));
  std::lock_guard lock(b->mutex_);
  if (auto opened = b->open_locked(); !opened) return opened.err();  // the destructor removes a temporary dir
  return b;
}

namespace {
std::mutex shared_mutex;
broker* shared_instance = nullptr;  // owned; deleted by stop_shared() at exit

void stop_shared() {
  std::lock_guard lock(shared_mutex);
  delete shared_instance;
  shared_instance = nullptr;
}
}  // namespace

common::result<broker*> broker::shared() {
  std::lock_guard lock(shared_mutex);
  if (!shared_instance) {
    auto started = start();
    if (!started) return started.err();
    shared_instance = started->release();
    // Registered after the start, so it runs at exit before the destructors of the statics the start
    // brought into being (the logger, RocksDB's environment), which the stopping broker still uses.
    std::atexit(stop_shared);
  }
  return shared_instance;
}

broker::~broker() {
  std::lock_guard lock(mutex_);
  stop_locked();
  if (temporary_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
    if (ec) spdlog::warn("could not remove {}: {}", data_dir_.string(), ec.message());
  }
}

common::result<void> broker::open_locked() {
  std::vector<std::string> args{"--override", fmt::format("listeners=PLAINTEXT://127.0.0.1:{}", port_),
                                "--override", "log.dirs=" + data_dir_.string(),
                                "--override", "group.initial.rebalance.delay.ms=0"};
  for (const auto& o : options_.overrides) {
    args.push_back("--override");
    args.push_back(o);
  }
  auto command = brook::broker::parse_command_line(args);
  if (!command) return command.err();
  auto config = brook::broker::server_config::load(*command);
  if (!config) return config.err();
  for (const auto& w : config->warnings()) spdlog::warn("{}", w);
  auto opened = brook::broker::broker::open(std::move(*config));
  if (!opened) return opened.err();
  if (auto started = (*opened)->start(); !started) return started.err();
  broker_ = std::move(*opened);
  if (!broker_->listeners().empty()) port_ = broker_->listeners().front().endpoint.port();
  return {};
}

void broker::stop_locked() {
  if (!broker_) return;
  broker_->stop();
  broker_->wait();
  broker_.reset();
}

std::string broker::bootstrap_servers() const { return fmt::format("127.0.0.1:{}", port_); }

bool broker::running() const {
  std::lock_guard lock(mutex_);
  return broker_ != nullptr;
}

brook::broker::broker* broker::native() {
  std::lock_guard lock(mutex_);
  return broker_.get();
}

common::result<common::uuid> broker::create_topic(const std::string& name, int32_t partitions,
                                                  const std::map<std::string, std::string>& configs) {
  std::lock_guard lock(mutex_);
  if (!broker_) return common::error{kafka_error::broker_not_available, "the embedded broker is stopped"};
  brook::broker::new_topic t;
  t.name = name;
  t.partitions = partitions;
  t.configs = brook::broker::topic_overrides(configs.begin(), configs.end());
  return run_on_network<common::uuid>(*broker_, create_on_network(*broker_, std::move(t)));
}

common::result<void> broker::reset() {
  std::lock_guard lock(mutex_);
  if (!broker_) return common::error{kafka_error::broker_not_available, "the embedded broker is stopped"};
  return broker_->reset();
}

common::result<void> broker::stop() {
  std::lock_guard lock(mutex_);
  stop_locked();
  return {};
}

common::result<void> broker::restart() {
  std::lock_guard lock(mutex_);
  stop_locked();
  return open_locked();
}

common::result<void> broker::crash() {
  std::lock_guard lock(mutex_);
  if (broker_) {
    auto extents = broker_->halt();
    broker_.reset();  // closes descriptors and the store; nothing is flushed
    if (auto cut = log::cut_to_durable(extents); !cut) return cut.err();
  }
  return open_locked();
}

}  // namespace brook::embedded
