// Produce v3-13 (v0-2 are advertised, as Kafka 4.x does so that librdkafka keeps compression on, but
// answered with UNSUPPORTED_VERSION: KAFKA-18659). v12 is served as v11: it lets the broker add a
// transactional producer's partitions to its transaction (transaction version 2), which this broker does
// not finalize, so every version gets transaction version 1's checks. A transactional batch (KIP-890
// verification) must be in its producer's open transaction, as the transaction coordinator says; if it
// is not, the partition gets INVALID_TXN_STATE (v3-10) or TRANSACTION_ABORTABLE (v11+), and a fenced
// producer INVALID_PRODUCER_EPOCH, as Kafka answers. v13 names topics by id: an unknown
// (or zero) id gets UNKNOWN_TOPIC_ID, and the answer names topics by id too. acks 0 (no response), 1
// (after the write) and -1 (after the fsync that covers it, or REQUEST_TIMED_OUT once timeout_ms has
// passed without it, the batches staying in the log, as Kafka answers when replicas do not catch up in
// time); CreateTime timestamps checked against message.timestamp.before/after.max.ms; LogAppendTime
// topics get the broker's time, returned in log_append_time_ms. Compacted topics refuse records without
// keys. Unknown topics get UNKNOWN_TOPIC_OR_PARTITION: as in Kafka, topics are auto-created by the
// Metadata request a producer sends when it sees that error.
// Every batch is validated as Kafka's LogValidator does (common/record_validation.hpp), on its
// partition's strand, never here on the network thread; a refused batch gets Kafka's error and lists
// the offending records in record_errors (batch_index: the record's index in its batch), while the
// request's other partitions are appended as usual. The partitions' appends are queued together, before
// the handler first suspends, so that pipelined requests reach each partition in request order.
#include <chrono>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "common/record_validation.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace pr = proto::produce;

namespace {
pr::partition_produce_response partition_error(int32_t index, kafka_error code, std::string message = {}) {
  pr::partition_produce_response r;
  r.index = index;
  r.error_code = common::wire_code(code);
  r.base_offset = -1;
  if (!message.empty()) r.error_message = std::move(message);
  return r;
}

// What Kafka's LogValidator checks of this partition's records, on the partition's strand.
common::batch_validation_config validation_for(const log::topic_partition& tp, const effective_topic_config& config,
                                               int16_t version) {
  common::batch_validation_config v;
  v.zstd_allowed = version >= 7;
  v.topic = tp.topic;
  v.partition = tp.partition;
  v.max_message_bytes = config.max_message_bytes;
  v.compacted = config.cleanup_compact;
  v.topic_log_append_time = config.message_timestamp_type == timestamp_type::log_append_time;
  v.timestamp_before_max_ms = config.message_timestamp_before_max_ms;
  v.timestamp_after_max_ms = config.message_timestamp_after_max_ms;
  v.max_decompressed_record_bytes = config.max_decompressed_message_bytes;
  return v;
}
// KIP-890's check of a transactional batch: its partition must be in its producer's open transaction.
// A batch naming no transactional id, or not transactional, has nothing to check here (the partition's
// producer state refuses a transactional batch without an open transaction, and the reverse).
std::optional<std::pair<kafka_error, std::string>> verify_transactional(broker& b, const pr::request& req,
                                                                        const log::topic_partition& tp,
                                                                        const proto::record_set& records,
                                                                        int16_t version) {
  if (!req.transactional_id) return std::nullopt;
  auto batch = common::record_batch_view::parse(records.memory());
  if (!batch || !batch->is_transactional() || batch->is_control()) return std::nullopt;
  const transaction::topic_partition partition{tp.topic, tp.partition};
  auto verdicts = b.transactions().coordinator().verify_partitions(*req.transactional_id, batch->producer_id(),
                                                                   batch->producer_epoch(), {partition});
  auto it = verdicts.find(partition);
  if (it == verdicts.end() || it->second == kafka_error::none) return std::nullopt;
  if (it->second == kafka_error::transaction_abortable)
    return std::pair{version >= 11 ? kafka_error::transaction_abortable : kafka_error::invalid_txn_state,
                     std::string("Partition was not added to the transaction")};
  // As Kafka's AddPartitionsToTxnManager: Produce answers a fenced producer INVALID_PRODUCER_EPOCH.
  if (it->second == kafka_error::producer_fenced) return std::pair{kafka_error::invalid_producer_epoch, std::string()};
  return std::pair{it->second, std::string()};
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

  // Every partition's answer is placed first; the appends then run together (see
  // partition_manager::append), and their results fill the answers left open.
  std::vector<partition_manager::append_request> appends;
  std::vector<std::pair<size_t, size_t>> answers;  // (topic, partition) index in resp of each append
  for (auto& topic : req.topic_data) {
    pr::topic_produce_response& out = resp.responses.emplace_back();
    const topic_info* info = nullptr;
    if (ctx.version() >= 13) {
      out.topic_id = topic.topic_id;
      if (!topic.topic_id.is_zero()) info = b.topics().find(topic.topic_id);
      if (info) out.name = info->record.name;
    } else {
      out.name = topic.name;
      info = b.topics().find(topic.name);
    }
    for (auto& part : topic.partition_data) {
      if (whole_request_error) {
        out.partition_responses.push_back(partition_error(part.index, *whole_request_error));
        continue;
      }
      if (!info && ctx.version() >= 13) {
        out.partition_responses.push_back(partition_error(part.index, kafka_error::unknown_topic_id));
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
      const log::topic_partition tp{out.name, part.index};
      if (auto refused = verify_transactional(b, req, tp, *part.records, ctx.version())) {
        out.partition_responses.push_back(partition_error(part.index, refused->first, refused->second));
        continue;
      }
      answers.emplace_back(resp.responses.size() - 1, out.partition_responses.size());
      out.partition_responses.push_back(partition_error(part.index, kafka_error::none));
      appends.push_back({tp, part.records->mutable_memory(), std::nullopt, validation_for(tp, info->config, ctx.version()), {}});
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
      for (auto& e : appends[i].record_errors) r.record_errors.push_back({e.batch_index, std::move(e.message)});
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
