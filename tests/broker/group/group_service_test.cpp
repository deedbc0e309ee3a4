// group_service: the one mapping of metadata-store failures to the code every group API answers.
#include <catch2/catch.hpp>

#include "broker/group/group_service.hpp"

TEST_CASE("every group API answers a failed store write with NOT_COORDINATOR, as Kafka's coordinator does") {
  using brook::common::kafka_error;
  // Kafka maps KAFKA_STORAGE_ERROR / NOT_LEADER_OR_FOLLOWER from its log append to NOT_COORDINATOR.
  for (auto code : {kafka_error::kafka_storage_error, kafka_error::unknown_server_error})
    CHECK(brook::broker::group::store_failure_error("OffsetCommit", "g", {code, "disk gone"}) ==
          kafka_error::not_coordinator);
}
