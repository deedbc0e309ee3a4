// WriteTxnMarkers v1-2: writes the commit or abort marker of a producer's transaction on the named
// partitions, as a transaction coordinator asks a partition leader to. Brook is its own coordinator and
// writes its markers itself; this is the request Kafka's Admin.abortTransaction (`kafka-transactions
// abort`) sends to end a hanging transaction. Each partition is answered on its own, as Kafka does:
// UNKNOWN_TOPIC_OR_PARTITION for a partition not here, INVALID_PRODUCER_EPOCH for a marker older than
// the producer's epoch, TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch. Partitions of
// __consumer_offsets end the producer's staged transactional offsets instead (Kafka's
// completeTransaction of the group coordinator). v2 carries the marker's transaction version.
#include "broker/broker.hpp"
#include "broker/handlers/handlers.hpp"
#include "broker/security/authorize.hpp"

namespace brook::broker::handlers {

using common::kafka_error;
namespace wtm = proto::write_txn_markers;

awaitable<wtm::response> write_txn_markers(request_context& ctx, wtm::request& req) {
  broker& b = ctx.owner;
  auto& txns = b.transactions();
  wtm::response resp;
  // As Kafka's KafkaApis: ALTER on the cluster (an admin client aborting a transaction), else
  // CLUSTER_ACTION (a broker); every partition is answered CLUSTER_AUTHORIZATION_FAILED otherwise.
  if (!security::authorized_on_cluster(ctx, security::acl_operation::alter, false) &&
      !security::authorized_on_cluster(ctx, security::acl_operation::cluster_action)) {
    for (const auto& marker : req.markers) {
      auto& out = resp.markers.emplace_back();
      out.producer_id = marker.producer_id;
      for (const auto& t : marker.topics) {
        auto& topic = out.topics.emplace_back();
        topic.name = t.name;
        for (int32_t index : t.partition_indexes)
          topic.partitions.push_back({index, common::wire_code(kafka_error::cluster_authorization_failed)});
      }
    }
    co_return resp;
  }
  for (const auto& marker : req.markers) {
    auto& out = resp.markers.emplace_back();
    out.producer_id = marker.producer_id;
    // The group coordinator completes a producer's offsets for all its groups at once: once per marker.
    std::optional<kafka_error> offsets_outcome;
    for (const auto& t : marker.topics) {
      auto& topic = out.topics.emplace_back();
      topic.name = t.name;
      for (int32_t index : t.partition_indexes) {
        auto& p = topic.partitions.emplace_back();
        p.partition_index = index;
        kafka_error e = kafka_error::none;
        if (marker.producer_id < 0) {
          e = kafka_error::invalid_request;
        } else if (t.name == transaction::transaction_service::offsets_topic) {
          if (index < 0 || index >= txns.offsets_topic_partitions()) {
            e = kafka_error::unknown_topic_or_partition;
          } else {
            if (!offsets_outcome) {
              auto done = co_await b.groups().complete_transaction(marker.producer_id, marker.transaction_result);
              offsets_outcome = done ? kafka_error::none : done.code();
            }
            e = *offsets_outcome;
          }
        } else {
          const log::topic_partition tp{t.name, index};
          auto written = co_await b.partitions().append_marker(tp, marker.producer_id, marker.producer_epoch,
                                                               marker.transaction_result, marker.coordinator_epoch,
                                                               marker.transaction_version);
          if (!written) e = written.code();
        }
        p.error_code = common::wire_code(e);
      }
    }
  }
  co_return resp;
}

}  // namespace brook::broker::handlers
