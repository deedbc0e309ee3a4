// A scripted Kafka broker on loopback for the client's connection tests: it accepts connections on the
// test's io_context and answers each request with whatever the test's handler returns.
// Owner: one test case; runs on that test's single-threaded io_context.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/protocol/header.hpp"
#include "common/protocol/wire.hpp"

namespace brook::test {

namespace asio = boost::asio;
namespace proto = brook::common::protocol;

class fake_broker {
 public:
  struct reply {
    proto::bytes body;
    std::optional<int32_t> correlation_id;  // to answer with a wrong one
  };
  // nullopt: do not answer (the request hangs); a reply with close_after closes the socket after it.
  using handler = std::function<std::optional<reply>(const proto::request_header&, proto::reader& body)>;

  fake_broker(asio::io_context& io, handler h);
  uint16_t port() const { return port_; }
  // Closes every accepted connection (the client sees EOF).
  void drop_connections();
  int accepted() const { return accepted_; }

  // An ApiVersions v0-v3 answer listing the schema's APIs at versions [0, max] (capped per API by `caps`).
  static proto::bytes api_versions_body(int16_t version, const std::vector<std::pair<int16_t, int16_t>>& caps = {});

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<asio::ip::tcp::socket> s);

  asio::io_context& io_;
  handler handler_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int accepted_ = 0;
  std::vector<std::weak_ptr<asio::ip::tcp::socket>> sockets_;
};

// Runs `task` on `io` until it finishes; fails the test when it has not within `limit` of wall time, and
// rethrows what it threw.
void run_until_done(asio::io_context& io, asio::awaitable<void> task,
                    std::chrono::steady_clock::duration limit = std::chrono::seconds(20));

// A message body encoded at `version`, for a scripted answer.
template <class Message>
proto::bytes encoded(const Message& message, int16_t version) {
  proto::writer w;
  message.encode(w, version);
  return w.take();
}

}  // namespace brook::test
