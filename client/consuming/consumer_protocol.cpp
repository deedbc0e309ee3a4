#include "client/consuming/consumer_protocol.hpp"

#include <algorithm>

#include "common/protocol/messages/consumer_protocol_assignment.hpp"
#include "common/protocol/messages/consumer_protocol_subscription.hpp"

namespace brook::client::consuming {

namespace proto = common::protocol;
namespace sub_msg = common::protocol::consumer_protocol_subscription;
namespace asg_msg = common::protocol::consumer_protocol_assignment;

namespace {

int16_t clamp_version(int16_t v, int16_t max) { return v > max ? max : v; }

}  // namespace

proto::bytes encode_subscription(const subscription& s, int16_t version) {
  version = clamp_version(version, sub_msg::max_version);
  sub_msg::message m;
  m.topics = s.topics;
  std::sort(m.topics.begin(), m.topics.end());
  m.user_data = s.user_data;
  auto owned = s.owned_partitions;
  std::sort(owned.begin(), owned.end());
  for (const auto& tp : owned) {
    if (m.owned_partitions.empty() || m.owned_partitions.back().topic != tp.topic)
      m.owned_partitions.push_back({tp.topic, {}});
    m.owned_partitions.back().partitions.push_back(tp.partition);
  }
  m.generation_id = s.generation_id;
  m.rack_id = s.rack_id;
  proto::writer w;
  w.int16(version);
  m.encode(w, version);
  return w.take();
}

common::result<subscription> decode_subscription(std::span<const uint8_t> bytes) {
  try {
    proto::reader r(bytes);
    int16_t version = r.int16();
    if (version < sub_msg::min_version)
      return common::error{common::kafka_error::inconsistent_group_protocol,
                           "consumer protocol subscription of unsupported version " + std::to_string(version)};
    version = clamp_version(version, sub_msg::max_version);
    sub_msg::message m;
    m.decode(r, version);  // bytes of a newer version's extra fields are left unread, as Java does
    subscription s;
    s.topics = std::move(m.topics);
    s.user_data = std::move(m.user_data);
    for (auto& t : m.owned_partitions)
      for (int32_t p : t.partitions) s.owned_partitions.push_back({t.topic, p});
    s.generation_id = m.generation_id;
    if (m.rack_id && !m.rack_id->empty()) s.rack_id = std::move(m.rack_id);
    return s;
  } catch (const proto::decode_error& e) {
    return common::error{common::kafka_error::inconsistent_group_protocol,
                         std::string("malformed consumer protocol subscription: ") + e.what()};
  }
}

proto::bytes encode_assignment(const assignment& a, int16_t version) {
  version = clamp_version(version, asg_msg::max_version);
  asg_msg::message m;
  for (const auto& tp : a.partitions) {
    auto it = std::find_if(m.assigned_partitions.begin(), m.assigned_partitions.end(),
                           [&](const auto& t) { return t.topic == tp.topic; });
    if (it == m.assigned_partitions.end()) {
      m.assigned_partitions.push_back({tp.topic, {}});
      it = std::prev(m.assigned_partitions.end());
    }
    it->partitions.push_back(tp.partition);
  }
  m.user_data = a.user_data;
  proto::writer w;
  w.int16(version);
  m.encode(w, version);
  return w.take();
}

common::result<assignment> decode_assignment(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return assignment{};
  try {
    proto::reader r(bytes);
    int16_t version = r.int16();
    if (version < asg_msg::min_version)
      return common::error{common::kafka_error::inconsistent_group_protocol,
                           "consumer protocol assignment of unsupported version " + std::to_string(version)};
    version = clamp_version(version, asg_msg::max_version);
    asg_msg::message m;
    m.decode(r, version);
    assignment a;
    for (auto& t : m.assigned_partitions)
      for (int32_t p : t.partitions) a.partitions.push_back({t.topic, p});
    a.user_data = std::move(m.user_data);
    return a;
  } catch (const proto::decode_error& e) {
    return common::error{common::kafka_error::inconsistent_group_protocol,
                         std::string("malformed consumer protocol assignment: ") + e.what()};
  }
}

}  // namespace brook::client::consuming
