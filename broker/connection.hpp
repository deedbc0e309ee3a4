// One client connection: reads size-prefixed request frames, serves them one at a time in arrival
// order (so pipelined requests are answered in order, as Kafka does) and writes the responses.
//
// Owned by shared_ptr: the broker's connection set and the connection's own coroutines. Runs only on
// the network thread. A frame whose size prefix is negative or above socket.request.max.bytes is
// refused before anything is allocated; a header or body that does not decode, an unknown API key
// or an unsupported version closes this connection only (logged once). Bodies are read as they
// arrive, so a peer that announces a large frame and stalls holds only what it has sent.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "common/protocol/wire.hpp"

namespace brook::broker {

class broker;

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(broker& owner, boost::asio::ip::tcp::socket socket, size_t listener_index);

  // Spawns the connection's coroutines on the network thread.
  void start();
  // Closes the connection once the request in flight (if any) has been answered.
  void stop();

 private:
  boost::asio::awaitable<void> serve();
  boost::asio::awaitable<void> watch_idle();
  // Reads one frame body into frame_; false when the connection should close.
  boost::asio::awaitable<bool> read_frame();
  boost::asio::awaitable<bool> handle_frame();
  boost::asio::awaitable<bool> send(common::protocol::bytes& head, const common::protocol::encoded_message& body);
  boost::asio::awaitable<bool> send_file_slice(const common::protocol::file_slice& slice);
  void close(const std::string& why);

  broker& owner_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer idle_timer_;
  size_t listener_index_;
  std::string peer_;
  common::protocol::bytes frame_;
  std::chrono::steady_clock::time_point last_active_;
  bool idle_ = true;  // waiting for the next request, not serving one
  bool closed_ = false;
};

}  // namespace brook::broker
