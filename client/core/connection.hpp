// One TCP connection from the client to one broker: Kafka's framing, correlation ids, many requests
// in flight, the ApiVersions exchange that opens it, and request timeouts.
//
// Owner: the cluster (client/core/cluster.hpp), which shares it with the callers of its requests.
// Thread: every member runs on the executor given to open(), which must be single-threaded (a strand
// or a one-thread io_context); the read, write and timeout loops hold a shared_ptr to it.
// Invariants: requests are answered in the order they were written (Kafka's per-connection order), so
// `in_flight_` is a queue and a response whose correlation id is not the oldest one's is a protocol
// error that closes the connection; once closed, a connection never opens again (the cluster opens a
// new one), and every request still waiting has been failed with network_exception, or with
// request_timed_out for the one that timed out.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/core/apis.hpp"
#include "common/error.hpp"
#include "common/protocol/wire.hpp"

namespace brook::client::core {

namespace asio = boost::asio;
using common::kafka_error;
using common::result;
using bytes = std::vector<uint8_t>;

struct connection_options {
  std::string client_id = "brook";
  std::chrono::milliseconds request_timeout{30000};  // request.timeout.ms
  std::chrono::milliseconds setup_timeout{10000};    // socket.connection.setup.timeout.ms
  // The largest response frame accepted; a larger size prefix is a protocol error.
  int32_t max_response_bytes = 1 << 30;
};

struct version_range {
  int16_t min = 0;
  int16_t max = -1;
};

template <class Response>
struct versioned {
  Response body;
  int16_t version = 0;
};

// A response frame as read from the socket: the bytes after its size prefix, in one allocation that the read
// fills (never zero-filled first), the response header in front of the body. The body is parsed where it
// lies. Shared, so that a decoded response may borrow from it (a Fetch response's record sets) and whoever
// holds what it borrowed keeps it alive. Empty (no bytes) for a request without a response.
struct response_frame {
  std::shared_ptr<uint8_t[]> bytes;
  size_t size = 0;     // bytes of the frame after its size prefix
  size_t body_at = 0;  // where the body starts, after the response header
  std::span<uint8_t> body() const { return {bytes.get() + body_at, size - body_at}; }
};

// Buffers of large response frames, reused: a frame's bytes come back here when their last owner lets go of
// them (a consumed record that points into a Fetch response may be the last, on the user's thread), and the
// next large frame is read into them. A fresh large buffer costs a page fault per 4 KiB read into it (the
// allocator maps large blocks afresh and unmaps them when freed), a large part of consuming. Thread-safe.
// Owner: the connection; a buffer's deleter holds only a weak reference, so a buffer let go of after the pool
// is gone is deleted. Invariant: holds at most max_buffers free buffers, each of min_bytes or more.
class frame_pool : public std::enable_shared_from_this<frame_pool> {
 public:
  static constexpr size_t min_bytes = 128 * 1024;
  frame_pool() = default;
  ~frame_pool();
  frame_pool(const frame_pool&) = delete;
  frame_pool& operator=(const frame_pool&) = delete;
  static constexpr size_t max_buffers = 2;
  // `size` bytes, uninitialised: a free buffer of the pool's when one is large enough (and size is min_bytes or
  // more), else a new allocation.
  std::shared_ptr<uint8_t[]> get(size_t size);

 private:
  struct buffer {
    uint8_t* data;
    size_t capacity;
  };
  void put(buffer b);

  std::mutex mutex_;
  std::vector<buffer> free_;
};

// A response whose record sets borrow from its frame (call_borrowing): `frame` keeps those bytes alive.
template <class Response>
struct borrowed_response {
  Response body;
  response_frame frame;
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  // Resolves and connects (within setup_timeout), then exchanges ApiVersions. Errors:
  // network_exception (cannot resolve or connect, or closed during the exchange), request_timed_out,
  // or the error the broker answered ApiVersions with.
  static asio::awaitable<result<std::shared_ptr<connection>>> open(asio::any_io_executor ex, std::string host,
                                                                   uint16_t port, int32_t node_id,
                                                                   connection_options opts);

  connection(asio::any_io_executor ex, std::string host, uint16_t port, int32_t node_id, connection_options opts);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  int32_t node_id() const { return node_id_; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  bool is_open() const { return open_; }
  size_t in_flight() const { return in_flight_.size(); }

  // The versions the broker serves for an API; nullopt when it does not serve it.
  std::optional<version_range> broker_versions(int16_t api_key) const;
  // The highest version that the broker, the schema and [min, max] all allow; nullopt when none.
  std::optional<int16_t> pick_version(int16_t api_key, int16_t min, int16_t max) const;
  template <class Request>
  std::optional<int16_t> version_for(int16_t min = api_of<Request>::min_version,
                                     int16_t max = api_of<Request>::max_version) const {
    return pick_version(api_of<Request>::key, min, max);
  }

  // Writes one request and awaits its response frame (body() is the part after the response header). With
  // expect_response false (Produce with acks=0) it completes, with an empty frame, once written.
  // Errors: network_exception (not open, or lost before the answer), request_timed_out.
  asio::awaitable<result<response_frame>> send_raw(int16_t api_key, int16_t version, bytes body,
                                                   bool expect_response = true);

  // Encodes `request` at `version`, sends it and decodes the answer. A response that does not decode
  // closes the connection (the stream can no longer be trusted) and fails with corrupt_message.
  // size_hint: about how many bytes the encoded request takes (0: unknown); the frame's buffer is reserved
  // at that size, so that a large request (Produce) is encoded without regrowing.
  template <class Request>
  asio::awaitable<result<typename api_of<Request>::response>> call_at(const Request& request, int16_t version,
                                                                      size_t size_hint = 0) {
    using response_type = typename api_of<Request>::response;
    // The frame is built in one buffer: size, request header, then the body, encoded in place.
    common::protocol::writer w = begin_frame(api_of<Request>::key, version, size_hint);
    request.encode(w, version);
    auto frame = co_await send_frame(api_of<Request>::key, version, w);
    if (!frame) co_return frame.err();
    response_type response;
    auto reading = common::protocol::reader(frame->body());  // record sets copied out: the frame goes here
    if (auto failed = decode_body(reading, version, api_of<Request>::key, response)) co_return *failed;
    co_return response;
  }

  // As call_at, but the response's record sets borrow from its frame instead of being copied out of it
  // (Fetch): they stay valid as long as the returned frame, or a copy of its shared bytes, lives.
  template <class Request>
  asio::awaitable<result<borrowed_response<typename api_of<Request>::response>>> call_borrowing(
      const Request& request, int16_t version) {
    using response_type = typename api_of<Request>::response;
    common::protocol::writer w = begin_frame(api_of<Request>::key, version, 0);
    request.encode(w, version);
    auto frame = co_await send_frame(api_of<Request>::key, version, w);
    if (!frame) co_return frame.err();
    borrowed_response<response_type> out;
    auto reading = common::protocol::reader::borrowing(frame->body());
    if (auto failed = decode_body(reading, version, api_of<Request>::key, out.body)) co_return *failed;
    out.frame = std::move(*frame);
    co_return out;
  }

  // The same at the version pick_version chooses within [min, max]; unsupported_version when there is none.
  template <class Request>
  asio::awaitable<result<versioned<typename api_of<Request>::response>>> call(
      const Request& request, int16_t min = api_of<Request>::min_version, int16_t max = api_of<Request>::max_version) {
    using response_type = typename api_of<Request>::response;
    const auto v = pick_version(api_of<Request>::key, min, max);
    if (!v) co_return unsupported(api_of<Request>::key, api_of<Request>::name, min, max);
    auto r = co_await call_at(request, *v);
    if (!r) co_return r.err();
    co_return versioned<response_type>{std::move(*r), *v};
  }

  // Closes the socket and fails every waiting request with network_exception.
  void close();

 private:
  struct pending {
    int32_t correlation_id = 0;
    int16_t api_key = 0;
    int16_t api_version = 0;
    std::chrono::steady_clock::time_point deadline;
    asio::any_completion_handler<void(result<response_frame>)> done;
  };
  struct outgoing {
    bytes frame;
    // Set for a request without a response: completed once the frame is written.
    std::optional<asio::any_completion_handler<void(result<response_frame>)>> written;
  };

  // A writer holding a request frame's size (patched by send_frame) and header, with a new correlation id.
  common::protocol::writer begin_frame(int16_t api_key, int16_t version, size_t body_size_hint);
  // Sends a frame begun with begin_frame (the body written after the header), as send_raw does; takes the
  // writer's bytes before its first suspension (the caller's writer is left empty).
  asio::awaitable<result<response_frame>> send_frame(int16_t api_key, int16_t version, common::protocol::writer& frame,
                                            bool expect_response = true);

  asio::awaitable<result<void>> connect();
  asio::awaitable<result<void>> negotiate();
  asio::awaitable<void> read_loop(std::shared_ptr<connection> self);
  asio::awaitable<void> write_loop(std::shared_ptr<connection> self);
  asio::awaitable<void> timeout_loop(std::shared_ptr<connection> self);
  void start_loops();
  void rearm_timeout();
  void fail_all(kafka_error first_code, const std::string& why);
  void complete(asio::any_completion_handler<void(result<response_frame>)> done, result<response_frame> r);

  template <class Response>
  std::optional<common::error> decode_body(common::protocol::reader& r, int16_t version, int16_t api_key,
                                           Response& out) {
    try {
      out.decode(r, version);
      return std::nullopt;
    } catch (const common::protocol::decode_error& e) {
      return undecodable(api_key, version, e.what());
    }
  }
  common::error undecodable(int16_t api_key, int16_t version, const char* what);
  common::error unsupported(int16_t api_key, std::string_view name, int16_t min, int16_t max) const;

  asio::any_io_executor ex_;
  std::string host_;
  uint16_t port_;
  int32_t node_id_;
  connection_options opts_;
  asio::ip::tcp::socket socket_;
  // Reads a frame's body (`size` bytes) into `data`; a large one with the socket's low watermark raised.
  asio::awaitable<std::tuple<boost::system::error_code, size_t>> read_body(uint8_t* data, size_t size);
  static constexpr size_t large_read_bytes = 256 * 1024;
  int low_watermark_ = 1;  // the socket's SO_RCVLOWAT as last set
  asio::steady_timer timeout_timer_;
  asio::steady_timer write_signal_;
  bool open_ = false;
  bool loops_started_ = false;
  int32_t next_correlation_id_ = 0;
  std::deque<pending> in_flight_;
  std::deque<outgoing> write_queue_;
  // Buffers of large request frames already written, reused by begin_frame: a fresh large buffer costs a
  // page fault per 4 KiB written (the allocator maps large blocks afresh and unmaps them when freed), a large
  // part of sending big Produce requests. At most max_spare_frames, each of spare_frame_min_bytes or more.
  static constexpr size_t spare_frame_min_bytes = 128 * 1024;
  static constexpr size_t max_spare_frames = 2;
  std::vector<bytes> spare_frames_;
  std::unordered_map<int16_t, version_range> broker_versions_;
  std::shared_ptr<frame_pool> frames_ = std::make_shared<frame_pool>();
};

}  // namespace brook::client::core
