// Produce v3-11 (v0-2 are advertised, as Kafka 4.0 does so that librdkafka keeps compression on, but
// answered with UNSUPPORTED_VERSION: KAFKA-18659). acks 0 (no response), 1 (after the write) and -1
// (after the fsync that covers it, or REQUEST_TIMED_OUT once timeout_ms has passed without it, the
// batches staying in the log, as Kafka answers when replicas do not catch up in time); CreateTime
// timestamps checked against message.timestamp.before/after.max.ms; LogAppendTime topics get the
// broker's time, returned in log_append_time_ms. Compacted topics refuse records without keys. Unknown topics get UNKNOWN_TOPIC_OR_PARTITION: as in
// Kafka, topics are auto-created by the Metadata request a producer sends when it sees that error.
// A refused record set lists every offending record in record_errors (batch_index: the record's index
// in its batch) with Kafka's messages. The partitions' appends are queued together, before the handler
// first suspends, so that pipelined requests reach each partition in request order.
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

// What a partition's record set is refused for: the partition's error and message, and (as Kafka's
// LogValidator reports them) one entry per offending record, by its index in the batch.
struct refusal {
  kafka_error code = kafka_error::invalid_record;
  std::string message;
  std::vector<pr::batch_index_and_error_message> record_errors;
};

// Kafka's RecordError.toString, which its INVALID_RECORD message lists.
std::string describe(const pr::batch_index_and_error_message& e) {
  return e.batch_index_error_message ? fmt::format("RecordError(batchIndex={}, message='{}')", e.batch_index,
                                                   *e.batch_index_error_message)
                                     : fmt::format("RecordError(batchIndex={}, message=null)", e.batch_index);
}

// v3+ carries exactly one record batch of magic 2 per partition (Kafka's rule). Then every record is
// checked as Kafka's LogValidator checks it: a compacted topic refuses records without a key, and
// CreateTime timestamps must lie within message.timestamp.before/after.max.ms of now. Every offending
// record is reported; the partition's error is INVALID_TIMESTAMP if any timestamp is out of range,
// else INVALID_RECORD.
std::optional<refusal> check_batch(std::span<const uint8_t> records, const log::topic_partition& tp,
                                   const effective_topic_config& config) {
  auto batch = common::record_batch_view::parse(records);
  if (!batch) return refusal{batch.code(), batch.err().message, {}};
  if (batch->size_bytes() != records.size())
    return refusal{kafka_error::invalid_record,
                   "Produce requests with version 3 and above must contain exactly one record batch", {}};
  const bool check_timestamps = config.message_timestamp_type == timestamp_type::create_time &&
                                batch->ts_type() == common::timestamp_type::create_time;
  const int64_t now = now_ms();
  auto out_of_range = [&](int64_t ts) {
    const __int128 age = static_cast<__int128>(now) - ts;  // no overflow for any ts
    return ts != -1 && (age > config.message_timestamp_before_max_ms || -age > config.message_timestamp_after_max_ms);
  };
  // Records are walked only when one may be refused: the header's first and max timestamps bound the
  // later records from above, and a finite lower bound is the one case a record before the first can
  // break.
  bool walk = config.cleanup_compact;
  if (check_timestamps)
    walk = walk || out_of_range(batch->base_timestamp()) || out_of_range(batch->max_timestamp()) ||
           config.message_timestamp_before_max_ms < now;
  if (!walk) return std::nullopt;

  auto it = batch->records();
  if (!it) return refusal{it.code(), it.err().message, {}};
  refusal r;
  bool bad_timestamp = false;
  for (int32_t index = 0;; ++index) {
    auto next = it->next();
    if (!next) return refusal{next.code(), next.err().message, {}};
    if (!*next) break;
    const common::record_view& record = **next;
    if (config.cleanup_compact && !record.key) {
      r.record_errors.push_back({index, fmt::format("Compacted topic cannot accept message without key in topic "
                                                    "partition {}-{}",
                                                    tp.topic, tp.partition)});
    } else if (check_timestamps && out_of_range(record.timestamp)) {
      bad_timestamp = true;
      r.record_errors.push_back(
          {index, fmt::format("Timestamp {} of message with offset {} is out of range. The timestamp should be within "
                              "[{}, {}]",
                              record.timestamp, record.offset, now - config.message_timestamp_before_max_ms,
                              now + config.message_timestamp_after_max_ms)});
    }
  }
  if (r.record_errors.empty()) return std::nullopt;
  if (bad_timestamp) {
    r.code = kafka_error::invalid_timestamp;
    r.message = "One or more records have been rejected due to invalid timestamp";
  } else {
    std::string shown;
    for (size_t i = 0; i < std::min<size_t>(3, r.record_errors.size()); ++i)
      shown += (i ? ", " : "") + describe(r.record_errors[i]);
    r.code = kafka_error::invalid_record;
    r.message = fmt::format(
        "One or more records have been rejected due to {} record errors in total, and only showing the first three "
        "errors at most: [{}]",
        r.record_errors.size(), shown);
  }
  return r;
}
}  // namespace

awaitable<std::optional<proto::encoded_message>> produce(request_context& ctx, proto::reader& body) {
  broker& b = ctx.owner;
  pr::request req;
  req.decode(body, ctx.version());
  if (body.remaining() != 0) note_trailing_bytes(ctx, body.remaining());

  pr::response resp;
  std::optional<kafka_error> whole_request_error;
  if (ctx.version() < 3) whole_request_error = kafka_error::unsupported_version;
  else if (req.acks != 0 && req.acks != 1 && req.acks != -1) whole_request_error = kafka_error::invalid_required_acks;
  else if (req.transactional_id) whole_request_error = kafka_error::transactional_id_authorization_failed;

  // Every partition's answer is placed first; the appends then run together (see
  // partition_manager::append), and their results fill the answers left open.
  std::vector<partition_manager::append_request> appends;
  std::vector<std::pair<size_t, size_t>> answers;  // (topic, partition) index in resp of each append
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
      const log::topic_partition tp{topic.name, part.index};
      if (auto bad = check_batch(part.records->memory(), tp, info->config)) {
        auto r = partition_error(part.index, bad->code, std::move(bad->message));
        r.record_errors = std::move(bad->record_errors);
        out.partition_responses.push_back(std::move(r));
        continue;
      }
      answers.emplace_back(resp.responses.size() - 1, out.partition_responses.size());
      out.partition_responses.push_back(partition_error(part.index, kafka_error::none));
      appends.push_back({tp, part.records->mutable_memory(), std::nullopt});
    }
  }
  // acks=all: timeout_ms bounds the wait for the fsync (Kafka's bound on the wait for replicas).
  const auto durable_timeout = std::chrono::milliseconds(std::max(req.timeout_ms, 0));
  if (!appends.empty()) co_await b.partitions().append(appends, req.acks == -1, durable_timeout);
  for (size_t i = 0; i < appends.size(); ++i) {
    auto& [t, p] = answers[i];
    pr::partition_produce_response& r = resp.responses[t].partition_responses[p];
    const auto& appended = *appends[i].result;
    if (!appended) {
      r = partition_error(r.index, appended.code(), appended.err().message);
      continue;
    }
    r.error_code = 0;
    r.base_offset = appended->first_offset;
    r.log_append_time_ms = appended->log_append_time;
    r.log_start_offset = appended->log_start_offset;
  }
  if (req.acks == 0) co_return std::nullopt;
  proto::writer w;
  resp.encode(w, ctx.version());
  co_return w.finish();
}

}  // namespace brook::broker::handlers
