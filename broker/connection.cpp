#include "broker/connection.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "common/os/file_io.hpp"

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
constexpr int16_t produce_key = 0;
}  // namespace

connection::connection(broker& owner, asio::ip::tcp::socket socket, size_t listener_index,
                       std::shared_ptr<const security::listener_security> security)
    : owner_(owner),
      socket_(std::move(socket)),
      idle_timer_(socket_.get_executor()),
      reader_wake_(socket_.get_executor()),
      writer_wake_(socket_.get_executor()),
      peer_watch_wake_(socket_.get_executor()),
      listener_index_(listener_index),
      security_(std::move(security)) {
  boost::system::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("unknown peer") : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  state_.peer = peer_;
  last_active_ = std::chrono::steady_clock::now();
  if (security_ && security_->tls)
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *security_->tls);
  if (security_ && security_->sasl) state_.sasl = std::make_unique<security::sasl_authenticator>(security_->sasl);
}

void connection::start() {
  spawn("reader", &connection::read_requests);
  spawn("writer", &connection::write_responses);
  spawn("idle watch", &connection::watch_idle);
  spawn("peer watch", &connection::watch_peer);
}

void connection::spawn(const char* role, awaitable<void> (connection::*body)()) {
  auto self = shared_from_this();
  asio::co_spawn(
      socket_.get_executor(), [self, body]() { return ((*self).*body)(); },
      [self, role](std::exception_ptr e) {
        if (e) self->failed(role, e);
      });
}

void connection::spawn_serve(std::shared_ptr<request> req) {
  auto self = shared_from_this();
  auto on_failure = [self](std::exception_ptr e) {
    if (e) self->failed("request", e);
  };
  if (metered_by_request_quota(*req)) {
    req->meter = std::make_shared<quota::request_meter>(owner_.request_clock());
    asio::co_spawn(quota::metered_executor(socket_.get_executor(), req->meter),
                   [self, req]() { return self->serve(req); }, std::move(on_failure));
    return;
  }
  asio::co_spawn(socket_.get_executor(), [self, req]() { return self->serve(req); }, std::move(on_failure));
}

bool connection::metered_by_request_quota(const request& req) {
  if (!owner_.quota_manager().enforced(quota::quota_kind::request)) return false;
  if (req.raw_sasl_token || req.unsupported_version) return false;
  // As Kafka: authentication (served by its network layer, before and during re-authentication) and
  // cluster actions (WriteTxnMarkers) are exempt, and so is everything before a SASL client has
  // authenticated (its principal is not known yet).
  const int16_t key = req.header.api_key;
  if (key == proto::sasl_handshake::api_key || key == proto::sasl_authenticate::api_key || key == proto::write_txn_markers::api_key)
    return false;
  return !state_.sasl || state_.sasl->authenticated();
}

void connection::failed(const char* role, std::exception_ptr e) {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  // A bug: the peer must see the connection close rather than wait for an answer that never comes.
  spdlog::error("closing connection from {}: its {} failed: {}", peer_, role, what);
  close(fmt::format("{} failed", role));
  owner_.remove_connection(shared_from_this());
}

void connection::stop() {
  state_.waits.cancel_all();  // parked requests answer now
  if (queue_.empty()) close("broker shutting down");
  // Otherwise the writer closes once the requests in flight are answered; the reader starts no more.
  reader_wake_.cancel();
  writer_wake_.cancel();
}

void connection::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  spdlog::debug("closing connection from {}: {}", peer_, why);
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  state_.waits.cancel_all();
  idle_timer_.cancel();
  reader_wake_.cancel();
  writer_wake_.cancel();
  peer_watch_wake_.cancel();
}

void connection::peer_gone(const char* how) {
  if (peer_gone_ || closed_) return;
  peer_gone_ = true;
  spdlog::debug("connection from {}: {}; cancelling {} parked request(s)", peer_, how, state_.waits.size());
  state_.waits.cancel_all();
  reader_wake_.cancel();
  writer_wake_.cancel();
}

awaitable<void> connection::park_reader(std::chrono::steady_clock::time_point until) {
  reader_parked_ = true;
  ++reader_parks_;
  peer_watch_wake_.cancel();
  co_await wait_on(reader_wake_, until);
  reader_parked_ = false;
  peer_watch_cancel_.emit(asio::cancellation_type::terminal);
  peer_watch_wake_.cancel();
}

awaitable<void> connection::watch_peer() {
  // Only while the reader is parked: otherwise the reader's own read sees EOF. Readable with nothing
  // to read means EOF (or a pending error); readable with bytes waiting says nothing until the
  // reader takes them, so the watch then waits for the reader to move on.
  while (!closed_ && !peer_gone_) {
    if (!reader_parked_) {
      co_await wait_on(peer_watch_wake_);
      continue;
    }
    const uint64_t parking = reader_parks_;
    auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read,
                                            asio::bind_cancellation_slot(peer_watch_cancel_.slot(), use_tuple));
    if (closed_ || peer_gone_) break;
    if (ec == asio::error::operation_aborted) continue;  // the reader resumed
    if (!ec) {
      boost::system::error_code aec;
      const size_t waiting = socket_.available(aec);
      if (!aec && waiting > 0) {
        while (!closed_ && reader_parked_ && reader_parks_ == parking) co_await wait_on(peer_watch_wake_);
        continue;
      }
    }
    peer_gone("peer closed the connection");
  }
}

awaitable<void> connection::wait_while_throttled() {
  while (!closed_ && !peer_gone_ && !owner_.stopping() && std::chrono::steady_clock::now() < state_.throttled_until)
    co_await park_reader(state_.throttled_until);
}

awaitable<void> connection::wait_on(asio::steady_timer& timer, std::chrono::steady_clock::time_point until) {
  if (closed_) co_return;
  timer.expires_at(until);
  co_await timer.async_wait(use_tuple);  // cancelled or closed: the caller re-checks
}

awaitable<void> connection::watch_idle() {
  const auto limit = std::chrono::milliseconds(owner_.config().connections_max_idle_ms());
  while (!closed_) {
    idle_timer_.expires_at(last_active_ + limit);
    auto [ec] = co_await idle_timer_.async_wait(use_tuple);
    if (closed_) break;
    // As in Kafka, a request parked without traffic (a long poll) does not keep a connection alive.
    if (!ec && std::chrono::steady_clock::now() >= last_active_ + limit)
      close("idle longer than connections.max.idle.ms");
  }
}

awaitable<void> connection::read_requests() {
  auto self = shared_from_this();
  if (tls_ && !co_await tls_handshake()) {
    reader_done_ = true;
    writer_wake_.cancel();
    co_return;
  }
  while (!closed_ && !owner_.stopping() && !state_.close_after_response) {
    // Until the client has authenticated, one request at a time: what the next frame is (a request
    // or a raw SASL token) depends on the answer to this one.
    while (!closed_ && !peer_gone_ && state_.sasl && !state_.sasl->authenticated() && !queue_.empty())
      co_await park_reader();
    // Back-pressure: stop reading (TCP then pushes back on the client) while too much is in flight.
    while (!closed_ && !peer_gone_ && (queue_.size() >= max_in_flight || queued_bytes_ >= max_queued_bytes))
      co_await park_reader();
    if (closed_ || peer_gone_ || state_.close_after_response) break;
    co_await wait_while_throttled();
    if (closed_ || peer_gone_ || state_.close_after_response) break;
    bool eof = false;
    auto frame = co_await read_frame(eof);
    if (eof) peer_gone("peer closed the connection");
    if (!frame || closed_) break;
    // A throttle that began while the reader waited for this frame holds it until the throttle ends.
    co_await wait_while_throttled();
    last_active_ = std::chrono::steady_clock::now();
    auto req = std::make_shared<request>();
    req->charged = frame->size();
    req->frame = std::move(*frame);
    queued_bytes_ += req->charged;
    if (state_.sasl && state_.sasl->expects_raw_token()) {
      req->raw_sasl_token = true;
      queue_.push_back(req);
      ++running_;
      ++running_others_;
      spawn_serve(req);
      continue;
    }
    bool parsed = parse_header(*req);
    if (parsed && state_.sasl) {
      if (auto why = state_.sasl->refuse(req->header.api_key, req->header.api_version, last_active_,
                                           req->unsupported_version)) {
        spdlog::info("closing connection from {} ({}): {}", peer_, state_.principal, *why);
        parsed = false;
      }
    }
    if (!parsed) {
      // Answer what came before, then close.
      req->done = req->close_here = true;
      queue_.push_back(std::move(req));
      break;
    }
    // A Produce may overlap earlier Produce requests; anything else runs alone, in order.
    while (!closed_ && !peer_gone_ && !owner_.stopping() && running_ > 0 && !(req->produce && running_others_ == 0)) {
      queue_.push_back(req);  // visible to the writer and the limits while it waits its turn
      co_await park_reader();
      queue_.pop_back();
    }
    if (closed_ || peer_gone_ || owner_.stopping()) {
      queued_bytes_ -= req->charged;
      owner_.frames().give(std::move(req->frame));
      break;
    }
    queue_.push_back(req);
    ++running_;
    if (!req->produce) ++running_others_;
    // co_spawn dispatches: the request runs here, up to its first suspension, before the next frame
    // is read, so its appends reach the partition strands in request order.
    spawn_serve(req);
  }
  reader_done_ = true;
  writer_wake_.cancel();
}

bool connection::parse_header(request& req) {
  proto::reader r(req.frame);
  try {
    req.header = proto::decode_request_header(r);
  } catch (const proto::decode_error& e) {
    spdlog::warn("closing connection from {}: request header does not decode: {}", peer_, e.what());
    return false;
  }
  req.body_at = r.position();
  // Every request whose header decodes is noted, an unknown API's or version's too: a test can then
  // see what a client sent that Brook does not serve (e.g. client telemetry it was not offered).
  owner_.faults().log_request(req.header.api_key, req.header.api_version,
                              req.header.client_id ? std::string_view(*req.header.client_id) : std::string_view(),
                              req.header.correlation_id);
  req.api = find_api(req.header.api_key);
  if (!req.api) {
    spdlog::warn("closing connection from {}: unknown API key {} (correlation id {})", peer_, req.header.api_key,
                 req.header.correlation_id);
    return false;
  }
  if (req.header.api_version < req.api->min_version || req.header.api_version > req.api->max_version) {
    if (req.header.api_key != proto::api_versions_key) {
      spdlog::warn("closing connection from {}: {} v{} is not supported (v{}-{})", peer_, req.api->name,
                   req.header.api_version, req.api->min_version, req.api->max_version);
      return false;
    }
    req.unsupported_version = true;
  }
  req.produce = req.header.api_key == produce_key;
  return true;
}

awaitable<void> connection::wait_while_paused() {
  while ((owner_.faults().paused() || owner_.resetting()) && !closed_ && !owner_.stopping()) {
    auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), asio::steady_timer::time_point::max());
    if (!state_.waits.add(timer)) break;  // the connection is closing
    owner_.park_while_paused(timer);
    co_await timer->async_wait(use_tuple);  // cancelled at resume, close or stop
    owner_.unpark(timer);
    state_.waits.remove(timer);
  }
}

fault::request_faults connection::injected_faults(request& req) {
  // Only an error rule needs the request decoded: its response mirrors the request's entries, and it
  // may be limited to requests naming a topic or group.
  std::unique_ptr<fault::decoded_request> decoded;
  if (owner_.faults().wants_error_check(req.header.api_key)) {
    try {
      auto r = proto::reader::borrowing(std::span<uint8_t>(req.frame).subspan(req.body_at));
      decoded = fault::decode_request(req.header.api_key, req.header.api_version, r);
    } catch (const proto::decode_error&) {
      // Not decodable: no error rule applies; the handler meets the same bytes and closes.
    }
  }
  auto topic_of_id = [this](const common::uuid& id) -> std::optional<std::string> {
    const auto* t = owner_.topics().find(id);
    return t ? std::optional<std::string>(t->record.name) : std::nullopt;
  };
  auto faults = owner_.faults().take(req.header.api_key, decoded ? &decoded->names() : nullptr, topic_of_id);
  if (faults.error) req.body = decoded->error_response(*faults.error);
  return faults;
}

awaitable<void> connection::delay_response(std::chrono::milliseconds delay) {
  auto timer = std::make_shared<asio::steady_timer>(socket_.get_executor(), delay);
  if (!state_.waits.add(timer)) co_return;  // the connection is closing
  co_await timer->async_wait(use_tuple);
  state_.waits.remove(timer);
}

awaitable<void> connection::serve(std::shared_ptr<request> req) {
  auto self = shared_from_this();
  fault::request_faults injected;
  if (owner_.faults().paused() || owner_.resetting()) co_await wait_while_paused();
  if (owner_.faults().has_rules() && !req->unsupported_version && !req->raw_sasl_token) injected = injected_faults(*req);
  if (injected.drop) {
    spdlog::debug("closing connection from {}: a fault rule drops {} requests", peer_, req->api->name);
    close("dropped by fault injection");
    req->close_here = true;
  } else if (injected.error) {
    // Answered by the fault rule (req->body), the handler is not run.
  } else if (req->raw_sasl_token) {
    co_await serve_raw_sasl_token(*req);
  } else if (req->unsupported_version) {
    // A client newer than us: answer in v0 with UNSUPPORTED_VERSION and our range (KIP-511).
    req->body = proto::encoded_message{handlers::unsupported_api_versions_response(), {}};
  } else {
    request_context ctx{owner_, req->header, {}, {}, listener_index_, &state_, req->frame.size()};
    ctx.meter = req->meter.get();
    boost::system::error_code ec;
    ctx.local = socket_.local_endpoint(ec);
    ctx.remote = socket_.remote_endpoint(ec);
    // Record sets borrow from the frame, which lives until the end of this function.
    auto r = proto::reader::borrowing(std::span<uint8_t>(req->frame).subspan(req->body_at));
    try {
      req->body = co_await req->api->handle(ctx, r);
    } catch (const proto::decode_error& e) {
      spdlog::warn("closing connection from {}: {} v{} request does not decode: {}", peer_, req->api->name,
                   req->header.api_version, e.what());
      req->close_here = true;
    } catch (const proto::encode_error& e) {
      // A value the wire cannot carry: this request fails (the client sees this connection close).
      spdlog::error("closing connection from {}: the response to {} v{} cannot be encoded: {}", peer_, req->api->name,
                    req->header.api_version, e.what());
      req->close_here = true;
    } catch (const std::exception& e) {
      // A bug, not the client's fault; the client sees the connection close, as on a decode error.
      spdlog::error("closing connection from {}: {} v{} failed: {}", peer_, req->api->name, req->header.api_version,
                    e.what());
      req->close_here = true;
    }
  }
  if (state_.close_after_response) req->close_after = true;
  if (injected.delay.count() > 0 && !req->close_here) co_await delay_response(injected.delay);
  // The frame is no longer needed; what stays queued is the response's own bytes.
  queued_bytes_ -= req->charged;
  owner_.frames().give(std::move(req->frame));
  req->charged = req->body ? req->body->data.size() : 0;
  queued_bytes_ += req->charged;
  req->done = true;
  --running_;
  if (!req->produce) --running_others_;
  writer_wake_.cancel();
  reader_wake_.cancel();
}

awaitable<void> connection::write_responses() {
  auto self = shared_from_this();
  std::string why = "connection ended";
  for (;;) {
    if (closed_) break;
    if (queue_.empty() || !queue_.front()->done) {
      if (queue_.empty() && (reader_done_ || owner_.stopping())) {
        if (owner_.stopping()) why = "broker shutting down";
        break;
      }
      co_await wait_on(writer_wake_);
      continue;
    }
    auto req = queue_.front();
    if (req->close_here) break;
    if (req->body) {
      proto::writer head;
      head.int32(0);  // size, patched by send()
      if (!req->raw_sasl_token) proto::encode_response_header(head, req->header);
      proto::bytes head_bytes = head.take();
      if (!co_await send(head_bytes, *req->body)) break;
    }
    if (req->close_after) {
      why = "closed after its response";
      break;
    }
    queue_.pop_front();
    queued_bytes_ -= req->charged;
    last_active_ = std::chrono::steady_clock::now();
    reader_wake_.cancel();
  }
  close(why);
  owner_.remove_connection(self);
}

awaitable<std::optional<frame_bytes>> connection::read_frame(bool& eof) {
  std::array<uint8_t, 4> prefix{};
  auto ec = co_await read_exactly(asio::buffer(prefix));
  if (ec) {
    eof = ec != asio::error::operation_aborted;
    co_return std::nullopt;
  }
  const int32_t size = static_cast<int32_t>((uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) |
                                            (uint32_t{prefix[2]} << 8) | uint32_t{prefix[3]});
  const int32_t max = owner_.config().socket_request_max_bytes();
  const bool raw_token = state_.sasl && state_.sasl->expects_raw_token();
  if (state_.sasl && !state_.sasl->authenticated() &&
      size > static_cast<int32_t>(owner_.config().get_int("sasl.server.max.receive.size"))) {
    spdlog::info("Failed authentication with {} (Failing SASL authentication due to invalid receive size {})", peer_, size);
    co_return std::nullopt;
  }
  // A raw SASL token may be shorter than any request (even empty).
  if (size < (raw_token ? 0 : min_frame) || size > max) {
    spdlog::warn("closing connection from {}: request size {} is outside [{}, {}] (socket.request.max.bytes)", peer_,
                 size, min_frame, max);
    co_return std::nullopt;
  }
  frame_bytes frame = owner_.frames().take();
  while (frame.size() < static_cast<size_t>(size)) {
    const size_t have = frame.size();
    const size_t slice = std::min(read_slice, static_cast<size_t>(size) - have);
    frame.resize(have + slice);
    auto rec = co_await read_exactly(asio::buffer(frame.data() + have, slice));
    if (rec) {
      eof = rec != asio::error::operation_aborted;
      owner_.frames().give(std::move(frame));
      co_return std::nullopt;
    }
  }
  co_return frame;
}

awaitable<bool> connection::send(proto::bytes& head, const proto::encoded_message& body) {
  const auto total = static_cast<uint32_t>(head.size() - 4 + body.size());
  for (int i = 0; i < 4; ++i) head[i] = static_cast<uint8_t>(total >> (8 * (3 - i)));
  if (body.splices.empty()) co_return co_await write_all(asio::buffer(head), asio::buffer(body.data));
  // Record sets that live in segment files go straight from the file to the socket. The header and
  // the bytes before the first record set leave in one write, so that the client is not woken for a
  // segment of a few bytes.
  size_t pos = 0;
  for (const auto& [at, slice] : body.splices) {
    if (!co_await write_all(asio::buffer(head.data(), pos == 0 ? head.size() : 0),
                            asio::buffer(body.data.data() + pos, at - pos)))
      co_return false;
    pos = at;
    if (!co_await send_file_slice(slice)) co_return false;
  }
  co_return co_await write_all(asio::buffer(body.data.data() + pos, body.data.size() - pos));
}

awaitable<bool> connection::send_file_slice(const proto::file_slice& slice) {
  if (tls_) {
    // Through TLS the bytes must pass through user space: read a piece, encrypt and write it.
    std::vector<uint8_t> piece(std::min<uint64_t>(slice.length, 256 << 10));
    uint64_t offset = slice.offset;
    uint64_t left = slice.length;
    while (left > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, piece.size()));
      size_t got = 0;
      auto status = common::os::read_at(*slice.file, std::span<uint8_t>(piece.data(), want), offset, got);
      if (!status || got == 0) {
        spdlog::warn("sending records to {} failed: {}", peer_, status ? "the segment file ended early" : status.message());
        co_return false;
      }
      if (!co_await write_all(asio::buffer(piece.data(), got))) co_return false;
      offset += got;
      left -= got;
    }
    co_return true;
  }
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

awaitable<boost::system::error_code> connection::read_exactly(asio::mutable_buffer buffer) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_read(*tls_, buffer, use_tuple);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_read(socket_, buffer, use_tuple);
  co_return ec;
}

awaitable<bool> connection::write_all(asio::const_buffer first, asio::const_buffer second) {
  std::array<asio::const_buffer, 2> bufs{first, second};
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, bufs, use_tuple);
    co_return !ec;
  }
  auto [ec, n] = co_await asio::async_write(socket_, bufs, use_tuple);
  co_return !ec;
}

awaitable<bool> connection::tls_handshake() {
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) {
    // Kafka's words for a failed TLS handshake, which is a failed authentication.
    if (!closed_) spdlog::info("Failed authentication with {} (SSL handshake failed: {})", peer_, ec.message());
    close("TLS handshake failed");
    co_return false;
  }
  X509* certificate = SSL_get1_peer_certificate(tls_->native_handle());
  if (certificate) {
    const std::string subject = security::certificate_subject(certificate);
    X509_free(certificate);
    auto name = security_->principal_mapper->name_of(subject);
    if (!name) {
      spdlog::info("Failed authentication with {} (no ssl.principal.mapping.rules rule applies to the certificate "
                   "subject {})",
                   peer_, subject);
      close("no principal for the client certificate");
      co_return false;
    }
    state_.principal = "User:" + *name;
  }
  last_active_ = std::chrono::steady_clock::now();
  co_return true;
}

awaitable<void> connection::serve_raw_sasl_token(request& req) {
  auto answer = state_.sasl->authenticate(std::span<const uint8_t>(req.frame), -1, std::chrono::steady_clock::now());
  if (answer.error != common::kafka_error::none) {
    // A raw exchange has no room for an error: the connection closes, after Kafka's delay.
    spdlog::info("Failed authentication with {} ({})", peer_, answer.message);
    co_await delay_response(std::chrono::milliseconds(owner_.config().get_int("connection.failed.authentication.delay.ms")));
    req.close_here = true;
    close("authentication failed");
    co_return;
  }
  if (answer.authenticated) state_.principal = *state_.sasl->principal();
  req.body = proto::encoded_message{proto::bytes(answer.token.begin(), answer.token.end()), {}};
}

}  // namespace brook::broker
