#include "broker/control/control_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <future>
#include <spdlog/spdlog.h>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::awaitable;
using common::kafka_error;

namespace {

constexpr auto network_deadline = std::chrono::seconds(60);  // topic creation may fsync a lot
constexpr size_t max_body = 1 << 20;

// A 4xx answer on its way out of a route.
struct bad_request {
  unsigned status;
  std::string message;
};

http_answer reply(const json::value& v, unsigned status = 200) { return {status, json::serialize(v)}; }
http_answer failure(unsigned status, const std::string& message) {
  return reply(json::object{{"error", message}}, status);
}

// --- reading bodies ---

json::object parse_object(const std::string& body) {
  if (body.empty()) return {};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) throw bad_request{400, fmt::format("bad JSON: {}", ec.message())};
  if (!v.is_object()) throw bad_request{400, "bad JSON: the body must be an object"};
  return v.as_object();
}

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

int64_t int_field(const json::object& o, std::string_view key, int64_t min, int64_t max) {
  const json::value* v = field(o, key);
  if (!v) throw bad_request{400, fmt::format("missing field '{}'", key)};
  if (!v->is_int64() && !v->is_uint64())
    throw bad_request{400, fmt::format("field '{}' must be an integer", key)};
  if (v->is_uint64() && v->as_uint64() > static_cast<uint64_t>(max))
    throw bad_request{400, fmt::format("field '{}' must be in [{}, {}]", key, min, max)};
  const int64_t n = v->is_int64() ? v->as_int64() : static_cast<int64_t>(v->as_uint64());
  if (n < min || n > max) throw bad_request{400, fmt::format("field '{}' must be in [{}, {}]", key, min, max)};
  return n;
}

std::optional<int64_t> optional_int(const json::object& o, std::string_view key, int64_t min, int64_t max) {
  if (!field(o, key)) return std::nullopt;
  return int_field(o, key, min, max);
}

std::optional<std::string> optional_string(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw bad_request{400, fmt::format("field '{}' must be a string", key)};
  return std::string(v->as_string());
}

std::string string_field(const json::object& o, std::string_view key) {
  auto s = optional_string(o, key);
  if (!s) throw bad_request{400, fmt::format("missing field '{}'", key)};
  return *s;
}

// --- names ---

std::string upper_case(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "Produce" or 0: an API the broker serves.
const api_entry& api_field(const json::object& o) {
  const json::value* v = field(o, "api");
  if (!v) throw bad_request{400, "missing field 'api'"};
  if (v->is_string()) {
    for (const auto& e : api_table())
      if (e.name == v->as_string()) return e;
    throw bad_request{400, fmt::format("unknown API '{}'", std::string_view(v->as_string()))};
  }
  const int64_t key = int_field(o, "api", 0, 32767);
  if (const api_entry* e = find_api(static_cast<int16_t>(key))) return *e;
  throw bad_request{400, fmt::format("unknown API key {}", key)};
}

std::optional<int16_t> error_code_of(std::string_view name) {
#define BROOK_X(n, code) \
  if (name == upper_case(#n)) return int16_t{code};
  BROOK_KAFKA_ERRORS(BROOK_X)
#undef BROOK_X
  return std::nullopt;
}

// "NOT_COORDINATOR" or 16.
int16_t error_field(const json::object& o) {
  const json::value* v = field(o, "error");
  if (!v) throw bad_request{400, "missing field 'error'"};
  if (v->is_string()) {
    if (auto code = error_code_of(std::string_view(v->as_string()))) return *code;
    throw bad_request{400, fmt::format("unknown error '{}'", std::string_view(v->as_string()))};
  }
  return static_cast<int16_t>(int_field(o, "error", -1, 32767));
}

std::string error_name_of(int16_t code) { return upper_case(common::error_name(static_cast<kafka_error>(code))); }

std::string_view api_name_of(int16_t key) {
  const api_entry* e = find_api(key);
  return e ? e->name : std::string_view("unknown");
}

std::string_view errno_name(int e) { return e == ENOSPC ? "ENOSPC" : e == EIO ? "EIO" : "errno"; }

// --- the broker's network thread ---

// Runs `work` (a coroutine on the broker's network thread) and waits for its value here.
template <class T>
awaitable<void> fulfil(std::shared_ptr<std::promise<T>> promise, awaitable<T> work) {
  promise->set_value(co_await std::move(work));
}

template <class T>
T wait_for_network(broker& b, std::shared_ptr<std::promise<T>> promise) {
  auto result = promise->get_future();
  if (result.wait_for(network_deadline) != std::future_status::ready)
    throw bad_request{503, "the broker did not answer in time"};
  try {
    return result.get();
  } catch (const std::future_error&) {
    throw bad_request{503, "the broker is shutting down"};
  } catch (const std::exception& e) {
    throw bad_request{500, fmt::format("the broker failed: {}", e.what())};
  }
}

template <class T>
T on_network(broker& b, awaitable<T> work) {
  if (b.stopping()) throw bad_request{503, "the broker is shutting down"};
  auto promise = std::make_shared<std::promise<T>>();
  asio::co_spawn(b.io(), fulfil<T>(promise, std::move(work)), [promise](std::exception_ptr e) {
    if (e) promise->set_exception(e);
  });
  return wait_for_network(b, promise);
}

awaitable<common::result<void>> create_topic_now(broker& b, new_topic t) {
  auto created = co_await create_topic(b, t, false);
  if (!created) co_return created.err();
  co_return common::result<void>{};
}

awaitable<size_t> close_connections_now(broker& b) { co_return b.close_connections(); }

awaitable<common::result<void>> reset_now(broker& b) {
  auto done = co_await b.reset_async();
  co_return done;
}

// --- routes ---

json::object rule_json(const fault::fault_rule& r) {
  json::object o{{"id", r.id}, {"kind", fault::fault_kind_name(r.kind)}};
  if (r.kind == fault::fault_kind::disk) {
    o["op"] = r.op == log::disk_op::append ? "append" : "fsync";
    o["error"] = errno_name(r.sys_errno);
  } else {
    o["api"] = api_name_of(r.api_key);
    o["api_key"] = r.api_key;
  }
  if (r.kind == fault::fault_kind::errors) {
    o["error"] = error_name_of(r.error_code);
    o["error_code"] = r.error_code;
  }
  if (r.kind == fault::fault_kind::delay) o["ms"] = r.delay.count();
  if (r.kind == fault::fault_kind::version_cap) o["max_version"] = r.max_version;
  if (r.topic) o["topic"] = *r.topic;
  if (r.group) o["group"] = *r.group;
  if (r.count) o["count"] = *r.count;
  else o["count"] = nullptr;
  return o;
}

http_answer added(common::result<uint64_t> id) {
  if (!id) throw bad_request{400, id.err().message};
  return reply(json::object{{"id", *id}});
}

fault::fault_rule rule_for_api(const json::object& o, fault::fault_kind kind, std::optional<int32_t> default_count) {
  fault::fault_rule r;
  r.kind = kind;
  r.api_key = api_field(o).key;
  auto count = optional_int(o, "count", 1, INT32_MAX);
  r.count = count ? std::optional<int32_t>(static_cast<int32_t>(*count)) : default_count;
  return r;
}

http_answer faults_route(broker& b, const std::string& method, std::string_view rest, const std::string& body) {
  auto& faults = b.faults();
  if (rest.empty()) {
    if (method == "GET") {
      json::array rules;
      for (const auto& r : faults.rules()) rules.push_back(rule_json(r));
      return reply(json::object{{"rules", std::move(rules)}});
    }
    if (method == "DELETE") {
      faults.clear_rules();
      return reply(json::object{});
    }
    throw bad_request{405, fmt::format("{} is not allowed on /faults (GET, DELETE)", method)};
  }
  if (method == "DELETE") {
    uint64_t id = 0;
    for (char c : rest) {
      if (c < '0' || c > '9' || id > UINT64_MAX / 10) throw bad_request{404, fmt::format("no fault rule '{}'", rest)};
      id = id * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!faults.remove(id)) throw bad_request{404, fmt::format("no fault rule {}", id)};
    return reply(json::object{});
  }
  if (method != "POST") throw bad_request{405, fmt::format("{} is not allowed on /faults/{}", method, rest)};
  const json::object o = parse_object(body);
  if (rest == "errors") {
    auto r = rule_for_api(o, fault::fault_kind::errors, 1);
    r.error_code = error_field(o);
    r.topic = optional_string(o, "topic");
    r.group = optional_string(o, "group");
    return added(faults.add(std::move(r)));
  }
  if (rest == "delay") {
    auto r = rule_for_api(o, fault::fault_kind::delay, std::nullopt);
    r.delay = std::chrono::milliseconds(int_field(o, "ms", 0, 3'600'000));
    return added(faults.add(std::move(r)));
  }
  if (rest == "drop") return added(faults.add(rule_for_api(o, fault::fault_kind::drop, 1)));
  if (rest == "version-cap") {
    auto r = rule_for_api(o, fault::fault_kind::version_cap, std::nullopt);
    r.max_version = static_cast<int16_t>(int_field(o, "max_version", 0, 32767));
    return added(faults.add(std::move(r)));
  }
  if (rest == "disk") {
    fault::fault_rule r;
    r.kind = fault::fault_kind::disk;
    const std::string op = string_field(o, "op");
    if (op == "append") r.op = log::disk_op::append;
    else if (op == "fsync") r.op = log::disk_op::fsync;
    else throw bad_request{400, fmt::format("unknown disk op '{}' (append, fsync)", op)};
    const std::string err = string_field(o, "error");
    if (err == "ENOSPC") r.sys_errno = ENOSPC;
    else if (err == "EIO") r.sys_errno = EIO;
    else throw bad_request{400, fmt::format("unknown disk error '{}' (ENOSPC, EIO)", err)};
    auto count = optional_int(o, "count", 1, INT32_MAX);
    r.count = count ? static_cast<int32_t>(*count) : 1;
    r.topic = optional_string(o, "topic");
    return added(faults.add(std::move(r)));
  }
  throw bad_request{404, fmt::format("no route POST /faults/{}", rest)};
}

http_answer requests_route(broker& b, const std::string& method) {
  if (method == "DELETE") {
    b.faults().clear_requests();
    return reply(json::object{});
  }
  if (method != "GET") throw bad_request{405, fmt::format("{} is not allowed on /requests (GET, DELETE)", method)};
  json::array out;
  for (const auto& r : b.faults().requests())
    out.push_back(json::object{{"api", api_name_of(r.api_key)},
                               {"api_key", r.api_key},
                               {"api_version", r.api_version},
                               {"client_id", r.client_id},
                               {"correlation_id", r.correlation_id}});
  return reply(json::object{{"requests", std::move(out)}});
}

http_answer topics_route(broker& b, const std::string& body) {
  const json::object o = parse_object(body);
  new_topic t;
  t.name = string_field(o, "name");
  if (auto p = optional_int(o, "partitions", -1, INT32_MAX)) t.partitions = static_cast<int32_t>(*p);
  if (auto rf = optional_int(o, "replication_factor", -1, 32767)) t.replication_factor = static_cast<int16_t>(*rf);
  if (const json::value* configs = field(o, "configs")) {
    if (!configs->is_object()) throw bad_request{400, "field 'configs' must be an object of strings"};
    for (const auto& kv : configs->as_object()) {
      std::string value;
      if (kv.value().is_string()) value = std::string(kv.value().as_string());
      else if (kv.value().is_number() || kv.value().is_bool()) value = json::serialize(kv.value());
      else throw bad_request{400, fmt::format("config '{}' must be a string", std::string_view(kv.key()))};
      t.configs[std::string(kv.key())] = value;
    }
  }
  auto created = on_network(b, create_topic_now(b, std::move(t)));
  if (!created) {
    const auto code = created.err().code;
    const unsigned status = code == kafka_error::topic_already_exists ? 409 : 400;
    throw bad_request{status, fmt::format("{}: {}", error_name_of(common::wire_code(code)), created.err().message)};
  }
  return reply(json::object{});
}

std::string bootstrap_of(broker& b) {
  if (b.listeners().empty()) return {};
  const auto& ep = b.listeners().front().endpoint;
  const auto& a = ep.address();
  const bool local = a.is_unspecified() || a.is_loopback();
  std::string host = local ? "127.0.0.1" : a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return fmt::format("{}:{}", host, ep.port());
}

}  // namespace

control_server::control_server(broker& b) : broker_(b) {}

control_server::~control_server() { stop(); }

http_answer control_server::answer(const std::string& method, const std::string& target, const std::string& body) {
  std::string path = target.substr(0, target.find('?'));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto only = [&](const char* allowed) {
    if (method != allowed) throw bad_request{405, fmt::format("{} is not allowed on {} ({})", method, path, allowed)};
  };
  try {
    if (path == "/health") {
      only("GET");
      return reply(json::object{{"bootstrap_servers", bootstrap_of(broker_)}});
    }
    if (path == "/faults") return faults_route(broker_, method, {}, body);
    if (path.rfind("/faults/", 0) == 0) return faults_route(broker_, method, std::string_view(path).substr(8), body);
    if (path == "/requests") return requests_route(broker_, method);
    if (path == "/topics") {
      only("POST");
      return topics_route(broker_, body);
    }
    if (path == "/pause" || path == "/resume") {
      only("POST");
      if (path == "/pause") broker_.faults().pause();
      else broker_.faults().resume();
      return reply(json::object{});
    }
    if (path == "/reset") {
      only("POST");
      // The reset clears the fault rules, a pause and the request log too.
      auto reset = on_network(broker_, reset_now(broker_));
      if (!reset) throw bad_request{500, fmt::format("reset failed: {}", reset.err().message)};
      return reply(json::object{});
    }
    if (path == "/connections/close") {
      only("POST");
      const size_t closed = on_network(broker_, close_connections_now(broker_));
      return reply(json::object{{"closed", closed}});
    }
    throw bad_request{404, fmt::format("no route {} {}", method, path)};
  } catch (const bad_request& e) {
    return failure(e.status, e.message);
  } catch (const std::exception& e) {
    return failure(500, fmt::format("{} {} failed: {}", method, path, e.what()));
  }
}

awaitable<void> control_server::serve(asio::ip::tcp::socket socket) {
  if (closing_) co_return;
  open_.insert(&socket);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_body);
    auto [rec, got] = co_await http::async_read(socket, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      if (!closing_ && rec != http::error::end_of_stream && rec != asio::error::operation_aborted &&
          rec != asio::error::connection_reset && rec != asio::error::eof) {
        http::response<http::string_body> bad{http::status::bad_request, 11};
        bad.set(http::field::content_type, "application/json");
        bad.body() = json::serialize(json::object{{"error", fmt::format("bad HTTP request: {}", rec.message())}});
        bad.prepare_payload();
        co_await http::async_write(socket, bad, asio::as_tuple(asio::use_awaitable));
      }
      break;
    }
    const auto& req = parser.get();
    http_answer a = answer(std::string(req.method_string()), std::string(req.target()), req.body());
    http::response<http::string_body> res{static_cast<http::status>(a.status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(a.body);
    res.prepare_payload();
    const bool keep = res.keep_alive();
    auto [wec, sent] = co_await http::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep || closing_) break;
  }
  open_.erase(&socket);
  boost::system::error_code ec;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

awaitable<void> control_server::accept_loop() {
  while (!closing_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (closing_ || ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::warn("control API connection failed: {}", ex.what());
      }
    });
  }
}

common::result<std::unique_ptr<control_server>> control_server::start(broker& b, uint16_t port) {
  std::unique_ptr<control_server> s(new control_server(b));
  boost::system::error_code ec;
  asio::ip::tcp::endpoint ep(asio::ip::address_v4::loopback(), port);
  s->acceptor_.open(ep.protocol(), ec);
  if (!ec) s->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s->acceptor_.bind(ep, ec);
  if (!ec) s->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return common::error{kafka_error::invalid_config,
                         fmt::format("control API cannot listen on 127.0.0.1:{}: {}", port, ec.message())};
  s->port_ = s->acceptor_.local_endpoint().port();
  asio::co_spawn(s->io_, s->accept_loop(), asio::detached);
  s->thread_ = std::thread([server = s.get()] {
    try {
      server->io_.run();
    } catch (const std::exception& e) {
      spdlog::error("control API thread failed: {}", e.what());
    }
  });
  spdlog::info("control API on http://127.0.0.1:{}", s->port_);
  return s;
}

void control_server::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Close the acceptor and every connection on the server's thread; the thread ends once their
  // coroutines have (a request waiting on the broker finishes first, within network_deadline).
  asio::post(io_, [this] {
    closing_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto* s : open_) s->close(ec);
  });
  if (thread_.joinable()) thread_.join();
}

}  // namespace brook::broker::control
