#include "broker/connection.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "common/os/file_io.hpp"
#include "common/protocol/header.hpp"

namespace brook::broker {

namespace asio = boost::asio;
namespace proto = common::protocol;
using asio::awaitable;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Frames are read in slices of this size so that memory follows what actually arrived.
constexpr size_t read_slice = 1 << 20;
// A request frame holds at least api_key, api_version and correlation_id.
constexpr int32_t min_frame = 8;
}  // namespace

connection::connection(broker& owner, asio::ip::tcp::socket socket, size_t listener_index)
    : owner_(owner), socket_(std::move(socket)), idle_timer_(socket_.get_executor()), listener_index_(listener_index) {
  boost::system::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("unknown peer") : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  last_active_ = std::chrono::steady_clock::now();
}

void connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self]() { return self->serve(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->watch_idle(); }, asio::detached);
}

void connection::stop() {
  if (idle_) close("broker shutting down");
  // Otherwise serve() notices owner_.stopping() once the request in flight is answered.
}

void connection::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  spdlog::debug("closing connection from {}: {}", peer_, why);
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  idle_timer_.cancel();
}

awaitable<void> connection::watch_idle() {
  const auto limit = std::chrono::milliseconds(owner_.config().connections_max_idle_ms());
  while (!closed_) {
    idle_timer_.expires_at(last_active_ + limit);
    auto [ec] = co_await idle_timer_.async_wait(use_tuple);
    if (closed_) break;
    if (!ec && idle_ && std::chrono::steady_clock::now() >= last_active_ + limit)
      close("idle longer than connections.max.idle.ms");
  }
}

awaitable<void> connection::serve() {
  auto self = shared_from_this();
  while (!closed_ && !owner_.stopping()) {
    idle_ = true;
    if (!co_await read_frame()) break;
    idle_ = false;
    last_active_ = std::chrono::steady_clock::now();
    if (!co_await handle_frame()) break;
    last_active_ = std::chrono::steady_clock::now();
  }
  close(owner_.stopping() ? "broker shutting down" : "connection ended");
  owner_.remove_connection(self);
}

awaitable<bool> connection::read_frame() {
  std::array<uint8_t, 4> prefix{};
  auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(prefix), use_tuple);
  if (ec) co_return false;
  const int32_t size = static_cast<int32_t>((uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) |
                                            (uint32_t{prefix[2]} << 8) | uint32_t{prefix[3]});
  const int32_t max = owner_.config().socket_request_max_bytes();
  if (size < min_frame || size > max) {
    spdlog::warn("closing connection from {}: request size {} is outside [{}, {}] (socket.request.max.bytes)", peer_,
                 size, min_frame, max);
    co_return false;
  }
  frame_.clear();
  while (frame_.size() < static_cast<size_t>(size)) {
    const size_t have = frame_.size();
    const size_t slice = std::min(read_slice, static_cast<size_t>(size) - have);
    frame_.resize(have + slice);
    auto [rec, got] = co_await asio::async_read(socket_, asio::buffer(frame_.data() + have, slice), use_tuple);
    if (rec) co_return false;
  }
  co_return true;
}

awaitable<bool> connection::handle_frame() {
  proto::reader r(frame_);
  proto::request_header header;
  try {
    header = proto::decode_request_header(r);
  } catch (const proto::decode_error& e) {
    spdlog::warn("closing connection from {}: request header does not decode: {}", peer_, e.what());
    co_return false;
  }
  const api_entry* api = find_api(header.api_key);
  if (!api) {
    spdlog::warn("closing connection from {}: unknown API key {} (correlation id {})", peer_, header.api_key,
                 header.correlation_id);
    co_return false;
  }
  proto::writer head;
  head.int32(0);  // size, patched below
  proto::encode_response_header(head, header);

  std::optional<proto::encoded_message> body;
  if (header.api_version < api->min_version || header.api_version > api->max_version) {
    if (header.api_key != proto::api_versions_key) {
      spdlog::warn("closing connection from {}: {} v{} is not supported (v{}-{})", peer_, api->name,
                   header.api_version, api->min_version, api->max_version);
      co_return false;
    }
    // A client newer than us: answer in v0 with UNSUPPORTED_VERSION and our range (KIP-511).
    body = proto::encoded_message{handlers::unsupported_api_versions_response(), {}};
  } else {
    request_context ctx{owner_, header, {}, {}, listener_index_};
    boost::system::error_code ec;
    ctx.local = socket_.local_endpoint(ec);
    ctx.remote = socket_.remote_endpoint(ec);
    try {
      body = co_await api->handle(ctx, r);
    } catch (const proto::decode_error& e) {
      spdlog::warn("closing connection from {}: {} v{} request does not decode: {}", peer_, api->name,
                   header.api_version, e.what());
      co_return false;
    }
  }
  if (frame_.capacity() > 4 * read_slice) proto::bytes().swap(frame_);  // don't keep a huge buffer
  if (!body) co_return true;  // no response expected (acks=0)
  proto::bytes head_bytes = head.take();
  co_return co_await send(head_bytes, *body);
}

awaitable<bool> connection::send(proto::bytes& head, const proto::encoded_message& body) {
  const auto total = static_cast<uint32_t>(head.size() - 4 + body.size());
  for (int i = 0; i < 4; ++i) head[i] = static_cast<uint8_t>(total >> (8 * (3 - i)));
  if (body.splices.empty()) {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(body.data)};
    auto [ec, n] = co_await asio::async_write(socket_, bufs, use_tuple);
    co_return !ec;
  }
  // Record sets that live in segment files go straight from the file to the socket.
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(head), use_tuple);
  if (ec) co_return false;
  size_t pos = 0;
  for (const auto& [at, slice] : body.splices) {
    auto [wec, written] = co_await asio::async_write(socket_, asio::buffer(body.data.data() + pos, at - pos), use_tuple);
    if (wec) co_return false;
    pos = at;
    if (!co_await send_file_slice(slice)) co_return false;
  }
  auto [tec, tail] = co_await asio::async_write(socket_, asio::buffer(body.data.data() + pos, body.data.size() - pos),
                                                use_tuple);
  co_return !tec;
}

awaitable<bool> connection::send_file_slice(const proto::file_slice& slice) {
  boost::system::error_code ec;
  socket_.native_non_blocking(true, ec);
  if (ec) co_return false;
  uint64_t offset = slice.offset;
  uint64_t left = slice.length;
  while (left > 0) {
    size_t sent = 0;
    auto status = common::os::send_file(socket_.native_handle(), *slice.file, offset, left, sent);
    if (!status) {
      spdlog::warn("sending records to {} failed: {}", peer_, status.message());
      co_return false;
    }
    offset += sent;
    left -= sent;
    if (left > 0 && sent == 0) {  // the socket buffer is full: wait until it drains
      auto [wec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, use_tuple);
      if (wec) co_return false;
    }
  }
  co_return true;
}

}  // namespace brook::broker
