// CreatePartitions v0-3: grows a topic to a new total; manual assignments must place each new
// partition on this broker alone. At most max_partitions_per_request new partitions per request.
#include <algorithm>
#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/topic_admin.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace cp = proto::create_partitions;

awaitable<cp::response> create_partitions(request_context& ctx, cp::request& req) {
  broker& b = ctx.owner;
  cp::response resp;
  std::map<std::string, int> count;
  for (const auto& t : req.topics) ++count[t.name];
  // As CreateTopics: one request adds at most max_partitions_per_request partitions, else every topic
  // is refused with POLICY_VIOLATION.
  int64_t added = 0;
  for (const auto& t : req.topics)
    if (const topic_info* info = b.topics().find(t.name))
      added += std::max<int64_t>(0, int64_t{t.count} - info->record.partitions);
  if (auto ok = check_partitions_per_request(added); !ok) {
    for (const auto& t : req.topics) {
      cp::create_partitions_topic_result r;
      r.name = t.name;
      r.error_code = common::wire_code(ok.code());
      r.error_message = ok.err().message;
      resp.results.push_back(std::move(r));
    }
    co_return resp;
  }
  for (const auto& t : req.topics) {
    cp::create_partitions_topic_result r;
    r.name = t.name;
    common::result<void> outcome;
    if (count[t.name] > 1) {
      outcome = common::error{kafka_error::invalid_request, "Duplicate topic in request."};
    } else if (t.assignments) {
      const topic_info* info = b.topics().find(t.name);
      const int32_t added = info ? t.count - info->record.partitions : 0;
      if (info && static_cast<int32_t>(t.assignments->size()) != added)
        outcome = common::error{kafka_error::invalid_replica_assignment,
                                fmt::format("Increasing the number of partitions by {} but {} assignments provided.",
                                            added, t.assignments->size())};
      for (const auto& a : *t.assignments)
        if (outcome && (a.broker_ids.size() != 1 || a.broker_ids.front() != b.node_id()))
          outcome = common::error{kafka_error::invalid_replica_assignment,
                                  fmt::format("New partitions must be assigned to broker {}, the only broker.",
                                              b.node_id())};
    }
    if (outcome) outcome = co_await set_partition_count(b, t.name, t.count, req.validate_only);
    if (!outcome) {
      r.error_code = common::wire_code(outcome.code());
      r.error_message = outcome.err().message;
    }
    resp.results.push_back(std::move(r));
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
