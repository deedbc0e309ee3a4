#include "broker_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <random>

#include "broker/config/server_config.hpp"

namespace brook::test {

namespace asio = boost::asio;

// The socket and the io_context that runs its operations with a deadline (run_for), so that a broker
// that never answers fails the test instead of hanging it.
struct kafka_client_socket {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
};

namespace {

std::filesystem::path fresh_dir() {
  std::random_device rd;
  auto p = std::filesystem::temp_directory_path() /
           ("brook-handler-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace

kafka_client::kafka_client(uint16_t port, std::string client_id) : client_id_(std::move(client_id)) {
  auto s = std::make_unique<kafka_client_socket>();
  boost::system::error_code ec;
  s->socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  REQUIRE_FALSE(ec);
  s->socket.set_option(asio::ip::tcp::no_delay(true), ec);
  conn_ = std::move(s);
}

kafka_client::~kafka_client() { close(); }

kafka_client::kafka_client(kafka_client&&) noexcept = default;

kafka_client& kafka_client::operator=(kafka_client&& o) noexcept {
  if (this != &o) {
    close();
    conn_ = std::move(o.conn_);
    client_id_ = std::move(o.client_id_);
    next_correlation_ = o.next_correlation_;
    outstanding_ = std::move(o.outstanding_);
  }
  return *this;
}

void kafka_client::close() {
  if (!conn_) return;
  boost::system::error_code ec;
  conn_->socket.close(ec);
  conn_.reset();
}

void kafka_client::send_bytes(std::span<const uint8_t> bytes) {
  REQUIRE(conn_);
  boost::system::error_code ec;
  asio::write(conn_->socket, asio::buffer(bytes.data(), bytes.size()), ec);
  // A broker that already closed the connection shows up when the response is read.
}

int32_t kafka_client::send_raw(int16_t api_key, int16_t version, std::span<const uint8_t> body) {
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
std::optional<boost::system::error_code> read_by(kafka_client_socket& s, std::chrono::steady_clock::time_point deadline,
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

bool kafka_client::read_exact(uint8_t* out, size_t n, std::chrono::steady_clock::time_point deadline) {
  auto& s = *conn_;
  auto ec = read_by(s, deadline, [&](auto handler) { asio::async_read(s.socket, asio::buffer(out, n), handler); });
  return ec && !*ec;
}

std::optional<std::vector<uint8_t>> kafka_client::receive_body(int16_t api_key, int16_t version,
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

std::optional<std::vector<uint8_t>> kafka_client::call_raw(int16_t api_key, int16_t version,
                                                           std::span<const uint8_t> body,
                                                           std::chrono::milliseconds timeout) {
  send_raw(api_key, version, body);
  return receive_body(api_key, version, timeout);
}

bool kafka_client::closed_by_peer(std::chrono::milliseconds timeout) {
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

void kafka_client::require_response(bool ok, int16_t api_key, int16_t version) {
  INFO("API key " << api_key << " v" << version);
  REQUIRE(ok);
}

void kafka_client::require_consumed(size_t left, int16_t api_key, int16_t version) {
  INFO("API key " << api_key << " v" << version << ": bytes left after the response body");
  REQUIRE(left == 0);
}

broker_fixture::broker_fixture(std::vector<std::string> overrides)
    : overrides_(std::move(overrides)), dir_(fresh_dir()) {
  start();
}

broker_fixture::~broker_fixture() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void broker_fixture::start() {
  std::vector<std::string> args{"--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
                                "log.dirs=" + dir_.string(), "--override", "group.initial.rebalance.delay.ms=0"};
  for (const auto& o : overrides_) {
    args.push_back("--override");
    args.push_back(o);
  }
  auto command = broker::parse_command_line(args);
  REQUIRE(command);
  auto config = broker::server_config::load(*command);
  INFO((config ? std::string() : config.err().message));
  REQUIRE(config);
  auto opened = broker::broker::open(std::move(*config));
  INFO((opened ? std::string() : opened.err().message));
  REQUIRE(opened);
  broker_ = std::move(*opened);
  auto started = broker_->start();
  INFO((started ? std::string() : started.err().message));
  REQUIRE(started);
  port_ = broker_->listeners().front().endpoint.port();
}

void broker_fixture::stop() {
  client_.reset();
  if (!broker_) return;
  broker_->stop();
  broker_->wait();
  broker_.reset();
}

void broker_fixture::restart() {
  stop();
  start();
}

kafka_client& broker_fixture::client() {
  if (!client_) client_.emplace(port_);
  return *client_;
}

}  // namespace brook::test
