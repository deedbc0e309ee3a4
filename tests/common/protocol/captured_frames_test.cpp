// Request frames captured from real clients (kcat/librdkafka, confluent-kafka-python, kafka-python, the
// Java client) must decode with the generated codecs, consuming every byte, and re-encode to the very same bytes.
// The frames live in tests/common/protocol/frames/, one per file: a `#` comment line naming the
// client and what it was doing, then the frame (size prefix, request header, body) as hex text.
// Frames of APIs the broker did not serve yet were captured by advertising the schema's version
// ranges in ApiVersions; the client then sent its request and the broker closed the connection.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/protocol/header.hpp"
#include "common/protocol/messages/alter_configs.hpp"
#include "common/protocol/messages/api_versions.hpp"
#include "common/protocol/messages/create_partitions.hpp"
#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "common/protocol/messages/describe_configs.hpp"
#include "common/protocol/messages/fetch.hpp"
#include "common/protocol/messages/find_coordinator.hpp"
#include "common/protocol/messages/join_group.hpp"
#include "common/protocol/messages/list_offsets.hpp"
#include "common/protocol/messages/metadata.hpp"
#include "common/protocol/messages/produce.hpp"
#include "common/protocol/wire.hpp"

namespace proto = brook::common::protocol;

namespace {

// One request body of any API that has captured frames.
using any_request = std::variant<proto::produce::request, proto::fetch::request, proto::list_offsets::request,
                                 proto::metadata::request, proto::find_coordinator::request,
                                 proto::join_group::request, proto::api_versions::request,
                                 proto::create_topics::request, proto::delete_topics::request,
                                 proto::describe_configs::request, proto::alter_configs::request,
                                 proto::create_partitions::request>;

template <class Request>
any_request decode_as(proto::reader& r, int16_t version) {
  Request body;
  body.decode(r, version);
  return body;
}

any_request decode_body(int16_t api_key, int16_t version, proto::reader& r) {
  switch (api_key) {
    case proto::produce::api_key: return decode_as<proto::produce::request>(r, version);
    case proto::fetch::api_key: return decode_as<proto::fetch::request>(r, version);
    case proto::list_offsets::api_key: return decode_as<proto::list_offsets::request>(r, version);
    case proto::metadata::api_key: return decode_as<proto::metadata::request>(r, version);
    case proto::find_coordinator::api_key: return decode_as<proto::find_coordinator::request>(r, version);
    case proto::join_group::api_key: return decode_as<proto::join_group::request>(r, version);
    case proto::api_versions::api_key: return decode_as<proto::api_versions::request>(r, version);
    case proto::create_topics::api_key: return decode_as<proto::create_topics::request>(r, version);
    case proto::delete_topics::api_key: return decode_as<proto::delete_topics::request>(r, version);
    case proto::describe_configs::api_key: return decode_as<proto::describe_configs::request>(r, version);
    case proto::alter_configs::api_key: return decode_as<proto::alter_configs::request>(r, version);
    case proto::create_partitions::api_key: return decode_as<proto::create_partitions::request>(r, version);
  }
  throw proto::decode_error("no captured-frame dispatch for API key " + std::to_string(api_key));
}

proto::bytes encode_frame(const proto::request_header& header, const any_request& body) {
  proto::writer w;
  w.int32(0);
  proto::encode_request_header(w, header);
  std::visit([&](const auto& b) { b.encode(w, header.api_version); }, body);
  w.patch_int32(0, static_cast<int32_t>(w.size() - 4));
  return w.take();
}

struct captured_frame {
  std::string name;  // file name without .hex, e.g. kcat_produce_v7
  std::string comment;
  proto::bytes data;
};

proto::bytes parse_hex(const std::string& text) {
  proto::bytes out;
  int high = -1;
  for (char c : text) {
    int nibble;
    if (c >= '0' && c <= '9') nibble = c - '0';
    else if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
    else continue;  // line breaks and spaces
    if (high < 0) {
      high = nibble;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | nibble));
      high = -1;
    }
  }
  REQUIRE(high < 0);  // an odd digit count means a damaged file
  return out;
}

std::vector<captured_frame> load_frames() {
  std::vector<captured_frame> frames;
  for (const auto& entry : std::filesystem::directory_iterator(BROOK_FRAMES_DIR)) {
    if (entry.path().extension() != ".hex") continue;
    std::ifstream in(entry.path());
    captured_frame f{entry.path().stem().string(), {}, {}};
    std::string line, hex;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '#') {
        f.comment += line;
      } else {
        hex += line;
      }
    }
    f.data = parse_hex(hex);
    frames.push_back(std::move(f));
  }
  std::sort(frames.begin(), frames.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return frames;
}

// ---- Per-frame spot checks of decoded fields (what the client was asked to do). ----

using check_fn = std::function<void(const proto::request_header&, const any_request&)>;

template <class Request>
const Request& as(const any_request& body) {
  REQUIRE(std::holds_alternative<Request>(body));
  return std::get<Request>(body);
}

void check_rdkafka(const proto::request_header& h) { CHECK(h.client_id == "rdkafka"); }

// The id Brook gave java-topic when the Java client's frames were captured.
brook::common::uuid java_topic_id() {
  return brook::common::uuid{{0xef, 0x57, 0xce, 0x47, 0x21, 0x4c, 0x4b, 0x86, 0xb2, 0x68, 0x3e, 0x9d, 0x7d, 0x3f, 0xa8, 0xbb}};
}

// A librdkafka/kafka-python consumer protocol's metadata: v0 or v1 subscription naming one topic.
void check_subscription(const proto::join_group::request& j, const std::string& group, const std::string& topic) {
  CHECK(j.group_id == group);
  CHECK(j.member_id.empty());
  CHECK(j.protocol_type == "consumer");
  REQUIRE(j.protocols.size() == 2);
  CHECK(j.protocols[0].name == "range");
  CHECK(j.protocols[1].name == "roundrobin");
  for (const auto& p : j.protocols) {
    // ConsumerProtocolSubscription: int16 version, then an int16-counted array of int16-length topics.
    proto::reader r(p.metadata);
    r.int16();
    REQUIRE(r.int32() == 1);
    CHECK(r.string(false) == topic);
  }
}

const std::map<std::string, check_fn>& spot_checks() {
  using namespace proto;
  static const std::map<std::string, check_fn> checks = {
      // kcat 1.7.1 / librdkafka 2.0.2
      {"kcat_api_versions_v3",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<api_versions::request>(b);
         CHECK(r.client_software_name == "librdkafka");
         CHECK(r.client_software_version == "2.0.2");
       }},
      {"kcat_metadata_v4",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<metadata::request>(b);
         REQUIRE(r.topics.has_value());
         REQUIRE(r.topics->size() == 1);
         CHECK((*r.topics)[0].name == "kcat-topic");
         CHECK(r.allow_auto_topic_creation);
       }},
      {"kcat_produce_v7",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<produce::request>(b);
         CHECK_FALSE(r.transactional_id.has_value());
         CHECK(r.acks == -1);
         CHECK(r.timeout_ms == 30000);
         REQUIRE(r.topic_data.size() == 1);
         CHECK(r.topic_data[0].name == "kcat-topic");
         REQUIRE(r.topic_data[0].partition_data.size() == 1);
         const auto& p = r.topic_data[0].partition_data[0];
         CHECK(p.index == 0);
         REQUIRE(p.records.has_value());
         REQUIRE(p.records->size() == 75);
         CHECK(p.records->data[16] == 2);  // record batch magic
         const std::string batch(p.records->data.begin(), p.records->data.end());
         CHECK(batch.find("\x04" "k1" "\x0a" "hello") != std::string::npos);
       }},
      {"kcat_list_offsets_v2",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<list_offsets::request>(b);
         CHECK(r.replica_id == -1);
         CHECK(r.isolation_level == 1);
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].name == "kcat-topic");
         REQUIRE(r.topics[0].partitions.size() == 1);
         CHECK(r.topics[0].partitions[0].partition_index == 0);
         CHECK(r.topics[0].partitions[0].timestamp == -2);  // earliest
       }},
      {"kcat_fetch_v11",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<fetch::request>(b);
         CHECK(r.replica_id == -1);
         CHECK(r.max_wait_ms == 500);
         CHECK(r.min_bytes == 1);
         CHECK(r.max_bytes == 52428800);
         CHECK(r.isolation_level == 1);
         CHECK(r.session_id == 0);
         CHECK(r.session_epoch == -1);
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].topic == "kcat-topic");
         REQUIRE(r.topics[0].partitions.size() == 1);
         const auto& p = r.topics[0].partitions[0];
         CHECK(p.partition == 0);
         CHECK(p.current_leader_epoch == -1);
         CHECK(p.fetch_offset == 0);
         CHECK(p.log_start_offset == -1);
         CHECK(p.partition_max_bytes == 1048576);
         CHECK(r.forgotten_topics_data.empty());
         CHECK(r.rack_id.empty());
       }},
      {"kcat_find_coordinator_v2",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<find_coordinator::request>(b);
         CHECK(r.key == "kcat-group");
         CHECK(r.key_type == 0);
       }},
      {"kcat_join_group_v5",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<join_group::request>(b);
         CHECK(r.session_timeout_ms == 45000);
         CHECK(r.rebalance_timeout_ms == 300000);
         CHECK_FALSE(r.group_instance_id.has_value());
         check_subscription(r, "kcat-group", "kcat-topic");
       }},

      // confluent-kafka-python 1.7.0 AdminClient (librdkafka 2.0.2)
      {"confluent_kafka_api_versions_v3",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<api_versions::request>(b);
         CHECK(r.client_software_name == "confluent-kafka-python");
         CHECK(r.client_software_version == "1.7.0-rdkafka-2.0.2");
       }},
      {"confluent_kafka_metadata_v4",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<metadata::request>(b);
         REQUIRE(r.topics.has_value());  // empty, not null: brokers only
         CHECK(r.topics->empty());
         CHECK_FALSE(r.allow_auto_topic_creation);
       }},
      {"confluent_kafka_create_topics_v4",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<create_topics::request>(b);
         REQUIRE(r.topics.size() == 1);
         const auto& t = r.topics[0];
         CHECK(t.name == "ck-topic");
         CHECK(t.num_partitions == 2);
         CHECK(t.replication_factor == 1);
         CHECK(t.assignments.empty());
         REQUIRE(t.configs.size() == 2);
         CHECK(t.configs[0].name == "retention.ms");
         CHECK(t.configs[0].value == "3600000");
         CHECK(t.configs[1].name == "cleanup.policy");
         CHECK(t.configs[1].value == "delete");
         CHECK(r.timeout_ms == 60000);
         CHECK_FALSE(r.validate_only);
       }},
      {"confluent_kafka_describe_configs_v1",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<describe_configs::request>(b);
         REQUIRE(r.resources.size() == 1);
         CHECK(r.resources[0].resource_type == 2);
         CHECK(r.resources[0].resource_name == "ck-topic");
         CHECK_FALSE(r.resources[0].configuration_keys.has_value());
         CHECK(r.include_synonyms);
       }},
      {"confluent_kafka_create_partitions_v0",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<create_partitions::request>(b);
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].name == "ck-topic");
         CHECK(r.topics[0].count == 4);
         CHECK_FALSE(r.topics[0].assignments.has_value());
         CHECK(r.timeout_ms == 60000);
         CHECK_FALSE(r.validate_only);
       }},
      {"confluent_kafka_delete_topics_v1",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<delete_topics::request>(b);
         CHECK(r.topic_names == std::vector<std::string>{"ck-topic"});
         CHECK(r.timeout_ms == 60000);
       }},
      {"confluent_kafka_alter_configs_v0",
       [](const request_header& h, const any_request& b) {
         check_rdkafka(h);
         const auto& r = as<alter_configs::request>(b);
         REQUIRE(r.resources.size() == 1);
         CHECK(r.resources[0].resource_type == 2);
         CHECK(r.resources[0].resource_name == "ck-alter");
         REQUIRE(r.resources[0].configs.size() == 1);
         CHECK(r.resources[0].configs[0].name == "retention.ms");
         CHECK(r.resources[0].configs[0].value == "7200000");
         CHECK_FALSE(r.validate_only);
       }},

      // kafka-python 2.0.2
      {"kafka_python_api_versions_v0",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-admin");
         const auto& r = as<api_versions::request>(b);
         CHECK(r.client_software_name.empty());  // v0 has no body
       }},
      {"kafka_python_metadata_v0",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-admin");
         const auto& r = as<metadata::request>(b);
         REQUIRE(r.topics.has_value());  // v0 asks for every topic with an empty array
         CHECK(r.topics->empty());
       }},
      {"kafka_python_metadata_v1",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-producer-1");
         const auto& r = as<metadata::request>(b);
         REQUIRE(r.topics.has_value());
         REQUIRE(r.topics->size() == 1);
         CHECK((*r.topics)[0].name == "kp-produce");
       }},
      {"kafka_python_metadata_v5",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-admin");
         const auto& r = as<metadata::request>(b);
         CHECK_FALSE(r.topics.has_value());  // null: every topic
         CHECK_FALSE(r.allow_auto_topic_creation);
       }},
      {"kafka_python_create_topics_v3",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-admin");
         const auto& r = as<create_topics::request>(b);
         REQUIRE(r.topics.size() == 1);
         const auto& t = r.topics[0];
         CHECK(t.name == "kp-topic");
         CHECK(t.num_partitions == 3);
         CHECK(t.replication_factor == 1);
         REQUIRE(t.configs.size() == 1);
         CHECK(t.configs[0].name == "retention.ms");
         CHECK(t.configs[0].value == "60000");
         CHECK(r.timeout_ms == 30000);
         CHECK_FALSE(r.validate_only);
       }},
      {"kafka_python_describe_configs_v2",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-admin");
         const auto& r = as<describe_configs::request>(b);
         REQUIRE(r.resources.size() == 1);
         CHECK(r.resources[0].resource_type == 2);
         CHECK(r.resources[0].resource_name == "kp-topic");
         CHECK_FALSE(r.resources[0].configuration_keys.has_value());
         CHECK_FALSE(r.include_synonyms);
       }},
      {"kafka_python_create_partitions_v1",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-admin");
         const auto& r = as<create_partitions::request>(b);
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].name == "kp-topic");
         CHECK(r.topics[0].count == 5);
         CHECK_FALSE(r.topics[0].assignments.has_value());
         CHECK(r.timeout_ms == 30000);
       }},
      {"kafka_python_delete_topics_v3",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-admin");
         const auto& r = as<delete_topics::request>(b);
         CHECK(r.topic_names == std::vector<std::string>{"kp-topic"});
         CHECK(r.timeout_ms == 30000);
       }},
      {"kafka_python_alter_configs_v1",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-2.0.2");
         const auto& r = as<alter_configs::request>(b);
         REQUIRE(r.resources.size() == 1);
         CHECK(r.resources[0].resource_name == "ck-alter");
         REQUIRE(r.resources[0].configs.size() == 1);
         CHECK(r.resources[0].configs[0].name == "retention.ms");
         CHECK(r.resources[0].configs[0].value == "1800000");
       }},
      {"kafka_python_produce_v7",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-producer-1");
         const auto& r = as<produce::request>(b);
         CHECK_FALSE(r.transactional_id.has_value());
         CHECK(r.acks == 1);
         CHECK(r.timeout_ms == 3000);
         REQUIRE(r.topic_data.size() == 1);
         CHECK(r.topic_data[0].name == "kp-produce");
         REQUIRE(r.topic_data[0].partition_data.size() == 1);
         const auto& p = r.topic_data[0].partition_data[0];
         CHECK(p.index == 0);
         REQUIRE(p.records.has_value());
         REQUIRE(p.records->size() == 80);
         CHECK(p.records->data[16] == 2);  // record batch magic
         // The record's key and value, each with its zig-zag varint length.
         const std::string batch(p.records->data.begin(), p.records->data.end());
         CHECK(batch.find("\x0a" "key-1" "\x0e" "value-1") != std::string::npos);
       }},
      {"kafka_python_list_offsets_v1",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-2.0.2");
         const auto& r = as<list_offsets::request>(b);
         CHECK(r.replica_id == -1);
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].name == "kp-produce");
         REQUIRE(r.topics[0].partitions.size() == 1);
         CHECK(r.topics[0].partitions[0].partition_index == 0);
         CHECK(r.topics[0].partitions[0].timestamp == -2);
       }},
      {"kafka_python_fetch_v4",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-2.0.2");
         const auto& r = as<fetch::request>(b);
         CHECK(r.replica_id == -1);
         CHECK(r.max_wait_ms == 500);
         CHECK(r.min_bytes == 1);
         CHECK(r.max_bytes == 52428800);
         CHECK(r.isolation_level == 0);
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].topic == "kp-produce");
         REQUIRE(r.topics[0].partitions.size() == 1);
         CHECK(r.topics[0].partitions[0].fetch_offset == 0);
         CHECK(r.topics[0].partitions[0].partition_max_bytes == 1048576);
       }},
      // kafka-clients 4.4.0 (the Java client), through a recording proxy in front of Brook
      {"java_metadata_v13",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "java-producer");
         const auto& r = as<metadata::request>(b);
         REQUIRE(r.topics.has_value());
         REQUIRE(r.topics->size() == 1);
         CHECK((*r.topics)[0].topic_id.is_zero());
         CHECK((*r.topics)[0].name == "java-topic");
         CHECK(r.allow_auto_topic_creation);
         CHECK_FALSE(r.include_topic_authorized_operations);
       }},
      {"java_produce_v13",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "java-producer");
         const auto& r = as<produce::request>(b);
         CHECK_FALSE(r.transactional_id.has_value());
         CHECK(r.acks == -1);
         CHECK(r.timeout_ms == 30000);
         REQUIRE(r.topic_data.size() == 1);
         CHECK(r.topic_data[0].name.empty());  // v13: by id only
         CHECK(r.topic_data[0].topic_id == java_topic_id());
         REQUIRE(r.topic_data[0].partition_data.size() == 1);
         const auto& p = r.topic_data[0].partition_data[0];
         CHECK(p.index == 0);
         REQUIRE(p.records.has_value());
         REQUIRE(p.records->size() == 75);
         CHECK(p.records->data[16] == 2);  // record batch magic
         const std::string batch(p.records->data.begin(), p.records->data.end());
         CHECK(batch.find("\x04" "k1" "\x0a" "hello") != std::string::npos);
       }},
      {"java_list_offsets_v11",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "java-consumer");
         const auto& r = as<list_offsets::request>(b);
         CHECK(r.replica_id == -1);
         CHECK(r.isolation_level == 0);
         CHECK(r.timeout_ms == 30000);
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].name == "java-topic");
         REQUIRE(r.topics[0].partitions.size() == 1);
         CHECK(r.topics[0].partitions[0].partition_index == 0);
         CHECK(r.topics[0].partitions[0].current_leader_epoch == 0);
         CHECK(r.topics[0].partitions[0].timestamp == -2);
       }},
      {"java_fetch_v18",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "java-consumer");
         const auto& r = as<fetch::request>(b);
         CHECK(r.replica_state.replica_id == -1);
         CHECK(r.max_wait_ms == 500);
         CHECK(r.min_bytes == 1);
         CHECK(r.max_bytes == 52428800);
         CHECK(r.session_id == 0);
         CHECK(r.session_epoch == 0);  // a new session
         REQUIRE(r.topics.size() == 1);
         CHECK(r.topics[0].topic_id == java_topic_id());
         REQUIRE(r.topics[0].partitions.size() == 1);
         const auto& p = r.topics[0].partitions[0];
         CHECK(p.fetch_offset == 0);
         CHECK(p.partition_max_bytes == 1048576);
         CHECK(p.high_watermark == INT64_MAX);  // a consumer does not say (the field is for followers)
         CHECK(r.forgotten_topics_data.empty());
         CHECK(r.rack_id.empty());
       }},
      {"kafka_python_find_coordinator_v0",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-2.0.2");
         CHECK(as<find_coordinator::request>(b).key == "kp-group");
       }},
      {"kafka_python_join_group_v2",
       [](const request_header& h, const any_request& b) {
         CHECK(h.client_id == "kafka-python-2.0.2");
         const auto& r = as<join_group::request>(b);
         CHECK(r.session_timeout_ms == 10000);
         CHECK(r.rebalance_timeout_ms == 300000);
         check_subscription(r, "kp-group", "kp-produce");
       }},
  };
  return checks;
}

}  // namespace

TEST_CASE("request frames captured from real clients decode and re-encode byte for byte", "[frames]") {
  const auto frames = load_frames();
  REQUIRE(frames.size() >= spot_checks().size());

  for (const auto& f : frames) {
    SECTION(f.name) {
      INFO(f.comment);
      CHECK(f.comment.rfind("# captured from ", 0) == 0);
      REQUIRE(f.data.size() >= 4);

      proto::reader r(f.data);
      const int32_t size = r.int32();
      REQUIRE(size == static_cast<int32_t>(f.data.size() - 4));
      const proto::request_header header = proto::decode_request_header(r);

      // The file name carries the API version; the header must agree.
      CHECK(f.name.substr(f.name.rfind("_v") + 2) == std::to_string(header.api_version));

      any_request body = decode_body(header.api_key, header.api_version, r);
      CHECK(r.remaining() == 0);
      CHECK(encode_frame(header, body) == f.data);

      auto check = spot_checks().find(f.name);
      REQUIRE(check != spot_checks().end());  // every frame comes with its spot checks
      check->second(header, body);
    }
  }
}
