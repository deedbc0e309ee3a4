#include "broker/topic_admin.hpp"

#include <chrono>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/blocking.hpp"
#include "broker/broker.hpp"
#include "common/os/file_io.hpp"

namespace brook::broker {

using boost::asio::awaitable;
using common::kafka_error;

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::map<std::string, std::string> to_stored(const topic_overrides& o) { return {o.begin(), o.end()}; }
}  // namespace

common::result<void> check_partitions_per_request(int64_t added) {
  if (added > max_partitions_per_request)
    return common::error{kafka_error::policy_violation, "Excessively large number of partitions per request."};
  return {};
}

int64_t max_partitions_in_total(broker& b) {
  int64_t limit = b.config().brook_max_partitions();
  // A partition holds one descriptor per segment (the .log file; log/segment.hpp). Budget two per
  // partition (a rolled segment or two) after a reserve for connections and the metadata store.
  if (const uint64_t files = common::os::open_file_limit(); files > 0) {
    const auto total = static_cast<int64_t>(files);
    const int64_t reserved = std::min<int64_t>(1024, total / 4);
    limit = std::min<int64_t>(limit, (total - reserved) / 2);
  }
  return limit;
}

common::result<void> check_partitions_in_total(broker& b, int64_t added) {
  int64_t current = 0;
  for (const auto& [name, info] : b.topics().all()) current += info.record.partitions;
  const int64_t limit = max_partitions_in_total(b);
  if (current + added > limit)
    return common::error{kafka_error::policy_violation,
                         fmt::format("Adding {} partition(s) would take the broker to {} partitions, over its limit "
                                     "of {} (brook.max.partitions and the open-file limit).",
                                     added, current + added, limit)};
  return {};
}

int32_t resolved_partition_count(broker& b, int32_t requested) {
  return requested == -1 ? b.config().num_partitions() : requested;
}

awaitable<common::result<log::topic_record>> create_topic(broker& b, const new_topic& t, bool validate_only) {
  if (auto reason = invalid_topic_name_reason(t.name)) co_return common::error{kafka_error::invalid_topic_exception, *reason};
  if (b.topics().find(t.name))
    co_return common::error{kafka_error::topic_already_exists, fmt::format("Topic '{}' already exists.", t.name)};
  if (const topic_info* other = b.topics().find_colliding(t.name))
    co_return common::error{kafka_error::invalid_topic_exception,
                            fmt::format("Topic '{}' collides with existing topic: {}", t.name, other->record.name)};
  const int32_t partitions = resolved_partition_count(b, t.partitions);
  const int16_t replication = t.replication_factor == -1 ? b.config().default_replication_factor() : t.replication_factor;
  if (partitions <= 0)
    co_return common::error{kafka_error::invalid_partitions, "Number of partitions must be larger than 0."};
  if (replication <= 0)
    co_return common::error{kafka_error::invalid_replication_factor, "Replication factor must be larger than 0."};
  if (replication > 1)
    co_return common::error{kafka_error::invalid_replication_factor,
                            fmt::format("Unable to replicate the partition {} time(s): The target replication factor "
                                        "of {} cannot be reached because only 1 broker(s) are registered or some "
                                        "brokers have all their log directories cordoned.",
                                        replication, replication)};
  if (auto ok = validate_topic_overrides(b.config(), t.configs); !ok) co_return ok.err();
  if (auto ok = check_partitions_per_request(partitions); !ok) co_return ok.err();
  if (auto ok = check_partitions_in_total(b, partitions); !ok) co_return ok.err();

  log::topic_record record{t.name, common::uuid::random(), partitions, replication, now_ms(), to_stored(t.configs)};
  if (validate_only) co_return record;
  if (b.stopping())
    co_return common::error{kafka_error::request_timed_out, "The broker is shutting down."};
  // The logs first, then the record: a topic is registered only with all its logs, and a crash in
  // between leaves directories of no known topic, which the next start removes.
  auto config = resolve_topic_config(b.config(), t.configs);
  if (!config) co_return config.err();
  const effective_topic_config effective = *config;
  auto make_logs = [&b, &record, &effective] {
    auto made = b.partitions().ensure_topic(record.name, record.partitions, effective, &b.stopping_flag());
    if (!made) {
      if (auto undone = b.partitions().remove_topic(record.name); !undone)
        spdlog::error("could not remove the partial logs of topic {}: {}", record.name, undone.err().message);
      return made;
    }
    auto stored = b.store().create_topic(record);
    if (!stored) {
      if (auto undone = b.partitions().remove_topic(record.name); !undone)
        spdlog::error("could not remove the logs of topic {}: {}", record.name, undone.err().message);
    }
    return stored;
  };
  if (auto made = co_await run_blocking(b.blocking_pool(), make_logs); !made) {
    spdlog::warn("topic {} not created: {}", record.name, made.err().message);
    co_return made.err();
  }
  b.topics().put(record);
  b.partitions().attach_topic(record.name, record.partitions);
  spdlog::info("created topic {} with {} partitions (id {})", record.name, record.partitions, record.id.to_string());
  co_return record;
}

awaitable<common::result<void>> delete_topic(broker& b, const std::string& name) {
  if (!b.config().delete_topic_enable())
    co_return common::error{kafka_error::topic_deletion_disabled, "Topic deletion is disabled (delete.topic.enable=false)."};
  if (!b.topics().find(name))
    co_return common::error{kafka_error::unknown_topic_or_partition, "This server does not host this topic-partition."};
  auto work = [&b, name] { return b.store().delete_topic(name); };
  auto done = co_await run_blocking(b.blocking_pool(), work);
  if (!done) co_return done.err();
  forget_topic(b, name);
  auto remove_logs = [&b, &name] { return b.partitions().remove_topic(name); };
  if (auto removed = co_await run_blocking(b.blocking_pool(), remove_logs); !removed)
    spdlog::error("topic {} was deleted but its partition directories could not be removed: {}", name,
                  removed.err().message);
  spdlog::info("deleted topic {}", name);
  co_return common::result<void>{};
}

void forget_topic(broker& b, const std::string& name) {
  b.topics().erase(name);
  b.partitions().detach_topic(name);
  b.groups().coordinator().forget_topic(name);  // the store dropped its committed offsets too
}

awaitable<common::result<void>> set_partition_count(broker& b, const std::string& name, int32_t count, bool validate_only) {
  const topic_info* info = b.topics().find(name);
  if (!info)
    co_return common::error{kafka_error::unknown_topic_or_partition, "This server does not host this topic-partition."};
  const int32_t current = info->record.partitions;
  if (count < current)
    co_return common::error{kafka_error::invalid_partitions,
                            fmt::format("The topic {} currently has {} partition(s); {} would not be an increase.",
                                        name, current, count)};
  if (count == current)
    co_return common::error{kafka_error::invalid_partitions,
                            fmt::format("Topic already has {} partition(s).", current)};
  if (auto ok = check_partitions_per_request(count - current); !ok) co_return ok.err();
  if (auto ok = check_partitions_in_total(b, count - current); !ok) co_return ok.err();
  if (validate_only) co_return common::result<void>{};
  if (b.stopping()) co_return common::error{kafka_error::request_timed_out, "The broker is shutting down."};
  log::topic_record record = info->record;
  record.partitions = count;
  const effective_topic_config config = info->config;
  // The new logs first, then the record (as create_topic).
  auto work = [&b, &name, count, current, &config, record] {
    auto made = b.partitions().ensure_topic(name, count, config, &b.stopping_flag());
    if (made) made = b.store().put_topic(record);
    if (!made)
      if (auto undone = b.partitions().remove_partitions_from(name, current); !undone)
        spdlog::error("could not remove the partial logs of topic {}: {}", name, undone.err().message);
    return made;
  };
  auto done = co_await run_blocking(b.blocking_pool(), work);
  if (!done) co_return done.err();
  b.topics().put(record);
  b.partitions().attach_topic(name, count);
  spdlog::info("topic {} now has {} partitions", name, count);
  co_return common::result<void>{};
}

awaitable<common::result<void>> set_topic_configs(broker& b, const std::string& name, const topic_overrides& configs,
                                                  bool validate_only) {
  if (!b.topics().find(name))
    co_return common::error{kafka_error::unknown_topic_or_partition, "This server does not host this topic-partition."};
  if (auto ok = validate_topic_overrides(b.config(), configs); !ok) co_return ok.err();
  if (validate_only) co_return common::result<void>{};
  auto stored = to_stored(configs);
  auto work = [&b, name, stored] { return b.store().set_topic_configs(name, stored); };
  auto done = co_await run_blocking(b.blocking_pool(), work);
  if (!done) co_return done.err();
  // Re-read the record so the registry matches what is on disk.
  const topic_info* info = b.topics().find(name);
  if (info) {
    log::topic_record record = info->record;
    record.configs = stored;
    b.topics().put(record);
    const effective_topic_config config = b.topics().find(name)->config;
    co_await b.partitions().apply_config(name, config);
  }
  co_return common::result<void>{};
}

}  // namespace brook::broker
