#include "fake_broker.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/catalog.hpp"

namespace brook::test {

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
}

fake_broker::fake_broker(asio::io_context& io, handler h)
    : io_(io), handler_(std::move(h)), acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

proto::bytes fake_broker::api_versions_body(int16_t version, const std::vector<std::pair<int16_t, int16_t>>& caps) {
  proto::api_versions::response r;
  for (const auto& s : proto::all_api_schemas()) {
    int16_t max = s.max_version;
    bool listed = true;
    for (auto [key, cap] : caps) {
      if (key == s.key) {
        if (cap < 0) listed = false;
        max = cap;
      }
    }
    if (!listed) continue;
    proto::api_versions::api_version v;
    v.api_key = s.key;
    v.min_version = s.min_version;
    v.max_version = max;
    r.api_keys.push_back(v);
  }
  proto::writer w;
  r.encode(w, version);
  return w.take();
}

void fake_broker::drop_connections() {
  for (auto& w : sockets_) {
    if (auto s = w.lock()) {
      boost::system::error_code ignored;
      s->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      s->close(ignored);
    }
  }
}

asio::awaitable<void> fake_broker::accept_loop() {
  while (true) {
    auto [ec, socket] = co_await acceptor_.async_accept(tuple_awaitable);
    if (ec) co_return;
    ++accepted_;
    auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
    sockets_.push_back(s);
    asio::co_spawn(io_, serve(s), asio::detached);
  }
}

asio::awaitable<void> fake_broker::serve(std::shared_ptr<asio::ip::tcp::socket> s) {
  while (true) {
    uint8_t prefix[4];
    auto [ec, n] = co_await asio::async_read(*s, asio::buffer(prefix), tuple_awaitable);
    if (ec) co_return;
    const uint32_t size = (uint32_t(prefix[0]) << 24) | (uint32_t(prefix[1]) << 16) | (uint32_t(prefix[2]) << 8) | prefix[3];
    proto::bytes frame(size);
    auto [rec, got] = co_await asio::async_read(*s, asio::buffer(frame), tuple_awaitable);
    if (rec) co_return;
    proto::reader r(frame);
    const auto header = proto::decode_request_header(r);
    auto answer = handler_(header, r);
    if (!answer) continue;
    proto::writer w;
    w.int32(0);
    proto::request_header h = header;
    if (answer->correlation_id) h.correlation_id = *answer->correlation_id;
    proto::encode_response_header(w, h);
    w.raw(answer->body);
    w.patch_int32(0, static_cast<int32_t>(w.size() - 4));
    auto out = w.take();
    auto [wec, wn] = co_await asio::async_write(*s, asio::buffer(out), tuple_awaitable);
    if (wec) co_return;
  }
}

void run_until_done(asio::io_context& io, asio::awaitable<void> task, std::chrono::steady_clock::duration limit) {
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < give_up) io.run_one_for(std::chrono::milliseconds(50));
  REQUIRE(done);
  if (failure) std::rethrow_exception(failure);
}

}  // namespace brook::test
