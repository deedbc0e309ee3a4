#include "tests/support/wire_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

namespace brook::test {

namespace asio = boost::asio;

// The socket and the io_context that runs its operations with a deadline (run_for), so that a broker
// that never answers fails the test instead of hanging it.
struct wire_client_socket {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
};


namespace {

// Resolves host:port and connects to the first address that accepts, within `timeout`.
std::unique_ptr<wire_client_socket> open_connection(const std::string& host, uint16_t port,
                                                    std::chrono::milliseconds timeout, std::string& failure) {
  auto s = std::make_unique<wire_client_socket>();
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(s->io);
  auto endpoints = resolver.resolve(host, std::to_string(port), asio::ip::resolver_base::numeric_service, ec);
  if (ec) {
    failure = "cannot resolve " + host + ": " + ec.message();
    return nullptr;
  }
  std::optional<boost::system::error_code> connected;
  asio::async_connect(s->socket, endpoints,
                      [&](const boost::system::error_code& e, const asio::ip::tcp::endpoint&) { connected = e; });
  s->io.run_for(timeout);
  if (!connected) {
    s->socket.close(ec);
    s->io.restart();
    s->io.run();
    failure = "no connection to " + host + ":" + std::to_string(port) + " within " + std::to_string(timeout.count()) +
              " ms";
    return nullptr;
  }
  if (*connected) {
    failure = "cannot connect to " + host + ":" + std::to_string(port) + ": " + connected->message();
    return nullptr;
  }
  s->socket.set_option(asio::ip::tcp::no_delay(true), ec);
  return s;
}

}  // namespace

std::optional<host_port> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  uint32_t port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<uint32_t>(c - '0');
    if (port > 65535) return std::nullopt;
  }
  if (port == 0) return std::nullopt;
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host_port{std::move(host), static_cast<uint16_t>(port)};
}

std::vector<host_port> parse_bootstrap(std::string_view list) {
  std::vector<host_port> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto entry = list.substr(0, comma);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (!entry.empty()) {
      auto parsed = parse_host_port(entry);
      INFO("bootstrap entry '" << std::string(entry) << "'");
      REQUIRE(parsed);
      out.push_back(std::move(*parsed));
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

wire_client::wire_client(std::unique_ptr<wire_client_socket> conn, std::string client_id)
    : conn_(std::move(conn)), client_id_(std::move(client_id)) {}

wire_client::wire_client(uint16_t port, std::string client_id) : wire_client("127.0.0.1", port, std::move(client_id)) {}

wire_client::wire_client(const std::string& host, uint16_t port, std::string client_id)
    : client_id_(std::move(client_id)) {
  std::string failure;
  conn_ = open_connection(host, port, std::chrono::seconds(10), failure);
  INFO(failure);
  REQUIRE(conn_);
}

std::optional<wire_client> wire_client::try_connect(const std::string& host, uint16_t port, std::string client_id,
                                                    std::chrono::milliseconds timeout) {
  std::string failure;
  auto conn = open_connection(host, port, timeout, failure);
  if (!conn) return std::nullopt;
  return wire_client(std::move(conn), std::move(client_id));
}

wire_client::~wire_client() { close(); }

wire_client::wire_client(wire_client&&) noexcept = default;

wire_client& wire_client::operator=(wire_client&& o) noexcept {
  if (this != &o) {
    close();
    conn_ = std::move(o.conn_);
    client_id_ = std::move(o.client_id_);
    next_correlation_ = o.next_correlation_;
    outstanding_ = std::move(o.outstanding_);
  }
  return *this;
}

void wire_client::close() {
  if (!conn_) return;
  boost::system::error_code ec;
  conn_->socket.close(ec);
  conn_.reset();
}

void wire_client::send_bytes(std::span<const uint8_t> bytes) {
  REQUIRE(conn_);
  boost::system::error_code ec;
  asio::write(conn_->socket, asio::buffer(bytes.data(), bytes.size()), ec);
  // A broker that already closed the connection shows up when the response is read.
}

int32_t wire_client::send_raw(int16_t api_key, int16_t version, std::span<const uint8_t> body) {
  proto::writer w;
  w.int32(0);  // size, patched below
  const int32_t correlation = next_correlation_++;
  proto::encode_request_header(w, proto::request_header{api_key, version, correlation, client_id_});
  proto::bytes frame = w.take();
  frame.insert(frame.end(), body.begin(), body.end());
  const auto size = static_cast<uint32_t>(frame.size() - 4);
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<uint8_t>(size >> (8 * (3 - i)));
  send_bytes(frame);
  outstanding_.push_back(correlation);
  return correlation;
}

namespace {
// Starts one read with `start(handler)` and runs the client's io_context until it completes or the
// deadline passes; nullopt on timeout (the read is then cancelled and its handler run, so that the
// buffer may go away).
template <class Start>
std::optional<boost::system::error_code> read_by(wire_client_socket& s, std::chrono::steady_clock::time_point deadline,
                                                 Start start) {
  std::optional<boost::system::error_code> result;
  start([&](const boost::system::error_code& ec, size_t) { result = ec; });
  s.io.restart();
  const auto now = std::chrono::steady_clock::now();
  s.io.run_for(deadline > now ? deadline - now : std::chrono::steady_clock::duration::zero());
  if (!result) {
    boost::system::error_code ec;
    s.socket.cancel(ec);
    s.io.restart();
    s.io.run();
    return std::nullopt;
  }
  return result;
}
}  // namespace

bool wire_client::read_exact(uint8_t* out, size_t n, std::chrono::steady_clock::time_point deadline) {
  auto& s = *conn_;
  auto ec = read_by(s, deadline, [&](auto handler) { asio::async_read(s.socket, asio::buffer(out, n), handler); });
  return ec && !*ec;
}

std::optional<std::vector<uint8_t>> wire_client::receive_body(int16_t api_key, int16_t version,
                                                               std::chrono::milliseconds timeout) {
  REQUIRE(conn_);
  REQUIRE_FALSE(outstanding_.empty());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  uint8_t prefix[4];
  if (!read_exact(prefix, 4, deadline)) return std::nullopt;
  const uint32_t size = (uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) | (uint32_t{prefix[2]} << 8) |
                        uint32_t{prefix[3]};
  std::vector<uint8_t> frame(size);
  if (!read_exact(frame.data(), size, deadline)) return std::nullopt;
  proto::reader r(frame);
  const int32_t correlation = r.int32();
  REQUIRE(correlation == outstanding_.front());
  outstanding_.erase(outstanding_.begin());
  if (proto::response_header_version(api_key, version) >= 1) {
    // Tagged fields of a flexible response header: none are defined; skip them.
    const uint32_t tags = r.uvarint();
    for (uint32_t i = 0; i < tags; ++i) {
      r.uvarint();
      const uint32_t len = r.uvarint();
      for (uint32_t j = 0; j < len; ++j) r.int8();
    }
  }
  return std::vector<uint8_t>(frame.begin() + static_cast<std::ptrdiff_t>(r.position()), frame.end());
}

std::optional<std::vector<uint8_t>> wire_client::receive_frame(std::chrono::milliseconds timeout) {
  REQUIRE(conn_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  uint8_t prefix[4];
  if (!read_exact(prefix, 4, deadline)) return std::nullopt;
  const uint32_t size = (uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) | (uint32_t{prefix[2]} << 8) |
                        uint32_t{prefix[3]};
  std::vector<uint8_t> frame(size);
  if (!read_exact(frame.data(), size, deadline)) return std::nullopt;
  return frame;
}

std::optional<std::vector<uint8_t>> wire_client::call_raw(int16_t api_key, int16_t version,
                                                           std::span<const uint8_t> body,
                                                           std::chrono::milliseconds timeout) {
  send_raw(api_key, version, body);
  return receive_body(api_key, version, timeout);
}

bool wire_client::closed_by_peer(std::chrono::milliseconds timeout) {
  REQUIRE(conn_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  uint8_t sink[4096];
  auto& s = *conn_;
  for (;;) {
    auto ec = read_by(s, deadline, [&](auto handler) { s.socket.async_read_some(asio::buffer(sink), handler); });
    if (!ec) return false;  // still open at the deadline
    if (*ec) return true;   // EOF or reset
  }
}

void wire_client::require_response(bool ok, int16_t api_key, int16_t version) {
  INFO("API key " << api_key << " v" << version);
  REQUIRE(ok);
}

void wire_client::require_consumed(size_t left, int16_t api_key, int16_t version) {
  INFO("API key " << api_key << " v" << version << ": bytes left after the response body");
  REQUIRE(left == 0);
}

}  // namespace brook::test
