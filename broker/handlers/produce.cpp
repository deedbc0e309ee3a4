// Produce v3-11 (v0-2 are advertised, as Kafka 4.0 does so that librdkafka keeps compression on, but
// answered with UNSUPPORTED_VERSION: KAFKA-18659). acks 0 (no response), 1 (after the write) and -1
// (after the fsync that covers it); CreateTime
// timestamps checked against message.timestamp.before/after.max.ms; LogAppendTime topics get the
// broker's time, returned in log_append_time_ms. Compacted topics refuse records without keys. Unknown topics get UNKNOWN_TOPIC_OR_PARTITION: as in
// Kafka, topics are auto-created by the Metadata request a producer sends when it sees that error.
#include <chrono>
#include <fmt/format.h>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "common/record_batch.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace pr = proto::produce;

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

pr::partition_produce_response partition_error(int32_t index, kafka_error code, std::string message = {}) {
  pr::partition_produce_response r;
  r.index = index;
  r.error_code = common::wire_code(code);
  r.base_offset = -1;
  if (!message.empty()) r.error_message = std::move(message);
  return r;
}

// v3+ carries exactly one record batch of magic 2 per partition (Kafka's rule); its CreateTime
// timestamps must lie within the topic's window.
std::optional<common::error> check_batch(const std::vector<uint8_t>& records, const effective_topic_config& config) {
  auto batch = common::record_batch_view::parse(records);
  if (!batch) return batch.err();
  if (batch->size_bytes() != records.size())
    return common::error{kafka_error::invalid_record,
                         "Produce requests with version 3 and above must contain exactly one record batch"};
  if (config.message_timestamp_type == timestamp_type::create_time && batch->ts_type() == common::timestamp_type::create_time) {
    const int64_t now = now_ms();
    for (int64_t ts : {batch->base_timestamp(), batch->max_timestamp()}) {
      if (ts < 0) continue;
      if (now - ts > config.message_timestamp_before_max_ms || ts - now > config.message_timestamp_after_max_ms)
        return common::error{kafka_error::invalid_timestamp,
                             fmt::format("Timestamp {} of message is out of range. The timestamp should be within [{}, {}]",
                                         ts, now - config.message_timestamp_before_max_ms,
                                         now + config.message_timestamp_after_max_ms)};
    }
  }
  // Compaction keeps the latest record per key, so a compacted topic refuses records without one
  // (Kafka checks each record, decompressing if it must).
  if (config.cleanup_compact) {
    auto records = batch->records();
    if (!records) return records.err();
    for (;;) {
      auto next = records->next();
      if (!next) return next.err();
      if (!*next) break;
      if (!(*next)->key)
        return common::error{kafka_error::invalid_record,
                             "Compacted topic cannot accept message without key in topic partition"};
    }
  }
  return std::nullopt;
}
}  // namespace

awaitable<std::optional<proto::encoded_message>> produce(request_context& ctx, proto::reader& body) {
  broker& b = ctx.owner;
  pr::request req;
  req.decode(body, ctx.version());
  if (body.remaining() != 0) throw proto::decode_error("bytes left over after the request body");

  pr::response resp;
  std::optional<kafka_error> whole_request_error;
  if (ctx.version() < 3) whole_request_error = kafka_error::unsupported_version;
  else if (req.acks != 0 && req.acks != 1 && req.acks != -1) whole_request_error = kafka_error::invalid_required_acks;
  else if (req.transactional_id) whole_request_error = kafka_error::transactional_id_authorization_failed;

  for (auto& topic : req.topic_data) {
    pr::topic_produce_response& out = resp.responses.emplace_back();
    out.name = topic.name;
    const topic_info* info = b.topics().find(topic.name);
    for (auto& part : topic.partition_data) {
      if (whole_request_error) {
        out.partition_responses.push_back(partition_error(part.index, *whole_request_error));
        continue;
      }
      if (!info || part.index < 0 || part.index >= info->record.partitions) {
        out.partition_responses.push_back(partition_error(part.index, kafka_error::unknown_topic_or_partition));
        continue;
      }
      if (!part.records || part.records->empty()) {
        out.partition_responses.push_back(partition_error(part.index, kafka_error::invalid_record, "No records"));
        continue;
      }
      if (auto bad = check_batch(part.records->data, info->config)) {
        auto r = partition_error(part.index, bad->code, bad->message);
        if (bad->code == kafka_error::invalid_timestamp || bad->code == kafka_error::invalid_record)
          r.record_errors.push_back({0, bad->message});
        out.partition_responses.push_back(std::move(r));
        continue;
      }
      const log::topic_partition tp{topic.name, part.index};
      auto appended = co_await b.partitions().append(tp, part.records->data, req.acks == -1);
      if (!appended) {
        out.partition_responses.push_back(partition_error(part.index, appended.code(), appended.err().message));
        continue;
      }
      pr::partition_produce_response r;
      r.index = part.index;
      r.base_offset = appended->first_offset;
      r.log_append_time_ms = appended->log_append_time;
      r.log_start_offset = appended->log_start_offset;
      out.partition_responses.push_back(std::move(r));
      // Topic metadata may have changed during the await (deleted, say): look it up again.
      info = b.topics().find(topic.name);
    }
  }
  if (req.acks == 0) co_return std::nullopt;
  proto::writer w;
  resp.encode(w, ctx.version());
  co_return w.finish();
}

}  // namespace brook::broker::handlers
