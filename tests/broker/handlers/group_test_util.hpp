// Small helpers the group handler tests share: a topic to commit to, committed offsets, and classic-group
// requests.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "broker_fixture.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/join_group.hpp"
#include "common/protocol/messages/offset_commit.hpp"
#include "common/protocol/messages/offset_fetch.hpp"
#include "common/protocol/messages/sync_group.hpp"
#include "common/uuid.hpp"

namespace brook::test {

inline void create_topic(kafka_client& c, const std::string& name, int32_t partitions = 1) {
  namespace ct = proto::create_topics;
  ct::request req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  auto resp = c.call<ct::response>(ct::api_key, 5, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].error_code == 0);
}

// Creates a topic and returns the id the broker gave it (CreateTopics v7 answers it).
inline common::uuid create_topic_with_id(kafka_client& c, const std::string& name, int32_t partitions = 1) {
  namespace ct = proto::create_topics;
  ct::request req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  auto resp = c.call<ct::response>(ct::api_key, 7, req);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].error_code == 0);
  REQUIRE_FALSE(resp.topics[0].topic_id.is_zero());
  return resp.topics[0].topic_id;
}

inline proto::offset_commit::request commit_request(const std::string& group, const std::string& member_id,
                                                   int32_t generation, const std::string& topic, int64_t offset) {
  proto::offset_commit::request req;
  req.group_id = group;
  req.member_id = member_id;
  req.generation_id_or_member_epoch = generation;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.committed_offset = offset;
  return req;
}

// The offset `group` has committed for partition 0 of `topic` (-1: none), read with OffsetFetch v7.
inline int64_t committed_offset(kafka_client& c, const std::string& group, const std::string& topic) {
  namespace of = proto::offset_fetch;
  of::request req;
  req.group_id = group;
  auto& t = req.topics->emplace_back();
  t.name = topic;
  t.partition_indexes = {0};
  auto resp = c.call<of::response>(of::api_key, 7, req);
  REQUIRE(resp.topics.size() == 1);
  return resp.topics[0].partitions[0].committed_offset;
}

inline proto::join_group::request join_request(const std::string& group, const std::string& member_id,
                                               const std::string& metadata = "md") {
  proto::join_group::request req;
  req.group_id = group;
  req.session_timeout_ms = 10000;
  req.rebalance_timeout_ms = 10000;
  req.member_id = member_id;
  req.protocol_type = "consumer";
  auto& p = req.protocols.emplace_back();
  p.name = "range";
  p.metadata = proto::bytes(metadata.begin(), metadata.end());
  return req;
}

}  // namespace brook::test
