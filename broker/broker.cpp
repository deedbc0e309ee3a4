#include "broker/broker.hpp"

#include "common/protocol/messages/txn_offset_commit.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <utility>
#include <filesystem>
#include <future>
#include <optional>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/background.hpp"
#include "broker/blocking.hpp"
#include "broker/connection.hpp"
#include "broker/topic_admin.hpp"
#include "common/os/file_io.hpp"

namespace brook::broker {

namespace asio = boost::asio;
using common::kafka_error;

namespace {
// The dynamic configs a new data directory starts with (server_config::initial_dynamic_defaults), as
// the store keeps them: the cluster-wide defaults resource, broker type, named "".
std::vector<log::config_resource_record> initial_config_resources(const server_config& config) {
  log::config_resource_record defaults;
  defaults.resource_type = 4;
  defaults.resource_name = "";
  for (const auto& [name, value] : config.initial_dynamic_defaults()) defaults.configs.push_back({name, value});
  return {defaults};
}
}  // namespace

broker::broker(server_config config)
    : config_(std::move(config)),
      topics_(config_),
      quota_manager_(quotas_, {config_.quota_window_num(), int64_t{config_.quota_window_size_seconds()} * 1000}, [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
      }) {
  faults_.on_resume([this] {
    asio::post(io_, [this] {
      auto parked = std::move(paused_requests_);
      paused_requests_.clear();
      for (const auto& t : parked) t->cancel();
    });
  });
}

broker::~broker() {
  stop();
  if (network_thread_.joinable()) wait();
}

common::result<std::unique_ptr<broker>> broker::open(server_config config, const std::atomic<bool>* cancel) {
  std::unique_ptr<broker> b(new broker(std::move(config)));
  auto dirs = b->config_.log_dirs();
  if (dirs.size() != 1)
    return common::error{kafka_error::invalid_config,
                         fmt::format("log.dirs must name exactly one directory on a single-node broker (got {})",
                                     dirs.size())};
  std::filesystem::path data = dirs.front();
  std::error_code ec;
  std::filesystem::create_directories(data, ec);
  if (ec)
    return common::error{kafka_error::kafka_storage_error,
                         fmt::format("cannot create log.dirs {}: {}", data.string(), ec.message())};
  auto store = log::metadata_store::open(data / "__brook_metadata", b->config_.brook_log_fsync());
  if (!store) return store.err();
  b->store_ = std::move(*store);
  auto cluster = b->store_->get_or_create_cluster_id(initial_config_resources(b->config_));
  if (!cluster) return cluster.err();
  b->cluster_id_ = *cluster;
  auto dynamic = b->load_dynamic_configs();
  if (!dynamic) return dynamic.err();
  auto topics = b->store_->list_topics();
  if (!topics) return topics.err();
  for (const auto& problem : b->topics_.load(std::move(*topics)))
    spdlog::warn("stored topic config no longer valid, using defaults: {}", problem);

  // The partition logs, each opened with its topic's configuration (recovered after a crash).
  broker* self = b.get();
  auto configs = [self](const log::topic_partition& tp) {
    const topic_info* t = self->topics_.find(tp.topic);
    auto fallback = resolve_topic_config(self->config_, {});
    return partition_manager::to_log_config(t ? t->config : (fallback ? *fallback : effective_topic_config{}));
  };
  // Only partitions of registered topics are opened; other directories (a creation cut short by a crash,
  // before its record was stored) are removed.
  auto registered = [self](const log::topic_partition& tp) {
    const topic_info* t = self->topics_.find(tp.topic);
    return t && tp.partition < t->record.partitions;
  };
  auto logs = log::log_manager::open(data, configs, {}, registered, cancel ? cancel : &b->stopping_,
                                     b->config_.brook_log_fsync(), b->config_.num_recovery_threads_per_data_dir());
  if (!logs) return logs.err();
  (*logs)->set_fault_hook(&b->faults_);
  b->partitions_ = std::make_unique<partition_manager>(b->blocking_pool_, std::move(*logs));
  // Reconcile the directories on disk with the topic records.
  for (const auto& [name, info] : b->topics_.all()) {
    if (auto ok = b->partitions_->ensure_topic(name, info.record.partitions, info.config); !ok) return ok.err();
    b->partitions_->attach_topic(name, info.record.partitions, b->store_.get());
  }
  auto quotas = b->store_->list_client_quotas();
  if (!quotas) return quotas.err();
  b->quotas_.load(*quotas);
  auto scram = b->store_->list_scram_credentials();
  if (!scram) return scram.err();
  b->scram_credentials_.load(*scram);
  if (auto settings = security::authorizer_settings_from(b->config_)) {
    b->authorizer_ = std::make_unique<security::authorizer>(std::move(*settings));
    auto acls = b->store_->list_acls();
    if (!acls) return acls.err();
    for (const auto& stored : *acls) b->authorizer_->add(security::from_record(stored));
    spdlog::info("authorizer: {} ACLs, {} super users", b->authorizer_->size(),
                 b->authorizer_->settings().super_users.size());
  }
  b->groups_ = std::make_unique<group::group_service>(b->io_, b->blocking_pool_, *b->store_, b->config_);
  if (b->authorizer_) {
    // Regex subscriptions match only topics their member may describe (KAFKA-18813); not logged, as
    // Kafka's coordinator filters without audit lines for the topics it leaves out.
    const security::authorizer* auth = b->authorizer_.get();
    b->groups_->coordinator().set_regex_topic_filter(
        [auth](const std::string& principal, const std::string& host, const std::string& topic) {
          security::action describe;
          describe.operation = security::acl_operation::describe;
          describe.type = security::resource_type::topic;
          describe.name = topic;
          describe.log_if_allowed = false;
          describe.log_if_denied = false;
          return auth->authorize({principal, host, "ConsumerGroupHeartbeat"}, describe);
        });
  }
  for (const auto& [id, overrides] : b->group_configs_) {
    if (auto timing = resolve_group_config(b->config_, overrides))
      b->groups_->coordinator().set_consumer_timing(
          id, group::group_coordinator::consumer_timing{timing->session_timeout_ms, timing->heartbeat_interval_ms,
                                                         timing->assignment_interval_ms});
    else
      spdlog::warn("stored configs of group '{}' are no longer valid, using the broker's: {}", id, timing.err().message);
  }
  if (auto loaded = b->groups_->load(); !loaded) return loaded.err();
  broker* raw = b.get();
  b->transactions_ = std::make_unique<transaction::transaction_service>(
      b->io_, b->blocking_pool_, *b->store_, transaction::transaction_config_from(b->config_),
      static_cast<int32_t>(b->config_.get_int("offsets.topic.num.partitions")),
      [raw] { return raw->allocate_producer_id(); },
      [raw](const transaction::marker_request& markers) { return raw->write_transaction_markers(markers); });
  if (auto loaded = b->transactions_->load(); !loaded) return loaded.err();
  // TxnOffsetCommit's producer check (KIP-890): the group's offsets partition must be in the producer's
  // transaction (AddOffsetsToTxn put it there), as Kafka verifies it with its transaction coordinator; from
  // v5 (transaction version 2) the commit puts it there itself.
  b->groups_->set_txn_producer_check([raw](const group::txn_commit_producer& p) -> asio::awaitable<kafka_error> {
    auto& txns = raw->transactions();
    const auto partition = txns.group_offsets_partition(p.group_id);
    kafka_error e = kafka_error::none;
    if (p.api_version >= 5) {
      // Transaction version 2: the commit adds the group's partition to the transaction itself.
      transaction::partition_set partitions{partition};  // named: GCC 12 and braced temporaries in co_await
      e = co_await txns.add_partitions_implicitly(p.transactional_id, p.producer_id, p.producer_epoch, partitions);
    } else {
      const auto verdicts = txns.coordinator().verify_partitions(p.transactional_id, p.producer_id, p.producer_epoch,
                                                                  {partition});
      if (auto it = verdicts.find(partition); it != verdicts.end()) e = it->second;
    }
    // As Kafka's AddPartitionsToTxnManager: clients before TxnOffsetCommit v5 (transaction version 2)
    // do not know TRANSACTION_ABORTABLE, and a fenced producer hears INVALID_PRODUCER_EPOCH.
    if (e == kafka_error::transaction_abortable && p.api_version < 5) e = kafka_error::invalid_txn_state;
    if (e == kafka_error::producer_fenced) e = kafka_error::invalid_producer_epoch;
    co_return transaction::error_for_version(e, common::protocol::txn_offset_commit::api_key, p.api_version);
  });
  spdlog::info("data in {} (cluster id {}, {} topics)", data.string(), b->cluster_id_, b->topics_.all().size());
  return b;
}

common::result<void> broker::load_dynamic_configs() {
  auto records = store_->list_config_resources();
  if (!records) return records.err();
  dynamic_configs per_broker, defaults;
  group_configs_.clear();
  const std::string self = std::to_string(config_.node_id());
  for (const auto& r : *records) {
    dynamic_configs configs;
    for (const auto& c : r.configs) configs[c.name] = c.value;
    if (r.resource_type == 4 && r.resource_name.empty()) defaults = std::move(configs);
    else if (r.resource_type == 4 && r.resource_name == self) per_broker = std::move(configs);
    else if (r.resource_type == 32) group_configs_[r.resource_name] = std::move(configs);
  }
  if (per_broker.empty() && defaults.empty()) return {};
  auto next = config_.with_dynamic(per_broker, defaults);
  if (!next) {
    // Keep what still validates, key by key (the static settings may have changed since).
    dynamic_configs kept_defaults, kept_per_broker;
    for (auto [layer, kept] : {std::pair{&defaults, &kept_defaults}, std::pair{&per_broker, &kept_per_broker}}) {
      for (const auto& [name, text] : *layer) {
        (*kept)[name] = text;
        if (!config_.with_dynamic(kept_per_broker, kept_defaults)) {
          spdlog::warn("stored dynamic broker config {}={} is no longer valid and is ignored", name, text);
          kept->erase(name);
        }
      }
    }
    next = config_.with_dynamic(kept_per_broker, kept_defaults);
    if (!next) return next.err();
  }
  config_ = std::move(*next);
  return {};
}

asio::awaitable<void> broker::reconfigure(const server_config& next) {
  const bool backoff_changed = next.log_cleaner_backoff_ms() != config_.log_cleaner_backoff_ms();
  const int32_t previous_assignment_interval_ms = config_.group_consumer_assignment_interval_ms();
  config_ = next;
  for (const auto& name : topics_.resolve_again()) {
    const topic_info* info = topics_.find(name);
    if (!info) continue;
    const effective_topic_config topic_config = info->config;
    co_await partitions_->apply_config(name, topic_config);
  }
  groups_->coordinator().set_max_record_bytes(config_.message_max_bytes());
  if (next.group_consumer_assignment_interval_ms() != previous_assignment_interval_ms) {
    auto& coordinator = groups_->coordinator();
    coordinator.set_default_assignment_interval(config_.group_consumer_assignment_interval_ms());
    // Groups with configs of their own take the broker's value for the keys they do not set.
    for (const auto& [id, overrides] : group_configs_)
      if (auto timing = resolve_group_config(config_, overrides))
        coordinator.set_consumer_timing(id, group::group_coordinator::consumer_timing{
                                                timing->session_timeout_ms, timing->heartbeat_interval_ms,
                                                timing->assignment_interval_ms});
  }
  if (maintenance_timer_ && backoff_changed) {
    maintenance_rescheduled_ = true;
    maintenance_timer_->cancel();
  }
}

common::result<void> broker::start() {
  auto wanted = config_.client_listeners();
  const auto& advertised = config_.advertised_listeners();
  for (const auto& l : wanted) {
    // What the listener asks of its clients (TLS, SASL) is checked before anything is bound.
    auto security = security::build_listener_security(config_, l, scram_credentials_);
    if (!security) return security.err();
    listener_security_.push_back(std::move(*security));
  }
  for (const auto& l : wanted) {
    boost::system::error_code ec;
    asio::ip::address address = l.host.empty() ? asio::ip::address(asio::ip::address_v6::any())
                                                : asio::ip::make_address(l.host, ec);
    if (ec) {
      // A host name (localhost): resolve it once.
      asio::ip::tcp::resolver resolver(io_);
      auto results = resolver.resolve(l.host, std::to_string(l.port), ec);
      if (ec || results.empty())
        return common::error{kafka_error::invalid_config,
                             fmt::format("listeners: cannot resolve host '{}': {}", l.host, ec.message())};
      address = results.begin()->endpoint().address();
    }
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io_);
    asio::ip::tcp::endpoint ep(address, l.port);
    acceptor->open(ep.protocol(), ec);
    if (!ec && address.is_v6() && l.host.empty()) acceptor->set_option(asio::ip::v6_only(false), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    // As Kafka's acceptor: SO_RCVBUF on the listening socket, so that accepted sockets start with it
    // (the TCP window scale is agreed in the handshake); -1 keeps the system's (auto-tuned) default.
    if (const int32_t rcvbuf = config_.socket_receive_buffer_bytes(); !ec && rcvbuf != -1)
      acceptor->set_option(asio::socket_base::receive_buffer_size(rcvbuf), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return common::error{kafka_error::kafka_storage_error,
                           fmt::format("cannot listen on {}://{}:{}: {}", l.name, l.host, l.port, ec.message())};
    bound_listener bound{l.name, acceptor->local_endpoint(), {}, 0};
    bound.advertised_port = bound.endpoint.port();
    for (const auto& a : advertised)
      if (a.name == l.name) {
        bound.advertised_host = a.host;
        bound.advertised_port = a.port != 0 ? a.port : bound.endpoint.port();
      }
    std::string shown = l.host.empty() ? std::string() : bound.endpoint.address().to_string();
    if (bound.endpoint.address().is_v6() && !shown.empty()) shown = "[" + shown + "]";
    spdlog::info("listening on {}://{}:{}", l.name, shown, bound.endpoint.port());
    listeners_.push_back(bound);
    acceptors_.push_back(std::move(acceptor));
  }
  for (size_t i = 0; i < acceptors_.size(); ++i)
    spawn_supervised(fmt::format("accept loop of {}", listeners_[i].name), [this, i] { return accept_loop(i); });
  spawn_supervised("log maintenance", [this] { return run_log_maintenance(); });
  groups_->start();
  transactions_->start();
  network_thread_ = std::thread([this] {
    // sendfile(2) to a peer that has gone would otherwise kill the process with SIGPIPE.
    common::os::suppress_broken_pipe_signal_on_this_thread();
    try {
      io_.run();
    } catch (const std::exception& e) {
      spdlog::critical("network thread failed: {}", e.what());
    }
  });
  return {};
}

void broker::spawn_supervised(std::string name, std::function<asio::awaitable<void>()> body) {
  // The shared supervisor logs the failure; the restart is ours, after a pause, so that a failure
  // that repeats at once does not spin.
  auto after_crash = [this, name, body]() mutable {
    if (stopping_) return false;
    spdlog::warn("restarting '{}' in {} ms", name, supervised_restart_delay.count());
    auto pause = std::make_shared<asio::steady_timer>(io_, supervised_restart_delay);
    background_timers_.insert(pause);
    pause->async_wait([this, pause, name, body](const boost::system::error_code&) mutable {
      background_timers_.erase(pause);
      if (!stopping_) spawn_supervised(std::move(name), std::move(body));
    });
    return false;
  };
  ::brook::broker::spawn_supervised(io_.get_executor(), std::move(name), body, std::move(after_crash));
}

asio::awaitable<void> broker::accept_loop(size_t index) {
  auto& acceptor = *acceptors_[index];
  // Out of descriptors (EMFILE/ENFILE) or memory: the pending connection stays in the listen backlog,
  // so retrying at once would spin. Back off (growing, capped), warn at most once per interval, and
  // keep serving the connections we have; the first accept that works resets both.
  constexpr auto first_backoff = std::chrono::milliseconds(10);
  constexpr auto max_backoff = std::chrono::milliseconds(1000);
  constexpr auto warn_interval = std::chrono::seconds(10);
  auto backoff = first_backoff;
  std::optional<std::chrono::steady_clock::time_point> last_warning;
  uint64_t failures_since_warning = 0;
  auto pause = std::make_shared<asio::steady_timer>(io_);
  background_timers_.insert(pause);
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      const bool out_of_resources = ec == asio::error::no_descriptors ||
                                    ec == boost::system::errc::too_many_files_open_in_system ||
                                    ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
      ++failures_since_warning;
      const auto now = std::chrono::steady_clock::now();
      if (!last_warning || now - *last_warning >= warn_interval) {
        spdlog::warn("accept on {} failed {} time(s) since the last warning: {}{}", listeners_[index].name,
                     failures_since_warning, ec.message(),
                     out_of_resources ? fmt::format("; retrying every {} ms at most", max_backoff.count()) : "");
        last_warning = now;
        failures_since_warning = 0;
      }
      if (out_of_resources) {
        pause->expires_after(backoff);
        co_await pause->async_wait(asio::as_tuple(asio::use_awaitable));
        backoff = std::min(backoff * 2, max_backoff);
      }
      continue;
    }
    if (backoff != first_backoff) {
      spdlog::info("accepting connections on {} again", listeners_[index].name);
      backoff = first_backoff;
      last_warning.reset();
      failures_since_warning = 0;
    }
    // SO_SNDBUF of each accepted socket, as Kafka sets it; -1 keeps the system's default.
    if (const int32_t sndbuf = config_.socket_send_buffer_bytes(); sndbuf != -1) {
      boost::system::error_code ignored;  // the socket works with the default size all the same
      socket.set_option(asio::socket_base::send_buffer_size(sndbuf), ignored);
    }
    auto c = std::make_shared<connection>(*this, std::move(socket), index, listener_security_[index]);
    add_connection(c);
    c->start();
  }
  background_timers_.erase(pause);
}

asio::awaitable<void> broker::run_log_maintenance() {
  auto timer = std::make_shared<asio::steady_timer>(io_);
  maintenance_timer_ = timer;
  // Schedules in one loop (so that retention, compaction and producer expiry never run on a log side by side):
  // retention and flush.ms checks every min(log.retention.check.interval.ms, log.flush.scheduler.interval.ms),
  // and, as Kafka's cleaner threads, a compaction pass every log.cleaner.backoff.ms (when log.cleaner.enable).
  // log.cleaner.backoff.ms is dynamic: reconfigure() wakes the loop, which restarts the cleaner's wait
  // with the new interval.
  using clock = std::chrono::steady_clock;
  const auto retention_interval = std::chrono::milliseconds(
      std::max<int64_t>(1, std::min(config_.log_retention_check_interval_ms(), config_.log_flush_scheduler_interval_ms())));
  const bool cleaner = config_.log_cleaner_enable();
  auto cleaner_interval = [this] { return std::chrono::milliseconds(std::max<int64_t>(1, config_.log_cleaner_backoff_ms())); };
  // And producer id expiration every producer.id.expiration.check.interval.ms.
  const auto expiry_interval = std::chrono::milliseconds(config_.producer_id_expiration_check_interval_ms());
  auto next_retention = clock::now() + retention_interval;
  auto next_cleaning = clock::now() + cleaner_interval();
  auto next_expiry = clock::now() + expiry_interval;
  while (!stopping_) {
    timer->expires_at(std::min(cleaner ? std::min(next_retention, next_cleaning) : next_retention, next_expiry));
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping_) break;
    if (ec && maintenance_rescheduled_) {
      maintenance_rescheduled_ = false;
      next_cleaning = clock::now() + cleaner_interval();
      continue;
    }
    if (ec) break;
    const auto now = clock::now();
    const bool retention_due = now >= next_retention;
    const bool cleaning_due = cleaner && now >= next_cleaning;
    if (now >= next_expiry) {
      // Against the batches' own timestamps, as Kafka compares them.
      const int64_t wall_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      co_await partitions_->expire_producers(wall_now - config_.producer_id_expiration_ms());
      next_expiry = clock::now() + expiry_interval;
    }
    if (!retention_due && !cleaning_due) continue;
    co_await partitions_->enforce_retention(retention_due, cleaning_due);
    if (retention_due) next_retention = clock::now() + retention_interval;
    if (cleaning_due) next_cleaning = clock::now() + cleaner_interval();
  }
}

asio::awaitable<common::result<int64_t>> broker::allocate_producer_id() {
  constexpr int64_t block = 1000;
  if (next_producer_id_ >= producer_id_block_end_) {
    auto reserve = [this] { return store_->allocate_producer_ids(block); };
    auto first = co_await run_blocking(blocking_pool_, reserve);
    if (!first) co_return first.err();
    if (next_producer_id_ >= producer_id_block_end_) {  // another request may have refilled it meanwhile
      next_producer_id_ = *first;
      producer_id_block_end_ = *first + block;
    }
  }
  co_return next_producer_id_++;
}

asio::awaitable<common::result<void>> broker::write_transaction_markers(const transaction::marker_request& markers) {
  // Brook is its partitions' only leader and its own transaction coordinator: coordinator epoch 0.
  constexpr int32_t coordinator_epoch = 0;
  int16_t transaction_version = transaction::transaction_version_0;
  if (const auto* meta = transactions_->coordinator().find(markers.transactional_id))
    transaction_version = meta->client_transaction_version;
  bool group_offsets = false;
  for (const auto& tp : markers.partitions) {
    if (tp.topic == transaction::transaction_service::offsets_topic) {
      group_offsets = true;
      continue;
    }
    const log::topic_partition partition{tp.topic, tp.partition};
    auto written = co_await partitions_->append_marker(partition, markers.producer_id, markers.producer_epoch,
                                                       markers.commit, coordinator_epoch, transaction_version);
    if (written) continue;
    // As Kafka's marker sender: a partition whose topic is gone needs no marker, and one refused for its
    // producer epoch or coordinator epoch never will take it (a newer producer moved on): both are done.
    // Anything else (a storage error) is tried again.
    const auto code = written.code();
    if (code == kafka_error::unknown_topic_or_partition || code == kafka_error::invalid_producer_epoch ||
        code == kafka_error::transaction_coordinator_fenced) {
      spdlog::warn("transaction marker of producer {} for {}-{} not written: {}", markers.producer_id, tp.topic,
                   tp.partition, written.err().message);
      continue;
    }
    co_return written.err();
  }
  if (group_offsets) co_return co_await groups_->complete_transaction(markers.producer_id, markers.commit);
  co_return common::result<void>{};
}

void broker::add_connection(const std::shared_ptr<connection>& c) { connections_.insert(c); }
void broker::remove_connection(const std::shared_ptr<connection>& c) { connections_.erase(c); }

size_t broker::close_connections() {
  auto snapshot = connections_;  // closing removes entries
  for (const auto& c : snapshot) c->abort("closed by fault injection");
  return snapshot.size();
}

void broker::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(io_, [this] {
    boost::system::error_code ec;
    for (auto& a : acceptors_) a->close(ec);
    auto snapshot = connections_;  // stop() may remove entries
    for (auto& c : snapshot) c->stop();
    if (maintenance_timer_) maintenance_timer_->cancel();
    for (auto& t : background_timers_) t->cancel();  // accept back-off, restart pauses
    for (auto& t : paused_requests_) t->cancel();     // paused by fault injection: answered now
    if (groups_) groups_->stop();  // parked JoinGroup/SyncGroup requests are answered
    if (transactions_) transactions_->stop();
  });
}

void broker::wait() {
  if (waited_) return;
  waited_ = true;
  if (network_thread_.joinable()) network_thread_.join();
  blocking_pool_.join();  // every append, read and fsync in flight has finished
  if (groups_) groups_->flush_now();
  if (partitions_) {
    if (auto saved = partitions_->save_producer_states(*store_); !saved)
      spdlog::error("saving producer state failed (it will be rebuilt from the logs): {}", saved.err().message);
    if (auto closed = partitions_->close(); !closed)
      spdlog::error("closing the partition logs failed (the next start will recover them): {}", closed.err().message);
  }
  spdlog::info("broker stopped");
}

asio::awaitable<common::result<void>> broker::reset_async() {
  if (stopping_) co_return common::error{kafka_error::request_timed_out, "The broker is shutting down."};
  if (resetting_) co_return common::error{kafka_error::concurrent_transactions, "A reset is already under way."};
  const auto started = std::chrono::steady_clock::now();
  // Requests that arrive meanwhile wait (as while paused) and are served by the broker as reset, so that
  // nothing they write lands in the store before it is cleared.
  resetting_ = true;
  struct end_of_reset {
    broker& b;
    ~end_of_reset() {
      b.resetting_ = false;
      b.transactions_->release_writes();
      for (const auto& t : std::exchange(b.paused_requests_, {})) t->cancel();
    }
  } ending{*this};
  faults_.clear_all();  // fault rules, a pause and the request log go first: nothing below meets a fault
  const size_t group_count = groups_->coordinator().groups().size() + groups_->coordinator().consumer_groups().size();
  // Groups first, in memory: parked JoinGroup/SyncGroup requests are answered and nothing is left for the
  // group writer; a write pass already under way lands before the store is cleared below.
  groups_->reset();
  (void)co_await groups_->flushed();
  transactions_->reset();
  co_await transactions_->persisted();  // a transaction state write under way lands before the store is cleared;
                                       // later ones wait for release_writes() (end_of_reset)
  // The durable part in one go on the blocking pool: one synced store batch, then every partition
  // directory renamed aside (one directory sync).
  log::metadata_store* store = store_.get();
  partition_manager* parts = partitions_.get();
  auto initial = initial_config_resources(config_);
  auto clear = [store, parts, initial]() -> common::result<std::vector<std::filesystem::path>> {
    if (auto cleared = store->clear_all(initial); !cleared) return cleared.err();
    return parts->detach_all_logs();
  };
  auto detached = co_await run_blocking(blocking_pool_, clear);
  // Then the in-memory view, each topic as DeleteTopics forgets one (fetches parked on its partitions
  // wake up and answer), the fetch sessions and the producer id block.
  std::vector<std::string> names;
  for (const auto& [name, info] : topics_.all()) names.push_back(name);
  for (const auto& name : names) forget_topic(*this, name);
  fetch_sessions_.clear();
  quotas_.clear();
  scram_credentials_.clear();
  quota_manager_.clear();
  if (authorizer_) authorizer_->clear();
  group_configs_.clear();
  // As the store has them now: a new data directory's cluster-wide defaults, nothing per broker.
  auto fresh = config_.with_dynamic({}, config_.initial_dynamic_defaults());
  if (fresh) {
    const server_config as_new = std::move(*fresh);
    co_await reconfigure(as_new);
  }
  next_producer_id_ = producer_id_block_end_ = 0;
  if (!detached) {
    spdlog::error("reset failed: {}", detached.err().message);
    co_return detached.err();
  }
  if (!detached->empty())
    asio::post(blocking_pool_, [parts, dirs = std::move(*detached)] {
      if (auto removed = parts->remove_detached(dirs); !removed)
        spdlog::error("reset: the old partition directories could not all be removed: {}", removed.err().message);
    });
  spdlog::info("reset: deleted {} topics and {} groups in {} us", names.size(), group_count,
               std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  co_return common::result<void>{};
}

common::result<void> broker::reset() {
  if (!network_thread_.joinable() || stopping_)
    return common::error{kafka_error::request_timed_out, "The broker is not running."};
  if (std::this_thread::get_id() == network_thread_.get_id())
    return common::error{kafka_error::unknown_server_error, "reset() on the network thread would block it: co_await reset_async()"};
  auto done = std::make_shared<std::promise<common::result<void>>>();
  auto outcome = done->get_future();
  asio::co_spawn(io_, reset_async(), [done](std::exception_ptr e, common::result<void> r) {
    if (e) {
      std::string what = "reset failed";
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        what += ": ";
        what += ex.what();
      } catch (...) {
      }
      done->set_value(common::error{kafka_error::unknown_server_error, what});
      return;
    }
    done->set_value(std::move(r));
  });
  return outcome.get();
}

std::vector<log::durable_extent> broker::halt() {
  stop();
  std::vector<log::durable_extent> out;
  if (waited_) return out;
  waited_ = true;
  if (network_thread_.joinable()) network_thread_.join();
  blocking_pool_.join();  // work already queued (appends, fsyncs, deletions) runs to its end, as in a crash
  if (partitions_) out = partitions_->durable_extents();
  spdlog::info("broker halted without a clean shutdown");
  return out;
}

}  // namespace brook::broker
