#include "client/core/connection.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include "common/protocol/messages/metadata.hpp"
#include "fake_broker.hpp"

using namespace brook::client::core;
using brook::common::kafka_error;
using brook::test::fake_broker;
using brook::test::encoded;
using brook::test::run_until_done;
namespace proto = brook::common::protocol;

namespace {

// Runs `task` on `io` until it finishes (or fails the test after 10 s of wall time).
proto::bytes metadata_body(int16_t version) {
  proto::metadata::response r;
  proto::metadata::response_broker b;
  b.node_id = 7;
  b.host = "127.0.0.1";
  b.port = 1;
  r.brokers.push_back(b);
  proto::writer w;
  r.encode(w, version);
  return w.take();
}

connection_options quick() {
  connection_options o;
  o.client_id = "connection-test";
  o.request_timeout = std::chrono::milliseconds(300);
  o.setup_timeout = std::chrono::milliseconds(2000);
  return o;
}

// A broker that serves the schema's APIs, with Metadata capped at v5, and answers Metadata.
std::optional<fake_broker::reply> plain(const proto::request_header& h, proto::reader&) {
  if (h.api_key == proto::api_versions::api_key)
    return fake_broker::reply{fake_broker::api_versions_body(h.api_version, {{proto::metadata::api_key, 5}})};
  if (h.api_key == proto::metadata::api_key) return fake_broker::reply{metadata_body(h.api_version)};
  return std::nullopt;
}

}  // namespace

TEST_CASE("connection: ApiVersions picks the highest version both sides and the schema know") {
  asio::io_context io;
  fake_broker broker(io, plain);
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, quick());
    REQUIRE(c);
    CHECK((*c)->version_for<proto::metadata::request>() == int16_t{5});
    CHECK((*c)->version_for<proto::metadata::request>(0, 3) == int16_t{3});
    CHECK_FALSE((*c)->version_for<proto::metadata::request>(6));
    proto::metadata::request req;
    auto md = co_await (*c)->call(req);
    REQUIRE(md);
    CHECK(md->version == 5);
    REQUIRE(md->body.brokers.size() == 1);
    CHECK(md->body.brokers[0].node_id == 7);
    auto none = co_await (*c)->call(req, 6);
    REQUIRE_FALSE(none);
    CHECK(none.err().code == kafka_error::unsupported_version);
    (*c)->close();
  }(broker.port()));
}

TEST_CASE("connection: a broker that does not know the newest ApiVersions is asked again within its range") {
  asio::io_context io;
  std::vector<int16_t> asked;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& r) -> std::optional<fake_broker::reply> {
    if (h.api_key != proto::api_versions::api_key) return plain(h, r);
    asked.push_back(h.api_version);
    if (h.api_version > 2) {
      // Kafka's answer to a version it does not know: UNSUPPORTED_VERSION in a v0 body with its range.
      proto::api_versions::response resp;
      resp.error_code = brook::common::wire_code(kafka_error::unsupported_version);
      proto::api_versions::api_version v;
      v.api_key = proto::api_versions::api_key;
      v.min_version = 0;
      v.max_version = 2;
      resp.api_keys.push_back(v);
      proto::writer w;
      resp.encode(w, 0);
      return fake_broker::reply{w.take()};
    }
    return fake_broker::reply{fake_broker::api_versions_body(h.api_version)};
  });
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, quick());
    REQUIRE(c);
    CHECK((*c)->broker_versions(proto::metadata::api_key).has_value());
    (*c)->close();
  }(broker.port()));
  REQUIRE(asked.size() == 2);
  CHECK(asked[0] == proto::api_versions::max_version);
  CHECK(asked[1] == 2);
}

TEST_CASE("connection: many requests in flight are each answered") {
  asio::io_context io;
  fake_broker broker(io, plain);
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, quick());
    REQUIRE(c);
    auto answered = std::make_shared<int>(0);
    for (int i = 0; i < 100; ++i) {
      asio::co_spawn(ex, [](std::shared_ptr<connection> conn, std::shared_ptr<int> n) -> asio::awaitable<void> {
        proto::metadata::request req;
        auto r = co_await conn->call(req);
        if (r) ++*n;
      }(*c, answered), asio::detached);
    }
    asio::steady_timer t(ex);
    for (int i = 0; i < 100 && *answered < 100; ++i) {
      t.expires_after(std::chrono::milliseconds(20));
      co_await t.async_wait(asio::use_awaitable);
    }
    CHECK(*answered == 100);
    CHECK((*c)->in_flight() == 0);
    (*c)->close();
  }(broker.port()));
}

TEST_CASE("connection: a request without an answer times out and closes the connection") {
  asio::io_context io;
  fake_broker broker(io, [](const proto::request_header& h, proto::reader& r) -> std::optional<fake_broker::reply> {
    if (h.api_key == proto::metadata::api_key) return std::nullopt;  // never answered
    return plain(h, r);
  });
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, quick());
    REQUIRE(c);
    const auto start = std::chrono::steady_clock::now();
    proto::metadata::request req;
    auto r = co_await (*c)->call(req);
    const auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r);
    CHECK(r.err().code == kafka_error::request_timed_out);
    CHECK(r.err().message.find("request.timeout.ms") != std::string::npos);
    CHECK(waited >= std::chrono::milliseconds(300));
    CHECK_FALSE((*c)->is_open());
    auto after = co_await (*c)->call(req);
    CHECK(after.err().code == kafka_error::network_exception);
  }(broker.port()));
}

TEST_CASE("connection: a broker that goes away fails what is in flight with network_exception") {
  asio::io_context io;
  fake_broker* self = nullptr;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& r) -> std::optional<fake_broker::reply> {
    if (h.api_key == proto::metadata::api_key) {
      self->drop_connections();
      return std::nullopt;
    }
    return plain(h, r);
  });
  self = &broker;
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, quick());
    REQUIRE(c);
    proto::metadata::request req;
    auto r = co_await (*c)->call(req);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == kafka_error::network_exception);
    CHECK_FALSE((*c)->is_open());
  }(broker.port()));
}

TEST_CASE("connection: an answer with the wrong correlation id is a protocol error") {
  asio::io_context io;
  fake_broker broker(io, [](const proto::request_header& h, proto::reader& r) -> std::optional<fake_broker::reply> {
    if (h.api_key == proto::metadata::api_key)
      return fake_broker::reply{metadata_body(h.api_version), h.correlation_id + 1000};
    return plain(h, r);
  });
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, quick());
    REQUIRE(c);
    proto::metadata::request req;
    auto r = co_await (*c)->call(req);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == kafka_error::corrupt_message);
    CHECK_FALSE((*c)->is_open());
  }(broker.port()));
}

TEST_CASE("connection: nothing listening is network_exception naming the address") {
  asio::io_context io;
  uint16_t port;
  {
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, quick());
    REQUIRE_FALSE(c);
    CHECK(c.err().code == kafka_error::network_exception);
    CHECK(c.err().message.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
  }(port));
}

TEST_CASE("connection: large answers (read with a raised low watermark) and small ones between them arrive whole") {
  asio::io_context io;
  // Metadata answers alternate: 2000 brokers with 600-byte host names (about 1.2 MB), then one broker.
  int metadata_calls = 0;
  fake_broker broker(io, [&](const proto::request_header& h, proto::reader& r) -> std::optional<fake_broker::reply> {
    if (h.api_key != proto::metadata::api_key) return plain(h, r);
    if (metadata_calls++ % 2 == 1) return fake_broker::reply{metadata_body(h.api_version)};
    proto::metadata::response big;
    for (int i = 0; i < 2000; ++i) {
      proto::metadata::response_broker b;
      b.node_id = i;
      b.host = std::string(600, static_cast<char>('a' + i % 26));
      b.port = static_cast<int32_t>(i);
      big.brokers.push_back(b);
    }
    return fake_broker::reply{encoded(big, h.api_version)};
  });
  run_until_done(io, [](uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto opts = quick();
    opts.request_timeout = std::chrono::milliseconds(20000);  // a loaded machine is slow to encode 1.2 MB
    auto c = co_await connection::open(ex, "127.0.0.1", port, 1, opts);
    REQUIRE(c);
    auto check = [](const auto& md, size_t i) {
      REQUIRE(md);
      if (i % 2 == 1) {
        REQUIRE(md->body.brokers.size() == 1);
        CHECK(md->body.brokers[0].node_id == 7);
        return;
      }
      REQUIRE(md->body.brokers.size() == 2000);
      bool all = true;
      for (size_t b = 0; b < 2000; ++b)
        all = all && md->body.brokers[b].host == std::string(600, static_cast<char>('a' + b % 26)) &&
              md->body.brokers[b].port == static_cast<int32_t>(b);
      CHECK(all);
    };
    proto::metadata::request req;
    for (size_t i = 0; i < 4; ++i) check(co_await (*c)->call(req), i);
    // In flight together: the answers follow each other on the socket.
    auto answers = std::make_shared<std::vector<std::optional<size_t>>>(6);
    for (size_t i = 0; i < 6; ++i) {
      asio::co_spawn(ex, [](std::shared_ptr<connection> conn, std::shared_ptr<std::vector<std::optional<size_t>>> out,
                            size_t i) -> asio::awaitable<void> {
        proto::metadata::request req;
        auto r = co_await conn->call(req);
        if (r) (*out)[i] = r->body.brokers.size();
      }(*c, answers, i), asio::detached);
    }
    asio::steady_timer t(ex);
    auto all_in = [&] { return std::all_of(answers->begin(), answers->end(), [](const auto& a) { return a.has_value(); }); };
    for (int i = 0; i < 1000 && !all_in(); ++i) {
      t.expires_after(std::chrono::milliseconds(20));
      co_await t.async_wait(asio::use_awaitable);
    }
    for (size_t i = 0; i < 6; ++i) CHECK((*answers)[i] == std::optional<size_t>(i % 2 == 0 ? 2000 : 1));
    (*c)->close();
  }(broker.port()));
}
