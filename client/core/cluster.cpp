#include "client/core/cluster.hpp"

#include <algorithm>
#include <charconv>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "client/core/errors.hpp"

namespace brook::client::core {

using asio::awaitable;
using asio::use_awaitable;
using clock = std::chrono::steady_clock;

// One broker's connection and its reconnect backoff.
struct cluster::node_state {
  host_port where;
  std::shared_ptr<connection> conn;
  bool connecting = false;
  std::vector<connection_handler> waiters;
  clock::time_point next_attempt{};
  std::chrono::milliseconds backoff{0};
  common::error last_error{kafka_error::network_exception, {}};
};

namespace {

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class T, class Init>
auto wait_for_completion(Init&& init) {
  return asio::async_initiate<decltype(use_awaitable), void(T)>(std::forward<Init>(init), use_awaitable);
}

template <class Handler, class Value>
void post_result(asio::any_io_executor ex, Handler h, Value v) {
  asio::post(ex, [h = std::move(h), v = std::move(v)]() mutable { std::move(h)(std::move(v)); });
}

}  // namespace

result<std::vector<host_port>> parse_bootstrap_servers(std::string_view list) {
  std::vector<host_port> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto entry = trim_spaces(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    std::string_view host, port;
    if (entry.front() == '[') {
      const auto close = entry.find(']');
      if (close == std::string_view::npos || close + 1 >= entry.size() || entry[close + 1] != ':')
        return common::error{kafka_error::invalid_config, fmt::format("'{}' is not host:port", entry)};
      host = entry.substr(1, close - 1);
      port = entry.substr(close + 2);
    } else {
      const auto colon = entry.rfind(':');
      if (colon == std::string_view::npos || entry.find(':') != colon)
        return common::error{kafka_error::invalid_config, fmt::format("'{}' is not host:port", entry)};
      host = entry.substr(0, colon);
      port = entry.substr(colon + 1);
    }
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (host.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535)
      return common::error{kafka_error::invalid_config, fmt::format("'{}' is not host:port", entry)};
    out.push_back(host_port{std::string(host), static_cast<uint16_t>(value)});
  }
  if (out.empty()) return common::error{kafka_error::invalid_config, "no broker address is given"};
  return out;
}

const topic_info* metadata_snapshot::topic(std::string_view name) const {
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : &it->second;
}

const broker_info* metadata_snapshot::broker(int32_t node_id) const {
  auto it = brokers.find(node_id);
  return it == brokers.end() ? nullptr : &it->second;
}

std::optional<int32_t> metadata_snapshot::leader_for(std::string_view topic_name, int32_t partition) const {
  const auto* t = topic(topic_name);
  if (!t || partition < 0 || static_cast<size_t>(partition) >= t->partitions.size()) return std::nullopt;
  const auto& p = t->partitions[static_cast<size_t>(partition)];
  if (p.leader < 0 || !broker(p.leader)) return std::nullopt;
  return p.leader;
}

cluster::cluster(asio::any_io_executor ex, cluster_options opts)
    : ex_(ex), opts_(std::move(opts)), metadata_(std::make_shared<metadata_snapshot>()) {}

cluster::~cluster() { close(); }

void cluster::close() {
  closed_ = true;
  for (auto& [id, n] : nodes_) {
    if (n->conn) n->conn->close();
    for (auto& w : n->waiters)
      post_result(ex_, std::move(w),
                  result<std::shared_ptr<connection>>(kafka_error::network_exception, "the client is closed"));
    n->waiters.clear();
  }
}

bool cluster::metadata_stale() const {
  return metadata_->updated == clock::time_point{} || clock::now() - metadata_->updated >= opts_.metadata_max_age;
}

std::chrono::milliseconds cluster::retry_backoff(int attempt) const {
  double ms = static_cast<double>(opts_.retry_backoff.count());
  for (int i = 0; i < attempt && ms < static_cast<double>(opts_.retry_backoff_max.count()); ++i) ms *= 2;
  ms = std::min(ms, static_cast<double>(std::max(opts_.retry_backoff_max, opts_.retry_backoff).count()));
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(ms * jitter(rng)));
}

awaitable<result<std::shared_ptr<connection>>> cluster::connection_to(int32_t node_id) {
  if (closed_) co_return common::error{kafka_error::network_exception, "the client is closed"};
  host_port where;
  if (node_id >= 0) {
    const auto* b = metadata_->broker(node_id);
    auto known = nodes_.find(node_id);
    if (b) {
      where = host_port{b->host, b->port};
    } else if (known != nodes_.end()) {
      where = known->second->where;
    } else {
      co_return common::error{kafka_error::network_exception, fmt::format("broker {} is not known", node_id)};
    }
  } else {
    const auto index = static_cast<size_t>(-(node_id + 1));
    if (index >= opts_.bootstrap.size())
      co_return common::error{kafka_error::network_exception, fmt::format("no bootstrap broker {}", node_id)};
    where = opts_.bootstrap[index];
  }
  auto& slot = nodes_[node_id];
  if (!slot) slot = std::make_unique<node_state>();
  node_state& n = *slot;
  if (n.where != where && n.conn) {
    n.conn->close();  // the broker moved (a new advertised address)
    n.conn.reset();
  }
  n.where = where;
  if (n.conn && n.conn->is_open()) co_return n.conn;
  n.conn.reset();
  if (!n.connecting && clock::now() < n.next_attempt) {
    co_return common::error{n.last_error.code,
                            fmt::format("{} (not retried before reconnect.backoff.ms has passed)", n.last_error.message)};
  }
  co_return co_await wait_for_completion<result<std::shared_ptr<connection>>>([&](auto handler) {
    n.waiters.push_back(std::move(handler));
    if (!n.connecting) {
      n.connecting = true;
      asio::co_spawn(ex_, open_node(node_id, where), asio::detached);
    }
  });
}

awaitable<void> cluster::open_node(int32_t node_id, host_port where) {
  auto r = co_await connection::open(ex_, where.host, where.port, node_id, opts_.connection);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) co_return;
  node_state& n = *it->second;
  n.connecting = false;
  if (r) {
    n.backoff = std::chrono::milliseconds(0);
    if (closed_) (*r)->close();
    else n.conn = *r;
  } else {
    n.backoff = n.backoff.count() == 0 ? opts_.reconnect_backoff
                                       : std::min(n.backoff * 2, std::max(opts_.reconnect_backoff_max,
                                                                          opts_.reconnect_backoff));
    n.next_attempt = clock::now() + n.backoff;
    n.last_error = r.err();
    spdlog::debug("broker {} ({}:{}): {}", node_id, where.host, where.port, r.err().message);
  }
  auto waiters = std::move(n.waiters);
  n.waiters.clear();
  for (auto& w : waiters) post_result(ex_, std::move(w), r);
}

awaitable<result<std::shared_ptr<connection>>> cluster::any_connection() {
  if (closed_) co_return common::error{kafka_error::network_exception, "the client is closed"};
  // An open connection to a known broker, the least loaded first.
  std::shared_ptr<connection> best;
  for (auto& [id, n] : nodes_) {
    if (n->conn && n->conn->is_open() && (!best || n->conn->in_flight() < best->in_flight())) best = n->conn;
  }
  if (best) co_return best;
  // Otherwise every known broker, then the bootstrap list, starting where the last attempt stopped.
  std::vector<int32_t> candidates;
  for (const auto& [id, b] : metadata_->brokers) candidates.push_back(id);
  const size_t n = opts_.bootstrap.size();
  for (size_t i = 0; i < n; ++i) candidates.push_back(-static_cast<int32_t>((next_bootstrap_ + i) % n) - 1);
  next_bootstrap_ = (next_bootstrap_ + 1) % std::max<size_t>(n, 1);
  common::error last{kafka_error::network_exception, "no broker is known"};
  for (int32_t id : candidates) {
    auto c = co_await connection_to(id);
    if (c) co_return c;
    last = c.err();
  }
  co_return common::error{last.code, fmt::format("no broker is reachable: {}", last.message)};
}

awaitable<result<std::shared_ptr<const metadata_snapshot>>> cluster::refresh_metadata(
    std::optional<std::vector<std::string>> topics, bool allow_auto_create) {
  std::string key = "*";
  if (topics) {
    auto sorted = *topics;
    std::sort(sorted.begin(), sorted.end());
    key = fmt::format("{}|{}", allow_auto_create, fmt::join(sorted, ","));
  }
  const auto emplaced = refreshing_.try_emplace(key);
  const auto it = emplaced.first;
  if (!emplaced.second) {
    co_return co_await wait_for_completion<result<std::shared_ptr<const metadata_snapshot>>>(
        [&](auto handler) { it->second.push_back(std::move(handler)); });
  }
  auto r = co_await do_refresh(std::move(topics), allow_auto_create);
  auto waiters = std::move(refreshing_[key]);
  refreshing_.erase(key);
  for (auto& w : waiters) post_result(ex_, std::move(w), r);
  co_return r;
}

awaitable<result<std::shared_ptr<const metadata_snapshot>>> cluster::do_refresh(
    std::optional<std::vector<std::string>> topics, bool allow_auto_create) {
  common::error last{kafka_error::network_exception, "no broker answered Metadata"};
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto conn = co_await any_connection();
    if (!conn) {
      last = conn.err();
      break;
    }
    // v1 is the first version where a null topic list means every topic.
    const auto v = (*conn)->version_for<proto::metadata::request>(1);
    if (!v) co_return common::error{kafka_error::unsupported_version, "the broker serves no usable Metadata version"};
    proto::metadata::request req;
    if (topics) {
      req.topics.emplace();
      for (const auto& t : *topics) {
        proto::metadata::request_topic rt;
        rt.name = t;
        req.topics->push_back(std::move(rt));
      }
    } else {
      req.topics.reset();
    }
    req.allow_auto_topic_creation = allow_auto_create;
    auto resp = co_await (*conn)->call_at(req, *v);
    if (!resp) {
      last = resp.err();
      continue;  // another broker may answer
    }
    if (resp->error_code != 0) {
      // v13+: the request failed as a whole; the answer lists no brokers (as the Java client, which
      // counts it a failed update).
      const auto code = static_cast<kafka_error>(resp->error_code);
      last = common::error{code, fmt::format("Metadata: {}", common::error_name(code))};
      continue;
    }
    apply(*resp, *v, !topics.has_value(), topics.value_or(std::vector<std::string>{}));
    co_return metadata_;
  }
  co_return last;
}

void cluster::apply(const proto::metadata::response& resp, int16_t version, bool all_topics,
                    const std::vector<std::string>& asked) {
  auto next = std::make_shared<metadata_snapshot>(*metadata_);
  next->updated = clock::now();
  if (resp.cluster_id) next->cluster_id = resp.cluster_id;
  next->controller_id = resp.controller_id;
  next->brokers.clear();
  for (const auto& b : resp.brokers) {
    next->brokers[b.node_id] = broker_info{b.node_id, b.host, static_cast<uint16_t>(b.port), b.rack};
  }
  if (all_topics) {
    // A full answer replaces the list; topics that vanished are gone.
    std::map<std::string, topic_info, std::less<>> previous = std::move(next->topics);
    next->topics.clear();
    for (const auto& t : resp.topics) {
      if (t.name) {
        auto old = previous.find(*t.name);
        if (old != previous.end()) next->topics.emplace(*t.name, std::move(old->second));
      }
    }
  }
  for (const auto& t : resp.topics) {
    if (!t.name) continue;
    topic_info info;
    info.name = *t.name;
    info.id = t.topic_id;
    info.error = static_cast<kafka_error>(t.error_code);
    info.internal = t.is_internal;
    const topic_info* old = next->topic(info.name);
    for (const auto& p : t.partitions) {
      partition_info pi;
      pi.partition = p.partition_index;
      pi.error = static_cast<kafka_error>(p.error_code);
      pi.leader = p.leader_id;
      pi.leader_epoch = p.leader_epoch;
      pi.replicas = p.replica_nodes;
      pi.isr = p.isr_nodes;
      pi.offline_replicas = p.offline_replicas;
      // An answer from a broker that has not yet seen the latest leader change keeps the newer one.
      if (old && old->id == info.id && pi.leader_epoch >= 0) {
        for (const auto& op : old->partitions) {
          if (op.partition == pi.partition && op.leader_epoch > pi.leader_epoch) pi = op;
        }
      }
      info.partitions.push_back(std::move(pi));
    }
    std::sort(info.partitions.begin(), info.partitions.end(),
              [](const partition_info& a, const partition_info& b) { return a.partition < b.partition; });
    next->topics.insert_or_assign(info.name, std::move(info));
  }
  (void)version;
  (void)asked;
  metadata_ = std::move(next);
}

awaitable<result<std::shared_ptr<const metadata_snapshot>>> cluster::metadata_for(
    const std::vector<std::string>& topics, bool allow_auto_create) {
  auto complete = [&] {
    if (metadata_stale()) return false;
    for (const auto& name : topics) {
      const auto* t = metadata_->topic(name);
      if (!t || t->error != kafka_error::none || t->partitions.empty()) return false;
      for (const auto& p : t->partitions)
        if (p.leader < 0 || !metadata_->broker(p.leader)) return false;
    }
    return true;
  };
  if (complete()) co_return metadata_;
  co_return co_await refresh_metadata(topics, allow_auto_create);
}

awaitable<result<int32_t>> cluster::coordinator(coordinator_type type, const std::string& key) {
  const auto cache_key = std::make_pair(static_cast<int8_t>(type), key);
  if (auto it = coordinators_.find(cache_key); it != coordinators_.end()) co_return it->second;
  // Retriable answers (COORDINATOR_NOT_AVAILABLE while Kafka creates __consumer_offsets, a lost
  // connection) are asked again with backoff, as the Java client's ensureCoordinatorReady does, for
  // up to request.timeout.ms.
  const auto give_up = clock::now() + opts_.connection.request_timeout;
  for (int attempt = 0;; ++attempt) {
    auto r = co_await find_coordinator(type, key);
    if (r || !is_retriable(r.err().code) || closed_ || clock::now() + retry_backoff(attempt) >= give_up) co_return r;
    asio::steady_timer pause(ex_, retry_backoff(attempt));
    co_await pause.async_wait(asio::as_tuple(use_awaitable));
  }
}

awaitable<result<int32_t>> cluster::find_coordinator(coordinator_type type, const std::string& key) {
  const auto cache_key = std::make_pair(static_cast<int8_t>(type), key);
  auto conn = co_await any_connection();
  if (!conn) co_return conn.err();
  const auto v = (*conn)->version_for<proto::find_coordinator::request>(type == coordinator_type::group ? 0 : 1);
  if (!v) co_return common::error{kafka_error::unsupported_version, "the broker serves no usable FindCoordinator version"};
  proto::find_coordinator::request req;
  req.key_type = static_cast<int8_t>(type);
  if (*v >= 4) req.coordinator_keys = {key};
  else req.key = key;
  auto resp = co_await (*conn)->call_at(req, *v);
  if (!resp) co_return resp.err();
  int16_t code = resp->error_code;
  int32_t node = resp->node_id;
  std::string host = resp->host;
  int32_t port = resp->port;
  std::optional<std::string> message = resp->error_message;
  if (*v >= 4) {
    if (resp->coordinators.empty())
      co_return common::error{kafka_error::coordinator_not_available, "FindCoordinator answered no coordinator"};
    const auto& c = resp->coordinators.front();
    code = c.error_code;
    node = c.node_id;
    host = c.host;
    port = c.port;
    message = c.error_message;
  }
  if (code != 0) {
    const auto e = static_cast<kafka_error>(code);
    co_return common::error{e, fmt::format("no coordinator for {} '{}': {}{}",
                                           type == coordinator_type::group ? "group" : "transactional id", key,
                                           common::error_name(e), message && !message->empty() ? ": " + *message : std::string())};
  }
  // The coordinator may not be in the cached broker list yet: remember its address.
  auto& slot = nodes_[node];
  if (!slot) slot = std::make_unique<node_state>();
  if (!metadata_->broker(node)) slot->where = host_port{host, static_cast<uint16_t>(port)};
  coordinators_[cache_key] = node;
  co_return node;
}

void cluster::forget_coordinator(coordinator_type type, const std::string& key) {
  coordinators_.erase(std::make_pair(static_cast<int8_t>(type), key));
}

}  // namespace brook::client::core
