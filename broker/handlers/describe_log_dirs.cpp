// DescribeLogDirs v1-5: the broker's one log directory (its absolute path) with the size of each
// partition's segments there (every partition for a null topic list, else the named partitions that
// exist; topics left with none are left out), no lag (on a broker without followers the high
// watermark is the log end) and no future logs; from v4 the size of its filesystem and the room left
// on it (statvfs, on the blocking pool); never cordoned (v5). A failed log directory is listed with
// KAFKA_STORAGE_ERROR and nothing more, one whose filesystem cannot be read with UNKNOWN_SERVER_ERROR.
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "broker/blocking.hpp"
#include "broker/security/authorize.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "common/os/file_io.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dld = proto::describe_log_dirs;

namespace {
struct space_reading {
  common::os::io_status status;
  common::os::filesystem_space space;
};

int64_t clamp_to_int64(uint64_t bytes) {
  return static_cast<int64_t>(std::min<uint64_t>(bytes, std::numeric_limits<int64_t>::max()));
}
}  // namespace

awaitable<dld::response> describe_log_dirs(request_context& ctx, dld::request& req) {
  partition_manager& parts = ctx.owner.partitions();
  dld::response resp;
  // As Kafka's KafkaApis: DESCRIBE on the cluster, else no directories and (v3+) CLUSTER_AUTHORIZATION_FAILED.
  if (!security::authorized_on_cluster(ctx, security::acl_operation::describe)) {
    resp.error_code = common::wire_code(kafka_error::cluster_authorization_failed);
    co_return resp;
  }
  auto& dir = resp.results.emplace_back();
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(parts.log_dir(), ec);
  dir.log_dir = (ec ? parts.log_dir() : absolute).string();
  if (parts.log_dir_failed()) {
    dir.error_code = common::wire_code(kafka_error::kafka_storage_error);
    co_return resp;
  }

  std::vector<log::topic_partition> wanted;
  if (!req.topics) {
    wanted = parts.attached();
  } else {
    std::set<log::topic_partition> unique;
    for (const auto& t : *req.topics)
      for (int32_t p : t.partitions) unique.insert({t.topic, p});
    wanted.assign(unique.begin(), unique.end());
  }
  auto sizes = co_await parts.log_sizes(std::move(wanted));

  const std::filesystem::path path = parts.log_dir();
  auto read_space = [path]() {
    space_reading r;
    r.status = common::os::space_of(path, r.space);
    return r;
  };
  space_reading reading = co_await run_blocking(ctx.owner.blocking_pool(), read_space);
  if (!reading.status) {
    dir.error_code = common::wire_code(kafka_error::unknown_server_error);
    co_return resp;
  }
  dir.total_bytes = clamp_to_int64(reading.space.total_bytes);
  dir.usable_bytes = clamp_to_int64(reading.space.usable_bytes);

  std::map<std::string, std::vector<dld::describe_log_dirs_partition>> by_topic;
  for (const auto& [tp, size] : sizes) {
    dld::describe_log_dirs_partition p;
    p.partition_index = tp.partition;
    p.partition_size = clamp_to_int64(size);
    p.offset_lag = 0;
    p.is_future_key = false;
    by_topic[tp.topic].push_back(p);
  }
  for (auto& [name, partitions] : by_topic) dir.topics.push_back({name, std::move(partitions)});
  co_return resp;
}

}  // namespace brook::broker::handlers
