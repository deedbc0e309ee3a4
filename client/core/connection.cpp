#include "client/core/connection.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/protocol/header.hpp"
#include "common/protocol/messages/catalog.hpp"

#ifndef BROOK_VERSION
#define BROOK_VERSION "0"
#endif

namespace brook::client::core {

namespace proto = common::protocol;
using asio::awaitable;
using asio::use_awaitable;
using clock = std::chrono::steady_clock;

namespace {
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

// Waits for a handler-based completion that something else in this connection will invoke.
template <class Init>
awaitable<result<response_frame>> wait_for(Init&& init) {
  co_return co_await asio::async_initiate<decltype(use_awaitable), void(result<response_frame>)>(
      std::forward<Init>(init), use_awaitable);
}
}  // namespace

std::shared_ptr<uint8_t[]> frame_pool::get(size_t size) {
  if (size < min_bytes) return std::make_shared_for_overwrite<uint8_t[]>(size);
  buffer b{nullptr, 0};
  {
    std::lock_guard lock(mutex_);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->capacity < size) continue;
      b = *it;
      free_.erase(it);
      break;
    }
  }
  if (!b.data) {
    // Rounded up, so that the buffer fits the next frames of about this size when it comes back.
    const size_t capacity = (size + min_bytes - 1) / min_bytes * min_bytes;
    b = buffer{new uint8_t[capacity], capacity};  // uninitialised
  }
  // The deleter hands the buffer back to this pool while it lives.
  return std::shared_ptr<uint8_t[]>(b.data, [pool = weak_from_this(), b](uint8_t*) {
    if (auto p = pool.lock()) p->put(b);
    else delete[] b.data;
  });
}

void frame_pool::put(buffer b) {
  {
    std::lock_guard lock(mutex_);
    if (free_.size() < max_buffers) {
      free_.push_back(b);
      return;
    }
    // Full: the smallest goes, so that the pool keeps the buffers that fit the most frames.
    auto smallest = std::min_element(free_.begin(), free_.end(),
                                     [](const buffer& x, const buffer& y) { return x.capacity < y.capacity; });
    if (smallest->capacity < b.capacity) std::swap(*smallest, b);
  }
  delete[] b.data;
}

frame_pool::~frame_pool() {
  for (const auto& b : free_) delete[] b.data;
}

connection::connection(asio::any_io_executor ex, std::string host, uint16_t port, int32_t node_id,
                       connection_options opts)
    : ex_(ex),
      host_(std::move(host)),
      port_(port),
      node_id_(node_id),
      opts_(std::move(opts)),
      socket_(ex),
      timeout_timer_(ex),
      write_signal_(ex) {
  timeout_timer_.expires_at(clock::time_point::max());
  write_signal_.expires_at(clock::time_point::max());
}

connection::~connection() = default;

awaitable<result<std::shared_ptr<connection>>> connection::open(asio::any_io_executor ex, std::string host,
                                                                 uint16_t port, int32_t node_id,
                                                                 connection_options opts) {
  auto c = std::make_shared<connection>(ex, std::move(host), port, node_id, std::move(opts));
  if (auto r = co_await c->connect(); !r) co_return r.err();
  c->start_loops();
  if (auto r = co_await c->negotiate(); !r) {
    c->close();
    co_return r.err();
  }
  co_return c;
}

awaitable<result<void>> connection::connect() {
  using namespace asio::experimental::awaitable_operators;
  asio::ip::tcp::resolver resolver(ex_);
  asio::steady_timer deadline(ex_);
  deadline.expires_after(opts_.setup_timeout);

  auto resolve_and_connect = [&]() -> awaitable<std::error_code> {
    auto [rec, endpoints] = co_await resolver.async_resolve(host_, std::to_string(port_), as_tuple_awaitable);
    if (rec) co_return rec;
    auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, as_tuple_awaitable);
    co_return cec;
  };
  auto outcome = co_await (resolve_and_connect() || deadline.async_wait(as_tuple_awaitable));
  if (outcome.index() == 1) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    co_return common::error{kafka_error::request_timed_out,
                            fmt::format("connecting to {}:{} took longer than socket.connection.setup.timeout.ms "
                                        "({} ms)",
                                        host_, port_, opts_.setup_timeout.count())};
  }
  if (auto ec = std::get<0>(outcome)) {
    co_return common::error{kafka_error::network_exception,
                            fmt::format("cannot connect to {}:{}: {}", host_, port_, ec.message())};
  }
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  open_ = true;
  co_return result<void>{};
}

awaitable<result<void>> connection::negotiate() {
  // Java's order: ask at the newest ApiVersions we know; a broker that does not know it answers
  // UNSUPPORTED_VERSION with a v0 body listing its own ApiVersions range, and we ask again within it.
  int16_t version = proto::api_versions::max_version;
  for (int attempt = 0; attempt < 2; ++attempt) {
    proto::api_versions::request req;
    req.client_software_name = "brook";
    req.client_software_version = BROOK_VERSION;
    proto::writer w;
    req.encode(w, version);
    auto frame = co_await send_raw(proto::api_versions::api_key, version, w.take());
    if (!frame) co_return frame.err();
    const std::span<const uint8_t> body = frame->body();
    proto::api_versions::response resp;
    bool decoded = true;
    try {
      proto::reader r(body);
      resp.decode(r, version);
    } catch (const proto::decode_error&) {
      decoded = false;
    }
    if (!decoded || resp.error_code == common::wire_code(kafka_error::unsupported_version)) {
      // Kafka answers a version it does not know with a v0 body; some brokers (librdkafka's mock) with
      // a body of the version asked. As the Java client: the asked version first, then v0.
      if (!decoded) {
        try {
          proto::reader r(body);
          resp = proto::api_versions::response{};
          resp.decode(r, 0);
        } catch (const proto::decode_error& e) {
          close();
          co_return common::error{kafka_error::corrupt_message,
                                  fmt::format("{}:{} answered ApiVersions with bytes that do not decode: {}", host_,
                                              port_, e.what())};
        }
      }
      if (resp.error_code != common::wire_code(kafka_error::unsupported_version)) {
        const auto code = static_cast<kafka_error>(resp.error_code);
        co_return common::error{code, fmt::format("{}:{} answered ApiVersions with {}", host_, port_,
                                                  common::error_name(code))};
      }
      int16_t their_max = -1;
      for (const auto& k : resp.api_keys)
        if (k.api_key == proto::api_versions::api_key) their_max = k.max_version;
      // A broker that lists no ApiVersions range here is asked at v0, which every broker serves.
      if (their_max < 0) their_max = 0;
      if (their_max >= version) {
        co_return common::error{kafka_error::unsupported_version,
                                fmt::format("{}:{} does not accept ApiVersions v{}", host_, port_, version)};
      }
      version = their_max;
      continue;
    }
    if (resp.error_code != 0) {
      const auto code = static_cast<kafka_error>(resp.error_code);
      co_return common::error{code, fmt::format("{}:{} answered ApiVersions with {}", host_, port_,
                                                common::error_name(code))};
    }
    for (const auto& k : resp.api_keys) broker_versions_[k.api_key] = version_range{k.min_version, k.max_version};
    co_return result<void>{};
  }
  co_return common::error{kafka_error::unsupported_version,
                          fmt::format("no ApiVersions version is common to {}:{} and this client", host_, port_)};
}

std::optional<version_range> connection::broker_versions(int16_t api_key) const {
  auto it = broker_versions_.find(api_key);
  if (it == broker_versions_.end()) return std::nullopt;
  return it->second;
}

std::optional<int16_t> connection::pick_version(int16_t api_key, int16_t min, int16_t max) const {
  const auto* schema = proto::find_api_schema(api_key);
  auto theirs = broker_versions(api_key);
  if (!schema || !theirs) return std::nullopt;
  const int16_t hi = std::min({max, schema->max_version, theirs->max});
  const int16_t lo = std::max({min, schema->min_version, theirs->min});
  if (hi < lo) return std::nullopt;
  return hi;
}

common::error connection::unsupported(int16_t api_key, std::string_view name, int16_t min, int16_t max) const {
  auto theirs = broker_versions(api_key);
  if (!theirs) {
    return common::error{kafka_error::unsupported_version,
                         fmt::format("broker {}:{} does not serve {} (API key {})", host_, port_, name, api_key)};
  }
  return common::error{kafka_error::unsupported_version,
                       fmt::format("broker {}:{} serves {} v{}-{}, this client needs v{}-{}", host_, port_, name,
                                   theirs->min, theirs->max, min, max)};
}

common::error connection::undecodable(int16_t api_key, int16_t version, const char* what) {
  const auto* schema = proto::find_api_schema(api_key);
  auto e = common::error{kafka_error::corrupt_message,
                         fmt::format("the response of {}:{} to {} v{} does not decode: {}", host_, port_,
                                     schema ? schema->name : std::string_view("?"), version, what)};
  spdlog::warn("{}; closing the connection", e.message);
  close();
  return e;
}

void connection::start_loops() {
  if (loops_started_) return;
  loops_started_ = true;
  auto self = shared_from_this();
  asio::co_spawn(ex_, read_loop(self), asio::detached);
  asio::co_spawn(ex_, write_loop(self), asio::detached);
  asio::co_spawn(ex_, timeout_loop(self), asio::detached);
}

awaitable<result<response_frame>> connection::send_raw(int16_t api_key, int16_t version, bytes body, bool expect_response) {
  proto::writer w = begin_frame(api_key, version, body.size());
  w.raw(body);
  co_return co_await send_frame(api_key, version, w, expect_response);
}

proto::writer connection::begin_frame(int16_t api_key, int16_t version, size_t body_size_hint) {
  const int32_t correlation_id = next_correlation_id_;
  next_correlation_id_ = next_correlation_id_ == INT32_MAX ? 0 : next_correlation_id_ + 1;
  const size_t wanted = body_size_hint + 64 + opts_.client_id.size();  // size, header (client id), body
  bytes buffer;
  // A large frame reuses the buffer of one already written (see spare_frames_).
  if (wanted >= spare_frame_min_bytes && !spare_frames_.empty() && spare_frames_.back().capacity() >= wanted) {
    buffer = std::move(spare_frames_.back());
    spare_frames_.pop_back();
  }
  buffer.reserve(wanted);
  proto::writer w(std::move(buffer));
  w.int32(0);  // size, patched by send_frame
  proto::encode_request_header(w, proto::request_header{api_key, version, correlation_id, opts_.client_id});
  return w;
}

awaitable<result<response_frame>> connection::send_frame(int16_t api_key, int16_t version, proto::writer& w,
                                                bool expect_response) {
  if (!open_) {
    co_return common::error{kafka_error::network_exception,
                            fmt::format("the connection to {}:{} is closed", host_, port_)};
  }
  // The correlation id is the one begin_frame wrote (nothing ran on this connection in between: the frame is
  // begun and sent without a suspension).
  int32_t correlation_id = 0;
  {
    const auto& data = w.data();
    // size (4), api key (2), api version (2), then the correlation id.
    uint32_t id = 0;
    for (int i = 0; i < 4; ++i) id = (id << 8) | data[8 + i];
    correlation_id = static_cast<int32_t>(id);
  }
  const size_t total = w.size();
  w.patch_int32(0, static_cast<int32_t>(total - 4));
  bytes frame = w.take();

  co_return co_await wait_for([&](auto handler) {
    outgoing out{std::move(frame), std::nullopt};
    if (expect_response) {
      const bool was_empty = in_flight_.empty();
      in_flight_.push_back(pending{correlation_id, api_key, version, clock::now() + opts_.request_timeout,
                                   std::move(handler)});
      if (was_empty) rearm_timeout();
    } else {
      out.written.emplace(std::move(handler));
    }
    write_queue_.push_back(std::move(out));
    write_signal_.cancel();
  });
}

awaitable<void> connection::write_loop(std::shared_ptr<connection> self) {
  while (open_) {
    if (write_queue_.empty()) {
      co_await write_signal_.async_wait(as_tuple_awaitable);
      continue;
    }
    // Gather what is queued into one write: many small requests in flight cost one system call.
    std::vector<outgoing> batch;
    std::vector<asio::const_buffer> buffers;
    while (!write_queue_.empty() && batch.size() < 64) {
      batch.push_back(std::move(write_queue_.front()));
      write_queue_.pop_front();
    }
    for (const auto& o : batch) buffers.emplace_back(asio::buffer(o.frame));
    auto [ec, n] = co_await asio::async_write(socket_, buffers, as_tuple_awaitable);
    if (ec) {
      for (auto& o : batch)
        if (o.written) complete(std::move(*o.written), common::error{kafka_error::network_exception, "write failed"});
      if (open_) fail_all(kafka_error::network_exception,
                          fmt::format("lost the connection to {}:{}: {}", host_, port_, ec.message()));
      co_return;
    }
    for (auto& o : batch) {
      if (o.written) complete(std::move(*o.written), response_frame{});
      if (o.frame.capacity() >= spare_frame_min_bytes && spare_frames_.size() < max_spare_frames)
        spare_frames_.push_back(std::move(o.frame));
    }
  }
}

awaitable<void> connection::read_loop(std::shared_ptr<connection> self) {
  while (open_) {
    uint8_t prefix[4];
    auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(prefix), as_tuple_awaitable);
    if (ec) {
      if (open_)
        fail_all(kafka_error::network_exception,
                 fmt::format("lost the connection to {}:{}: {}", host_, port_,
                             ec == asio::error::eof ? std::string("closed by the broker") : ec.message()));
      co_return;
    }
    const int32_t size = static_cast<int32_t>((uint32_t(prefix[0]) << 24) | (uint32_t(prefix[1]) << 16) |
                                              (uint32_t(prefix[2]) << 8) | uint32_t(prefix[3]));
    if (size < 4 || size > opts_.max_response_bytes) {
      fail_all(kafka_error::corrupt_message,
               fmt::format("{}:{} sent a response frame of {} bytes", host_, port_, size));
      co_return;
    }
    // Read into uninitialised memory, and parsed where it lies: the body is handed on with the header in front.
    response_frame frame;
    frame.size = static_cast<size_t>(size);
    frame.bytes = frames_->get(frame.size);
    auto [rec, got] = co_await read_body(frame.bytes.get(), frame.size);
    if (rec) {
      if (open_)
        fail_all(kafka_error::network_exception,
                 fmt::format("lost the connection to {}:{}: {}", host_, port_, rec.message()));
      co_return;
    }
    if (in_flight_.empty()) {
      fail_all(kafka_error::corrupt_message, fmt::format("{}:{} sent a response nobody asked for", host_, port_));
      co_return;
    }
    pending& front = in_flight_.front();
    try {
      proto::reader r(std::span<const uint8_t>(frame.bytes.get(), frame.size));
      const int32_t correlation_id = proto::decode_response_header(r, front.api_key, front.api_version);
      if (correlation_id != front.correlation_id) {
        fail_all(kafka_error::corrupt_message,
                 fmt::format("{}:{} answered correlation id {} where {} was next", host_, port_, correlation_id,
                             front.correlation_id));
        co_return;
      }
      frame.body_at = r.position();
    } catch (const proto::decode_error& e) {
      fail_all(kafka_error::corrupt_message, fmt::format("{}:{} sent a bad response header: {}", host_, port_, e.what()));
      co_return;
    }
    auto done = std::move(front.done);
    in_flight_.pop_front();
    rearm_timeout();
    complete(std::move(done), std::move(frame));
  }
}

awaitable<std::tuple<boost::system::error_code, size_t>> connection::read_body(uint8_t* data, size_t size) {
  if (size < large_read_bytes)
    co_return co_await asio::async_read(socket_, asio::buffer(data, size), as_tuple_awaitable);
  // A large frame arrives in many segments; woken for each, this thread would read it a few KiB at a time. The
  // socket's low watermark (SO_RCVLOWAT) is what is left of the frame, so that a wait ends only when all of it
  // is in, or as much as the kernel lets the watermark ask for; never more than the frame's rest, which the
  // broker is sending, so no wait outlasts the frame.
  size_t got = 0;
  boost::system::error_code ec;
  while (got < size) {
    const size_t left = size - got;
    const int wanted = static_cast<int>(std::min<size_t>(left, INT32_MAX));
    if (wanted != low_watermark_) {
      boost::system::error_code ignored;
      socket_.set_option(asio::socket_base::receive_low_watermark(wanted), ignored);
      low_watermark_ = ignored ? 1 : wanted;
    }
    auto [rec, n] = co_await socket_.async_read_some(asio::buffer(data + got, left), as_tuple_awaitable);
    got += n;
    if (rec) {
      ec = rec;
      break;
    }
  }
  if (low_watermark_ != 1) {  // the next frame's size prefix is 4 bytes
    boost::system::error_code ignored;
    socket_.set_option(asio::socket_base::receive_low_watermark(1), ignored);
    low_watermark_ = 1;
  }
  co_return std::tuple<boost::system::error_code, size_t>{ec, got};
}

awaitable<void> connection::timeout_loop(std::shared_ptr<connection> self) {
  while (open_) {
    co_await timeout_timer_.async_wait(as_tuple_awaitable);
    if (!open_) co_return;
    if (!in_flight_.empty() && in_flight_.front().deadline <= clock::now()) {
      const auto* schema = proto::find_api_schema(in_flight_.front().api_key);
      // As the Java client: a request that times out closes its connection, failing the others too.
      fail_all(kafka_error::request_timed_out,
               fmt::format("{} to {}:{} got no answer within request.timeout.ms ({} ms)",
                           schema ? schema->name : std::string_view("a request"), host_, port_,
                           opts_.request_timeout.count()));
      co_return;
    }
  }
}

void connection::rearm_timeout() {
  timeout_timer_.expires_at(in_flight_.empty() ? clock::time_point::max() : in_flight_.front().deadline);
}

void connection::complete(asio::any_completion_handler<void(result<response_frame>)> done,
                          result<response_frame> r) {
  // Posted, never called inline: the waiting coroutine must not run inside this connection's loops.
  asio::post(ex_, [done = std::move(done), r = std::move(r)]() mutable { std::move(done)(std::move(r)); });
}

void connection::fail_all(kafka_error first_code, const std::string& why) {
  if (open_) spdlog::debug("{}", why);
  open_ = false;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  timeout_timer_.cancel();
  write_signal_.cancel();
  bool first = true;
  while (!in_flight_.empty()) {
    auto p = std::move(in_flight_.front());
    in_flight_.pop_front();
    complete(std::move(p.done), common::error{first ? first_code : kafka_error::network_exception, why});
    first = false;
  }
  for (auto& o : write_queue_)
    if (o.written) complete(std::move(*o.written), common::error{kafka_error::network_exception, why});
  write_queue_.clear();
}

void connection::close() {
  if (!open_ && in_flight_.empty() && write_queue_.empty()) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return;
  }
  fail_all(kafka_error::network_exception, fmt::format("the connection to {}:{} was closed", host_, port_));
}

}  // namespace brook::client::core
