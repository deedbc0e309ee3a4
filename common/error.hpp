// Errors as values. Every module boundary returns brook::common::result<T>; the error side carries a Kafka
// error code (the one mapping to the wire: the enum's value *is* the protocol code) and a message
// for people. Only wire decoding throws (protocol::decode_error), and that closes the connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace brook::common {

#define BROOK_KAFKA_ERRORS(X)                                                                      \
  X(unknown_server_error, -1) X(none, 0) X(offset_out_of_range, 1) X(corrupt_message, 2)          \
  X(unknown_topic_or_partition, 3) X(invalid_fetch_size, 4) X(leader_not_available, 5)             \
  X(not_leader_or_follower, 6) X(request_timed_out, 7) X(broker_not_available, 8)                  \
  X(replica_not_available, 9) X(message_too_large, 10) X(stale_controller_epoch, 11)               \
  X(offset_metadata_too_large, 12) X(network_exception, 13) X(coordinator_load_in_progress, 14)    \
  X(coordinator_not_available, 15) X(not_coordinator, 16) X(invalid_topic_exception, 17)           \
  X(record_list_too_large, 18) X(not_enough_replicas, 19) X(not_enough_replicas_after_append, 20)  \
  X(invalid_required_acks, 21) X(illegal_generation, 22) X(inconsistent_group_protocol, 23)        \
  X(invalid_group_id, 24) X(unknown_member_id, 25) X(invalid_session_timeout, 26)                  \
  X(rebalance_in_progress, 27) X(invalid_commit_offset_size, 28)                                   \
  X(topic_authorization_failed, 29) X(group_authorization_failed, 30)                              \
  X(cluster_authorization_failed, 31) X(invalid_timestamp, 32) X(unsupported_sasl_mechanism, 33)   \
  X(illegal_sasl_state, 34) X(unsupported_version, 35) X(topic_already_exists, 36)                 \
  X(invalid_partitions, 37) X(invalid_replication_factor, 38) X(invalid_replica_assignment, 39)    \
  X(invalid_config, 40) X(not_controller, 41) X(invalid_request, 42)                               \
  X(unsupported_for_message_format, 43) X(policy_violation, 44)                                    \
  X(out_of_order_sequence_number, 45) X(duplicate_sequence_number, 46)                             \
  X(invalid_producer_epoch, 47) X(invalid_txn_state, 48) X(invalid_producer_id_mapping, 49)        \
  X(invalid_transaction_timeout, 50) X(concurrent_transactions, 51)                                \
  X(transaction_coordinator_fenced, 52) X(transactional_id_authorization_failed, 53)               \
  X(security_disabled, 54) X(operation_not_attempted, 55) X(kafka_storage_error, 56)               \
  X(log_dir_not_found, 57) X(sasl_authentication_failed, 58) X(unknown_producer_id, 59)            \
  X(reassignment_in_progress, 60) X(non_empty_group, 68) X(group_id_not_found, 69)                 \
  X(fetch_session_id_not_found, 70) X(invalid_fetch_session_epoch, 71) X(listener_not_found, 72)   \
  X(topic_deletion_disabled, 73) X(fenced_leader_epoch, 74) X(unknown_leader_epoch, 75)            \
  X(unsupported_compression_type, 76) X(stale_broker_epoch, 77) X(offset_not_available, 78)        \
  X(member_id_required, 79) X(preferred_leader_not_available, 80) X(group_max_size_reached, 81)    \
  X(fenced_instance_id, 82) X(eligible_leaders_not_available, 83) X(election_not_needed, 84)       \
  X(no_reassignment_in_progress, 85) X(group_subscribed_to_topic, 86) X(invalid_record, 87)        \
  X(unstable_offset_commit, 88) X(throttling_quota_exceeded, 89) X(producer_fenced, 90)            \
  X(resource_not_found, 91) X(duplicate_resource, 92) X(unacceptable_credential, 93)               \
  X(invalid_update_version, 95) X(feature_update_failed, 96) X(unknown_topic_id, 100)              \
  X(inconsistent_topic_id, 103) X(inconsistent_cluster_id, 104)                                    \
  X(transactional_id_not_found, 105) X(fetch_session_topic_id_error, 106)                          \
  X(fenced_member_epoch, 110) X(unreleased_instance_id, 111) X(unsupported_assignor, 112)          \
  X(stale_member_epoch, 113) X(mismatched_endpoint_type, 114) X(unsupported_endpoint_type, 115)      \
  X(unknown_subscription_id, 117) X(telemetry_too_large, 118)                                      \
  X(transaction_abortable, 120) X(rebootstrap_required, 129) X(invalid_regular_expression, 130)    \
  /* Below -1: a client's own conditions, never on the wire (Java's exceptions without a code). */ \
  X(wakeup, -100)

// Kafka's error codes; the numeric value is what goes on the wire.
enum class kafka_error : int16_t {
#define BROOK_X(name, code) name = code,
  BROOK_KAFKA_ERRORS(BROOK_X)
#undef BROOK_X
};

// The snake_case name of the code ("unknown_topic_or_partition"), for logs and messages.
std::string_view error_name(kafka_error e);

constexpr int16_t wire_code(kafka_error e) { return static_cast<int16_t>(e); }

// An error crossing a module boundary: the Kafka code plus a message naming the problem.
struct error {
  kafka_error code = kafka_error::unknown_server_error;
  std::string message;
};

// The value or the error of a call that can fail; a minimal stand-in for C++23 std::expected.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}
  result(kafka_error code, std::string message) : v_(error{code, std::move(message)}) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const error& err() const { return std::get<1>(v_); }
  kafka_error code() const { return ok() ? kafka_error::none : err().code; }

 private:
  std::variant<T, error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : err_(std::move(e)), ok_(false) {}
  result(kafka_error code, std::string message) : err_{code, std::move(message)}, ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const error& err() const { return err_; }
  kafka_error code() const { return ok_ ? kafka_error::none : err_.code; }

 private:
  error err_{kafka_error::none, {}};
  bool ok_ = true;
};

}  // namespace brook::common
