#include "broker_fixture.hpp"

#include <catch2/catch.hpp>
#include <random>

#include "broker/config/server_config.hpp"

namespace brook::test {

namespace {

std::filesystem::path fresh_dir() {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path() /
           ("brook-handler-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace

broker_fixture::broker_fixture(std::vector<std::string> overrides)
    : overrides_(std::move(overrides)), dir_(fresh_dir()) {
  start();
}

broker_fixture::~broker_fixture() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void broker_fixture::start() {
  std::vector<std::string> args{"--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                                "log.dirs=" + dir_.string(), "--override", "group.initial.rebalance.delay.ms=0"};
  for (const auto& o : overrides_) {
    args.push_back("--override");
    args.push_back(o);
  }
  auto command = broker::parse_command_line(args);
  REQUIRE(command);
  auto config = broker::server_config::load(*command);
  INFO((config ? std::string() : config.err().message));
  REQUIRE(config);
  auto opened = broker::broker::open(std::move(*config));
  INFO((opened ? std::string() : opened.err().message));
  REQUIRE(opened);
  broker_ = std::move(*opened);
  auto started = broker_->start();
  INFO((started ? std::string() : started.err().message));
  REQUIRE(started);
  port_ = broker_->listeners().front().endpoint.port();
}

void broker_fixture::stop() {
  client_.reset();
  if (!broker_) return;
  broker_->stop();
  broker_->wait();
  broker_.reset();
}

void broker_fixture::restart() {
  stop();
  start();
}

kafka_client& broker_fixture::client() {
  if (!client_) client_.emplace(port_);
  return *client_;
}

}  // namespace brook::test
