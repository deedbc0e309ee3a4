// Readers of the values of metadata store format 2, used only to convert such a store to the
// current format when it is opened (metadata_store.cpp). Format 2's values were hand-encoded: a
// leading version byte, then fixed-width big-endian integers and strings as u32 length + bytes:
//   topics          v1 | id[16] | i32 partitions | i16 replication factor | i64 created_ms
//   topic_configs   v1 | u32 n | n x (string key, string value)
//   group_offsets   v1 | i64 offset | i32 leader_epoch | string metadata | i64 commit_ms |
//                   u8 has_expire [| i64 expire_ms]
//   cluster_id      v1 | string;  next_producer_id  v1 | i64
//   partition_state v1 | i64 log_start | i64 recovery_point
//   producer_state  v1 | i64 covered_offset | u32 n | n x (i64 id | i16 epoch | i64 last_timestamp |
//                   u8 k | k x (i32 first_seq | i32 last_seq | i64 first_offset | i64 last_offset))
//   group_metadata  the group coordinator's: a classic group (v1) or a consumer-protocol group (v2 to
//                   v4; v3 added the assignment time, v4 each held partition's assignment epoch), laid
//                   out as the converter below reads them.
// Each reader returns the value as the current format's record, or kafka_storage_error naming the
// value when the bytes are not a format 2 value of that kind. Nothing here writes.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/protocol/messages/cluster_record.hpp"
#include "common/protocol/messages/committed_offset_record.hpp"
#include "common/protocol/messages/group_metadata_record.hpp"
#include "common/protocol/messages/partition_state_record.hpp"
#include "common/protocol/messages/producer_state_record.hpp"
#include "common/protocol/messages/topic_config_record.hpp"
#include "common/protocol/messages/topic_metadata_record.hpp"

namespace brook::log::store_format_v2 {

namespace records = common::protocol;

common::result<records::topic_metadata_record::message> read_topic(std::string_view value);
common::result<records::topic_config_record::message> read_topic_configs(std::string_view value);
common::result<records::committed_offset_record::message> read_offset(std::string_view value);
common::result<records::cluster_record::message> read_cluster_id(std::string_view value);
common::result<records::cluster_record::message> read_next_producer_id(std::string_view value);
common::result<records::partition_state_record::message> read_partition_state(std::string_view value);
common::result<records::producer_state_record::message> read_producer_state(std::string_view value);
common::result<records::group_metadata_record::message> read_group_metadata(std::string_view value);

}  // namespace brook::log::store_format_v2
