// One client connection: reads size-prefixed request frames, serves them and writes the responses
// strictly in request order.
//
// Owned by shared_ptr: the broker's connection set and the connection's own coroutines (the reader,
// the writer, one per request being served). Runs only on the network thread.
//
// Pipelining: the reader goes on reading while earlier requests wait (for a flush, a long poll, a
// group join), up to max_in_flight requests or max_queued_bytes of requests and unsent responses;
// past that it stops reading, so TCP pushes back on the client. A Produce request starts while
// earlier Produce requests are still being served; every other request starts only once all earlier
// requests are done (and a Produce waits for an earlier non-Produce), so a request never runs
// against state an earlier request of the same connection has yet to change, as on Kafka, which
// serves a connection's requests one at a time. Partitions see appends in request order: a request
// starts on the network thread and posts its appends to the partition strands before its first
// suspension, before the next request is even decoded (the idempotent producer's sequence checks
// rely on this).
//
// Frames: a size prefix that is negative or above socket.request.max.bytes is refused before anything
// is allocated; bodies are read as they arrive, so a peer that announces a large frame and stalls
// holds only what it has sent. Bodies are decoded with a borrowing reader: record sets point into the
// frame, which therefore lives until the request has been served. A header or body that does not decode, an unknown API key or an
// unsupported version closes this connection only (logged once), after the responses to the requests
// before it have been sent. Bytes after a request body are ignored (logged once at debug), as by Kafka.
//
// Security (broker/security/listener_security.hpp): on an SSL or SASL_SSL listener the reader first
// completes the TLS handshake (a client certificate names the principal) and every byte then goes
// through TLS; records from segment files are then read and written rather than sent with sendfile.
// On a SASL listener, until the client has authenticated, requests are read one at a time (the next
// frame is read only once the previous request is answered, since after a SaslHandshake v0 it is a
// raw SASL token and not a request), at most sasl.server.max.receive.size bytes each, and only
// ApiVersions, SaslHandshake and SaslAuthenticate are served (anything else closes the connection, as
// does a session past its end, KIP-368).
//
// Lifetime: the peer closing is noticed even while the reader is not reading (it watches the socket
// while parked), and then the requests' waits (long polls) are cancelled at once, so that a parked
// request never outlives its client; the responses already made are still written. stop() cancels
// every wait too. An exception escaping any of the connection's coroutines is logged and closes this
// connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "broker/fault/fault_injector.hpp"
#include "broker/frame_pool.hpp"
#include "broker/quota/request_meter.hpp"
#include "broker/request_context.hpp"
#include "broker/security/listener_security.hpp"
#include "common/protocol/header.hpp"
#include "common/protocol/wire.hpp"

namespace brook::broker {

class broker;
struct api_entry;

class connection : public std::enable_shared_from_this<connection> {
 public:
  // Requests served or waiting for their response to be sent, per connection (clients keep up to
  // max.in.flight.requests.per.connection outstanding; 5 with idempotence).
  static constexpr size_t max_in_flight = 16;
  // Bytes of request frames being served plus responses not yet sent (records sent from segment
  // files do not count). One frame may exceed it: the limit stops further reads.
  static constexpr size_t max_queued_bytes = 64 << 20;

  connection(broker& owner, boost::asio::ip::tcp::socket socket, size_t listener_index,
             std::shared_ptr<const security::listener_security> security);

  // Spawns the connection's coroutines on the network thread.
  void start();
  // Closes the connection once the requests in flight (if any) have been answered.
  void stop();
  // Closes the connection now; requests in flight are not answered (fault injection).
  void abort(const std::string& why) { close(why); }

 private:
  // One request from the moment its frame is read until its response is sent.
  struct request {
    frame_bytes frame;   // from the broker's frame_pool, returned once served
    size_t body_at = 0;  // where the body starts in frame
    common::protocol::request_header header;
    const api_entry* api = nullptr;
    bool unsupported_version = false;  // ApiVersions newer than ours: answered in v0 (KIP-511)
    bool produce = false;
    std::optional<common::protocol::encoded_message> body;  // nullopt: no response (acks=0)
    size_t charged = 0;       // bytes counted in queued_bytes_
    bool done = false;        // served: body is final
    bool close_here = false;  // does not decode: close once the responses before it are sent
    bool close_after = false;  // close once this request's response is sent (failed authentication)
    bool raw_sasl_token = false;  // a SASL token after SaslHandshake v0: no header, answered without one
    std::shared_ptr<quota::request_meter> meter;  // its handling time, when a request quota applies
  };
  // Whether a request_percentage quota meters this request (exemptions as Kafka's).
  bool metered_by_request_quota(const request& req);

  boost::asio::awaitable<void> read_requests();
  boost::asio::awaitable<void> write_responses();
  boost::asio::awaitable<void> serve(std::shared_ptr<request> req);
  // Waits while the broker is paused (fault injection, broker/fault/fault_injector.hpp) or being reset.
  boost::asio::awaitable<void> wait_while_paused();
  // Fault injection: what the rules say for this request (an error response in req.body, a drop, a delay).
  fault::request_faults injected_faults(request& req);
  // Holds a response back for `delay` (cut short when the connection closes or the broker stops).
  boost::asio::awaitable<void> delay_response(std::chrono::milliseconds delay);
  boost::asio::awaitable<void> watch_idle();
  // While the reader is parked, watches the socket for the peer closing (EOF or an error).
  boost::asio::awaitable<void> watch_peer();
  // The reader waits on reader_wake_ (or until `until`) while letting watch_peer() look at the socket meanwhile.
  boost::asio::awaitable<void> park_reader(
      std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max());
  // Waits while a quota throttle mutes the connection (connection_state::throttled_until).
  boost::asio::awaitable<void> wait_while_throttled();
  // The peer has gone: cancel the requests' waits; the writer sends what is done, then closes.
  void peer_gone(const char* how);
  // Spawns one of the connection's coroutines; an exception escaping it is logged and closes us.
  void spawn(const char* role, boost::asio::awaitable<void> (connection::*body)());
  void spawn_serve(std::shared_ptr<request> req);
  void failed(const char* role, std::exception_ptr e);
  // Reads one frame body; nullopt when the connection should close (eof: the peer closed or failed).
  boost::asio::awaitable<std::optional<frame_bytes>> read_frame(bool& eof);
  // Decodes the header and finds the handler; false (logged) when the connection should close.
  bool parse_header(request& req);
  boost::asio::awaitable<bool> send(common::protocol::bytes& head, const common::protocol::encoded_message& body);
  // TLS listeners: the handshake, then the principal of the client's certificate; false: closed.
  boost::asio::awaitable<bool> tls_handshake();
  // The SASL token of a raw frame (after SaslHandshake v0): the mechanism's answer in req.body.
  boost::asio::awaitable<void> serve_raw_sasl_token(request& req);
  // Reads exactly buffer.size() bytes, through TLS when the listener has it.
  boost::asio::awaitable<boost::system::error_code> read_exactly(boost::asio::mutable_buffer buffer);
  // Writes every byte of the buffers, through TLS when the listener has it; false on an error.
  boost::asio::awaitable<bool> write_all(boost::asio::const_buffer first, boost::asio::const_buffer second = {});
  boost::asio::awaitable<bool> send_file_slice(const common::protocol::file_slice& slice);
  // Waits until `timer` is cancelled (a state change the waiter re-checks) or the connection closes.
  boost::asio::awaitable<void> wait_on(
      boost::asio::steady_timer& timer,
      std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max());
  void close(const std::string& why);

  broker& owner_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer reader_wake_;  // cancelled when a request finishes or a response is sent
  boost::asio::steady_timer writer_wake_;  // cancelled when a request finishes or the reader ends
  boost::asio::steady_timer peer_watch_wake_;  // cancelled when the reader parks or resumes
  boost::asio::cancellation_signal peer_watch_cancel_;  // ends watch_peer's socket wait when the reader resumes
  size_t listener_index_;
  std::shared_ptr<const security::listener_security> security_;
  // SSL and SASL_SSL listeners: the TLS stream over socket_ (which still carries the waits and closing).
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  std::string peer_;
  connection_state state_;  // shared with the requests being served
  std::chrono::steady_clock::time_point last_active_;
  // Requests in arrival order: the front is the next response to send.
  std::deque<std::shared_ptr<request>> queue_;
  size_t queued_bytes_ = 0;
  size_t running_ = 0;          // requests being served
  size_t running_others_ = 0;   // of which not Produce
  bool reader_done_ = false;
  bool reader_parked_ = false;
  uint64_t reader_parks_ = 0;  // how many times the reader parked: tells watch_peer a new parking
  bool peer_gone_ = false;
  bool closed_ = false;
};

}  // namespace brook::broker
