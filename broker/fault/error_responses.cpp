#include "broker/fault/error_responses.hpp"

#include <set>

#include "broker/handlers/handlers.hpp"

namespace brook::broker::fault {

namespace proto = common::protocol;

namespace {

// One function per API: `names_of` collects what the request names, `error_of` builds the response with
// `code` wherever the response carries an error, as Kafka's getErrorResponse does for that request.
// Entries mirror the request's (topics, partitions, groups, resources); offsets and ids are -1.

// --- Produce ---
void names_of(const proto::produce::request& r, request_names& n) {
  for (const auto& t : r.topic_data) {
    if (!t.name.empty()) n.topics.push_back(t.name);
    if (!t.topic_id.is_zero()) n.topic_ids.push_back(t.topic_id);  // v13+
  }
}
std::optional<proto::produce::response> error_of(const proto::produce::request& r, int16_t, int16_t code) {
  if (r.acks == 0) return std::nullopt;  // acks=0 is never answered
  proto::produce::response resp;
  for (const auto& t : r.topic_data) {
    auto& rt = resp.responses.emplace_back();
    rt.name = t.name;
    rt.topic_id = t.topic_id;
    for (const auto& p : t.partition_data) {
      auto& rp = rt.partition_responses.emplace_back();
      rp.index = p.index;
      rp.error_code = code;
      rp.base_offset = -1;
    }
  }
  return resp;
}

// --- Fetch ---
void names_of(const proto::fetch::request& r, request_names& n) {
  for (const auto& t : r.topics) {
    if (!t.topic.empty()) n.topics.push_back(t.topic);
    if (!t.topic_id.is_zero()) n.topic_ids.push_back(t.topic_id);
  }
}
std::optional<proto::fetch::response> error_of(const proto::fetch::request& r, int16_t, int16_t code) {
  proto::fetch::response resp;
  resp.error_code = code;
  for (const auto& t : r.topics) {
    auto& rt = resp.responses.emplace_back();
    rt.topic = t.topic;
    rt.topic_id = t.topic_id;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition;
      rp.error_code = code;
      rp.high_watermark = -1;
    }
  }
  return resp;
}

// --- ListOffsets ---
void names_of(const proto::list_offsets::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::list_offsets::response> error_of(const proto::list_offsets::request& r, int16_t, int16_t code) {
  proto::list_offsets::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = code;
    }
  }
  return resp;
}

// --- Metadata ---
void names_of(const proto::metadata::request& r, request_names& n) {
  if (!r.topics) return;
  for (const auto& t : *r.topics) {
    if (t.name) n.topics.push_back(*t.name);
    else if (!t.topic_id.is_zero()) n.topic_ids.push_back(t.topic_id);
  }
}
std::optional<proto::metadata::response> error_of(const proto::metadata::request& r, int16_t, int16_t code) {
  proto::metadata::response resp;  // no brokers, as Kafka's error response
  resp.error_code = code;           // v13+
  if (!r.topics) return resp;
  for (const auto& t : *r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.error_code = code;
    rt.name = t.name ? *t.name : std::string();
    rt.topic_id = t.topic_id;
  }
  return resp;
}

// --- DescribeConfigs, AlterConfigs, IncrementalAlterConfigs ---
void names_of(const proto::describe_configs::request& r, request_names& n) {
  for (const auto& res : r.resources)
    if (res.resource_type == 2) n.topics.push_back(res.resource_name);  // 2: TOPIC
}
std::optional<proto::describe_configs::response> error_of(const proto::describe_configs::request& r, int16_t,
                                                          int16_t code) {
  proto::describe_configs::response resp;
  for (const auto& res : r.resources) {
    auto& rr = resp.results.emplace_back();
    rr.error_code = code;
    rr.error_message = std::nullopt;
    rr.resource_type = res.resource_type;
    rr.resource_name = res.resource_name;
  }
  return resp;
}
void names_of(const proto::alter_configs::request& r, request_names& n) {
  for (const auto& res : r.resources)
    if (res.resource_type == 2) n.topics.push_back(res.resource_name);
}
std::optional<proto::alter_configs::response> error_of(const proto::alter_configs::request& r, int16_t,
                                                       int16_t code) {
  proto::alter_configs::response resp;
  for (const auto& res : r.resources) {
    auto& rr = resp.responses.emplace_back();
    rr.error_code = code;
    rr.error_message = std::nullopt;
    rr.resource_type = res.resource_type;
    rr.resource_name = res.resource_name;
  }
  return resp;
}
void names_of(const proto::incremental_alter_configs::request& r, request_names& n) {
  for (const auto& res : r.resources)
    if (res.resource_type == 2) n.topics.push_back(res.resource_name);
}
std::optional<proto::incremental_alter_configs::response> error_of(
    const proto::incremental_alter_configs::request& r, int16_t, int16_t code) {
  proto::incremental_alter_configs::response resp;
  for (const auto& res : r.resources) {
    auto& rr = resp.responses.emplace_back();
    rr.error_code = code;
    rr.error_message = std::nullopt;
    rr.resource_type = res.resource_type;
    rr.resource_name = res.resource_name;
  }
  return resp;
}

// --- ApiVersions ---
void names_of(const proto::api_versions::request&, request_names&) {}
std::optional<proto::api_versions::response> error_of(const proto::api_versions::request&, int16_t, int16_t code) {
  proto::api_versions::response resp;
  resp.error_code = code;
  return resp;
}

// --- CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords ---
void names_of(const proto::create_topics::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::create_topics::response> error_of(const proto::create_topics::request& r, int16_t,
                                                       int16_t code) {
  proto::create_topics::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    rt.error_code = code;
    rt.error_message = std::nullopt;
    rt.num_partitions = -1;
    rt.replication_factor = -1;
  }
  return resp;
}
void names_of(const proto::delete_topics::request& r, request_names& n) {
  for (const auto& name : r.topic_names) n.topics.push_back(name);
  for (const auto& t : r.topics) {
    if (t.name) n.topics.push_back(*t.name);
    else if (!t.topic_id.is_zero()) n.topic_ids.push_back(t.topic_id);
  }
}
std::optional<proto::delete_topics::response> error_of(const proto::delete_topics::request& r, int16_t version,
                                                       int16_t code) {
  proto::delete_topics::response resp;
  if (version < 6) {
    for (const auto& name : r.topic_names) {
      auto& rt = resp.responses.emplace_back();
      rt.name = name;
      rt.error_code = code;
    }
  } else {
    for (const auto& t : r.topics) {
      auto& rt = resp.responses.emplace_back();
      rt.name = t.name;
      rt.topic_id = t.topic_id;
      rt.error_code = code;
    }
  }
  return resp;
}
void names_of(const proto::create_partitions::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::create_partitions::response> error_of(const proto::create_partitions::request& r, int16_t,
                                                           int16_t code) {
  proto::create_partitions::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.results.emplace_back();
    rt.name = t.name;
    rt.error_code = code;
  }
  return resp;
}
void names_of(const proto::delete_records::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::delete_records::response> error_of(const proto::delete_records::request& r, int16_t,
                                                        int16_t code) {
  proto::delete_records::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.low_watermark = -1;
      rp.error_code = code;
    }
  }
  return resp;
}

// --- InitProducerId ---
void names_of(const proto::init_producer_id::request&, request_names&) {}
std::optional<proto::init_producer_id::response> error_of(const proto::init_producer_id::request&, int16_t,
                                                          int16_t code) {
  proto::init_producer_id::response resp;
  resp.error_code = code;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  return resp;
}

// --- OffsetForLeaderEpoch ---
void names_of(const proto::offset_for_leader_epoch::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.topic);
}
std::optional<proto::offset_for_leader_epoch::response> error_of(const proto::offset_for_leader_epoch::request& r,
                                                                 int16_t, int16_t code) {
  proto::offset_for_leader_epoch::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.topic = t.topic;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.error_code = code;
      rp.partition = p.partition;
      rp.leader_epoch = -1;
      rp.end_offset = -1;
    }
  }
  return resp;
}

// --- DescribeCluster ---
void names_of(const proto::describe_cluster::request&, request_names&) {}
std::optional<proto::describe_cluster::response> error_of(const proto::describe_cluster::request& r, int16_t,
                                                          int16_t code) {
  proto::describe_cluster::response resp;
  resp.error_code = code;
  resp.endpoint_type = r.endpoint_type;
  return resp;
}

// --- ListConfigResources ---
void names_of(const proto::list_config_resources::request&, request_names&) {}
std::optional<proto::list_config_resources::response> error_of(const proto::list_config_resources::request&, int16_t,
                                                               int16_t code) {
  proto::list_config_resources::response resp;
  resp.error_code = code;
  return resp;
}

// --- DescribeClientQuotas, AlterClientQuotas ---
void names_of(const proto::describe_client_quotas::request&, request_names&) {}
std::optional<proto::describe_client_quotas::response> error_of(const proto::describe_client_quotas::request&,
                                                                int16_t, int16_t code) {
  proto::describe_client_quotas::response resp;
  resp.error_code = code;
  resp.error_message = std::nullopt;
  resp.entries = std::nullopt;
  return resp;
}
void names_of(const proto::alter_client_quotas::request&, request_names&) {}
std::optional<proto::alter_client_quotas::response> error_of(const proto::alter_client_quotas::request& r, int16_t,
                                                             int16_t code) {
  proto::alter_client_quotas::response resp;
  for (const auto& e : r.entries) {
    auto& out = resp.entries.emplace_back();
    out.error_code = code;
    out.error_message = std::nullopt;
    out.entity = e.entity;
  }
  return resp;
}

// --- DescribeUserScramCredentials, AlterUserScramCredentials ---
void names_of(const proto::describe_user_scram_credentials::request&, request_names&) {}
std::optional<proto::describe_user_scram_credentials::response> error_of(
    const proto::describe_user_scram_credentials::request& r, int16_t, int16_t code) {
  proto::describe_user_scram_credentials::response resp;
  resp.error_code = code;
  resp.error_message = std::nullopt;
  // One result per user named, without its name, as Kafka's getErrorResponse builds them.
  if (r.users)
    for (size_t i = 0; i < r.users->size(); ++i) {
      auto& out = resp.results.emplace_back();
      out.error_code = code;
      out.error_message = std::nullopt;
    }
  return resp;
}
void names_of(const proto::alter_user_scram_credentials::request&, request_names&) {}
std::optional<proto::alter_user_scram_credentials::response> error_of(
    const proto::alter_user_scram_credentials::request& r, int16_t, int16_t code) {
  // One result per distinct user, sorted by name.
  std::set<std::string> users;
  for (const auto& d : r.deletions) users.insert(d.name);
  for (const auto& u : r.upsertions) users.insert(u.name);
  proto::alter_user_scram_credentials::response resp;
  for (const auto& user : users) {
    auto& out = resp.results.emplace_back();
    out.user = user;
    out.error_code = code;
    out.error_message = std::nullopt;
  }
  return resp;
}

// --- CreateAcls, DescribeAcls, DeleteAcls: one error per creation, for the request, per filter ---
void names_of(const proto::create_acls::request&, request_names&) {}
std::optional<proto::create_acls::response> error_of(const proto::create_acls::request& r, int16_t, int16_t code) {
  proto::create_acls::response resp;
  for (size_t i = 0; i < r.creations.size(); ++i) resp.results.push_back({code, std::nullopt});
  return resp;
}
void names_of(const proto::describe_acls::request&, request_names&) {}
std::optional<proto::describe_acls::response> error_of(const proto::describe_acls::request&, int16_t, int16_t code) {
  proto::describe_acls::response resp;
  resp.error_code = code;
  resp.error_message = std::nullopt;
  return resp;
}
void names_of(const proto::delete_acls::request&, request_names&) {}
std::optional<proto::delete_acls::response> error_of(const proto::delete_acls::request& r, int16_t, int16_t code) {
  proto::delete_acls::response resp;
  for (size_t i = 0; i < r.filters.size(); ++i) {
    auto& out = resp.filter_results.emplace_back();
    out.error_code = code;
    out.error_message = std::nullopt;
  }
  return resp;
}

// --- FindCoordinator ---
void names_of(const proto::find_coordinator::request& r, request_names& n) {
  if (r.key_type != 0) return;  // 0: GROUP (1 is a transactional id)
  if (!r.key.empty()) n.groups.push_back(r.key);
  for (const auto& k : r.coordinator_keys) n.groups.push_back(k);
}
std::optional<proto::find_coordinator::response> error_of(const proto::find_coordinator::request& r, int16_t version,
                                                          int16_t code) {
  proto::find_coordinator::response resp;
  if (version < 4) {
    resp.error_code = code;
    resp.error_message = std::nullopt;
    resp.node_id = -1;
    resp.port = -1;
    return resp;
  }
  for (const auto& k : r.coordinator_keys) {
    auto& c = resp.coordinators.emplace_back();
    c.key = k;
    c.node_id = -1;
    c.port = -1;
    c.error_code = code;
    c.error_message = std::nullopt;
  }
  return resp;
}

// --- Classic groups: JoinGroup, SyncGroup, Heartbeat, LeaveGroup ---
void names_of(const proto::join_group::request& r, request_names& n) { n.groups.push_back(r.group_id); }
std::optional<proto::join_group::response> error_of(const proto::join_group::request&, int16_t version,
                                                    int16_t code) {
  proto::join_group::response resp;
  resp.error_code = code;
  resp.generation_id = -1;
  if (version >= 7) resp.protocol_name = std::nullopt;
  else resp.protocol_name = std::string();
  return resp;
}
void names_of(const proto::sync_group::request& r, request_names& n) { n.groups.push_back(r.group_id); }
std::optional<proto::sync_group::response> error_of(const proto::sync_group::request&, int16_t, int16_t code) {
  proto::sync_group::response resp;
  resp.error_code = code;
  return resp;
}
void names_of(const proto::heartbeat::request& r, request_names& n) { n.groups.push_back(r.group_id); }
std::optional<proto::heartbeat::response> error_of(const proto::heartbeat::request&, int16_t, int16_t code) {
  proto::heartbeat::response resp;
  resp.error_code = code;
  return resp;
}
void names_of(const proto::leave_group::request& r, request_names& n) { n.groups.push_back(r.group_id); }
std::optional<proto::leave_group::response> error_of(const proto::leave_group::request& r, int16_t, int16_t code) {
  proto::leave_group::response resp;
  resp.error_code = code;
  for (const auto& m : r.members) {
    auto& rm = resp.members.emplace_back();
    rm.member_id = m.member_id;
    rm.group_instance_id = m.group_instance_id;
    rm.error_code = code;
  }
  return resp;
}

// --- Offsets: OffsetCommit, OffsetFetch, OffsetDelete ---
void names_of(const proto::offset_commit::request& r, request_names& n) {
  n.groups.push_back(r.group_id);
  for (const auto& t : r.topics) {
    if (!t.name.empty()) n.topics.push_back(t.name);
    else if (!t.topic_id.is_zero()) n.topic_ids.push_back(t.topic_id);  // v10+
  }
}
std::optional<proto::offset_commit::response> error_of(const proto::offset_commit::request& r, int16_t,
                                                       int16_t code) {
  proto::offset_commit::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    rt.topic_id = t.topic_id;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = code;
    }
  }
  return resp;
}
void names_of(const proto::offset_fetch::request& r, request_names& n) {
  if (!r.group_id.empty()) n.groups.push_back(r.group_id);
  if (r.topics)
    for (const auto& t : *r.topics) n.topics.push_back(t.name);
  for (const auto& g : r.groups) {
    n.groups.push_back(g.group_id);
    if (g.topics)
      for (const auto& t : *g.topics) {
        if (!t.name.empty()) n.topics.push_back(t.name);
        else if (!t.topic_id.is_zero()) n.topic_ids.push_back(t.topic_id);  // v10+
      }
  }
}
std::optional<proto::offset_fetch::response> error_of(const proto::offset_fetch::request& r, int16_t version,
                                                      int16_t code) {
  proto::offset_fetch::response resp;
  if (version < 8) {
    resp.error_code = code;  // v2+; the partitions carry it in every version
    if (r.topics)
      for (const auto& t : *r.topics) {
        auto& rt = resp.topics.emplace_back();
        rt.name = t.name;
        for (int32_t p : t.partition_indexes) {
          auto& rp = rt.partitions.emplace_back();
          rp.partition_index = p;
          rp.committed_offset = -1;
          rp.metadata = std::string();
          rp.error_code = code;
        }
      }
    return resp;
  }
  for (const auto& g : r.groups) {
    auto& rg = resp.groups.emplace_back();
    rg.group_id = g.group_id;
    rg.error_code = code;
    if (g.topics)
      for (const auto& t : *g.topics) {
        auto& rt = rg.topics.emplace_back();
        rt.name = t.name;
        rt.topic_id = t.topic_id;
        for (int32_t p : t.partition_indexes) {
          auto& rp = rt.partitions.emplace_back();
          rp.partition_index = p;
          rp.committed_offset = -1;
          rp.metadata = std::string();
          rp.error_code = code;
        }
      }
  }
  return resp;
}
void names_of(const proto::offset_delete::request& r, request_names& n) {
  n.groups.push_back(r.group_id);
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::offset_delete::response> error_of(const proto::offset_delete::request& r, int16_t,
                                                       int16_t code) {
  proto::offset_delete::response resp;
  resp.error_code = code;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = code;
    }
  }
  return resp;
}

// --- Group administration: DescribeGroups, ListGroups, DeleteGroups ---
void names_of(const proto::describe_groups::request& r, request_names& n) {
  for (const auto& g : r.groups) n.groups.push_back(g);
}
std::optional<proto::describe_groups::response> error_of(const proto::describe_groups::request& r, int16_t,
                                                         int16_t code) {
  proto::describe_groups::response resp;
  for (const auto& g : r.groups) {
    auto& rg = resp.groups.emplace_back();
    rg.error_code = code;
    rg.group_id = g;
  }
  return resp;
}
void names_of(const proto::list_groups::request&, request_names&) {}
std::optional<proto::list_groups::response> error_of(const proto::list_groups::request&, int16_t, int16_t code) {
  proto::list_groups::response resp;
  resp.error_code = code;
  return resp;
}
void names_of(const proto::delete_groups::request& r, request_names& n) {
  for (const auto& g : r.groups_names) n.groups.push_back(g);
}
std::optional<proto::delete_groups::response> error_of(const proto::delete_groups::request& r, int16_t,
                                                       int16_t code) {
  proto::delete_groups::response resp;
  for (const auto& g : r.groups_names) {
    auto& rg = resp.results.emplace_back();
    rg.group_id = g;
    rg.error_code = code;
  }
  return resp;
}

// --- KIP-848 groups: ConsumerGroupHeartbeat, ConsumerGroupDescribe ---
void names_of(const proto::consumer_group_heartbeat::request& r, request_names& n) {
  n.groups.push_back(r.group_id);
  if (r.subscribed_topic_names)
    for (const auto& t : *r.subscribed_topic_names) n.topics.push_back(t);
}
std::optional<proto::consumer_group_heartbeat::response> error_of(const proto::consumer_group_heartbeat::request&,
                                                                  int16_t, int16_t code) {
  proto::consumer_group_heartbeat::response resp;
  resp.error_code = code;
  return resp;
}
void names_of(const proto::consumer_group_describe::request& r, request_names& n) {
  for (const auto& g : r.group_ids) n.groups.push_back(g);
}
std::optional<proto::consumer_group_describe::response> error_of(const proto::consumer_group_describe::request& r,
                                                                  int16_t, int16_t code) {
  proto::consumer_group_describe::response resp;
  for (const auto& g : r.group_ids) {
    auto& rg = resp.groups.emplace_back();
    rg.error_code = code;
    rg.group_id = g;
  }
  return resp;
}

// --- DescribeTopicPartitions ---
void names_of(const proto::describe_topic_partitions::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::describe_topic_partitions::response> error_of(const proto::describe_topic_partitions::request& r,
                                                                    int16_t, int16_t code) {
  proto::describe_topic_partitions::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    rt.error_code = code;
  }
  return resp;
}

// --- DescribeLogDirs ---
void names_of(const proto::describe_log_dirs::request& r, request_names& n) {
  if (r.topics)
    for (const auto& t : *r.topics) n.topics.push_back(t.topic);
}
std::optional<proto::describe_log_dirs::response> error_of(const proto::describe_log_dirs::request&, int16_t,
                                                           int16_t code) {
  proto::describe_log_dirs::response resp;  // the top-level code only (v3+), as Kafka's: no log dirs
  resp.error_code = code;
  return resp;
}

// --- DescribeProducers ---
void names_of(const proto::describe_producers::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::describe_producers::response> error_of(const proto::describe_producers::request& r, int16_t,
                                                            int16_t code) {
  proto::describe_producers::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partition_indexes) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p;
      rp.error_code = code;
    }
  }
  return resp;
}

// --- AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeTransactions, ListTransactions ---
void names_of(const proto::add_partitions_to_txn::request& r, request_names& n) {
  for (const auto& t : r.v3_and_below_topics) n.topics.push_back(t.name);
  for (const auto& txn : r.transactions)
    for (const auto& t : txn.topics) n.topics.push_back(t.name);
}
std::optional<proto::add_partitions_to_txn::response> error_of(const proto::add_partitions_to_txn::request& r,
                                                               int16_t version, int16_t code) {
  proto::add_partitions_to_txn::response resp;
  if (version >= 4) {  // Kafka's: the top-level code only
    resp.error_code = code;
    return resp;
  }
  for (const auto& t : r.v3_and_below_topics) {
    auto& rt = resp.results_by_topic_v3_and_below.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partitions) rt.results_by_partition.push_back({p, code});
  }
  return resp;
}

void names_of(const proto::add_offsets_to_txn::request& r, request_names& n) { n.groups.push_back(r.group_id); }
std::optional<proto::add_offsets_to_txn::response> error_of(const proto::add_offsets_to_txn::request&, int16_t,
                                                            int16_t code) {
  proto::add_offsets_to_txn::response resp;
  resp.error_code = code;
  return resp;
}

void names_of(const proto::end_txn::request&, request_names&) {}
std::optional<proto::end_txn::response> error_of(const proto::end_txn::request&, int16_t, int16_t code) {
  proto::end_txn::response resp;
  resp.error_code = code;
  return resp;
}

void names_of(const proto::txn_offset_commit::request& r, request_names& n) {
  n.groups.push_back(r.group_id);
  for (const auto& t : r.topics) {
    if (!t.name.empty()) n.topics.push_back(t.name);
    else n.topic_ids.push_back(t.topic_id);
  }
}
std::optional<proto::txn_offset_commit::response> error_of(const proto::txn_offset_commit::request& r, int16_t,
                                                           int16_t code) {
  proto::txn_offset_commit::response resp;
  for (const auto& t : r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    rt.topic_id = t.topic_id;
    for (const auto& p : t.partitions) rt.partitions.push_back({p.partition_index, code});
  }
  return resp;
}

void names_of(const proto::describe_transactions::request&, request_names&) {}
std::optional<proto::describe_transactions::response> error_of(const proto::describe_transactions::request& r,
                                                               int16_t, int16_t code) {
  proto::describe_transactions::response resp;
  for (const auto& id : r.transactional_ids) {
    auto& d = resp.transaction_states.emplace_back();
    d.error_code = code;
    d.transactional_id = id;
  }
  return resp;
}

void names_of(const proto::list_transactions::request&, request_names&) {}
std::optional<proto::list_transactions::response> error_of(const proto::list_transactions::request&, int16_t,
                                                           int16_t code) {
  proto::list_transactions::response resp;
  resp.error_code = code;
  return resp;
}

void names_of(const proto::sasl_handshake::request&, request_names&) {}
std::optional<proto::sasl_handshake::response> error_of(const proto::sasl_handshake::request&, int16_t, int16_t code) {
  proto::sasl_handshake::response resp;
  resp.error_code = code;
  return resp;
}
void names_of(const proto::sasl_authenticate::request&, request_names&) {}
std::optional<proto::sasl_authenticate::response> error_of(const proto::sasl_authenticate::request&, int16_t,
                                                           int16_t code) {
  proto::sasl_authenticate::response resp;
  resp.error_code = code;
  return resp;
}

void names_of(const proto::write_txn_markers::request& r, request_names& n) {
  for (const auto& m : r.markers)
    for (const auto& t : m.topics) n.topics.push_back(t.name);
}
std::optional<proto::write_txn_markers::response> error_of(const proto::write_txn_markers::request& r, int16_t,
                                                           int16_t code) {
  proto::write_txn_markers::response resp;
  for (const auto& m : r.markers) {
    auto& out = resp.markers.emplace_back();
    out.producer_id = m.producer_id;
    for (const auto& t : m.topics) {
      auto& topic = out.topics.emplace_back();
      topic.name = t.name;
      for (int32_t index : t.partition_indexes) {
        auto& p = topic.partitions.emplace_back();
        p.partition_index = index;
        p.error_code = code;
      }
    }
  }
  return resp;
}

// --- ElectLeaders, ListPartitionReassignments, AlterPartitionReassignments ---
void names_of(const proto::elect_leaders::request& r, request_names& n) {
  if (r.topic_partitions)
    for (const auto& t : *r.topic_partitions) n.topics.push_back(t.topic);
}
std::optional<proto::elect_leaders::response> error_of(const proto::elect_leaders::request& r, int16_t,
                                                       int16_t code) {
  proto::elect_leaders::response resp;
  resp.error_code = code;  // v1+
  if (!r.topic_partitions) return resp;
  for (const auto& t : *r.topic_partitions) {
    auto& rt = resp.replica_election_results.emplace_back();
    rt.topic = t.topic;
    for (int32_t p : t.partitions) {
      auto& rp = rt.partition_result.emplace_back();
      rp.partition_id = p;
      rp.error_code = code;
      rp.error_message = std::nullopt;
    }
  }
  return resp;
}
void names_of(const proto::list_partition_reassignments::request& r, request_names& n) {
  if (r.topics)
    for (const auto& t : *r.topics) n.topics.push_back(t.name);
}
std::optional<proto::list_partition_reassignments::response> error_of(
    const proto::list_partition_reassignments::request& r, int16_t, int16_t code) {
  proto::list_partition_reassignments::response resp;
  resp.error_code = code;
  resp.error_message = std::nullopt;
  if (!r.topics) return resp;
  for (const auto& t : *r.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partition_indexes) rt.partitions.emplace_back().partition_index = p;
  }
  return resp;
}
void names_of(const proto::alter_partition_reassignments::request& r, request_names& n) {
  for (const auto& t : r.topics) n.topics.push_back(t.name);
}
std::optional<proto::alter_partition_reassignments::response> error_of(
    const proto::alter_partition_reassignments::request& r, int16_t, int16_t code) {
  proto::alter_partition_reassignments::response resp;
  resp.error_code = code;
  resp.error_message = std::nullopt;
  for (const auto& t : r.topics) {
    auto& rt = resp.responses.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      auto& rp = rt.partitions.emplace_back();
      rp.partition_index = p.partition_index;
      rp.error_code = code;
      rp.error_message = std::nullopt;
    }
  }
  return resp;
}

template <class Request>
class decoded final : public decoded_request {
 public:
  decoded(int16_t version, proto::reader& body) : version_(version) {
    request_.decode(body, version);
    names_of(request_, names_);
  }
  std::optional<proto::encoded_message> error_response(int16_t code) const override {
    auto resp = error_of(request_, version_, code);
    if (!resp) return std::nullopt;
    proto::writer w;
    resp->encode(w, version_);
    return w.finish();
  }

 private:
  int16_t version_;
  Request request_;
};

template <class Request>
std::unique_ptr<decoded_request> make(int16_t version, proto::reader& body) {
  return std::make_unique<decoded<Request>>(version, body);
}

}  // namespace

std::unique_ptr<decoded_request> decode_request(int16_t api_key, int16_t version, proto::reader& body) {
#define BROOK_FAULT_API(ns) \
  case proto::ns::api_key:  \
    return make<proto::ns::request>(version, body);
  switch (api_key) {
    BROOK_FAULT_API(produce)
    BROOK_FAULT_API(fetch)
    BROOK_FAULT_API(list_offsets)
    BROOK_FAULT_API(metadata)
    BROOK_FAULT_API(describe_configs)
    BROOK_FAULT_API(alter_configs)
    BROOK_FAULT_API(api_versions)
    BROOK_FAULT_API(create_topics)
    BROOK_FAULT_API(delete_records)
    BROOK_FAULT_API(init_producer_id)
    BROOK_FAULT_API(offset_for_leader_epoch)
    BROOK_FAULT_API(delete_topics)
    BROOK_FAULT_API(create_partitions)
    BROOK_FAULT_API(incremental_alter_configs)
    BROOK_FAULT_API(describe_acls)
    BROOK_FAULT_API(create_acls)
    BROOK_FAULT_API(delete_acls)
    BROOK_FAULT_API(describe_client_quotas)
    BROOK_FAULT_API(alter_client_quotas)
    BROOK_FAULT_API(describe_user_scram_credentials)
    BROOK_FAULT_API(alter_user_scram_credentials)
    BROOK_FAULT_API(describe_cluster)
    BROOK_FAULT_API(list_config_resources)
    BROOK_FAULT_API(find_coordinator)
    BROOK_FAULT_API(join_group)
    BROOK_FAULT_API(sync_group)
    BROOK_FAULT_API(heartbeat)
    BROOK_FAULT_API(leave_group)
    BROOK_FAULT_API(offset_commit)
    BROOK_FAULT_API(offset_fetch)
    BROOK_FAULT_API(describe_groups)
    BROOK_FAULT_API(list_groups)
    BROOK_FAULT_API(delete_groups)
    BROOK_FAULT_API(offset_delete)
    BROOK_FAULT_API(consumer_group_heartbeat)
    BROOK_FAULT_API(consumer_group_describe)
    BROOK_FAULT_API(describe_topic_partitions)
    BROOK_FAULT_API(describe_log_dirs)
    BROOK_FAULT_API(describe_producers)
    BROOK_FAULT_API(elect_leaders)
    BROOK_FAULT_API(list_partition_reassignments)
    BROOK_FAULT_API(alter_partition_reassignments)
    BROOK_FAULT_API(add_partitions_to_txn)
    BROOK_FAULT_API(add_offsets_to_txn)
    BROOK_FAULT_API(end_txn)
    BROOK_FAULT_API(txn_offset_commit)
    BROOK_FAULT_API(describe_transactions)
    BROOK_FAULT_API(list_transactions)
    BROOK_FAULT_API(write_txn_markers)
    BROOK_FAULT_API(sasl_handshake)
    BROOK_FAULT_API(sasl_authenticate)
    default:
      return nullptr;
  }
#undef BROOK_FAULT_API
}

}  // namespace brook::broker::fault
