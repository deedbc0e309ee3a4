#include "broker/config/server_config.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "tests/broker/config/config_test_support.hpp"

using namespace brook::broker;
using brook::common::kafka_error;
using brook::test::entry_named;
using brook::test::server_config_of;

namespace {

std::string refusal(property_list props) {
  auto r = server_config::from_properties(props);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == kafka_error::invalid_config);
  return r.err().message;
}

// A scratch file removed when the test ends.
struct temp_file {
  std::filesystem::path path;
  explicit temp_file(std::string_view text) {
    path = std::filesystem::temp_directory_path() /
           ("brook_config_test_" + std::to_string(reinterpret_cast<uintptr_t>(this)) + ".properties");
    std::ofstream(path) << text;
  }
  ~temp_file() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("server config: Kafka's defaults", "[config][server]") {
  auto c = server_config::defaults();
  CHECK(c.warnings().empty());
  CHECK(c.node_id() == 1);
  REQUIRE(c.listeners().size() == 1);
  CHECK(c.listeners()[0] == listener_endpoint{"PLAINTEXT", "PLAINTEXT", "", 9092});
  CHECK(c.advertised_listeners() == c.listeners());
  CHECK(c.log_dirs() == std::vector<std::string>{"/tmp/kafka-logs"});
  CHECK(c.num_partitions() == 1);
  CHECK(c.auto_create_topics_enable());
  CHECK(c.default_replication_factor() == 1);
  CHECK(c.message_max_bytes() == 1048588);
  CHECK(c.socket_request_max_bytes() == 104857600);
  CHECK(c.log_segment_bytes() == 1073741824);
  CHECK(c.log_roll_ms() == 168LL * 3600 * 1000);
  CHECK(c.log_retention_ms() == 604800000);
  CHECK(c.log_retention_bytes() == -1);
  CHECK(c.log_retention_check_interval_ms() == 300000);
  CHECK(c.log_index_interval_bytes() == 4096);
  CHECK(c.log_flush_interval_messages() == INT64_MAX);
  CHECK(c.log_flush_interval_ms() == INT64_MAX);
  CHECK(c.log_cleanup_policy() == std::vector<std::string>{"delete"});
  CHECK(c.log_message_timestamp_type() == "CreateTime");
  CHECK(c.compression_type() == "producer");
  CHECK(c.delete_topic_enable());
  CHECK(c.group_initial_rebalance_delay_ms() == 3000);
  CHECK(c.group_min_session_timeout_ms() == 6000);
  CHECK(c.group_max_session_timeout_ms() == 1800000);
  CHECK(c.offsets_retention_minutes() == 10080);
  CHECK(c.offsets_topic_num_partitions() == 50);
  CHECK(c.min_insync_replicas() == 1);
  CHECK_FALSE(c.unclean_leader_election_enable());
  CHECK(c.source("num.partitions") == config_source::default_config);
  CHECK(c.original("num.partitions") == std::nullopt);
}

TEST_CASE("server config: static values remember their source and text", "[config][server]") {
  auto c = server_config_of({{"num.partitions", " 3 "}, {"log.dirs", "/a, /b"}, {"auto.create.topics.enable", "FALSE"}});
  CHECK(c.num_partitions() == 3);
  CHECK(c.source("num.partitions") == config_source::static_broker_config);
  CHECK(c.original("num.partitions") == " 3 ");
  CHECK(c.log_dirs() == std::vector<std::string>{"/a", "/b"});
  CHECK_FALSE(c.auto_create_topics_enable());
  CHECK(c.source("message.max.bytes") == config_source::default_config);
}

TEST_CASE("server config: log.dirs wins over log.dir", "[config][server]") {
  CHECK(server_config_of({{"log.dir", "/one"}}).log_dirs() == std::vector<std::string>{"/one"});
  CHECK(server_config_of({{"log.dir", "/one"}, {"log.dirs", "/two"}}).log_dirs() == std::vector<std::string>{"/two"});
  CHECK(refusal({{"log.dirs", " , "}}).find("log.dirs or log.dir") != std::string::npos);
}

TEST_CASE("server config: retention precedence is ms > minutes > hours", "[config][server]") {
  CHECK(server_config_of({{"log.retention.hours", "1"}}).log_retention_ms() == 3600000);
  CHECK(server_config_of({{"log.retention.hours", "1"}, {"log.retention.minutes", "2"}}).log_retention_ms() == 120000);
  CHECK(server_config_of({{"log.retention.hours", "1"}, {"log.retention.minutes", "2"}, {"log.retention.ms", "500"}})
            .log_retention_ms() == 500);
  CHECK(server_config_of({{"log.retention.ms", "-1"}}).log_retention_ms() == -1);
  CHECK(server_config_of({{"log.retention.hours", "-5"}}).log_retention_ms() == -1);  // any negative: no limit
  CHECK(refusal({{"log.retention.ms", "0"}}).find("log.retention.ms") != std::string::npos);
  CHECK(refusal({{"log.retention.minutes", "0"}}).find("log.retention.minutes") != std::string::npos);
  // An explicit, valid ms setting hides a zero in a less precise key.
  CHECK(server_config_of({{"log.retention.hours", "0"}, {"log.retention.ms", "10"}}).log_retention_ms() == 10);
}

TEST_CASE("server config: roll and flush fallbacks", "[config][server]") {
  CHECK(server_config_of({{"log.roll.hours", "2"}}).log_roll_ms() == 7200000);
  CHECK(server_config_of({{"log.roll.hours", "2"}, {"log.roll.ms", "1000"}}).log_roll_ms() == 1000);
  CHECK(server_config_of({{"log.roll.jitter.hours", "1"}}).log_roll_jitter_ms() == 3600000);
  CHECK(server_config_of({{"log.flush.scheduler.interval.ms", "2000"}}).log_flush_interval_ms() == 2000);
  CHECK(server_config_of({{"log.flush.scheduler.interval.ms", "2000"}, {"log.flush.interval.ms", "50"}}).log_flush_interval_ms() ==
        50);
}

TEST_CASE("server config: later duplicates and overrides win", "[config][server]") {
  CHECK(server_config_of({{"num.partitions", "2"}, {"num.partitions", "5"}}).num_partitions() == 5);

  temp_file file("# test\nnum.partitions=4\nlisteners=PLAINTEXT://localhost:9092\n");
  std::vector<std::string> args{file.path.string(), "--override", "num.partitions=7", "--override",
                                "log.dirs=/x=y"};
  auto command = parse_command_line(args);
  REQUIRE(command.ok());
  CHECK(command->properties_path == file.path.string());
  auto c = server_config::load(*command);
  REQUIRE(c.ok());
  CHECK(c->num_partitions() == 7);
  CHECK(c->log_dirs() == std::vector<std::string>{"/x=y"});  // only the first '=' separates
  CHECK(c->listeners()[0].host == "localhost");
}

TEST_CASE("server config: --ephemeral sits between the file and the overrides", "[config][server]") {
  temp_file file("log.dirs=/from/file\nnum.partitions=4\ngroup.initial.rebalance.delay.ms=3000\n");
  std::vector<std::string> args{file.path.string(), "--ephemeral", "--exit-on-stdin-eof", "--override",
                                "brook.log.fsync=true"};
  auto command = parse_command_line(args);
  REQUIRE(command.ok());
  CHECK(command->ephemeral);
  CHECK(command->exit_on_stdin_eof);
  auto c = server_config::load(*command, ephemeral_properties("/tmp/brook-test"));
  REQUIRE(c.ok());
  CHECK(c->log_dirs() == std::vector<std::string>{"/tmp/brook-test"});  // over the file
  CHECK(c->group_initial_rebalance_delay_ms() == 0);
  CHECK(c->num_partitions() == 4);                                     // the file's, untouched
  CHECK(c->brook_log_fsync());                                         // the override wins
  REQUIRE(c->listeners().size() == 1);
  CHECK(c->listeners()[0].host == "127.0.0.1");
  CHECK(c->listeners()[0].port == 0);

  auto plain = server_config::load(command_line{}, ephemeral_properties("/tmp/brook-test"));
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->brook_log_fsync());
  CHECK(server_config::defaults().brook_log_fsync());
  CHECK_FALSE(parse_command_line(std::vector<std::string>{})->ephemeral);
  CHECK(command_line_usage("brook-server").find("--exit-on-stdin-eof") != std::string::npos);
}

TEST_CASE("server config: command line shapes", "[config][server]") {
  auto none = parse_command_line(std::vector<std::string>{});
  REQUIRE(none.ok());
  CHECK_FALSE(none->properties_path);
  CHECK(server_config::load(*none).ok());

  CHECK(parse_command_line(std::vector<std::string>{"--help"})->help);
  CHECK(parse_command_line(std::vector<std::string>{"--version"})->version);
  CHECK_FALSE(parse_command_line(std::vector<std::string>{"--override"}).ok());
  CHECK_FALSE(parse_command_line(std::vector<std::string>{"--override", "novalue"}).ok());
  CHECK_FALSE(parse_command_line(std::vector<std::string>{"a.properties", "b.properties"}).ok());
  CHECK_FALSE(parse_command_line(std::vector<std::string>{"--bogus"}).ok());
  CHECK(command_line_usage("brook-server").find("--override") != std::string::npos);

  command_line missing;
  missing.properties_path = "/nonexistent/server.properties";
  auto r = server_config::load(missing);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("/nonexistent/server.properties") != std::string::npos);
}

TEST_CASE("server config: listener-prefixed keys are kept for their listener, over the broker-wide key",
          "[config][server]") {
  const std::string jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"b\";";
  auto c = server_config_of({{"listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas},
                             {"listener.name.internal.ssl.keystore.location", "/etc/internal.pem"},
                             {"ssl.keystore.location", "/etc/broker.pem"},
                             {"listener.name.broken", "no key after the listener"}});
  CHECK(c.warnings().size() == 1);  // only the key that names no setting
  CHECK(c.warnings()[0].find("listener.name.broken") != std::string::npos);
  CHECK(c.listener_settings().size() == 2);
  // Listener names are matched as Kafka writes them in the prefix, lower-cased.
  CHECK(c.listener_setting("SASL_PLAINTEXT", "plain.sasl.jaas.config") == jaas);
  CHECK(c.listener_setting("sasl_plaintext", "plain.sasl.jaas.config") == jaas);
  CHECK(c.listener_setting("INTERNAL", "ssl.keystore.location") == "/etc/internal.pem");
  // Another listener falls back to the broker-wide key when it is set, and to nothing otherwise.
  CHECK(c.listener_setting("EXTERNAL", "ssl.keystore.location") == "/etc/broker.pem");
  CHECK(c.listener_setting("EXTERNAL", "plain.sasl.jaas.config") == std::nullopt);
  CHECK(server_config_of({}).listener_setting("EXTERNAL", "ssl.keystore.location") == std::nullopt);
}

TEST_CASE("server config: unknown keys warn and are ignored", "[config][server]") {
  auto c = server_config_of({{"zookeeper.connect", "localhost:2181"}, {"num.partitions", "2"}});
  REQUIRE(c.warnings().size() == 1);
  CHECK(c.warnings()[0].find("zookeeper.connect") != std::string::npos);
  CHECK(c.num_partitions() == 2);
}

TEST_CASE("server config: invalid values are refused naming key and value", "[config][server]") {
  CHECK(refusal({{"num.partitions", "many"}}) ==
        "Invalid value many for configuration num.partitions: Not a number of type INT");
  CHECK(refusal({{"num.partitions", "0"}}) ==
        "Invalid value 0 for configuration num.partitions: Value must be at least 1");
  CHECK(refusal({{"log.segment.bytes", "13"}}).find("log.segment.bytes") != std::string::npos);
  auto rf = refusal({{"default.replication.factor", "3"}});
  CHECK(rf.find("default.replication.factor") != std::string::npos);
  CHECK(rf.find("Invalid value 3") != std::string::npos);
  CHECK(refusal({{"auto.create.topics.enable", "maybe"}}).find("auto.create.topics.enable") != std::string::npos);
  CHECK(refusal({{"log.cleanup.policy", "delete,shred"}}).find("shred") != std::string::npos);
  CHECK(refusal({{"compression.type", "brotli"}}).find("compression.type") != std::string::npos);
}

TEST_CASE("server config: listeners", "[config][server]") {
  auto c = server_config_of({{"listeners", "PLAINTEXT://127.0.0.1:0"}});
  CHECK(c.listeners()[0] == listener_endpoint{"PLAINTEXT", "PLAINTEXT", "127.0.0.1", 0});

  auto ipv6 = server_config_of({{"listeners", "PLAINTEXT://[::1]:9092"}});
  CHECK(ipv6.listeners()[0].host == "::1");

  auto two = server_config_of({{"listeners", "PLAINTEXT://:9092, CONTROLLER://:9093"},
                   {"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"},
                   {"controller.listener.names", "CONTROLLER"}});
  CHECK(two.listeners().size() == 2);
  REQUIRE(two.client_listeners().size() == 1);
  CHECK(two.client_listeners()[0].name == "PLAINTEXT");
  CHECK(two.advertised_listeners() == two.client_listeners());

  auto advertised = server_config_of({{"listeners", "PLAINTEXT://0.0.0.0:9092"}, {"advertised.listeners", "PLAINTEXT://broker:9092"}});
  CHECK(advertised.advertised_listeners()[0].host == "broker");

  auto malformed = refusal({{"listeners", "localhost:9092"}});
  CHECK(malformed.find("listeners") != std::string::npos);
  CHECK(malformed.find("localhost:9092") != std::string::npos);
  CHECK(refusal({{"listeners", "PLAINTEXT://:99999"}}).find("99999") != std::string::npos);
  CHECK(refusal({{"listeners", "PLAINTEXT://:abc"}}).find("Unable to parse") != std::string::npos);
  CHECK(refusal({{"listeners", "SECURE://:9093"}, {"listener.security.protocol.map", "SECURE:KERBEROS"}})
            .find("unknown security protocol KERBEROS") != std::string::npos);
  CHECK(refusal({{"listeners", "FOO://:9093"}}).find("FOO") != std::string::npos);
  CHECK(refusal({{"listeners", "PLAINTEXT://:9092,PLAINTEXT://:9093"}}).find("different name") != std::string::npos);
  CHECK(refusal({{"listeners", "PLAINTEXT://:9092,CLIENT://:9092"},
                 {"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CLIENT:PLAINTEXT"}})
            .find("different port") != std::string::npos);
  CHECK(refusal({{"advertised.listeners", "PLAINTEXT://0.0.0.0:9092"}}).find("advertised.listeners") !=
        std::string::npos);
  CHECK(refusal({{"listeners", ""}}).find("listeners") != std::string::npos);
}

TEST_CASE("server config: node.id and broker.id", "[config][server]") {
  CHECK(server_config_of({}).node_id() == 1);
  CHECK(server_config_of({{"broker.id", "4"}}).node_id() == 4);
  CHECK(server_config_of({{"node.id", "6"}}).node_id() == 6);
  CHECK(server_config_of({{"node.id", "6"}, {"broker.id", "6"}}).node_id() == 6);
  CHECK(refusal({{"node.id", "6"}, {"broker.id", "7"}}).find("broker.id (7) and node.id (6)") != std::string::npos);
  CHECK(refusal({{"node.id", "-1"}}).find("node.id") != std::string::npos);
  CHECK(refusal({{"broker.id", "-1"}}) == "Invalid value -1 for configuration broker.id: Value must be at least 0");
  // Either one stands for the other, as if both were set (Kafka's populateSynonyms); neither: node 1.
  for (const property_list& given : {property_list{{"node.id", "6"}}, property_list{{"broker.id", "6"}}}) {
    auto c = server_config_of(given);
    for (const char* key : {"node.id", "broker.id"}) {
      INFO(given.front().first << " given, " << key);
      CHECK(c.get_int(key) == 6);
      CHECK(c.source(key) == config_source::static_broker_config);
      CHECK(c.original(key) == "6");
    }
  }
  auto neither = server_config_of({});
  CHECK(neither.source("node.id") == config_source::static_broker_config);
  CHECK(neither.get_int("broker.id") == 1);
  // Kafka's definitions: node.id has no default, broker.id's is -1.
  CHECK(server_config::find_definition("node.id")->default_value == std::nullopt);
  CHECK(server_config::find_definition("broker.id")->default_value == "-1");
}

TEST_CASE("server config: describe reports values, sources and synonyms as Kafka does", "[config][server]") {
  auto c = server_config_of({{"log.retention.hours", "24"}, {"num.partitions", "3"}, {"ssl.keystore.password", "secret"}});
  auto entries = c.describe();
  CHECK(entries.size() == server_config::definitions().size());
  CHECK(std::is_sorted(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.name < b.name; }));

  const auto& partitions = entry_named(entries, "num.partitions");
  CHECK(partitions.value == "3");
  CHECK(partitions.source == config_source::static_broker_config);
  CHECK_FALSE(partitions.is_default);
  CHECK(partitions.read_only);
  CHECK(partitions.type == config_type::int_);
  REQUIRE(partitions.synonyms.size() == 2);
  CHECK(partitions.synonyms[0].name == "num.partitions");
  CHECK(partitions.synonyms[0].value == "3");
  CHECK(partitions.synonyms[0].source == config_source::static_broker_config);
  CHECK(partitions.synonyms[1].value == "1");
  CHECK(partitions.synonyms[1].source == config_source::default_config);

  const auto& hours = entry_named(entries, "log.retention.hours");
  CHECK(hours.value == "24");
  CHECK(hours.source == config_source::static_broker_config);
  REQUIRE(hours.synonyms.size() == 2);
  CHECK(hours.synonyms[1].value == "168");

  // log.retention.ms is unset: its value is null and, as in Kafka, the synonyms ahead of it are dropped.
  const auto& ms = entry_named(entries, "log.retention.ms");
  CHECK(ms.value == std::nullopt);
  CHECK(ms.source == config_source::default_config);
  CHECK(ms.is_default);
  CHECK(ms.synonyms.empty());
  CHECK(ms.type == config_type::long_);

  const auto& password = entry_named(entries, "ssl.keystore.password");
  CHECK(password.sensitive);
  CHECK(password.value == std::nullopt);
  CHECK(password.type == config_type::password);
  REQUIRE_FALSE(password.synonyms.empty());
  CHECK(password.synonyms[0].value == std::nullopt);
  CHECK(password.source == config_source::static_broker_config);

  const auto& policy = entry_named(entries, "log.cleanup.policy");
  CHECK(policy.type == config_type::list);
  CHECK(policy.value == "delete");
  CHECK(policy.source == config_source::default_config);
  CHECK_FALSE(policy.documentation.empty());

  CHECK(entry_named(entries, "log.cleaner.min.cleanable.ratio").value == "0.5");
}

TEST_CASE("server config: a retention set in ms reports the hours default as its synonym", "[config][server]") {
  auto c = server_config_of({{"log.retention.ms", "1000"}});
  auto synonyms = c.synonyms_of("log.retention.ms");
  REQUIRE(synonyms.size() == 2);
  CHECK(synonyms[0].name == "log.retention.ms");
  CHECK(synonyms[0].source == config_source::static_broker_config);
  CHECK(synonyms[1].name == "log.retention.hours");
  CHECK(synonyms[1].value == "168");
  CHECK(synonyms[1].source == config_source::default_config);
}

TEST_CASE("server config: the shipped conf/server.properties loads cleanly", "[config][server]") {
  // Tests run from the build tree; find the source tree's conf next to this file.
  std::filesystem::path conf = std::filesystem::path(__FILE__).parent_path() / "../../../conf/server.properties";
  if (!std::filesystem::exists(conf)) return;
  command_line command;
  command.properties_path = conf.string();
  auto c = server_config::load(command);
  REQUIRE(c.ok());
  CHECK(c->warnings().empty());
  CHECK(c->listeners()[0] == listener_endpoint{"PLAINTEXT", "PLAINTEXT", "localhost", 9092});
  CHECK(c->log_dirs() == std::vector<std::string>{"./data"});
  CHECK(c->group_initial_rebalance_delay_ms() == 0);
  CHECK(c->num_partitions() == 1);
  CHECK(c->auto_create_topics_enable());
}
