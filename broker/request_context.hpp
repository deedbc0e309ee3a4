// What a handler sees of the request it serves: the broker, the request header and the connection's
// endpoints (Metadata advertises the address the client reached us on when none is configured) and
// the connection's shared state.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "broker/security/sasl_authenticator.hpp"
#include "broker/wait_set.hpp"

#include "common/protocol/header.hpp"

namespace brook::broker {

class broker;
namespace quota {
class request_meter;
}

// What the requests of one connection share: owned by the connection, network thread only.
struct connection_state {
  std::string peer;
  // The authenticated principal ("User:alice"; "User:ANONYMOUS" on a listener without SASL or client
  // certificates), as Kafka's KafkaPrincipal prints it. Set once the connection has authenticated.
  std::string principal = "User:ANONYMOUS";
  bool trailing_bytes_logged = false;  // bytes after a request body: logged once per connection
  // A quota throttle mutes the connection until then: no further request is read or served (KIP-219).
  std::chrono::steady_clock::time_point throttled_until{};
  wait_set waits;                      // parked requests, cancelled when the connection closes
  // SASL listeners only: the authentication's state; requests other than ApiVersions, SaslHandshake and
  // SaslAuthenticate are served only once it says so.
  std::unique_ptr<security::sasl_authenticator> sasl;
  // Set by a handler: the connection closes once this request's response is sent (a failed
  // authentication), and no further request is read.
  bool close_after_response = false;
};

struct request_context {
  broker& owner;
  const common::protocol::request_header& header;
  boost::asio::ip::tcp::endpoint local;
  boost::asio::ip::tcp::endpoint remote;
  size_t listener_index = 0;
  connection_state* conn = nullptr;  // the connection the request arrived on; outlives the request
  size_t request_size = 0;           // header and body bytes, as producer_byte_rate counts them
  // Set when a request_percentage quota applies to this request: its handling time so far
  // (broker/quota/request_meter.hpp). Recorded once against the quota (broker/quota/throttle.hpp).
  quota::request_meter* meter = nullptr;
  bool request_time_recorded = false;
  int32_t request_throttle_ms = 0;  // what that recording answered

  int16_t version() const { return header.api_version; }
};

}  // namespace brook::broker
