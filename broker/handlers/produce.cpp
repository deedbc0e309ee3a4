// Produce v3-13 (v0-2 are advertised, as Kafka 4.x does so that librdkafka keeps compression on, but
// answered with UNSUPPORTED_VERSION: KAFKA-18659). Transactional batches (KIP-890), as Kafka's
// AddPartitionsToTxnManager handles them: from v12 (transaction version 2) the request adds its
// partitions to the producer's transaction itself (transaction_service::add_partitions_implicitly); before
// v12 each must already be in the producer's open transaction, as the transaction coordinator says, or
// the partition gets INVALID_TXN_STATE (v3-10) or TRANSACTION_ABORTABLE (v11). A fenced producer gets
// INVALID_PRODUCER_EPOCH, an unavailable coordinator NOT_ENOUGH_REPLICAS (retriable), as in Kafka. v13 names topics by id: an unknown
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
// the handler first suspends, so that pipelined requests reach each partition in request order; a v12+
// request that first waits for its partitions to join the transaction keeps its place too, as one
// producer's implicit adds answer in request order (transaction_service::add_partitions_implicitly).
// Client quotas, as Kafka applies them: the request's size counts against producer_byte_rate and
// (unless acks=0) its handling time, without the acks=all wait, against request_percentage; the longer throttle is answered in
// throttle_time_ms and mutes the connection (broker/quota/throttle.hpp).
// With an authorizer (as Kafka's KafkaApis): a request carrying transactional batches needs WRITE on its
// transactional id (every partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED otherwise), and each
// topic needs WRITE (TOPIC_AUTHORIZATION_FAILED, answered before whether the topic exists).
#include <chrono>

#include "broker/api_table.hpp"
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/quota/throttle.hpp"
#include "broker/security/authorize.hpp"
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
// The transactional batch of a partition's records (its producer id and epoch), if it is one.
std::optional<common::record_batch_view> transactional_batch(const pr::request& req, const proto::record_set& records) {
  if (!req.transactional_id) return std::nullopt;
  auto batch = common::record_batch_view::parse(records.memory());
  if (!batch || !batch->is_transactional() || batch->is_control()) return std::nullopt;
  return *batch;
}

// What a produce request hears for the coordinator's answer about its partitions (AddPartitionsToTxnManager).
kafka_error produce_txn_error(kafka_error e) {
  switch (e) {
    case kafka_error::producer_fenced: return kafka_error::invalid_producer_epoch;
    case kafka_error::coordinator_load_in_progress:
    case kafka_error::coordinator_not_available:
    case kafka_error::not_coordinator: return kafka_error::not_enough_replicas;
    default: return e;
  }
}

// KIP-890's check of a transactional batch: its partition must be in its producer's open transaction.
// A batch naming no transactional id, or not transactional, has nothing to check here (the partition's
// producer state refuses a transactional batch without an open transaction, and the reverse).
std::optional<std::pair<kafka_error, std::string>> verify_transactional(broker& b, const pr::request& req,
                                                                        const log::topic_partition& tp,
                                                                        const proto::record_set& records,
                                                                        int16_t version) {
  if (!req.transactional_id) return std::nullopt;
  auto batch = transactional_batch(req, records);
  if (!batch) return std::nullopt;
  const transaction::topic_partition partition{tp.topic, tp.partition};
  auto verdicts = b.transactions().coordinator().verify_partitions(*req.transactional_id, batch->producer_id(),
                                                                   batch->producer_epoch(), {partition});
  auto it = verdicts.find(partition);
  if (it == verdicts.end() || it->second == kafka_error::none) return std::nullopt;
  if (it->second == kafka_error::transaction_abortable)
    return std::pair{version >= 11 ? kafka_error::transaction_abortable : kafka_error::invalid_txn_state,
                     std::string("Partition was not added to the transaction")};
  return std::pair{produce_txn_error(it->second), std::string()};
}

// Whether any partition's first batch is transactional (Kafka's RequestUtils.hasTransactionalRecords).
bool has_transactional_records(const pr::request& req) {
  for (const auto& topic : req.topic_data)
    for (const auto& part : topic.partition_data) {
      if (!part.records) continue;
      auto batch = common::record_batch_view::parse(part.records->memory());
      if (batch && batch->is_transactional()) return true;
    }
  return false;
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
  else if (has_transactional_records(req) &&
           (!req.transactional_id || !security::authorized(ctx, security::acl_operation::write,
                                                           security::resource_type::transactional_id,
                                                           *req.transactional_id)))
    whole_request_error = kafka_error::transactional_id_authorization_failed;
  else if (req.acks != 0 && req.acks != 1 && req.acks != -1) whole_request_error = kafka_error::invalid_required_acks;
  // WRITE on each topic entry's name (v13: the name of its id; an unknown id is not checked), asked once.
  std::vector<bool> writable;
  for (const auto& topic : req.topic_data) {
    std::string name = topic.name;
    if (ctx.version() >= 13) {
      const topic_info* info = topic.topic_id.is_zero() ? nullptr : b.topics().find(topic.topic_id);
      name = info ? info->record.name : std::string();
    }
    writable.push_back(whole_request_error || name.empty() ||
                       security::authorized(ctx, security::acl_operation::write, security::resource_type::topic, name,
                                            true, true, static_cast<int>(topic.partition_data.size())));
  }

  // Transaction version 2 (v12+): the transactional partitions join the producer's transaction first (a
  // write to the transaction state only for those not in it yet); their appends wait for that.
  std::optional<kafka_error> implicit_add;
  if (!whole_request_error && ctx.version() >= 12 && req.transactional_id) {
    transaction::partition_set partitions;
    std::optional<common::record_batch_view> first;
    for (size_t t = 0; t < req.topic_data.size(); ++t) {
      const auto& topic = req.topic_data[t];
      const topic_info* info = ctx.version() >= 13 ? (topic.topic_id.is_zero() ? nullptr : b.topics().find(topic.topic_id))
                                                   : b.topics().find(topic.name);
      if (!info || !writable[t]) continue;
      for (const auto& part : topic.partition_data) {
        if (part.index < 0 || part.index >= info->record.partitions || !part.records) continue;
        auto batch = transactional_batch(req, *part.records);
        if (!batch) continue;
        if (!first) first = batch;
        partitions.insert({info->record.name, part.index});
      }
    }
    if (first)
      implicit_add = produce_txn_error(co_await b.transactions().add_partitions_implicitly(
          *req.transactional_id, first->producer_id(), first->producer_epoch(), partitions));
  }

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
    // Kafka checks the name given (v13: the name of the id) before whether the topic exists.
    const bool topic_allowed = writable[resp.responses.size() - 1];
    for (auto& part : topic.partition_data) {
      if (whole_request_error) {
        out.partition_responses.push_back(partition_error(part.index, *whole_request_error));
        continue;
      }
      if (!info && ctx.version() >= 13) {
        out.partition_responses.push_back(partition_error(part.index, kafka_error::unknown_topic_id));
        continue;
      }
      if (!topic_allowed) {
        out.partition_responses.push_back(partition_error(part.index, kafka_error::topic_authorization_failed));
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
      if (implicit_add && transactional_batch(req, *part.records)) {
        if (*implicit_add != kafka_error::none) {
          out.partition_responses.push_back(partition_error(part.index, *implicit_add));
          continue;
        }
      } else if (auto refused = verify_transactional(b, req, tp, *part.records, ctx.version())) {
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
  auto& quotas = b.quota_manager();
  const quota::client_identity who = quota::identity_of(ctx);
  const int32_t bandwidth_throttle =
      quotas.record(quota::quota_kind::produce, who, static_cast<double>(ctx.request_size));
  // As Kafka, an acks=0 produce is not metered against request_percentage.
  const int32_t request_throttle = req.acks != 0 ? quota::record_request_time(ctx) : 0;
  resp.throttle_time_ms = std::max(bandwidth_throttle, request_throttle);
  quota::mute_connection(ctx, resp.throttle_time_ms);
  if (req.acks == 0) co_return std::nullopt;
  proto::writer w;
  resp.encode(w, ctx.version());
  co_return w.finish();
}

}  // namespace brook::broker::handlers
