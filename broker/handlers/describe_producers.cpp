// DescribeProducers v0: the idempotent and transactional producers each named partition remembers (its
// producer state, log/producer_state.hpp, read on the partition's strand): id, epoch, the last sequence
// and timestamp it wrote, the coordinator epoch of its last marker (-1 before one) and the first offset
// of its open transaction (-1 without one). A topic name Kafka refuses gets INVALID_TOPIC_EXCEPTION
// with the reason, an unknown topic UNKNOWN_TOPIC_OR_PARTITION with Kafka's message, a partition the
// topic does not have UNKNOWN_TOPIC_OR_PARTITION alone.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace dp = proto::describe_producers;

namespace {
dp::partition_response producers_partition_error(int32_t index, kafka_error code, std::optional<std::string> message) {
  dp::partition_response out;
  out.partition_index = index;
  out.error_code = common::wire_code(code);
  out.error_message = std::move(message);
  return out;
}

dp::producer_state describe(int64_t producer_id, const log::producer_entry& entry) {
  dp::producer_state out;
  out.producer_id = producer_id;
  out.producer_epoch = entry.epoch;
  out.last_sequence = entry.batches.empty() ? -1 : entry.batches.back().last_seq;
  out.last_timestamp = entry.last_timestamp;
  out.coordinator_epoch = entry.coordinator_epoch;
  out.current_txn_start_offset = entry.current_txn_first_offset.value_or(-1);
  return out;
}
}  // namespace

awaitable<dp::response> describe_producers(request_context& ctx, dp::request& req) {
  broker& b = ctx.owner;
  dp::response resp;
  for (const auto& t : req.topics) {
    auto& topic = resp.topics.emplace_back();
    topic.name = t.name;
    std::optional<std::pair<kafka_error, std::string>> topic_error;
    // As Kafka's KafkaApis: READ on the topic, before anything else.
    if (!security::authorized(ctx, security::acl_operation::read, security::resource_type::topic, t.name))
      topic_error.emplace(kafka_error::topic_authorization_failed, "Topic authorization failed.");
    else if (auto reason = invalid_topic_name_reason(t.name))
      topic_error.emplace(kafka_error::invalid_topic_exception, *reason);
    else if (!b.topics().find(t.name))
      topic_error.emplace(kafka_error::unknown_topic_or_partition, "This server does not host this topic-partition.");
    for (int32_t index : t.partition_indexes) {
      if (topic_error) {
        topic.partitions.push_back(producers_partition_error(index, topic_error->first, topic_error->second));
        continue;
      }
      // The topic may have gone while an earlier partition was read.
      const topic_info* info = b.topics().find(t.name);
      if (!info || index < 0 || index >= info->record.partitions) {
        topic.partitions.push_back(producers_partition_error(index, kafka_error::unknown_topic_or_partition, std::nullopt));
        continue;
      }
      const log::topic_partition tp{t.name, index};
      auto producers = co_await b.partitions().producers(tp);
      if (!producers) {  // known to the topic but not open here
        topic.partitions.push_back(producers_partition_error(index, kafka_error::not_leader_or_follower, std::nullopt));
        continue;
      }
      dp::partition_response out;
      out.partition_index = index;
      for (const auto& [id, entry] : *producers) out.active_producers.push_back(describe(id, entry));
      topic.partitions.push_back(std::move(out));
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
