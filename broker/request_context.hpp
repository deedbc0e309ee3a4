// What a handler sees of the request it serves: the broker, the request header and the connection's
// endpoints (Metadata advertises the address the client reached us on when none is configured).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "common/protocol/header.hpp"

namespace brook::broker {

class broker;

struct request_context {
  broker& owner;
  const common::protocol::request_header& header;
  boost::asio::ip::tcp::endpoint local;
  boost::asio::ip::tcp::endpoint remote;
  size_t listener_index = 0;

  int16_t version() const { return header.api_version; }
};

}  // namespace brook::broker
