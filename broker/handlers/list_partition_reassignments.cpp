// ListPartitionReassignments v0 (KIP-455): each partition here has one replica, this broker, and
// AlterPartitionReassignments can only keep it there, so no reassignment is ever in progress: the
// answer lists no topic, whichever are asked about (Kafka's controller skips unknown ones too).
#include "broker/handlers/handlers.hpp"

namespace brook::broker::handlers {

namespace lpr = proto::list_partition_reassignments;

awaitable<lpr::response> list_partition_reassignments(request_context&, lpr::request&) {
  lpr::response resp;
  resp.error_message = std::nullopt;
  co_return resp;
}

}  // namespace brook::broker::handlers
