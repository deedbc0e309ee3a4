// The control HTTP API over real HTTP (a Boost.Beast client): each route's answer and effect on an
// in-process broker, and the 4xx answers naming the problem.
#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "broker/control/control_server.hpp"
#include "broker/handlers/broker_fixture.hpp"
#include "broker/handlers/group_test_util.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"

using namespace brook;
namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace proto = common::protocol;
using common::kafka_error;
using common::wire_code;

namespace {

struct reply {
  unsigned status = 0;
  json::value body;
};

// One HTTP/1.1 request on a new connection.
reply call(uint16_t port, http::verb method, const std::string& target, const std::string& body = {}) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::address_v4::loopback(), port});
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  INFO(method << " " << target << " -> " << res.result_int() << " " << res.body());
  REQUIRE(res[http::field::content_type] == "application/json");
  return {res.result_int(), json::parse(res.body())};
}

std::string error_of(const reply& r) {
  REQUIRE(r.body.is_object());
  REQUIRE(r.body.as_object().contains("error"));
  return std::string(r.body.at("error").as_string());
}

struct control_fixture {
  test::broker_fixture b;
  std::unique_ptr<brook::broker::control_server> server;
  control_fixture() {
    auto started = brook::broker::control_server::start(b.server(), 0);
    REQUIRE(started);
    server = std::move(*started);
    REQUIRE(server->port() != 0);
  }
  ~control_fixture() { server->stop(); }
  reply get(const std::string& target) { return call(server->port(), http::verb::get, target); }
  reply post(const std::string& target, const std::string& body = "{}") {
    return call(server->port(), http::verb::post, target, body);
  }
  reply del(const std::string& target) { return call(server->port(), http::verb::delete_, target); }
};

}  // namespace

TEST_CASE("control: /health names the broker's bootstrap address", "[fault][control]") {
  control_fixture f;
  auto r = f.get("/health");
  CHECK(r.status == 200);
  CHECK(r.body.at("bootstrap_servers").as_string() == f.b.bootstrap());
}

TEST_CASE("control: an error rule by names reaches the client once, and is listed until spent", "[fault][control]") {
  control_fixture f;
  test::create_topic(f.b.client(), "t");
  auto added = f.post("/faults/errors", R"({"api": "OffsetCommit", "error": "NOT_COORDINATOR", "count": 1})");
  REQUIRE(added.status == 200);
  const auto id = added.body.at("id").to_number<uint64_t>();
  auto listed = f.get("/faults");
  REQUIRE(listed.body.at("rules").as_array().size() == 1);
  const auto& rule = listed.body.at("rules").as_array()[0];
  CHECK(rule.at("id").to_number<uint64_t>() == id);
  CHECK(rule.at("kind").as_string() == "errors");
  CHECK(rule.at("api").as_string() == "OffsetCommit");
  CHECK(rule.at("error").as_string() == "NOT_COORDINATOR");
  CHECK(rule.at("count").to_number<int>() == 1);

  namespace oc = proto::offset_commit;
  auto first = f.b.call<oc::response>(oc::api_key, 8, test::commit_request("g", "", -1, "t", 1));
  CHECK(first.topics.at(0).partitions.at(0).error_code == wire_code(kafka_error::not_coordinator));
  auto second = f.b.call<oc::response>(oc::api_key, 8, test::commit_request("g", "", -1, "t", 1));
  CHECK(second.topics.at(0).partitions.at(0).error_code == 0);
  CHECK(f.get("/faults").body.at("rules").as_array().empty());
}

TEST_CASE("control: rules by number, version caps, removal one by one and all at once", "[fault][control]") {
  control_fixture f;
  auto err = f.post("/faults/errors", R"({"api": 3, "error": 5, "count": 2, "topic": "t"})");
  REQUIRE(err.status == 200);
  auto cap = f.post("/faults/version-cap", R"({"api": "Produce", "max_version": 7})");
  REQUIRE(cap.status == 200);
  REQUIRE(f.post("/faults/delay", R"({"api": "Fetch", "ms": 100})").status == 200);
  REQUIRE(f.post("/faults/drop", R"({"api": "Heartbeat"})").status == 200);
  REQUIRE(f.post("/faults/disk", R"({"op": "fsync", "error": "EIO", "topic": "t"})").status == 200);
  auto rules = f.get("/faults").body.at("rules").as_array();
  REQUIRE(rules.size() == 5);
  CHECK(rules[0].at("api").as_string() == "Metadata");
  CHECK(rules[0].at("error").as_string() == "LEADER_NOT_AVAILABLE");
  CHECK(rules[0].at("topic").as_string() == "t");
  CHECK(rules[1].at("max_version").to_number<int>() == 7);
  CHECK(rules[1].at("count").is_null());
  CHECK(rules[2].at("ms").to_number<int>() == 100);
  CHECK(rules[4].at("op").as_string() == "fsync");

  namespace av = proto::api_versions;
  auto versions = f.b.call<av::response>(av::api_key, 3, av::request{"brook-test", "1.0"});
  for (const auto& k : versions.api_keys)
    if (k.api_key == proto::produce::api_key) CHECK(k.max_version == 7);

  const auto cap_id = cap.body.at("id").to_number<uint64_t>();
  CHECK(f.del("/faults/" + std::to_string(cap_id)).status == 200);
  CHECK(f.del("/faults/" + std::to_string(cap_id)).status == 404);
  CHECK(f.get("/faults").body.at("rules").as_array().size() == 4);
  CHECK(f.del("/faults").status == 200);
  CHECK(f.get("/faults").body.at("rules").as_array().empty());
}

TEST_CASE("control: bad requests are answered 4xx naming the problem", "[fault][control]") {
  control_fixture f;
  auto unknown_api = f.post("/faults/errors", R"({"api": "Produec", "error": "NOT_COORDINATOR"})");
  CHECK(unknown_api.status == 400);
  CHECK_THAT(error_of(unknown_api), Catch::Contains("Produec"));
  auto unknown_error = f.post("/faults/errors", R"({"api": "Produce", "error": "NOT_A_THING"})");
  CHECK(unknown_error.status == 400);
  CHECK_THAT(error_of(unknown_error), Catch::Contains("NOT_A_THING"));
  auto bad_json = f.post("/faults/errors", R"({"api": "Produce", )");
  CHECK(bad_json.status == 400);
  CHECK_THAT(error_of(bad_json), Catch::Contains("JSON"));
  auto not_object = f.post("/faults/delay", "[1, 2]");
  CHECK(not_object.status == 400);
  auto missing = f.post("/faults/delay", R"({"api": "Fetch"})");
  CHECK(missing.status == 400);
  CHECK_THAT(error_of(missing), Catch::Contains("ms"));
  auto zero_count = f.post("/faults/errors", R"({"api": "Fetch", "error": 6, "count": 0})");
  CHECK(zero_count.status == 400);
  CHECK_THAT(error_of(zero_count), Catch::Contains("count"));
  auto bad_disk = f.post("/faults/disk", R"({"op": "read", "error": "EIO"})");
  CHECK(bad_disk.status == 400);
  CHECK_THAT(error_of(bad_disk), Catch::Contains("read"));
  auto no_route = f.get("/nothing/here");
  CHECK(no_route.status == 404);
  CHECK_THAT(error_of(no_route), Catch::Contains("/nothing/here"));
  CHECK(f.get("/pause").status == 405);
  CHECK(f.get("/faults").body.at("rules").as_array().empty());  // nothing was added by the bad requests
}

TEST_CASE("control: /topics creates a topic through the broker's creation path", "[fault][control]") {
  control_fixture f;
  auto created = f.post("/topics", R"({"name": "orders", "partitions": 3, "configs": {"cleanup.policy": "compact"}})");
  CHECK(created.status == 200);
  CHECK(created.body.as_object().empty());
  proto::metadata::request req;
  req.topics->emplace_back().name = "orders";
  req.allow_auto_topic_creation = false;
  auto md = f.b.call<proto::metadata::response>(proto::metadata::api_key, 12, req);
  REQUIRE(md.topics.size() == 1);
  CHECK(md.topics[0].error_code == 0);
  CHECK(md.topics[0].partitions.size() == 3);
  auto again = f.post("/topics", R"({"name": "orders"})");
  CHECK(again.status == 409);
  CHECK_THAT(error_of(again), Catch::Contains("TOPIC_ALREADY_EXISTS"));
  auto bad_config = f.post("/topics", R"({"name": "x", "configs": {"cleanup.policy": "sometimes"}})");
  CHECK(bad_config.status == 400);
  CHECK_THAT(error_of(bad_config), Catch::Contains("cleanup.policy"));
}

TEST_CASE("control: pause holds answers until resume, and the request log shows what arrived", "[fault][control]") {
  control_fixture f;
  auto c = f.b.connect("paused-client");
  CHECK(f.del("/requests").status == 200);
  CHECK(f.post("/pause").status == 200);
  proto::writer w;
  proto::api_versions::request{"brook-test", "1.0"}.encode(w, 3);
  auto body = w.take();
  c.send_raw(proto::api_versions::api_key, 3, body);
  // The request is read while paused: it shows in the log, unanswered.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  json::array requests;
  while (requests.empty() && std::chrono::steady_clock::now() < deadline)
    requests = f.get("/requests").body.at("requests").as_array();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].at("api").as_string() == "ApiVersions");
  CHECK(requests[0].at("api_key").to_number<int>() == 18);
  CHECK(requests[0].at("api_version").to_number<int>() == 3);
  CHECK(requests[0].at("client_id").as_string() == "paused-client");
  CHECK(requests[0].at("correlation_id").to_number<int>() == 1);
  CHECK_FALSE(c.receive_body(proto::api_versions::api_key, 3, std::chrono::milliseconds(300)));
  CHECK(f.post("/resume").status == 200);
  CHECK(c.receive_body(proto::api_versions::api_key, 3, std::chrono::seconds(10)));
  CHECK(f.del("/requests").status == 200);
  CHECK(f.get("/requests").body.at("requests").as_array().empty());
}

TEST_CASE("control: /connections/close closes every client connection now", "[fault][control]") {
  control_fixture f;
  auto one = f.b.connect("one");
  auto two = f.b.connect("two");
  proto::writer w;
  proto::api_versions::request{"brook-test", "1.0"}.encode(w, 3);
  auto body = w.take();
  REQUIRE(one.call_raw(proto::api_versions::api_key, 3, body));
  REQUIRE(two.call_raw(proto::api_versions::api_key, 3, body));
  auto closed = f.post("/connections/close");
  CHECK(closed.status == 200);
  CHECK(closed.body.at("closed").to_number<int>() >= 2);
  CHECK(one.closed_by_peer(std::chrono::seconds(10)));
  CHECK(two.closed_by_peer(std::chrono::seconds(10)));
  auto three = f.b.connect("three");
  CHECK(three.call_raw(proto::api_versions::api_key, 3, body));
}

TEST_CASE("control: stop() ends the server while a client keeps its connection open", "[fault][control]") {
  test::broker_fixture b;
  auto started = brook::broker::control_server::start(b.server(), 0);
  REQUIRE(started);
  auto server = std::move(*started);
  asio::io_context io;
  asio::ip::tcp::socket idle(io);
  idle.connect({asio::ip::address_v4::loopback(), server->port()});
  REQUIRE(call(server->port(), http::verb::get, "/health").status == 200);
  server->stop();
  server->stop();  // idempotent
  boost::system::error_code ec;
  asio::ip::tcp::socket late(io);
  late.connect({asio::ip::address_v4::loopback(), server->port()}, ec);
  CHECK(ec);  // no longer listening
}

TEST_CASE("control: /reset deletes topics, groups and offsets and clears rules, pause and the request log",
          "[fault][control]") {
  control_fixture f;
  REQUIRE(f.post("/topics", R"({"name": "t", "partitions": 2})").status == 200);
  namespace oc = proto::offset_commit;
  auto committed = f.b.call<oc::response>(oc::api_key, 8, test::commit_request("g", "", -1, "t", 7));
  REQUIRE(committed.topics.at(0).partitions.at(0).error_code == 0);
  REQUIRE(f.post("/faults/errors", R"({"api": "Metadata", "error": "UNKNOWN_SERVER_ERROR"})").status == 200);
  REQUIRE(f.post("/pause").status == 200);
  auto reset = f.post("/reset");
  CHECK(reset.status == 200);
  CHECK(reset.body.as_object().empty());
  CHECK(f.get("/faults").body.at("rules").as_array().empty());
  CHECK(f.get("/requests").body.at("requests").as_array().empty());
  proto::metadata::request req;
  req.topics = std::nullopt;
  auto md = f.b.call<proto::metadata::response>(proto::metadata::api_key, 12, req);  // answered: not paused
  CHECK(md.topics.empty());
  REQUIRE(f.post("/topics", R"({"name": "t", "partitions": 1})").status == 200);  // the name is free again
  CHECK(test::committed_offset(f.b.client(), "g", "t") == -1);
}
