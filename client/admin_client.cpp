#include "brook/client/admin.hpp"

#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "client/admin/engine.hpp"
#include "client/core/io_thread.hpp"

namespace brook::client {

namespace asio = boost::asio;

std::string_view config_source_name(config_source s) {
  switch (s) {
    case config_source::dynamic_topic_config: return "DYNAMIC_TOPIC_CONFIG";
    case config_source::dynamic_broker_config: return "DYNAMIC_BROKER_CONFIG";
    case config_source::dynamic_default_broker_config: return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case config_source::static_broker_config: return "STATIC_BROKER_CONFIG";
    case config_source::default_config: return "DEFAULT_CONFIG";
    case config_source::dynamic_broker_logger_config: return "DYNAMIC_BROKER_LOGGER_CONFIG";
    case config_source::dynamic_client_metrics_config: return "CLIENT_METRICS_CONFIG";
    case config_source::dynamic_group_config: return "GROUP_CONFIG";
    case config_source::unknown: break;
  }
  return "UNKNOWN";
}

// The engine and, for the blocking face, the thread that runs it. The engine is shared with every
// operation in flight, so that it outlives them.
struct admin_client::state {
  std::unique_ptr<core::io_thread> thread;  // null for the coroutine face
  asio::any_io_executor ex;
  std::shared_ptr<admin::engine> engine;

  ~state() {
    if (!engine) return;
    if (thread) {
      thread->run([](std::shared_ptr<admin::engine> e) -> asio::awaitable<void> {
        e->close();
        co_return;
      }(engine));
      thread->stop();
    } else {
      asio::co_spawn(ex, [](std::shared_ptr<admin::engine> e) -> asio::awaitable<void> {
        e->close();
        co_return;
      }(engine), asio::detached);
    }
  }

  // Runs an operation on the engine's executor, holding the engine until it completes. The value
  // travels in an optional because co_spawn's completion needs a default-constructible value.
  template <class T>
  static asio::awaitable<std::optional<T>> hold(std::shared_ptr<admin::engine> e, asio::awaitable<T> op) {
    co_return co_await std::move(op);
  }
  template <class T>
  T block(asio::awaitable<T> op) {
    // Waiting on the thread that would have to run the call would never end.
    if (thread && thread->on_this_thread())
      return T(common::error{kafka_error::invalid_request,
                             "a blocking admin call was made from the admin client's own thread"});
    return *asio::co_spawn(ex, hold(engine, std::move(op)), asio::use_future).get();
  }
  // The coroutine face: starts `op` on the engine's executor and resumes the caller on its own.
  template <class T>
  static asio::awaitable<T> await(asio::any_io_executor ex, std::shared_ptr<admin::engine> e, asio::awaitable<T> op) {
    auto held = hold(std::move(e), std::move(op));
    auto spawned = asio::co_spawn(ex, std::move(held), asio::use_awaitable);
    auto value = co_await std::move(spawned);
    co_return std::move(*value);
  }
};

admin_client::admin_client(std::unique_ptr<state> s) : state_(std::move(s)) {}
admin_client::admin_client(admin_client&&) noexcept = default;
admin_client& admin_client::operator=(admin_client&&) noexcept = default;
admin_client::~admin_client() = default;

result<admin_client> admin_client::create(const admin_properties& props) {
  auto opts = admin::read_admin_options(props);
  if (!opts) return opts.err();
  auto s = std::make_unique<state>();
  s->thread = std::make_unique<core::io_thread>();
  s->ex = s->thread->executor();
  s->engine = std::make_shared<admin::engine>(s->ex, std::move(*opts));
  return admin_client(std::move(s));
}

result<admin_client> admin_client::create(const admin_properties& props, asio::any_io_executor executor) {
  auto opts = admin::read_admin_options(props);
  if (!opts) return opts.err();
  auto s = std::make_unique<state>();
  s->ex = executor;
  s->engine = std::make_shared<admin::engine>(s->ex, std::move(*opts));
  return admin_client(std::move(s));
}

// Each call copies its arguments into the engine's coroutine frame before any thread hop. The async
// face names every object before co_await (GCC 12 mishandles temporaries inside co_await).
#define BROOK_ADMIN_CALL(face, method, ...) state_->face(state_->engine->method(__VA_ARGS__))
#define BROOK_ADMIN_ASYNC(method, ...)                   \
  auto op = state_->engine->method(__VA_ARGS__);          \
  auto awaited = state::await(state_->ex, state_->engine, std::move(op)); \
  co_return co_await std::move(awaited)

result<results_by<std::string, created_topic>> admin_client::create_topics(const std::vector<new_topic>& topics,
                                                                           const create_topics_options& o) {
  return BROOK_ADMIN_CALL(block, create_topics, topics, o);
}
result<results_by<std::string, void>> admin_client::delete_topics(const std::vector<std::string>& topics,
                                                                 const call_options& o) {
  return BROOK_ADMIN_CALL(block, delete_topics, topics, o);
}
result<std::vector<topic_listing>> admin_client::list_topics(const list_topics_options& o) {
  return BROOK_ADMIN_CALL(block, list_topics, o);
}
result<results_by<std::string, topic_description>> admin_client::describe_topics(const std::vector<std::string>& topics,
                                                                                const call_options& o) {
  return BROOK_ADMIN_CALL(block, describe_topics, topics, o);
}
result<results_by<config_resource, std::vector<config_entry>>> admin_client::describe_configs(
    const std::vector<config_resource>& resources, const describe_configs_options& o) {
  return BROOK_ADMIN_CALL(block, describe_configs, resources, o);
}
result<results_by<config_resource, void>> admin_client::incremental_alter_configs(
    const std::map<config_resource, std::vector<alter_config_op>>& changes, const alter_configs_options& o) {
  return BROOK_ADMIN_CALL(block, incremental_alter_configs, changes, o);
}
result<results_by<std::string, void>> admin_client::create_partitions(const std::map<std::string, int32_t>& new_totals,
                                                                     const create_partitions_options& o) {
  return BROOK_ADMIN_CALL(block, create_partitions, new_totals, o);
}
result<results_by<topic_partition, deleted_records>> admin_client::delete_records(
    const std::map<topic_partition, int64_t>& before, const call_options& o) {
  return BROOK_ADMIN_CALL(block, delete_records, before, o);
}
result<results_by<topic_partition, listed_offset>> admin_client::list_offsets(
    const std::map<topic_partition, offset_spec>& specs, const list_offsets_options& o) {
  return BROOK_ADMIN_CALL(block, list_offsets, specs, o);
}
result<std::vector<group_listing>> admin_client::list_groups(const list_groups_options& o) {
  return BROOK_ADMIN_CALL(block, list_groups, o);
}
result<results_by<std::string, group_description>> admin_client::describe_groups(const std::vector<std::string>& groups,
                                                                                const call_options& o) {
  return BROOK_ADMIN_CALL(block, describe_groups, groups, o);
}
result<results_by<std::string, void>> admin_client::delete_groups(const std::vector<std::string>& groups,
                                                                 const call_options& o) {
  return BROOK_ADMIN_CALL(block, delete_groups, groups, o);
}
result<results_by<topic_partition, offset_and_metadata>> admin_client::list_consumer_group_offsets(
    const std::string& group, const std::optional<std::vector<topic_partition>>& partitions,
    const list_group_offsets_options& o) {
  return BROOK_ADMIN_CALL(block, list_consumer_group_offsets, group, partitions, o);
}
result<results_by<topic_partition, void>> admin_client::alter_consumer_group_offsets(
    const std::string& group, const std::map<topic_partition, offset_and_metadata>& offsets, const call_options& o) {
  return BROOK_ADMIN_CALL(block, alter_consumer_group_offsets, group, offsets, o);
}
result<results_by<topic_partition, void>> admin_client::delete_consumer_group_offsets(
    const std::string& group, const std::set<topic_partition>& partitions, const call_options& o) {
  return BROOK_ADMIN_CALL(block, delete_consumer_group_offsets, group, partitions, o);
}
result<cluster_description> admin_client::describe_cluster(const call_options& o) {
  return BROOK_ADMIN_CALL(block, describe_cluster, o);
}

admin_client::awaitable<result<results_by<std::string, created_topic>>> admin_client::async_create_topics(
    std::vector<new_topic> topics, create_topics_options o) {
  BROOK_ADMIN_ASYNC(create_topics, std::move(topics), o);
}
admin_client::awaitable<result<results_by<std::string, void>>> admin_client::async_delete_topics(
    std::vector<std::string> topics, call_options o) {
  BROOK_ADMIN_ASYNC(delete_topics, std::move(topics), o);
}
admin_client::awaitable<result<std::vector<topic_listing>>> admin_client::async_list_topics(list_topics_options o) {
  BROOK_ADMIN_ASYNC(list_topics, o);
}
admin_client::awaitable<result<results_by<std::string, topic_description>>> admin_client::async_describe_topics(
    std::vector<std::string> topics, call_options o) {
  BROOK_ADMIN_ASYNC(describe_topics, std::move(topics), o);
}
admin_client::awaitable<result<results_by<config_resource, std::vector<config_entry>>>> admin_client::async_describe_configs(
    std::vector<config_resource> resources, describe_configs_options o) {
  BROOK_ADMIN_ASYNC(describe_configs, std::move(resources), o);
}
admin_client::awaitable<result<results_by<config_resource, void>>> admin_client::async_incremental_alter_configs(
    std::map<config_resource, std::vector<alter_config_op>> changes, alter_configs_options o) {
  BROOK_ADMIN_ASYNC(incremental_alter_configs, std::move(changes), o);
}
admin_client::awaitable<result<results_by<std::string, void>>> admin_client::async_create_partitions(
    std::map<std::string, int32_t> new_totals, create_partitions_options o) {
  BROOK_ADMIN_ASYNC(create_partitions, std::move(new_totals), o);
}
admin_client::awaitable<result<results_by<topic_partition, deleted_records>>> admin_client::async_delete_records(
    std::map<topic_partition, int64_t> before, call_options o) {
  BROOK_ADMIN_ASYNC(delete_records, std::move(before), o);
}
admin_client::awaitable<result<results_by<topic_partition, listed_offset>>> admin_client::async_list_offsets(
    std::map<topic_partition, offset_spec> specs, list_offsets_options o) {
  BROOK_ADMIN_ASYNC(list_offsets, std::move(specs), o);
}
admin_client::awaitable<result<std::vector<group_listing>>> admin_client::async_list_groups(list_groups_options o) {
  BROOK_ADMIN_ASYNC(list_groups, std::move(o));
}
admin_client::awaitable<result<results_by<std::string, group_description>>> admin_client::async_describe_groups(
    std::vector<std::string> groups, call_options o) {
  BROOK_ADMIN_ASYNC(describe_groups, std::move(groups), o);
}
admin_client::awaitable<result<results_by<std::string, void>>> admin_client::async_delete_groups(
    std::vector<std::string> groups, call_options o) {
  BROOK_ADMIN_ASYNC(delete_groups, std::move(groups), o);
}
admin_client::awaitable<result<results_by<topic_partition, offset_and_metadata>>>
admin_client::async_list_consumer_group_offsets(std::string group, std::optional<std::vector<topic_partition>> partitions,
                                                list_group_offsets_options o) {
  BROOK_ADMIN_ASYNC(list_consumer_group_offsets, std::move(group), std::move(partitions), o);
}
admin_client::awaitable<result<results_by<topic_partition, void>>> admin_client::async_alter_consumer_group_offsets(
    std::string group, std::map<topic_partition, offset_and_metadata> offsets, call_options o) {
  BROOK_ADMIN_ASYNC(alter_consumer_group_offsets, std::move(group), std::move(offsets), o);
}
admin_client::awaitable<result<results_by<topic_partition, void>>> admin_client::async_delete_consumer_group_offsets(
    std::string group, std::set<topic_partition> partitions, call_options o) {
  BROOK_ADMIN_ASYNC(delete_consumer_group_offsets, std::move(group), std::move(partitions), o);
}
admin_client::awaitable<result<cluster_description>> admin_client::async_describe_cluster(call_options o) {
  BROOK_ADMIN_ASYNC(describe_cluster, o);
}

#undef BROOK_ADMIN_CALL
#undef BROOK_ADMIN_ASYNC

}  // namespace brook::client
