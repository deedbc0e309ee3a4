// An in-process broker for handler tests: a real `broker::broker` on 127.0.0.1 with a free port and a
// temporary data directory, and a blocking Kafka client that speaks the generated codecs over TCP.
// Tests drive an API end to end (framing, header, decode, handler, encode) without a separate process.
// The client is the shared wire_client (tests/support/wire_client.hpp).
//
// broker_fixture owns the broker and its data directory (removed on destruction); restart() stops the
// broker cleanly and opens the same directory again on a new free port.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

  broker::broker& server() { return *broker_; }
  uint16_t port() const { return port_; }
  const std::filesystem::path& data_dir() const { return dir_; }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }

  // A new connection to the broker.
  kafka_client connect(std::string client_id = "brook-handler-test") const { return kafka_client(port_, client_id); }
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
  std::vector<std::string> overrides_;
  std::filesystem::path dir_;
  std::unique_ptr<broker::broker> broker_;
  std::optional<kafka_client> client_;
  uint16_t port_ = 0;
};

}  // namespace brook::test
