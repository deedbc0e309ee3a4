// A blocking Kafka protocol client for tests: one TCP connection to one broker (any host:port), speaking
// the generated codecs. Tests drive an API end to end (framing, header, decode, handler, encode) with it,
// against Brook's in-process broker, a brook-server process, librdkafka's mock cluster or a real Kafka.
//
// wire_client owns one socket and the io_context that runs its reads with a deadline, so that a broker
// that never answers fails the test instead of hanging it. It is used by one thread at a time. Requests
// get increasing correlation ids; every response is checked against the oldest unanswered one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/header.hpp"
#include "common/protocol/wire.hpp"

namespace brook::test {

namespace proto = common::protocol;

struct wire_client_socket;

// "host:port" split in two; nullopt when it has no port or a port out of range.
struct host_port {
  std::string host;
  uint16_t port = 0;
};
std::optional<host_port> parse_host_port(std::string_view text);
// A bootstrap list "host:port[,host:port...]" split at its commas; REQUIREs every entry to parse.
std::vector<host_port> parse_bootstrap(std::string_view list);

class wire_client {
 public:
  // Connects to 127.0.0.1:port; fails the test (REQUIRE) when the connection is refused.
  explicit wire_client(uint16_t port, std::string client_id = "brook-handler-test");
  // Connects to host:port (a name is resolved; the first address that accepts wins).
  wire_client(const std::string& host, uint16_t port, std::string client_id = "brook-handler-test");
  ~wire_client();
  wire_client(wire_client&&) noexcept;
  wire_client& operator=(wire_client&&) noexcept;

  // A connection, or nullopt when host:port does not accept one (refused, unreachable, unresolvable)
  // within `timeout`: for tests that expect a broker to be down.
  static std::optional<wire_client> try_connect(const std::string& host, uint16_t port,
                                                std::string client_id = "brook-handler-test",
                                                std::chrono::milliseconds timeout = std::chrono::seconds(5));

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
  // The next size-prefixed frame as it is (no response header: a raw SASL token after SaslHandshake
  // v0); nullopt when the connection closed or nothing arrived within `timeout`.
  std::optional<std::vector<uint8_t>> receive_frame(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends bytes as they are (a hostile or partial frame).
  void send_bytes(std::span<const uint8_t> bytes);
  void close();
  bool is_open() const { return conn_ != nullptr; }

 private:
  wire_client(std::unique_ptr<wire_client_socket> conn, std::string client_id);
  static void require_response(bool ok, int16_t api_key, int16_t version);
  static void require_consumed(size_t left, int16_t api_key, int16_t version);
  bool read_exact(uint8_t* out, size_t n, std::chrono::steady_clock::time_point deadline);

  std::unique_ptr<wire_client_socket> conn_;
  std::string client_id_;
  int32_t next_correlation_ = 1;
  std::vector<int32_t> outstanding_;  // correlation ids sent and not yet answered, in order
};

}  // namespace brook::test
