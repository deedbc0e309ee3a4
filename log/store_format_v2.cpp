#include "log/store_format_v2.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace brook::log::store_format_v2 {

namespace {

using common::error;
using common::kafka_error;

// Reads big-endian fields; any short read leaves ok false instead of throwing.
struct v2_reader {
  std::string_view in;
  bool ok = true;

  std::string_view raw(size_t n) {
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
  template <class U>
  U be() {
    U v = 0;
    for (char c : raw(sizeof(U))) v = static_cast<U>((v << 8) | static_cast<uint8_t>(c));
    return v;
  }
  uint8_t u8() { return be<uint8_t>(); }
  int16_t i16() { return static_cast<int16_t>(be<uint16_t>()); }
  uint32_t u32() { return be<uint32_t>(); }
  int32_t i32() { return static_cast<int32_t>(be<uint32_t>()); }
  int64_t i64() { return static_cast<int64_t>(be<uint64_t>()); }
  std::string str() { return std::string(raw(u32())); }
  std::optional<std::string> opt_str() {
    if (!u8()) return std::nullopt;
    return str();
  }
  common::uuid uuid() {
    common::uuid id;
    auto bytes = raw(id.bytes.size());
    if (ok) std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(id.bytes.data()));
    return id;
  }
  // Counts bounded by what is left, so that damaged bytes never ask for a huge allocation.
  uint32_t count(size_t min_element_bytes) {
    uint32_t n = u32();
    if (ok && min_element_bytes > 0 && n > in.size() / min_element_bytes) ok = false;
    return ok ? n : 0;
  }
  bool done() const { return ok && in.empty(); }
};

error damaged(std::string_view what) {
  return error{kafka_error::kafka_storage_error,
               fmt::format("metadata store: a {} of format 2 is damaged and cannot be converted", what)};
}

// A reader past the leading "v1" byte of the store's own values.
std::optional<v2_reader> versioned(std::string_view value) {
  v2_reader r{value};
  if (r.u8() != 1 || !r.ok) return std::nullopt;
  return r;
}

template <class T>
common::result<T> finish(const v2_reader& r, T value, std::string_view what) {
  if (!r.done()) return damaged(what);
  return value;
}

// The consumer-protocol group's partitions (topic id, partitions), without epochs.
std::vector<records::group_metadata_record::topic_partitions> read_partitions(v2_reader& r) {
  std::vector<records::group_metadata_record::topic_partitions> out;
  const uint32_t n = r.count(16 + 4);
  for (uint32_t i = 0; i < n && r.ok; ++i) {
    records::group_metadata_record::topic_partitions tp;
    tp.topic_id = r.uuid();
    const uint32_t m = r.count(4);
    for (uint32_t j = 0; j < m && r.ok; ++j) tp.partitions.push_back(r.i32());
    // Format 2 kept each topic's partitions as a set: sorted, no repeats.
    std::sort(tp.partitions.begin(), tp.partitions.end());
    tp.partitions.erase(std::unique(tp.partitions.begin(), tp.partitions.end()), tp.partitions.end());
    out.push_back(std::move(tp));
  }
  return out;
}

common::result<records::group_metadata_record::message> read_classic(v2_reader r) {
  records::group_metadata_record::classic_group g;
  g.protocol_type = r.str();
  g.generation = r.i32();
  g.protocol_name = r.opt_str();
  g.leader = r.str();
  g.state_since_ms = r.i64();
  const uint32_t n = r.count(1);
  for (uint32_t i = 0; i < n && r.ok; ++i) {
    records::group_metadata_record::classic_member m;
    m.member_id = r.str();
    m.group_instance_id = r.opt_str();
    m.client_id = r.str();
    m.client_host = r.str();
    m.session_timeout_ms = r.i32();
    m.rebalance_timeout_ms = r.i32();
    m.protocol_type = r.str();
    const uint32_t k = r.count(8);
    for (uint32_t j = 0; j < k && r.ok; ++j) {
      records::group_metadata_record::member_protocol p;
      p.name = r.str();
      auto metadata = r.str();
      p.metadata.assign(metadata.begin(), metadata.end());
      m.protocols.push_back(std::move(p));
    }
    auto assignment = r.str();
    m.assignment.assign(assignment.begin(), assignment.end());
    g.members.push_back(std::move(m));
  }
  records::group_metadata_record::message out;
  out.classic = std::move(g);
  return finish(r, std::move(out), "classic group");
}

common::result<records::group_metadata_record::message> read_consumer(v2_reader r, uint8_t version) {
  records::group_metadata_record::consumer_group g;
  g.group_epoch = r.i32();
  g.assignment_epoch = r.i32();
  if (version >= 3 && r.u8()) g.assignment_time_ms = r.i64();
  g.state_since_ms = r.i64();
  const uint32_t n = r.count(1);
  for (uint32_t i = 0; i < n && r.ok; ++i) {
    records::group_metadata_record::consumer_member m;
    m.member_id = r.str();
    m.instance_id = r.opt_str();
    m.rack_id = r.opt_str();
    m.client_id = r.str();
    m.client_host = r.str();
    m.member_epoch = r.i32();
    m.previous_member_epoch = r.i32();
    m.state = static_cast<int8_t>(r.u8());
    if (m.state < 0 || m.state > 2) r.ok = false;
    m.rebalance_timeout_ms = r.i32();
    const uint32_t k = r.count(4);
    for (uint32_t j = 0; j < k && r.ok; ++j) m.subscribed_topic_names.push_back(r.str());
    m.subscribed_topic_regex = r.opt_str();
    m.server_assignor = r.opt_str();
    m.assigned = read_partitions(r);
    m.pending_revocation = read_partitions(r);
    // v4 follows with each held partition's assignment epoch (assigned, then pending, in order);
    // before v4 none were kept, and the member epoch stands for each.
    for (auto* held : {&m.assigned, &m.pending_revocation})
      for (auto& tp : *held)
        for (size_t p = 0; p < tp.partitions.size(); ++p)
          tp.assignment_epochs.push_back(version >= 4 ? r.i32() : m.member_epoch);
    g.members.push_back(std::move(m));
  }
  const uint32_t t = r.count(4);
  for (uint32_t i = 0; i < t && r.ok; ++i) {
    records::group_metadata_record::target_member tm;
    tm.member_id = r.str();
    tm.partitions = read_partitions(r);
    g.target.push_back(std::move(tm));
  }
  const uint32_t s = r.count(4 + 16 + 4);
  for (uint32_t i = 0; i < s && r.ok; ++i) {
    records::group_metadata_record::subscribed_topic st;
    st.name = r.str();
    st.topic_id = r.uuid();
    st.partitions = r.i32();
    g.subscribed_metadata.push_back(std::move(st));
  }
  records::group_metadata_record::message out;
  out.consumer = std::move(g);
  return finish(r, std::move(out), "consumer-protocol group");
}

}  // namespace

common::result<records::topic_metadata_record::message> read_topic(std::string_view value) {
  auto r = versioned(value);
  if (!r) return damaged("topic record");
  records::topic_metadata_record::message t;
  t.topic_id = r->uuid();
  t.partitions = r->i32();
  t.replication_factor = r->i16();
  t.created_ms = r->i64();
  return finish(*r, std::move(t), "topic record");
}

common::result<records::topic_config_record::message> read_topic_configs(std::string_view value) {
  auto r = versioned(value);
  if (!r) return damaged("topic config record");
  records::topic_config_record::message c;
  const uint32_t n = r->count(8);
  for (uint32_t i = 0; i < n && r->ok; ++i) {
    records::topic_config_record::config_data d;
    d.name = r->str();
    d.value = r->str();
    c.configs.push_back(std::move(d));
  }
  return finish(*r, std::move(c), "topic config record");
}

common::result<records::committed_offset_record::message> read_offset(std::string_view value) {
  auto r = versioned(value);
  if (!r) return damaged("committed offset");
  records::committed_offset_record::message o;
  o.offset = r->i64();
  o.leader_epoch = r->i32();
  o.metadata = r->str();
  o.commit_timestamp = r->i64();
  const uint8_t has_expire = r->u8();
  if (has_expire == 1) o.expire_timestamp = r->i64();
  else if (has_expire != 0) r->ok = false;
  return finish(*r, std::move(o), "committed offset");
}

common::result<records::cluster_record::message> read_cluster_id(std::string_view value) {
  auto r = versioned(value);
  if (!r) return damaged("cluster id");
  records::cluster_record::message c;
  c.cluster_id = r->str();
  return finish(*r, std::move(c), "cluster id");
}

common::result<records::cluster_record::message> read_next_producer_id(std::string_view value) {
  auto r = versioned(value);
  if (!r) return damaged("next producer id");
  records::cluster_record::message c;
  c.next_producer_id = r->i64();
  return finish(*r, std::move(c), "next producer id");
}

common::result<records::partition_state_record::message> read_partition_state(std::string_view value) {
  auto r = versioned(value);
  if (!r) return damaged("partition state");
  records::partition_state_record::message s;
  s.log_start_offset = r->i64();
  s.recovery_point = r->i64();
  return finish(*r, std::move(s), "partition state");
}

common::result<records::producer_state_record::message> read_producer_state(std::string_view value) {
  auto r = versioned(value);
  if (!r) return damaged("producer state");
  records::producer_state_record::message s;
  s.covered_offset = r->i64();
  const uint32_t n = r->count(8 + 2 + 8 + 1);
  for (uint32_t i = 0; i < n && r->ok; ++i) {
    records::producer_state_record::producer_entry e;
    e.producer_id = r->i64();
    e.producer_epoch = r->i16();
    e.last_timestamp = r->i64();
    const uint8_t k = r->u8();
    for (uint8_t j = 0; j < k && r->ok; ++j) {
      records::producer_state_record::batch_entry b;
      b.first_sequence = r->i32();
      b.last_sequence = r->i32();
      b.first_offset = r->i64();
      b.last_offset = r->i64();
      e.batches.push_back(b);
    }
    s.producers.push_back(std::move(e));
  }
  return finish(*r, std::move(s), "producer state");
}

common::result<records::group_metadata_record::message> read_group_metadata(std::string_view value) {
  v2_reader r{value};
  const uint8_t version = r.u8();
  if (!r.ok) return damaged("group metadata");
  if (version == 1) return read_classic(r);
  if (version >= 2 && version <= 4) return read_consumer(r, version);
  return damaged("group metadata");
}

}  // namespace brook::log::store_format_v2
