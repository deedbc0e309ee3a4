// An in-process broker for handler tests: a real `broker::broker` on 127.0.0.1 with a free port and a
// temporary data directory, and a blocking Kafka client that speaks the generated codecs over TCP.
// Tests drive an API end to end (framing, header, decode, handler, encode) without a separate process.
//
// broker_fixture owns the broker and its data directory (removed on destruction); restart() stops the
// broker cleanly and opens the same directory again on a new free port. kafka_client owns one socket;
// requests it sends get increasing correlation ids, and every response is checked against its id.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "common/protocol/header.hpp"
#include "common/protocol/wire.hpp"

namespace brook::test {

namespace proto = common::protocol;

struct kafka_client_socket;

class kafka_client {
 public:
  explicit kafka_client(uint16_t port, std::string client_id = "brook-handler-test");
  ~kafka_client();
  kafka_client(kafka_client&&) noexcept;
  kafka_client& operator=(kafka_client&&) noexcept;

  // Encodes `request` at `version`, sends it and decodes the response. Fails the test (REQUIRE) when
  // the broker closes the connection or the response does not decode completely.
  template <class Response, class Request>
  Response call(int16_t api_key, int16_t version, const Request& request) {
    proto::writer w;
    request.encode(w, version);
    auto body = call_raw(api_key, version, w.take());
    require_response(body.has_value(), api_key, version);
    proto::reader r(*body);
    Response response;
    response.decode(r, version);
    require_consumed(r.remaining(), api_key, version);
    return response;
  }

  // Sends a raw request body and returns the raw response body (after the response header);
  // nullopt when the broker closed the connection instead of answering.
  std::optional<std::vector<uint8_t>> call_raw(int16_t api_key, int16_t version, std::span<const uint8_t> body,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The two halves of call_raw, for pipelining or for requests that get no answer (acks=0).
  int32_t send_raw(int16_t api_key, int16_t version, std::span<const uint8_t> body);
  // The next response body (its header checked against the oldest unanswered request); nullopt when
  // the connection closed or nothing arrived within `timeout`.
  std::optional<std::vector<uint8_t>> receive_body(int16_t api_key, int16_t version,
                                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the broker closes the connection within `timeout` (bytes it sends meanwhile are skipped).
  bool closed_by_peer(std::chrono::milliseconds timeout);
  // Sends bytes as they are (a hostile or partial frame).
  void send_bytes(std::span<const uint8_t> bytes);
  void close();

 private:
  static void require_response(bool ok, int16_t api_key, int16_t version);
  static void require_consumed(size_t left, int16_t api_key, int16_t version);
  bool read_exact(uint8_t* out, size_t n, std::chrono::steady_clock::time_point deadline);

  std::unique_ptr<kafka_client_socket> conn_;
  std::string client_id_;
  int32_t next_correlation_ = 1;
  std::vector<int32_t> outstanding_;  // correlation ids sent and not yet answered, in order
};

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
