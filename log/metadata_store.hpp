// The broker's metadata store: the one wrapper through which anything reaches RocksDB (cluster id,
// topics and their config overrides, committed group offsets, group metadata, producer state and
// per-partition log state). Nothing else in the product includes RocksDB (one test lays out a store
// directory with it); its types stay behind a pimpl.
//
// Ownership: the broker opens one metadata_store per data directory and shares it (by reference)
// with the log manager and the group coordinator. RocksDB's LOCK file keeps a second store, in this
// process or another, from opening the same directory: open() then returns kafka_storage_error.
//
// On-disk format (the constants live at the top of metadata_store.cpp):
//   Version 3 (store_format_version): every key lives in RocksDB's default column family, led by one
//   byte naming its keyspace (0 default, 1 topics, 2 topic_configs, 3 group_offsets, 4 group_metadata,
//   5 producer_state, 6 partition_state, 7 client_quotas, 8 config_resources, 9 transaction_state,
//   10 txn_offsets, 11 scram_credentials, 12 acls);
//   below, each keyspace's
//   keys without that byte. Every value but format_version is a "record": a big-endian i16 version
//   followed by a persisted record declared in common/protocol/records/ (generated codec) encoded at
//   that version; a version newer than the declaration's reads back as kafka_storage_error.
//   Keyspaces and keys. esc(s) is s with 0x01 -> 0x01 0x02 and 0x00 -> 0x01 0x01, so an
//   escaped name never contains 0x00 and "esc(name) 0x00" is a prefix of exactly that name's keys
//   (group "a" never matches group "ab"; topic "t" never matches "t1"). For legal Kafka topic names
//   and ordinary group ids esc(s) == s. Partitions are 4-byte big-endian so they sort numerically.
//     default         "cluster_id"                          -> cluster_record (cluster_id)
//                     "next_producer_id"                    -> cluster_record (next_producer_id: the
//                                                              first id not handed out)
//                     "format_version"                      -> u8 (the store's layout version, 3)
//     topics          topic name                            -> topic_metadata_record
//     topic_configs   topic name                            -> topic_config_record
//     group_offsets   esc(group) 0x00 esc(topic) 0x00 be32  -> committed_offset_record
//     group_metadata  group id                              -> group_metadata_record
//     producer_state  esc(topic) 0x00 be32                  -> producer_state_record
//     partition_state esc(topic) 0x00 be32                  -> partition_state_record
//     client_quotas   n x (esc(type) 0x00 u8 named         -> client_quota_record
//                     [esc(name)] 0x00), types in record order
//     config_resources i8 resource type | esc(name)          -> config_resource_record
//     transaction_state transactional id                    -> transaction_state_record
//     txn_offsets     esc(group) 0x00 esc(topic) 0x00 be32  -> txn_offset_record (a pending
//                     be64 producer id                         transactional offset)
//     scram_credentials esc(user) 0x00 i8 mechanism         -> scram_credential_record
//     acls            i8 resource type, i8 pattern type,    -> acl_record
//                     esc(name) 0x00 esc(principal) 0x00
//                     esc(host) 0x00 i8 operation i8 permission
//   Earlier versions are converted when opened, each in one synced batch that also records the new
//   version (a conversion cut short is done again at the next open). Version 1 kept each keyspace in
//   a column family of that name; version 2 had version 3's keys with hand-encoded values (their
//   layouts are in store_format_v2.hpp, whose readers convert them).
//
// Durability: every write uses WriteOptions.sync = true (the WAL is fsynced before the call
// returns), so anything a client has been told is committed (offset commits, topic creation and
// deletion, config changes, group metadata) survives a crash. A store opened with fsync = false (for
// throwaway data) writes without the sync: a process crash loses nothing, a machine crash may. Multi-key changes (commit_offsets,
// delete_topic, delete_group, create_topic, set_topic_configs, put_client_quotas, alter_scram_credentials) are one WriteBatch: all
// or nothing.
//
// Threads: every method is safe to call from any thread at the same time; reads that combine
// several keys see one snapshot. Read-then-write operations (create_topic, delete_topic,
// delete_group, get_or_create_cluster_id, ...) are serialised by an internal lock so a concurrent
// commit cannot slip between their scan and their batch. Methods block on disk IO (fsync on every
// write): the broker calls them off its network threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/protocol/messages/acl_record.hpp"
#include "common/protocol/messages/client_quota_record.hpp"
#include "common/protocol/messages/config_resource_record.hpp"
#include "common/protocol/messages/group_metadata_record.hpp"
#include "common/protocol/messages/producer_state_record.hpp"
#include "common/protocol/messages/scram_credential_record.hpp"
#include "common/protocol/messages/transaction_state_record.hpp"
#include "common/protocol/messages/txn_offset_record.hpp"
#include "common/uuid.hpp"

namespace brook::log {

// A topic as created: its id, shape and its config overrides (only those set explicitly; broker
// defaults are not stored here).
struct topic_record {
  std::string name;
  common::uuid id;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  int64_t created_ms = 0;
  std::map<std::string, std::string> configs;
  bool operator==(const topic_record&) const = default;
};

// One committed consumer-group offset for one partition.
struct committed_offset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_ms = 0;
  std::optional<int64_t> expire_ms;
  // The group coordinator's write order (Kafka's record offset in __consumer_offsets); -1 for
  // offsets written before the order was kept. Decides between a plain commit and a transactional
  // offset whose transaction commits later: the one written last wins.
  int64_t sequence = -1;
  bool operator==(const committed_offset&) const = default;
};

// A committed offset together with the partition it belongs to.
struct partition_offset {
  std::string topic;
  int32_t partition = 0;
  committed_offset offset;
  bool operator==(const partition_offset&) const = default;
};

// A pending transactional offset (TxnOffsetCommit): staged by a producer's open transaction, it
// becomes the group's committed offset when that transaction commits (if it was staged after the
// committed one: offset.sequence) and is dropped when it aborts.
struct txn_offset {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t producer_id = -1;
  committed_offset offset;  // expire_ms is never set
  bool operator==(const txn_offset&) const = default;
};

// A group's persisted state (classic or consumer protocol), and one partition's idempotent-producer
// state: generated persisted records, encoded and decoded by their owners' conversions.
using group_metadata_record = common::protocol::group_metadata_record::message;
using producer_state_record = common::protocol::producer_state_record::message;

struct group_entry {
  std::string group;
  group_metadata_record record;
  bool operator==(const group_entry&) const = default;
};

// The transaction coordinator's state of one transactional id.
using transaction_state_record = common::protocol::transaction_state_record::message;

struct transaction_state_entry {
  std::string transactional_id;
  transaction_state_record record;
  bool operator==(const transaction_state_entry&) const = default;
};

struct producer_state_entry {
  std::string topic;
  int32_t partition = 0;
  producer_state_record record;
  bool operator==(const producer_state_entry&) const = default;
};

// The per-partition log state the log persists outside its segments.
struct partition_state {
  int64_t log_start_offset = 0;
  int64_t recovery_point = 0;
  bool operator==(const partition_state&) const = default;
};

struct partition_state_entry {
  std::string topic;
  int32_t partition = 0;
  partition_state state;
  bool operator==(const partition_state_entry&) const = default;
};

// Client quotas of one entity (user, client-id, ip; null names are defaults), and the dynamic configs
// of one config resource (broker, broker defaults, group): generated persisted records.
using client_quota_record = common::protocol::client_quota_record::message;
using config_resource_record = common::protocol::config_resource_record::message;
// One ACL (CreateAcls / DeleteAcls): a generated persisted record.
using acl_record = common::protocol::acl_record::message;

// A persisted record as the store writes it (i16 version | the record at that version), and back.
// Decoding fails with kafka_storage_error on a version newer than the declaration's or bad bytes.
std::string encode_client_quota_record(const client_quota_record& record);
common::result<client_quota_record> decode_client_quota_record(std::string_view bytes);
std::string encode_config_resource_record(const config_resource_record& record);
common::result<config_resource_record> decode_config_resource_record(std::string_view bytes);
std::string encode_group_metadata_record(const group_metadata_record& record);

// A user's SCRAM credential for one mechanism (salt, stored and server keys, iterations), and the
// key that names one.
using scram_credential_record = common::protocol::scram_credential_record::message;
struct scram_credential_key {
  std::string user;
  int8_t mechanism = 0;
  bool operator==(const scram_credential_key&) const = default;
};
std::string encode_scram_credential_record(const scram_credential_record& record);
common::result<scram_credential_record> decode_scram_credential_record(std::string_view bytes);

class metadata_store {
 public:
  // Opens (creating if missing) the database in dir and all of its column families. Corruption,
  // a directory locked by another open store, or IO failures return kafka_storage_error carrying
  // RocksDB's message. `fsync` = false skips the WAL sync of every write (see Durability above).
  static common::result<std::unique_ptr<metadata_store>> open(const std::filesystem::path& dir, bool fsync = true);

  ~metadata_store();
  metadata_store(const metadata_store&) = delete;
  metadata_store& operator=(const metadata_store&) = delete;

  const std::filesystem::path& directory() const;

  // The cluster id: a random uuid (in Kafka's base64 text form) written on first call and
  // returned unchanged ever after, across restarts. The first call, on a new store, also writes
  // `initial_configs` (the dynamic configs a new cluster starts with; records without configs are
  // skipped) in the same batch; later calls ignore them.
  common::result<std::string> get_or_create_cluster_id(const std::vector<config_resource_record>& initial_configs = {});

  // Reserves `count` producer ids and returns the first; ids are never handed out twice, across
  // restarts (the broker reserves blocks so that this sync write is rare).
  common::result<int64_t> allocate_producer_ids(int64_t count);

  // Deletes every topic (with its configs, partition and producer states), every group's metadata and
  // committed offsets, every transaction state, every client quota, dynamic config, SCRAM credential and
  // ACL, and the producer id reservation (the next id handed out is 0 again), and writes `initial_configs` as a new store's
  // first call of get_or_create_cluster_id does, in one synced batch; keeps the cluster id. For
  // resetting a broker between tests.
  common::result<void> clear_all(const std::vector<config_resource_record>& initial_configs = {});

  // Topics. create_topic fails with topic_already_exists if the name is taken; put_topic
  // overwrites (record and overrides) unconditionally. delete_topic removes the topic, its config
  // overrides, its partition and producer states and every group's committed offsets for it in
  // one batch; unknown_topic_or_partition if it does not exist.
  common::result<void> create_topic(const topic_record& topic);
  common::result<void> put_topic(const topic_record& topic);
  common::result<void> delete_topic(std::string_view name);
  common::result<std::optional<topic_record>> get_topic(std::string_view name);
  common::result<std::optional<topic_record>> get_topic_by_id(const common::uuid& id);
  common::result<std::vector<topic_record>> list_topics();  // sorted by name
  // Replaces the topic's overrides with configs atomically; unknown_topic_or_partition if absent.
  common::result<void> set_topic_configs(std::string_view name,
                                         const std::map<std::string, std::string>& configs);

  // Committed offsets. fetch_offsets lists a group's offsets sorted by (topic, partition);
  // list_groups_with_offsets lists (sorted) every group with at least one committed offset.
  // delete_group removes the group's offsets (committed and pending transactional ones) and its
  // metadata together; delete_offsets removes the partitions' pending transactional offsets too, as
  // Kafka's offset tombstone does.
  common::result<void> commit_offsets(std::string_view group,
                                      const std::vector<partition_offset>& offsets);
  common::result<std::vector<partition_offset>> fetch_offsets(std::string_view group);
  common::result<std::optional<committed_offset>> fetch_offset(std::string_view group,
                                                               std::string_view topic,
                                                               int32_t partition);
  common::result<void> delete_offsets(std::string_view group, std::string_view topic,
                                      const std::vector<int32_t>& partitions);
  common::result<void> delete_group(std::string_view group);
  common::result<std::vector<std::string>> list_groups_with_offsets();

  // Pending transactional offsets. stage_txn_offsets writes them (replacing the producer's earlier
  // ones for the same partitions) in one batch. complete_txn_offsets applies a transaction marker to
  // one group in one batch: the producer's pending offsets of the group are removed and, on commit,
  // each becomes the committed offset of its partition unless the committed one has a higher
  // sequence (it was written later), as Kafka's replayEndTransactionMarker keeps the later record.
  // list_txn_offsets: every pending offset, sorted by (group, topic, partition, producer id).
  common::result<void> stage_txn_offsets(const std::vector<txn_offset>& offsets);
  common::result<void> complete_txn_offsets(std::string_view group, int64_t producer_id, bool commit);
  common::result<std::vector<txn_offset>> list_txn_offsets();

  // Group metadata, one record per group (the group coordinator's).
  common::result<void> put_group_metadata(std::string_view group, const group_metadata_record& record);
  common::result<std::optional<group_metadata_record>> get_group_metadata(std::string_view group);
  common::result<std::vector<group_entry>> list_group_metadata();  // sorted by group

  // Producer state, one record per (topic, partition) (the log's).
  common::result<void> put_producer_state(std::string_view topic, int32_t partition,
                                          const producer_state_record& record);
  common::result<std::optional<producer_state_record>> get_producer_state(std::string_view topic,
                                                                          int32_t partition);
  common::result<std::vector<producer_state_entry>> list_producer_states();  // by (topic, partition)
  common::result<void> delete_producer_state(std::string_view topic, int32_t partition);

  // Partition state, one record per (topic, partition).
  common::result<void> put_partition_state(std::string_view topic, int32_t partition,
                                           const partition_state& state);
  common::result<std::optional<partition_state>> get_partition_state(std::string_view topic,
                                                                     int32_t partition);
  common::result<std::vector<partition_state_entry>> list_partition_states();  // by (topic, partition)
  common::result<void> delete_partition_state(std::string_view topic, int32_t partition);

  // Transaction state, one record per transactional id (the transaction coordinator's).
  common::result<void> put_transaction_state(std::string_view transactional_id,
                                             const transaction_state_record& record);
  common::result<void> delete_transaction_state(std::string_view transactional_id);
  common::result<std::vector<transaction_state_entry>> list_transaction_states();  // sorted by id

  // Client quotas, one record per entity. put_client_quotas writes every record in one batch,
  // replacing the entity's stored values; a record without values deletes the entity.
  common::result<void> put_client_quotas(const std::vector<client_quota_record>& records);
  common::result<std::vector<client_quota_record>> list_client_quotas();  // sorted by entity key

  // Dynamic configs, one record per (resource type, name); a record without configs deletes it.
  common::result<void> put_config_resource(const config_resource_record& record);
  common::result<std::vector<config_resource_record>> list_config_resources();  // by (type, name)

  // SCRAM credentials, one record per (user, mechanism). alter_scram_credentials writes `puts`
  // (replacing a stored credential of the same user and mechanism) and removes `deletions` in one
  // batch; deleting a credential that is not there is not an error.
  common::result<void> alter_scram_credentials(const std::vector<scram_credential_record>& puts,
                                               const std::vector<scram_credential_key>& deletions);
  common::result<std::vector<scram_credential_record>> list_scram_credentials();  // by (user, mechanism)

  // ACLs, one key per ACL. update_acls writes `added` and deletes `removed` in one batch (adding an ACL
  // that is there, or removing one that is not, changes nothing).
  common::result<void> update_acls(const std::vector<acl_record>& added, const std::vector<acl_record>& removed);
  common::result<std::vector<acl_record>> list_acls();  // by key: resource type, pattern type, name, ...

 private:
  struct impl;
  explicit metadata_store(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

}  // namespace brook::log
