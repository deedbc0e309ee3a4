// The control HTTP API of one broker, for test harnesses in any language: a Boost.Beast HTTP/1.1
// server on 127.0.0.1 answering JSON, which drives the broker's fault injector (fault rules, pause,
// the request log), creates topics through the broker's own creation path, closes client connections
// and resets the broker. Routes, bodies and answers: COMMON "control HTTP API" (README, "Testing
// against Brook"); errors are 4xx with {"error": "..."} naming the problem.
//
// Owner: whoever starts it (brook-server --ephemeral, an embedding program); it must be stopped (or
// destroyed) before the broker is. Threads: its own thread runs its own io_context (accepting and every
// HTTP connection); work that touches broker state (topic creation, closing connections, reset) is
// handed to the broker's network thread and awaited here with a deadline, so the network thread never
// waits for this server. Requests are served one at a time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "common/error.hpp"

namespace brook::broker {
class broker;
}

namespace brook::broker::control {

// One answer of the API: an HTTP status and a JSON body.
struct http_answer {
  unsigned status = 200;
  std::string body;  // JSON
};

class control_server {
 public:
  // Listens on 127.0.0.1:port (0: a free port) and starts the server's thread.
  static common::result<std::unique_ptr<control_server>> start(broker& b, uint16_t port);
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  uint16_t port() const { return port_; }
  // Stops accepting, ends every HTTP connection and joins the thread. Idempotent; any thread but the
  // server's own.
  void stop();

  // Answers one request (method, target, body): the routing, callable without HTTP (tests). Runs on the
  // server's thread when it serves HTTP.
  http_answer answer(const std::string& method, const std::string& target, const std::string& body);

 private:
  explicit control_server(broker& b);
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  broker& broker_;
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread thread_;
  bool stopped_ = false;
  // The server's thread only: open HTTP connections (closed by stop(), so that its thread ends).
  std::set<boost::asio::ip::tcp::socket*> open_;
  bool closing_ = false;
};

}  // namespace brook::broker::control

namespace brook::broker {
using control::control_server;
}  // namespace brook::broker
