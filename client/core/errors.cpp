#include "client/core/errors.hpp"

#include <fmt/format.h>

namespace brook::client::core {

bool invalidates_metadata(kafka_error e) {
  switch (e) {
    case kafka_error::unknown_topic_or_partition:
    case kafka_error::leader_not_available:
    case kafka_error::not_leader_or_follower:
    case kafka_error::replica_not_available:
    case kafka_error::network_exception:
    case kafka_error::kafka_storage_error:
    case kafka_error::listener_not_found:
    case kafka_error::fenced_leader_epoch:
    case kafka_error::unknown_leader_epoch:
    case kafka_error::preferred_leader_not_available:
    case kafka_error::unknown_topic_id:
    case kafka_error::inconsistent_topic_id:
    case kafka_error::not_controller:
      return true;
    default:
      return false;
  }
}

bool is_retriable(kafka_error e) {
  if (invalidates_metadata(e)) return true;
  switch (e) {
    case kafka_error::corrupt_message:
    case kafka_error::request_timed_out:
    case kafka_error::coordinator_load_in_progress:
    case kafka_error::coordinator_not_available:
    case kafka_error::not_coordinator:
    case kafka_error::not_enough_replicas:
    case kafka_error::not_enough_replicas_after_append:
    case kafka_error::concurrent_transactions:
    case kafka_error::fetch_session_id_not_found:
    case kafka_error::invalid_fetch_session_epoch:
    case kafka_error::offset_not_available:
    case kafka_error::unstable_offset_commit:
    case kafka_error::throttling_quota_exceeded:
    case kafka_error::fetch_session_topic_id_error:
      return true;
    default:
      return false;
  }
}

bool invalidates_coordinator(kafka_error e) {
  return e == kafka_error::not_coordinator || e == kafka_error::coordinator_not_available ||
         e == kafka_error::network_exception || e == kafka_error::request_timed_out;
}

common::error error_from(kafka_error code, std::string context) {
  return common::error{code, fmt::format("{}: {}", context, common::error_name(code))};
}

}  // namespace brook::client::core
