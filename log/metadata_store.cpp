#include "log/metadata_store.hpp"

#include "log/store_format_v2.hpp"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <shared_mutex>
#include <cstdarg>
#include <cstdio>
#include <spdlog/spdlog.h>
#include <system_error>

namespace brook::log {

// ---- On-disk constants (see the class comment in metadata_store.hpp for the layout) ----------

namespace {

// The store's layout version, recorded once under format_version_key; a directory written by a
// newer layout is refused rather than misread. Version 1 kept each keyspace in a column family of its
// own (named as keyspace_names); version 2 keeps them all in RocksDB's default column family, each key
// led by its keyspace's byte, because every column family costs a rewrite and re-read of RocksDB's
// OPTIONS file when a store is created (most of a fresh store's opening time). Version 3 keeps
// version 2's keys, with every value a persisted record (common/protocol/records/) instead of the
// hand-encoded values of version 2 (store_format_v2.hpp). Older stores are converted when opened.
constexpr uint8_t store_format_version = 3;
constexpr uint8_t hand_encoded_format_version = 2;
constexpr uint8_t column_family_format_version = 1;

// The keyspaces; a key's first byte is its keyspace's value.
enum keyspace : uint8_t {
  ks_default,
  ks_topics,
  ks_topic_configs,
  ks_group_offsets,
  ks_group_metadata,
  ks_producer_state,
  ks_partition_state,
  ks_client_quotas,
  ks_config_resources,
  ks_transaction_state,
  ks_txn_offsets,
  ks_scram_credentials,
  ks_acls,
  keyspace_count,
};
// Their names: in messages, and the column families of a version 1 store.
constexpr std::array<const char*, keyspace_count> keyspace_names = {
    "default",         "topics",        "topic_configs",    "group_offsets",   "group_metadata",
    "producer_state",  "partition_state", "client_quotas",  "config_resources", "transaction_state",
    "txn_offsets",     "scram_credentials", "acls",
};

// Keys in the default keyspace.
constexpr std::string_view cluster_id_key = "cluster_id";
constexpr std::string_view format_version_key = "format_version";
// The first producer id not yet handed out: v1 | i64, big-endian.
constexpr std::string_view next_producer_id_key = "next_producer_id";

// Key components: escaped names end with this separator; the next byte value bounds a prefix scan.
constexpr char key_separator = '\x00';
constexpr char key_separator_successor = '\x01';
constexpr char key_escape = '\x01';

using common::error;
using common::kafka_error;
using common::result;

// ---- Errors -----------------------------------------------------------------------------------

error storage_error(const rocksdb::Status& s, std::string_view what) {
  return error{kafka_error::kafka_storage_error, fmt::format("metadata store: {}: {}", what, s.ToString())};
}

error corrupt_value(std::string_view what) {
  return error{kafka_error::kafka_storage_error, fmt::format("metadata store: corrupt {}", what)};
}

// ---- Keys ---------------------------------------------------------------------------------------

// Escapes 0x00 and the escape byte so an escaped name never contains the separator.
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == key_separator) {
      out.push_back(key_escape);
      out.push_back('\x01');
    } else if (c == key_escape) {
      out.push_back(key_escape);
      out.push_back('\x02');
    } else {
      out.push_back(c);
    }
  }
}

std::optional<std::string> unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != key_escape) {
      out.push_back(s[i]);
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    if (s[i] == '\x01') {
      out.push_back(key_separator);
    } else if (s[i] == '\x02') {
      out.push_back(key_escape);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

void append_be32(std::string& out, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}

int32_t read_be32(std::string_view s) {
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) u = (u << 8) | static_cast<uint8_t>(s[i]);
  return static_cast<int32_t>(u);
}

// "esc(name) 0x00": the prefix of every key belonging to name.
std::string name_prefix(std::string_view name) {
  std::string key;
  append_escaped(key, name);
  key.push_back(key_separator);
  return key;
}

// The first key after every key starting with name_prefix(name).
std::string name_prefix_end(std::string_view name) {
  std::string key;
  append_escaped(key, name);
  key.push_back(key_separator_successor);
  return key;
}

std::string partition_key(std::string_view topic, int32_t partition) {
  std::string key = name_prefix(topic);
  append_be32(key, partition);
  return key;
}

std::string offset_key(std::string_view group, std::string_view topic, int32_t partition) {
  std::string key = name_prefix(group);
  append_escaped(key, topic);
  key.push_back(key_separator);
  append_be32(key, partition);
  return key;
}

// Splits "esc(name) 0x00 rest" into name and rest.
std::optional<std::pair<std::string, std::string_view>> split_name(std::string_view key) {
  auto sep = key.find(key_separator);
  if (sep == std::string_view::npos) return std::nullopt;
  auto name = unescape(key.substr(0, sep));
  if (!name) return std::nullopt;
  return std::pair{std::move(*name), key.substr(sep + 1)};
}

std::optional<std::pair<std::string, int32_t>> parse_partition_key(std::string_view key) {
  auto split = split_name(key);
  if (!split || split->second.size() != 4) return std::nullopt;
  return std::pair{std::move(split->first), read_be32(split->second)};
}

struct offset_key_parts {
  std::string group;
  std::string topic;
  int32_t partition;
};

std::optional<offset_key_parts> parse_offset_key(std::string_view key) {
  auto group = split_name(key);
  if (!group) return std::nullopt;
  auto rest = parse_partition_key(group->second);
  if (!rest) return std::nullopt;
  return offset_key_parts{std::move(group->first), std::move(rest->first), rest->second};
}

// ---- Values -------------------------------------------------------------------------------------

namespace records = common::protocol;

// A persisted record: i16 version | the generated record encoded at that version.
template <class Record>
std::string encode_record(const Record& record, int16_t version) {
  common::protocol::writer w;
  w.int16(version);
  record.encode(w, version);
  auto bytes = w.take();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

template <class Record, int16_t Min, int16_t Max>
result<Record> decode_record(std::string_view value, std::string_view what) {
  common::protocol::reader r(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  try {
    const int16_t version = r.int16();
    if (version < Min || version > Max)
      return error{kafka_error::kafka_storage_error,
                   fmt::format("metadata store: {} has version {}, this broker reads versions {} to {}", what,
                               version, Min, Max)};
    Record record;
    record.decode(r, version);
    if (r.remaining() != 0) return corrupt_value(what);
    return record;
  } catch (const common::protocol::decode_error&) {
    return corrupt_value(what);
  }
}

// One record kind, written at its declaration's newest version and read at any version it declares.
template <class Record, int16_t Min, int16_t Max>
struct record_codec {
  static std::string encode(const Record& record) { return encode_record(record, Max); }
  static result<Record> decode(std::string_view value, std::string_view what) {
    return decode_record<Record, Min, Max>(value, what);
  }
};
template <class Record>
struct codec_of;
#define BROOK_STORE_RECORD(NAME)                                                                               \
  template <>                                                                                                  \
  struct codec_of<records::NAME::message>                                                                      \
      : record_codec<records::NAME::message, records::NAME::min_version, records::NAME::max_version> {};
BROOK_STORE_RECORD(cluster_record)
BROOK_STORE_RECORD(topic_metadata_record)
BROOK_STORE_RECORD(topic_config_record)
BROOK_STORE_RECORD(committed_offset_record)
BROOK_STORE_RECORD(partition_state_record)
BROOK_STORE_RECORD(group_metadata_record)
BROOK_STORE_RECORD(producer_state_record)
BROOK_STORE_RECORD(client_quota_record)
BROOK_STORE_RECORD(config_resource_record)
BROOK_STORE_RECORD(transaction_state_record)
BROOK_STORE_RECORD(txn_offset_record)
BROOK_STORE_RECORD(scram_credential_record)
BROOK_STORE_RECORD(acl_record)
#undef BROOK_STORE_RECORD

template <class Record>
std::string encode_value(const Record& record) {
  return codec_of<Record>::encode(record);
}
template <class Record>
result<Record> decode_value(std::string_view value, std::string_view what) {
  return codec_of<Record>::decode(value, what);
}

std::string encode_topic(const topic_record& t) {
  records::topic_metadata_record::message m;
  m.topic_id = t.id;
  m.partitions = t.partitions;
  m.replication_factor = t.replication_factor;
  m.created_ms = t.created_ms;
  return encode_value(m);
}

result<topic_record> decode_topic(std::string_view name, std::string_view value) {
  auto m = decode_value<records::topic_metadata_record::message>(value, fmt::format("record of topic '{}'", name));
  if (!m) return m.err();
  topic_record t;
  t.name = std::string(name);
  t.id = m->topic_id;
  t.partitions = m->partitions;
  t.replication_factor = m->replication_factor;
  t.created_ms = m->created_ms;
  return t;
}

std::string encode_configs(const std::map<std::string, std::string>& configs) {
  records::topic_config_record::message m;
  for (const auto& [k, v] : configs) m.configs.push_back({k, v});
  return encode_value(m);
}

result<std::map<std::string, std::string>> decode_configs(std::string_view name, std::string_view value) {
  auto m = decode_value<records::topic_config_record::message>(value,
                                                               fmt::format("config overrides of topic '{}'", name));
  if (!m) return m.err();
  std::map<std::string, std::string> configs;
  for (auto& c : m->configs) configs.insert_or_assign(std::move(c.name), std::move(c.value));
  return configs;
}

std::string encode_offset(const committed_offset& o) {
  records::committed_offset_record::message m;
  m.offset = o.offset;
  m.leader_epoch = o.leader_epoch;
  m.metadata = o.metadata;
  m.commit_timestamp = o.commit_ms;
  m.expire_timestamp = o.expire_ms.value_or(-1);
  m.sequence = o.sequence;
  return encode_value(m);
}

result<committed_offset> decode_offset(std::string_view value, std::string_view what) {
  auto m = decode_value<records::committed_offset_record::message>(value, what);
  if (!m) return m.err();
  committed_offset o;
  o.offset = m->offset;
  o.leader_epoch = m->leader_epoch;
  o.metadata = std::move(m->metadata);
  o.commit_ms = m->commit_timestamp;
  if (m->expire_timestamp >= 0) o.expire_ms = m->expire_timestamp;
  o.sequence = m->sequence;
  return o;
}

// A pending transactional offset's key: its partition's offset key, then the producer id.
std::string txn_offset_key(std::string_view group, std::string_view topic, int32_t partition, int64_t producer_id) {
  std::string key = offset_key(group, topic, partition);
  auto u = static_cast<uint64_t>(producer_id);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((u >> shift) & 0xff));
  return key;
}

std::optional<txn_offset> parse_txn_offset(std::string_view key, std::string_view value) {
  if (key.size() < 8) return std::nullopt;
  auto parts = parse_offset_key(key.substr(0, key.size() - 8));
  if (!parts) return std::nullopt;
  uint64_t u = 0;
  for (size_t i = key.size() - 8; i < key.size(); ++i) u = (u << 8) | static_cast<uint8_t>(key[i]);
  auto m = decode_value<records::txn_offset_record::message>(
      value, fmt::format("pending transactional offset of group '{}'", parts->group));
  if (!m) return std::nullopt;
  txn_offset t;
  t.group = std::move(parts->group);
  t.topic = std::move(parts->topic);
  t.partition = parts->partition;
  t.producer_id = static_cast<int64_t>(u);
  t.offset.offset = m->offset;
  t.offset.leader_epoch = m->leader_epoch;
  t.offset.metadata = std::move(m->metadata);
  t.offset.commit_ms = m->commit_timestamp;
  t.offset.sequence = m->sequence;
  return t;
}

std::string encode_txn_offset(const committed_offset& o) {
  records::txn_offset_record::message m;
  m.offset = o.offset;
  m.leader_epoch = o.leader_epoch;
  m.metadata = o.metadata;
  m.commit_timestamp = o.commit_ms;
  m.sequence = o.sequence;
  return encode_value(m);
}

std::string encode_partition_state_value(const partition_state& state) {
  records::partition_state_record::message m;
  m.log_start_offset = state.log_start_offset;
  m.recovery_point = state.recovery_point;
  return encode_value(m);
}

result<partition_state> decode_partition_state_value(std::string_view value, std::string_view what) {
  auto m = decode_value<records::partition_state_record::message>(value, what);
  if (!m) return m.err();
  return partition_state{m->log_start_offset, m->recovery_point};
}

// client_quotas key: per entity component, esc(type) 0x00 then 0x00 (default) or 0x01 esc(name) 0x00.
std::string client_quota_key(const client_quota_record& record) {
  std::string key;
  for (const auto& e : record.entity) {
    append_escaped(key, e.entity_type);
    key.push_back(key_separator);
    if (e.entity_name) {
      key.push_back('\x01');
      append_escaped(key, *e.entity_name);
    } else {
      key.push_back('\x00');
    }
    key.push_back(key_separator);
  }
  return key;
}

// scram_credentials key: esc(user) 0x00 then the mechanism's byte.
std::string scram_credential_key_of(std::string_view user, int8_t mechanism) {
  std::string key;
  append_escaped(key, user);
  key.push_back(key_separator);
  key.push_back(static_cast<char>(mechanism));
  return key;
}

std::string config_resource_key(int8_t type, std::string_view name) {
  std::string key(1, static_cast<char>(type));
  append_escaped(key, name);
  return key;
}

// acls key: the ACL's fields, codes as single bytes and strings escaped and terminated.
std::string acl_key(const acl_record& acl) {
  std::string key;
  key.push_back(static_cast<char>(acl.resource_type));
  key.push_back(static_cast<char>(acl.pattern_type));
  for (const std::string* part : {&acl.resource_name, &acl.principal, &acl.host}) {
    append_escaped(key, *part);
    key.push_back(key_separator);
  }
  key.push_back(static_cast<char>(acl.operation));
  key.push_back(static_cast<char>(acl.permission_type));
  return key;
}

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

std::string encode_client_quota_record(const client_quota_record& record) { return encode_value(record); }

common::result<client_quota_record> decode_client_quota_record(std::string_view bytes) {
  return decode_value<client_quota_record>(bytes, "client quota record");
}

std::string encode_config_resource_record(const config_resource_record& record) { return encode_value(record); }

std::string encode_group_metadata_record(const group_metadata_record& record) { return encode_value(record); }

std::string encode_scram_credential_record(const scram_credential_record& record) { return encode_value(record); }

common::result<scram_credential_record> decode_scram_credential_record(std::string_view bytes) {
  return decode_value<scram_credential_record>(bytes, "SCRAM credential record");
}

common::result<config_resource_record> decode_config_resource_record(std::string_view bytes) {
  return decode_value<config_resource_record>(bytes, "config resource record");
}

// ---- The store ----------------------------------------------------------------------------------

struct metadata_store::impl {
  std::filesystem::path dir;
  bool fsync = true;  // WriteOptions.sync of every write
  rocksdb::DB* db = nullptr;
  // Every column family handle opened (the default one; a version 1 store's until converted; any a
  // newer layout added); closed in ~impl.
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* cf = nullptr;  // the default column family: every keyspace
  // Shared by single-purpose writes; exclusive for read-then-write sequences (see header).
  std::shared_mutex mu;

  ~impl() {
    if (!db) return;
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
    delete db;
  }

  rocksdb::WriteOptions sync_write() const {
    rocksdb::WriteOptions wo;
    wo.sync = fsync;
    return wo;
  }

  result<void> write(rocksdb::WriteBatch& batch, std::string_view what) {
    auto s = db->Write(sync_write(), &batch);
    if (!s.ok()) return storage_error(s, what);
    return {};
  }

  // The stored key of `key` in keyspace c.
  static std::string keyed(keyspace c, std::string_view key) {
    std::string out;
    out.reserve(1 + key.size());
    out.push_back(static_cast<char>(c));
    out.append(key);
    return out;
  }

  void batch_put(rocksdb::WriteBatch& batch, keyspace c, std::string_view key, std::string_view value) {
    batch.Put(cf, slice(keyed(c, key)), slice(value));
  }
  void batch_del(rocksdb::WriteBatch& batch, keyspace c, std::string_view key) {
    batch.Delete(cf, slice(keyed(c, key)));
  }

  // Puts each record with configs into the batch (the initial configs of a new or cleared store).
  void put_config_resources(rocksdb::WriteBatch& batch, const std::vector<config_resource_record>& records) {
    for (const auto& record : records)
      if (!record.configs.empty())
        batch_put(batch, ks_config_resources, config_resource_key(record.resource_type, record.resource_name),
                  encode_config_resource_record(record));
  }

  result<void> put(keyspace c, std::string_view key, std::string_view value, std::string_view what) {
    auto s = db->Put(sync_write(), cf, slice(keyed(c, key)), slice(value));
    if (!s.ok()) return storage_error(s, what);
    return {};
  }

  result<void> del(keyspace c, std::string_view key, std::string_view what) {
    auto s = db->Delete(sync_write(), cf, slice(keyed(c, key)));
    if (!s.ok()) return storage_error(s, what);
    return {};
  }

  result<std::optional<std::string>> get(keyspace c, std::string_view key, std::string_view what,
                                         const rocksdb::Snapshot* snap = nullptr) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    std::string value;
    auto s = db->Get(ro, cf, slice(keyed(c, key)), &value);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return storage_error(s, what);
    return std::optional<std::string>{std::move(value)};
  }

  // Calls fn(key, value) for every key of keyspace c in [lower, upper) (either bound empty = open;
  // keys without the keyspace byte) and stops early if fn returns a failed result.
  template <class Fn>
  result<void> scan(keyspace c, std::string_view lower, std::string_view upper, std::string_view what,
                    Fn&& fn, const rocksdb::Snapshot* snap = nullptr) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    const std::string from = keyed(c, lower);
    const std::string to = upper.empty() ? std::string(1, static_cast<char>(c + 1)) : keyed(c, upper);
    rocksdb::Slice upper_slice = slice(to);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
    for (it->Seek(slice(from)); it->Valid(); it->Next()) {
      result<void> r = fn(view(it->key()).substr(1), view(it->value()));
      if (!r) return r;
    }
    if (!it->status().ok()) return storage_error(it->status(), what);
    return {};
  }

  // The topic's config overrides (empty if none are stored).
  result<std::map<std::string, std::string>> configs_of(std::string_view name, const rocksdb::Snapshot* snap) {
    auto value = get(ks_topic_configs, name, "read topic configs", snap);
    if (!value) return value.err();
    if (!*value) return std::map<std::string, std::string>{};
    return decode_configs(name, **value);
  }

  result<topic_record> with_configs(std::string_view name, std::string_view value,
                                    const rocksdb::Snapshot* snap) {
    auto topic = decode_topic(name, value);
    if (!topic) return topic.err();
    auto configs = configs_of(name, snap);
    if (!configs) return configs.err();
    topic->configs = std::move(*configs);
    return std::move(*topic);
  }

  void add_topic_writes(rocksdb::WriteBatch& batch, const topic_record& topic) {
    batch_put(batch, ks_topics, topic.name, encode_topic(topic));
    batch_put(batch, ks_topic_configs, topic.name, encode_configs(topic.configs));
  }

  // Adds a delete for every key in the column family starting with name_prefix(name).
  result<void> add_prefix_deletes(rocksdb::WriteBatch& batch, keyspace c, std::string_view name,
                                  std::string_view what) {
    return scan(c, name_prefix(name), name_prefix_end(name), what,
                [&](std::string_view key, std::string_view) -> result<void> {
                  batch_del(batch, c, key);
                  return {};
                });
  }

  // Every value of a keyspace keyed by (topic, partition), decoded as Record: fn(topic, partition, record).
  template <class Record, class Fn>
  result<void> scan_partitions(keyspace c, std::string_view what, Fn&& fn) {
    return scan(c, {}, {}, what, [&](std::string_view key, std::string_view value) -> result<void> {
      auto parsed = parse_partition_key(key);
      if (!parsed) return corrupt_value(fmt::format("key in {}", keyspace_names[c]));
      auto record = decode_value<Record>(value, fmt::format("{} of {}-{}", what, parsed->first, parsed->second));
      if (!record) return record.err();
      fn(std::move(parsed->first), parsed->second, std::move(*record));
      return {};
    });
  }

  // A version 1 store (a column family per keyspace): its keys move into the default column family
  // behind their keyspace's byte, in one synced batch that also records version 2 (converted to 3 by
  // check_format_version next), and the old column
  // families are dropped. A conversion cut short is finished at the next open (the batch is all or
  // nothing; the drops are repeated). A store without them is left alone.
  result<void> convert_column_families() {
    std::vector<std::pair<keyspace, rocksdb::ColumnFamilyHandle*>> old;
    for (auto* h : handles)
      for (uint8_t k = ks_default + 1; k < keyspace_count; ++k)
        if (h->GetName() == keyspace_names[k]) old.emplace_back(static_cast<keyspace>(k), h);
    if (old.empty()) return {};
    auto converted = get(ks_default, format_version_key, "read format version");
    if (!converted) return converted.err();
    if (!*converted) {
      rocksdb::WriteBatch batch;
      // Version 1 kept the default keyspace's keys as they are in the default column family.
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const std::string_view key = view(it->key());
        if (!key.empty() && static_cast<uint8_t>(key[0]) < keyspace_count) continue;  // not a version 1 key
        if (key == format_version_key) {
          if (it->value().size() != 1 || static_cast<uint8_t>(it->value()[0]) != column_family_format_version)
            return corrupt_value("format version record");
        } else {
          batch_put(batch, ks_default, key, view(it->value()));
        }
        batch.Delete(cf, it->key());
      }
      if (!it->status().ok()) return storage_error(it->status(), "read the store to convert it");
      for (const auto& [k, h] : old) {
        std::unique_ptr<rocksdb::Iterator> kit(db->NewIterator(rocksdb::ReadOptions(), h));
        for (kit->SeekToFirst(); kit->Valid(); kit->Next()) batch_put(batch, k, view(kit->key()), view(kit->value()));
        if (!kit->status().ok()) return storage_error(kit->status(), "read the store to convert it");
      }
      batch_put(batch, ks_default, format_version_key, std::string(1, static_cast<char>(hand_encoded_format_version)));
      rocksdb::WriteOptions wo;
      wo.sync = true;  // the old copies go next: this one must be on disk first
      if (auto w = db->Write(wo, &batch); !w.ok()) return storage_error(w, "convert the store");
    }
    for (const auto& [k, h] : old) {
      if (auto d = db->DropColumnFamily(h); !d.ok()) return storage_error(d, "drop a converted column family");
      handles.erase(std::find(handles.begin(), handles.end(), h));
      db->DestroyColumnFamilyHandle(h);
    }
    return {};
  }

  // A version 2 store: every hand-encoded value is rewritten as its record, in one synced batch that
  // also records version 3. A value that does not read as version 2's fails the open, naming it:
  // nothing is dropped.
  result<void> convert_hand_encoded_values() {
    namespace v2 = store_format_v2;
    rocksdb::WriteBatch batch;
    size_t converted = 0;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = view(it->key()), value = view(it->value());
      if (key.empty() || static_cast<uint8_t>(key[0]) >= keyspace_count) continue;
      const auto c = static_cast<keyspace>(key[0]);
      const std::string_view name = key.substr(1);
      const std::string_view keyspace_name = keyspace_names[c];
      std::optional<std::string> record;
      auto take = [&record, name, keyspace_name](auto decoded) -> result<void> {
        if (!decoded)
          return error{decoded.err().code,
                       fmt::format("{} (key {:?} in {}); this store cannot be converted to format {}",
                                   decoded.err().message, name, keyspace_name, store_format_version)};
        record = encode_value(*decoded);
        return {};
      };
      result<void> r;
      switch (c) {
        case ks_default:
          if (name == cluster_id_key) r = take(v2::read_cluster_id(value));
          else if (name == next_producer_id_key) r = take(v2::read_next_producer_id(value));
          break;
        case ks_topics: r = take(v2::read_topic(value)); break;
        case ks_topic_configs: r = take(v2::read_topic_configs(value)); break;
        case ks_group_offsets: r = take(v2::read_offset(value)); break;
        case ks_group_metadata: r = take(v2::read_group_metadata(value)); break;
        case ks_producer_state: r = take(v2::read_producer_state(value)); break;
        case ks_partition_state: r = take(v2::read_partition_state(value)); break;
        default: break;  // client quotas and dynamic configs were records already
      }
      if (!r) return r;
      if (record) {
        batch.Put(cf, it->key(), slice(*record));
        ++converted;
      }
    }
    if (!it->status().ok()) return storage_error(it->status(), "read the store to convert it");
    batch_put(batch, ks_default, format_version_key, std::string(1, static_cast<char>(store_format_version)));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (auto w = db->Write(wo, &batch); !w.ok()) return storage_error(w, "convert the store");
    spdlog::info("metadata store: {} converted from format {} to {} ({} values)", dir.string(),
                 hand_encoded_format_version, store_format_version, converted);
    return {};
  }

  result<void> check_format_version() {
    auto value = get(ks_default, format_version_key, "read format version");
    if (!value) return value.err();
    if (!*value) {
      std::string v(1, static_cast<char>(store_format_version));
      return put(ks_default, format_version_key, v, "write format version");
    }
    if ((*value)->size() != 1) return corrupt_value("format version record");
    auto version = static_cast<uint8_t>((**value)[0]);
    if (version == hand_encoded_format_version) return convert_hand_encoded_values();
    if (version != store_format_version)
      return error{kafka_error::kafka_storage_error,
                   fmt::format("metadata store: {} has format version {}, this broker reads versions {} to {}",
                               dir.string(), version, hand_encoded_format_version, store_format_version)};
    return {};
  }
};

metadata_store::metadata_store(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
metadata_store::~metadata_store() = default;

const std::filesystem::path& metadata_store::directory() const { return impl_->dir; }

namespace {

// RocksDB's warnings and errors go to the broker's log; its informational lines (and the header, a dump
// of every option of every column family, written at each open) are dropped. A separate LOG file beside
// the store would mostly hold that dump, and writing it was a noticeable part of a fresh start.
class forwarding_logger final : public rocksdb::Logger {
 public:
  forwarding_logger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void LogHeader(const char*, va_list) override {}
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::WARN_LEVEL || level >= rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL) spdlog::warn("metadata store (RocksDB): {}", line);
    else spdlog::error("metadata store (RocksDB): {}", line);
  }
};

// Options for a small store (kilobytes to a few megabytes: topics, offsets, group and producer state)
// that is opened on the broker's start path. None of them changes what reaches the disk before a write
// returns (every write stays WriteOptions.sync, see the header).
rocksdb::DBOptions small_store_options() {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.info_log = std::make_shared<forwarding_logger>();
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Table files are opened one after another at open: RocksDB's default (16) starts 15 threads for that
  // on every open, even of an empty store.
  options.max_file_opening_threads = 1;
  // The MANIFEST grows by a few hundred bytes per flush; the default preallocates 4 MiB (twice at a
  // first open), which on tmpfs is memory.
  options.manifest_preallocation_size = 64 * 1024;
  // rocksdb.stats dumps go to the info log, which keeps only warnings.
  options.stats_dump_period_sec = 0;
  options.stats_persist_period_sec = 0;
  return options;
}

rocksdb::ColumnFamilyOptions small_column_family_options() {
  rocksdb::ColumnFamilyOptions options;
  // The WAL is preallocated at 1.1 x the largest write buffer: 70 MiB with the 64 MiB default, an
  // fallocate that took ~10 ms on tmpfs. 4 MiB memtables hold far more than this store's working set
  // between flushes.
  options.write_buffer_size = 4 * 1024 * 1024;
  return options;
}

}  // namespace

common::result<std::unique_ptr<metadata_store>> metadata_store::open(const std::filesystem::path& dir, bool fsync) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return error{kafka_error::kafka_storage_error,
                 fmt::format("metadata store: cannot create {}: {}", dir.string(), ec.message())};

  rocksdb::DBOptions options = small_store_options();
  // Preallocation (the WAL at 1.1 x the write buffer) only makes synced appends cheaper; a store whose
  // writes are not synced (throwaway data, usually on tmpfs, where it is memory) does without it.
  if (!fsync) options.allow_fallocate = false;
  const rocksdb::ColumnFamilyOptions cf_options = small_column_family_options();

  // RocksDB refuses to open a database without naming every column family in it: the default one
  // (every keyspace), a version 1 store's until converted below, and any a newer layout added.
  std::vector<std::string> existing;
  rocksdb::DB::ListColumnFamilies(options, dir.string(), &existing);  // fails on a fresh directory
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (auto& name : existing)
    if (name != rocksdb::kDefaultColumnFamilyName) descriptors.emplace_back(name, cf_options);

  auto store = std::make_unique<impl>();
  store->dir = dir;
  store->fsync = fsync;
  auto s = rocksdb::DB::Open(options, dir.string(), descriptors, &store->handles, &store->db);
  if (!s.ok()) {
    store->db = nullptr;
    return storage_error(s, fmt::format("cannot open {}", dir.string()));
  }
  store->cf = store->handles.front();
  if (auto converted = store->convert_column_families(); !converted) return converted.err();
  auto version = store->check_format_version();
  if (!version) return version.err();
  return std::unique_ptr<metadata_store>(new metadata_store(std::move(store)));
}

// ---- Cluster --------------------------------------------------------------------------------


common::result<std::string> metadata_store::get_or_create_cluster_id(
    const std::vector<config_resource_record>& initial_configs) {
  std::unique_lock lock(impl_->mu);
  auto value = impl_->get(ks_default, cluster_id_key, "read cluster id");
  if (!value) return value.err();
  if (*value) {
    auto record = decode_value<records::cluster_record::message>(**value, "cluster id");
    if (!record) return record.err();
    return std::move(record->cluster_id);
  }
  records::cluster_record::message record;
  record.cluster_id = common::uuid::random().to_string();
  rocksdb::WriteBatch batch;
  impl_->batch_put(batch, ks_default, cluster_id_key, encode_value(record));
  impl_->put_config_resources(batch, initial_configs);
  auto r = impl_->write(batch, "write cluster id");
  if (!r) return r.err();
  return std::move(record.cluster_id);
}

common::result<int64_t> metadata_store::allocate_producer_ids(int64_t count) {
  std::unique_lock lock(impl_->mu);
  auto value = impl_->get(ks_default, next_producer_id_key, "read next producer id");
  if (!value) return value.err();
  int64_t next = 0;
  if (*value) {
    auto record = decode_value<records::cluster_record::message>(**value, "next producer id");
    if (!record) return record.err();
    if (record->next_producer_id < 0) return corrupt_value("next producer id");
    next = record->next_producer_id;
  }
  records::cluster_record::message updated;
  updated.next_producer_id = next + count;
  auto r = impl_->put(ks_default, next_producer_id_key, encode_value(updated), "write next producer id");
  if (!r) return r.err();
  return next;
}

common::result<void> metadata_store::clear_all(const std::vector<config_resource_record>& initial_configs) {
  std::unique_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  for (keyspace c : {ks_topics, ks_topic_configs, ks_group_offsets, ks_group_metadata, ks_producer_state,
                     ks_partition_state, ks_client_quotas, ks_config_resources, ks_transaction_state,
                     ks_txn_offsets, ks_scram_credentials, ks_acls}) {
    auto r = impl_->scan(c, {}, {}, "scan for reset", [&](std::string_view key, std::string_view) -> result<void> {
      impl_->batch_del(batch, c, key);
      return {};
    });
    if (!r) return r;
  }
  impl_->batch_del(batch, ks_default, next_producer_id_key);
  impl_->put_config_resources(batch, initial_configs);  // after their deletes
  return impl_->write(batch, "reset");
}

// ---- Topics ---------------------------------------------------------------------------------

common::result<void> metadata_store::create_topic(const topic_record& topic) {
  std::unique_lock lock(impl_->mu);
  auto existing = impl_->get(ks_topics, topic.name, "read topic");
  if (!existing) return existing.err();
  if (*existing)
    return error{kafka_error::topic_already_exists, fmt::format("Topic '{}' already exists.", topic.name)};
  rocksdb::WriteBatch batch;
  impl_->add_topic_writes(batch, topic);
  return impl_->write(batch, "create topic");
}

common::result<void> metadata_store::put_topic(const topic_record& topic) {
  std::unique_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  impl_->add_topic_writes(batch, topic);
  return impl_->write(batch, "write topic");
}

common::result<void> metadata_store::delete_topic(std::string_view name) {
  std::unique_lock lock(impl_->mu);
  auto existing = impl_->get(ks_topics, name, "read topic");
  if (!existing) return existing.err();
  if (!*existing)
    return error{kafka_error::unknown_topic_or_partition,
                 fmt::format("This server does not host this topic: '{}'", name)};

  rocksdb::WriteBatch batch;
  impl_->batch_del(batch, ks_topics, name);
  impl_->batch_del(batch, ks_topic_configs, name);
  if (auto r = impl_->add_prefix_deletes(batch, ks_partition_state, name, "scan partition states"); !r) return r;
  if (auto r = impl_->add_prefix_deletes(batch, ks_producer_state, name, "scan producer states"); !r) return r;
  // Offsets are keyed by group first, so finding one topic's offsets means reading them all; topic
  // deletion is rare enough for that to be fine.
  auto r = impl_->scan(ks_group_offsets, {}, {}, "scan group offsets",
                       [&](std::string_view key, std::string_view) -> result<void> {
                         auto parts = parse_offset_key(key);
                         if (!parts) return corrupt_value("group offset key");
                         if (parts->topic == name) impl_->batch_del(batch, ks_group_offsets, key);
                         return {};
                       });
  if (!r) return r;
  r = impl_->scan(ks_txn_offsets, {}, {}, "scan pending transactional offsets",
                  [&](std::string_view key, std::string_view) -> result<void> {
                    auto parts = key.size() > 8 ? parse_offset_key(key.substr(0, key.size() - 8)) : std::nullopt;
                    if (!parts) return corrupt_value("pending transactional offset key");
                    if (parts->topic == name) impl_->batch_del(batch, ks_txn_offsets, key);
                    return {};
                  });
  if (!r) return r;
  return impl_->write(batch, "delete topic");
}

common::result<std::optional<topic_record>> metadata_store::get_topic(std::string_view name) {
  rocksdb::ManagedSnapshot snap(impl_->db);
  auto value = impl_->get(ks_topics, name, "read topic", snap.snapshot());
  if (!value) return value.err();
  if (!*value) return std::optional<topic_record>{};
  auto topic = impl_->with_configs(name, **value, snap.snapshot());
  if (!topic) return topic.err();
  return std::optional<topic_record>{std::move(*topic)};
}

common::result<std::optional<topic_record>> metadata_store::get_topic_by_id(const common::uuid& id) {
  // Topics are few; a scan beats keeping a second index consistent.
  rocksdb::ManagedSnapshot snap(impl_->db);
  std::optional<topic_record> found;
  auto r = impl_->scan(
      ks_topics, {}, {}, "scan topics",
      [&](std::string_view key, std::string_view value) -> result<void> {
        if (found) return {};
        auto topic = decode_topic(key, value);
        if (!topic) return topic.err();
        if (topic->id != id) return {};
        auto full = impl_->with_configs(key, value, snap.snapshot());
        if (!full) return full.err();
        found = std::move(*full);
        return {};
      },
      snap.snapshot());
  if (!r) return r.err();
  return found;
}

common::result<std::vector<topic_record>> metadata_store::list_topics() {
  rocksdb::ManagedSnapshot snap(impl_->db);
  std::vector<topic_record> out;
  auto r = impl_->scan(
      ks_topics, {}, {}, "scan topics",
      [&](std::string_view key, std::string_view value) -> result<void> {
        auto topic = impl_->with_configs(key, value, snap.snapshot());
        if (!topic) return topic.err();
        out.push_back(std::move(*topic));
        return {};
      },
      snap.snapshot());
  if (!r) return r.err();
  return out;
}

common::result<void> metadata_store::set_topic_configs(std::string_view name,
                                                       const std::map<std::string, std::string>& configs) {
  std::unique_lock lock(impl_->mu);
  auto existing = impl_->get(ks_topics, name, "read topic");
  if (!existing) return existing.err();
  if (!*existing)
    return error{kafka_error::unknown_topic_or_partition,
                 fmt::format("This server does not host this topic: '{}'", name)};
  return impl_->put(ks_topic_configs, name, encode_configs(configs), "write topic configs");
}

// ---- Committed offsets ----------------------------------------------------------------------

common::result<void> metadata_store::commit_offsets(std::string_view group,
                                                    const std::vector<partition_offset>& offsets) {
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  for (const auto& o : offsets)
    impl_->batch_put(batch, ks_group_offsets, offset_key(group, o.topic, o.partition), encode_offset(o.offset));
  return impl_->write(batch, "commit offsets");
}

common::result<std::vector<partition_offset>> metadata_store::fetch_offsets(std::string_view group) {
  std::vector<partition_offset> out;
  auto r = impl_->scan(ks_group_offsets, name_prefix(group), name_prefix_end(group), "scan group offsets",
                       [&](std::string_view key, std::string_view value) -> result<void> {
                         auto parts = parse_offset_key(key);
                         if (!parts) return corrupt_value(fmt::format("committed offset key of group '{}'", group));
                         auto offset = decode_offset(value, fmt::format("committed offset of group '{}'", group));
                         if (!offset) return offset.err();
                         out.push_back(partition_offset{std::move(parts->topic), parts->partition,
                                                        std::move(*offset)});
                         return {};
                       });
  if (!r) return r.err();
  return out;
}

common::result<std::optional<committed_offset>> metadata_store::fetch_offset(std::string_view group,
                                                                             std::string_view topic,
                                                                             int32_t partition) {
  auto value = impl_->get(ks_group_offsets, offset_key(group, topic, partition), "read committed offset");
  if (!value) return value.err();
  if (!*value) return std::optional<committed_offset>{};
  auto offset =
      decode_offset(**value, fmt::format("committed offset of group '{}' for {}-{}", group, topic, partition));
  if (!offset) return offset.err();
  return std::optional<committed_offset>{std::move(*offset)};
}

common::result<void> metadata_store::delete_offsets(std::string_view group, std::string_view topic,
                                                    const std::vector<int32_t>& partitions) {
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  for (int32_t p : partitions) {
    const std::string key = offset_key(group, topic, p);
    impl_->batch_del(batch, ks_group_offsets, key);
    // The partition's pending transactional offsets: every key that extends this one.
    std::string end = key;
    end.push_back('\xff');
    end.append(8, '\xff');
    auto r = impl_->scan(ks_txn_offsets, key, end, "scan pending transactional offsets",
                         [&](std::string_view k, std::string_view) -> result<void> {
                           if (k.size() == key.size() + 8) impl_->batch_del(batch, ks_txn_offsets, k);
                           return {};
                         });
    if (!r) return r;
  }
  return impl_->write(batch, "delete offsets");
}

common::result<void> metadata_store::delete_group(std::string_view group) {
  std::unique_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  if (auto r = impl_->add_prefix_deletes(batch, ks_group_offsets, group, "scan group offsets"); !r) return r;
  if (auto r = impl_->add_prefix_deletes(batch, ks_txn_offsets, group, "scan pending transactional offsets"); !r)
    return r;
  impl_->batch_del(batch, ks_group_metadata, group);
  return impl_->write(batch, "delete group");
}

common::result<std::vector<std::string>> metadata_store::list_groups_with_offsets() {
  std::vector<std::string> out;
  rocksdb::ReadOptions ro;
  const std::string end(1, static_cast<char>(ks_group_offsets + 1));
  rocksdb::Slice end_slice = slice(end);
  ro.iterate_upper_bound = &end_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf));
  // Visit one key per group, then skip past the rest of that group's keys.
  for (it->Seek(slice(metadata_store::impl::keyed(ks_group_offsets, {}))); it->Valid();) {
    auto parts = parse_offset_key(view(it->key()).substr(1));
    if (!parts) return corrupt_value("group offset key");
    it->Seek(slice(metadata_store::impl::keyed(ks_group_offsets, name_prefix_end(parts->group))));
    out.push_back(std::move(parts->group));
  }
  if (!it->status().ok()) return storage_error(it->status(), "scan group offsets");
  return out;
}

// ---- Pending transactional offsets ------------------------------------------------------------

common::result<void> metadata_store::stage_txn_offsets(const std::vector<txn_offset>& offsets) {
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  for (const auto& t : offsets)
    impl_->batch_put(batch, ks_txn_offsets, txn_offset_key(t.group, t.topic, t.partition, t.producer_id),
                     encode_txn_offset(t.offset));
  return impl_->write(batch, "stage transactional offsets");
}

common::result<void> metadata_store::complete_txn_offsets(std::string_view group, int64_t producer_id, bool commit) {
  // Exclusive: the committed offsets read here must not change before the batch lands.
  std::unique_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  auto r = impl_->scan(
      ks_txn_offsets, name_prefix(group), name_prefix_end(group), "scan pending transactional offsets",
      [&](std::string_view key, std::string_view value) -> result<void> {
        auto t = parse_txn_offset(key, value);
        if (!t) return corrupt_value(fmt::format("pending transactional offset of group '{}'", group));
        if (t->producer_id != producer_id) return {};
        impl_->batch_del(batch, ks_txn_offsets, key);
        if (!commit) return {};
        const std::string committed_key = offset_key(group, t->topic, t->partition);
        auto existing = impl_->get(ks_group_offsets, committed_key, "read committed offset");
        if (!existing) return existing.err();
        if (*existing) {
          auto o = decode_offset(**existing, fmt::format("committed offset of group '{}'", group));
          if (!o) return o.err();
          if (o->sequence > t->offset.sequence) return {};  // committed later: it stays
        }
        impl_->batch_put(batch, ks_group_offsets, committed_key, encode_offset(t->offset));
        return {};
      });
  if (!r) return r;
  return impl_->write(batch, commit ? "commit transactional offsets" : "abort transactional offsets");
}

common::result<std::vector<txn_offset>> metadata_store::list_txn_offsets() {
  std::vector<txn_offset> out;
  auto r = impl_->scan(ks_txn_offsets, {}, {}, "scan pending transactional offsets",
                       [&](std::string_view key, std::string_view value) -> result<void> {
                         auto t = parse_txn_offset(key, value);
                         if (!t) return corrupt_value("pending transactional offset");
                         out.push_back(std::move(*t));
                         return {};
                       });
  if (!r) return r.err();
  return out;
}

// ---- Group metadata -------------------------------------------------------------------------

common::result<void> metadata_store::put_group_metadata(std::string_view group, const group_metadata_record& record) {
  std::shared_lock lock(impl_->mu);
  return impl_->put(ks_group_metadata, group, encode_value(record), "write group metadata");
}

common::result<std::optional<group_metadata_record>> metadata_store::get_group_metadata(std::string_view group) {
  auto value = impl_->get(ks_group_metadata, group, "read group metadata");
  if (!value) return value.err();
  if (!*value) return std::optional<group_metadata_record>{};
  auto record = decode_value<group_metadata_record>(**value, fmt::format("metadata of group '{}'", group));
  if (!record) return record.err();
  return std::optional<group_metadata_record>{std::move(*record)};
}

common::result<std::vector<group_entry>> metadata_store::list_group_metadata() {
  std::vector<group_entry> out;
  auto r = impl_->scan(ks_group_metadata, {}, {}, "scan group metadata",
                       [&](std::string_view key, std::string_view value) -> result<void> {
                         auto record =
                             decode_value<group_metadata_record>(value, fmt::format("metadata of group '{}'", key));
                         if (!record) return record.err();
                         out.push_back(group_entry{std::string(key), std::move(*record)});
                         return {};
                       });
  if (!r) return r.err();
  return out;
}

// ---- Producer state -------------------------------------------------------------------------

common::result<void> metadata_store::put_producer_state(std::string_view topic, int32_t partition,
                                                        const producer_state_record& record) {
  std::shared_lock lock(impl_->mu);
  return impl_->put(ks_producer_state, partition_key(topic, partition), encode_value(record), "write producer state");
}

common::result<std::optional<producer_state_record>> metadata_store::get_producer_state(std::string_view topic,
                                                                                        int32_t partition) {
  auto value = impl_->get(ks_producer_state, partition_key(topic, partition), "read producer state");
  if (!value) return value.err();
  if (!*value) return std::optional<producer_state_record>{};
  auto record =
      decode_value<producer_state_record>(**value, fmt::format("producer state of {}-{}", topic, partition));
  if (!record) return record.err();
  return std::optional<producer_state_record>{std::move(*record)};
}

common::result<std::vector<producer_state_entry>> metadata_store::list_producer_states() {
  std::vector<producer_state_entry> out;
  auto r = impl_->scan_partitions<producer_state_record>(
      ks_producer_state, "producer state", [&](std::string topic, int32_t partition, producer_state_record record) {
        out.push_back(producer_state_entry{std::move(topic), partition, std::move(record)});
      });
  if (!r) return r.err();
  return out;
}

common::result<void> metadata_store::delete_producer_state(std::string_view topic, int32_t partition) {
  std::shared_lock lock(impl_->mu);
  return impl_->del(ks_producer_state, partition_key(topic, partition), "delete producer state");
}

// ---- Partition state ------------------------------------------------------------------------

common::result<void> metadata_store::put_partition_state(std::string_view topic, int32_t partition,
                                                         const partition_state& state) {
  std::shared_lock lock(impl_->mu);
  return impl_->put(ks_partition_state, partition_key(topic, partition), encode_partition_state_value(state),
                    "write partition state");
}

common::result<std::optional<partition_state>> metadata_store::get_partition_state(std::string_view topic,
                                                                                  int32_t partition) {
  auto value = impl_->get(ks_partition_state, partition_key(topic, partition), "read partition state");
  if (!value) return value.err();
  if (!*value) return std::optional<partition_state>{};
  auto state = decode_partition_state_value(**value, fmt::format("partition state of {}-{}", topic, partition));
  if (!state) return state.err();
  return std::optional<partition_state>{*state};
}

common::result<std::vector<partition_state_entry>> metadata_store::list_partition_states() {
  std::vector<partition_state_entry> out;
  auto r = impl_->scan_partitions<records::partition_state_record::message>(
      ks_partition_state, "partition state",
      [&](std::string topic, int32_t partition, records::partition_state_record::message m) {
        out.push_back(partition_state_entry{std::move(topic), partition, {m.log_start_offset, m.recovery_point}});
      });
  if (!r) return r.err();
  return out;
}

common::result<void> metadata_store::delete_partition_state(std::string_view topic, int32_t partition) {
  std::shared_lock lock(impl_->mu);
  return impl_->del(ks_partition_state, partition_key(topic, partition), "delete partition state");
}

// ---- Transaction state ----------------------------------------------------------------------

common::result<void> metadata_store::put_transaction_state(std::string_view transactional_id,
                                                           const transaction_state_record& record) {
  std::shared_lock lock(impl_->mu);
  return impl_->put(ks_transaction_state, transactional_id, encode_value(record), "write transaction state");
}

common::result<void> metadata_store::delete_transaction_state(std::string_view transactional_id) {
  std::shared_lock lock(impl_->mu);
  return impl_->del(ks_transaction_state, transactional_id, "delete transaction state");
}

common::result<std::vector<transaction_state_entry>> metadata_store::list_transaction_states() {
  std::vector<transaction_state_entry> out;
  auto r = impl_->scan(ks_transaction_state, {}, {}, "scan transaction states",
                       [&](std::string_view key, std::string_view value) -> result<void> {
                         auto record = decode_value<transaction_state_record>(
                             value, fmt::format("state of transactional id '{}'", key));
                         if (!record) return record.err();
                         out.push_back(transaction_state_entry{std::string(key), std::move(*record)});
                         return {};
                       });
  if (!r) return r.err();
  return out;
}

// ---- Client quotas and dynamic configs ------------------------------------------------------

common::result<void> metadata_store::put_client_quotas(const std::vector<client_quota_record>& records) {
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  for (const auto& record : records) {
    const std::string key = client_quota_key(record);
    if (record.values.empty())
      impl_->batch_del(batch, ks_client_quotas, key);
    else
      impl_->batch_put(batch, ks_client_quotas, key, encode_client_quota_record(record));
  }
  return impl_->write(batch, "write client quotas");
}

common::result<std::vector<client_quota_record>> metadata_store::list_client_quotas() {
  std::vector<client_quota_record> out;
  auto r = impl_->scan(ks_client_quotas, {}, {}, "scan client quotas",
                       [&](std::string_view, std::string_view value) -> result<void> {
                         auto record = decode_client_quota_record(value);
                         if (!record) return record.err();
                         out.push_back(std::move(*record));
                         return {};
                       });
  if (!r) return r.err();
  return out;
}

common::result<void> metadata_store::put_config_resource(const config_resource_record& record) {
  const std::string key = config_resource_key(record.resource_type, record.resource_name);
  if (record.configs.empty()) return impl_->del(ks_config_resources, key, "delete dynamic configs");
  return impl_->put(ks_config_resources, key, encode_config_resource_record(record), "write dynamic configs");
}

common::result<std::vector<config_resource_record>> metadata_store::list_config_resources() {
  std::vector<config_resource_record> out;
  auto r = impl_->scan(ks_config_resources, {}, {}, "scan dynamic configs",
                       [&](std::string_view, std::string_view value) -> result<void> {
                         auto record = decode_config_resource_record(value);
                         if (!record) return record.err();
                         out.push_back(std::move(*record));
                         return {};
                       });
  if (!r) return r.err();
  return out;
}

// ---- SCRAM credentials ----------------------------------------------------------------------

common::result<void> metadata_store::alter_scram_credentials(const std::vector<scram_credential_record>& puts,
                                                             const std::vector<scram_credential_key>& deletions) {
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  for (const auto& d : deletions)
    impl_->batch_del(batch, ks_scram_credentials, scram_credential_key_of(d.user, d.mechanism));
  for (const auto& record : puts)
    impl_->batch_put(batch, ks_scram_credentials, scram_credential_key_of(record.name, record.mechanism),
                     encode_scram_credential_record(record));
  return impl_->write(batch, "write SCRAM credentials");
}

common::result<std::vector<scram_credential_record>> metadata_store::list_scram_credentials() {
  std::vector<scram_credential_record> out;
  auto r = impl_->scan(ks_scram_credentials, {}, {}, "scan SCRAM credentials",
                       [&](std::string_view, std::string_view value) -> result<void> {
                         auto record = decode_scram_credential_record(value);
                         if (!record) return record.err();
                         out.push_back(std::move(*record));
                         return {};
                       });
  if (!r) return r.err();
  return out;
}

// ---- ACLs -----------------------------------------------------------------------------------

common::result<void> metadata_store::update_acls(const std::vector<acl_record>& added,
                                                 const std::vector<acl_record>& removed) {
  std::shared_lock lock(impl_->mu);
  rocksdb::WriteBatch batch;
  for (const auto& acl : removed) impl_->batch_del(batch, ks_acls, acl_key(acl));
  for (const auto& acl : added) impl_->batch_put(batch, ks_acls, acl_key(acl), encode_value(acl));
  return impl_->write(batch, "write ACLs");
}

common::result<std::vector<acl_record>> metadata_store::list_acls() {
  std::vector<acl_record> out;
  auto r = impl_->scan(ks_acls, {}, {}, "scan ACLs", [&](std::string_view, std::string_view value) -> result<void> {
    auto record = decode_value<acl_record>(value, "ACL record");
    if (!record) return record.err();
    out.push_back(std::move(*record));
    return {};
  });
  if (!r) return r.err();
  return out;
}

}  // namespace brook::log
