// Small helpers the transaction handler tests share: InitProducerId with a transactional id,
// AddPartitionsToTxn (v3, the client form), EndTxn, and transactional produce.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "broker_fixture.hpp"
#include "common/protocol/messages/add_offsets_to_txn.hpp"
#include "common/protocol/messages/add_partitions_to_txn.hpp"
#include "common/protocol/messages/end_txn.hpp"
#include "common/protocol/messages/init_producer_id.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/protocol/messages/txn_offset_commit.hpp"
#include "common/record_batch.hpp"
#include "group_test_util.hpp"

namespace brook::test {

struct txn_producer {
  std::string transactional_id;
  int64_t id = -1;
  int16_t epoch = -1;
};

inline proto::init_producer_id::response init_txn_raw(broker_fixture& b, const std::string& transactional_id,
                                                      int32_t timeout_ms = 60000, int16_t version = 5) {
  proto::init_producer_id::request req;
  req.transactional_id = transactional_id;
  req.transaction_timeout_ms = timeout_ms;
  req.producer_id = -1;
  req.producer_epoch = -1;
  return b.call<proto::init_producer_id::response>(proto::init_producer_id::api_key, version, req);
}

// Initialises `transactional_id`, retrying while the coordinator answers CONCURRENT_TRANSACTIONS
// (it aborts an open transaction of the previous producer first), as clients do.
inline txn_producer init_txn(broker_fixture& b, const std::string& transactional_id, int32_t timeout_ms = 60000) {
  proto::init_producer_id::response resp;
  REQUIRE(eventually([&] {
    resp = init_txn_raw(b, transactional_id, timeout_ms);
    return resp.error_code != common::wire_code(common::kafka_error::concurrent_transactions);
  }));
  REQUIRE(resp.error_code == 0);
  return {transactional_id, resp.producer_id, resp.producer_epoch};
}

inline int16_t add_partitions(broker_fixture& b, const txn_producer& p, const std::string& topic,
                              std::vector<int32_t> partitions, int16_t version = 3) {
  namespace apt = proto::add_partitions_to_txn;
  apt::request req;
  req.v3_and_below_transactional_id = p.transactional_id;
  req.v3_and_below_producer_id = p.id;
  req.v3_and_below_producer_epoch = p.epoch;
  req.v3_and_below_topics.push_back({topic, std::move(partitions)});
  auto resp = b.call<apt::response>(apt::api_key, version, req);
  REQUIRE(resp.results_by_topic_v3_and_below.size() == 1);
  REQUIRE_FALSE(resp.results_by_topic_v3_and_below[0].results_by_partition.empty());
  return resp.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code;
}

inline proto::end_txn::response end_txn(broker_fixture& b, const txn_producer& p, bool commit, int16_t version = 4) {
  proto::end_txn::request req;
  req.transactional_id = p.transactional_id;
  req.producer_id = p.id;
  req.producer_epoch = p.epoch;
  req.committed = commit;
  return b.call<proto::end_txn::response>(proto::end_txn::api_key, version, req);
}

// A transactional batch of `count` records of `p` at `sequence`, valued "v<sequence>", "v<sequence + 1>"...
inline proto::record_set txn_batch(const txn_producer& p, int32_t sequence, int32_t count) {
  common::record_batch_builder::options o;
  o.producer_id = p.id;
  o.producer_epoch = p.epoch;
  o.base_sequence = sequence;
  o.transactional = true;
  common::record_batch_builder builder(o);
  // Timestamps of now: records from long ago would make the marker (stamped now) roll a new segment
  // (segment.ms), and a fetch reads one segment at a time.
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (int32_t i = 0; i < count; ++i) builder.add(std::nullopt, "v" + std::to_string(sequence + i), now);
  auto batch = builder.build();
  return proto::record_set(proto::bytes(batch.begin(), batch.end()));
}

// A produce request of `p` to topic t: per partition, (partition, first sequence, record count).
inline proto::produce::request txn_produce_request(const txn_producer& p,
                                                   const std::vector<std::tuple<int32_t, int32_t, int32_t>>& batches) {
  proto::produce::request req;
  req.transactional_id = p.transactional_id;
  req.acks = -1;
  req.timeout_ms = 10000;
  auto& t = req.topic_data.emplace_back();
  t.name = "t";
  for (const auto& [partition, sequence, count] : batches) {
    auto& part = t.partition_data.emplace_back();
    part.index = partition;
    part.records = txn_batch(p, sequence, count);
  }
  return req;
}

// Produces `count` records of `p` at `sequence` to t-`partition` (one transactional batch, Produce
// `version`); the error code.
inline int16_t produce_txn(broker_fixture& b, const txn_producer& p, int32_t partition, int32_t sequence,
                           int32_t count, int16_t version = 9) {
  auto resp = b.call<proto::produce::response>(proto::produce::api_key, version,
                                               txn_produce_request(p, {{partition, sequence, count}}));
  return resp.responses.at(0).partition_responses.at(0).error_code;
}

// AddOffsetsToTxn v3 of `group` for `p`; the error code.
inline int16_t add_offsets(broker_fixture& b, const txn_producer& p, const std::string& group) {
  proto::add_offsets_to_txn::request req;
  req.transactional_id = p.transactional_id;
  req.producer_id = p.id;
  req.producer_epoch = p.epoch;
  req.group_id = group;
  return b.call<proto::add_offsets_to_txn::response>(proto::add_offsets_to_txn::api_key, 3, req).error_code;
}

// A TxnOffsetCommit of `p` staging `offset` (with `metadata`) for `topic`-0 in `group`, outside any generation.
inline proto::txn_offset_commit::request txn_offset_commit_request(const txn_producer& p, const std::string& group,
                                                                   const std::string& topic, int64_t offset,
                                                                   std::optional<std::string> metadata = std::nullopt) {
  proto::txn_offset_commit::request req;
  req.transactional_id = p.transactional_id;
  req.group_id = group;
  req.producer_id = p.id;
  req.producer_epoch = p.epoch;
  auto& t = req.topics.emplace_back();
  t.name = topic;
  auto& part = t.partitions.emplace_back();
  part.partition_index = 0;
  part.committed_offset = offset;
  part.committed_metadata = std::move(metadata);
  return req;
}

}  // namespace brook::test
