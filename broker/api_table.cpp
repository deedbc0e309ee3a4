#include "broker/api_table.hpp"

#include <array>

#include "broker/handlers/handlers.hpp"

namespace brook::broker {

namespace proto = common::protocol;

namespace {

// Every API the broker serves, with the versions it serves. Version ranges come from the schema
// unless a handler serves fewer; ApiVersions advertises exactly this table.
#define BROOK_API(ns, display, fn)                                                           \
  api_entry {                                                                                \
    proto::ns::api_key, display, proto::ns::min_version, proto::ns::max_version,             \
        &typed_handler<proto::ns::request, proto::ns::response, &handlers::fn>               \
  }

const std::array entries{
    BROOK_API(metadata, "Metadata", metadata),
    BROOK_API(describe_configs, "DescribeConfigs", describe_configs),
    BROOK_API(alter_configs, "AlterConfigs", alter_configs),
    BROOK_API(api_versions, "ApiVersions", api_versions),
    BROOK_API(create_topics, "CreateTopics", create_topics),
    BROOK_API(delete_topics, "DeleteTopics", delete_topics),
    BROOK_API(create_partitions, "CreatePartitions", create_partitions),
    BROOK_API(incremental_alter_configs, "IncrementalAlterConfigs", incremental_alter_configs),
    BROOK_API(describe_cluster, "DescribeCluster", describe_cluster),
};
#undef BROOK_API

}  // namespace

std::span<const api_entry> api_table() { return entries; }

const api_entry* find_api(int16_t key) {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

}  // namespace brook::broker
