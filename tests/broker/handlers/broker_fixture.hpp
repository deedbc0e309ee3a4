// An in-process broker for handler tests: a real `broker::broker` on 127.0.0.1 with a free port and a
// temporary data directory, and a blocking Kafka client that speaks the generated codecs over TCP.
// Tests drive an API end to end (framing, header, decode, handler, encode) without a separate process.
// The client is the shared wire_client (tests/support/wire_client.hpp).
//
// broker_fixture owns an embedded broker (brook/embedded/broker.hpp) and with it the data directory
// (removed on destruction); restart() stops the broker cleanly and opens the same directory again on the
// same port.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "brook/embedded/broker.hpp"
#include "broker/broker.hpp"
#include "common/protocol/header.hpp"
#include "common/protocol/wire.hpp"
#include "tests/support/wire_client.hpp"

namespace brook::test {

namespace proto = common::protocol;

// The raw protocol client the handler tests have always called kafka_client.
using kafka_client = wire_client;

class broker_fixture {
 public:
  // `overrides` are "key=value" strings, applied like brook-server's --override. listeners and
  // log.dirs are set by the fixture; group.initial.rebalance.delay.ms defaults to 0.
  explicit broker_fixture(std::vector<std::string> overrides = {});
  ~broker_fixture();
  broker_fixture(const broker_fixture&) = delete;
  broker_fixture& operator=(const broker_fixture&) = delete;

  broker::broker& server() { return *broker_->native(); }
  uint16_t port() const { return broker_->port(); }
  const std::filesystem::path& data_dir() const { return broker_->data_dir(); }
  std::string bootstrap() const { return broker_->bootstrap_servers(); }

  // A new connection to the broker.
  kafka_client connect(std::string client_id = "brook-handler-test") const { return kafka_client(port(), client_id); }
  // call() on the fixture's own connection (opened on first use, reopened after a restart).
  template <class Response, class Request>
  Response call(int16_t api_key, int16_t version, const Request& request) {
    return client().template call<Response>(api_key, version, request);
  }
  kafka_client& client();

  // Stops the broker cleanly (flushing everything) and opens the same data directory again.
  void restart();
  // Stops the broker cleanly; start() opens it again.
  void stop();
  void start();

 private:
  std::unique_ptr<embedded::broker> broker_;
  std::optional<kafka_client> client_;
};

// Waits (polling, with a deadline) until `done` holds; false when the deadline passed.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    // Paced: a busy loop of requests would take the CPU from the broker it waits on.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace brook::test
