// The cluster the client scenario tests run against, chosen per test process by the environment:
//   BROOK_TEST_CLUSTER=brook (default)  a brook-server process (BROOK_SERVER: its path) on a free port
//                                       with a temporary data directory
//   BROOK_TEST_CLUSTER=mock             librdkafka's mock cluster of 3 brokers, run by the
//                                       brook_mock_cluster program (BROOK_MOCK_CLUSTER: its path)
//   BROOK_TEST_CLUSTER=kafka            the one real Kafka broker shared by the whole test run, whose
//                                       bootstrap is in the file named by BROOK_KAFKA_BOOTSTRAP_FILE
// The same test code runs against all three; what a cluster cannot do is skipped with BROOK_SKIP.
//
// cluster_under_test::current() starts the cluster on first use and shares it with every test case of the
// process; it is stopped when the process exits (and a started process dies with the test process).
// Tests stay independent of their order by naming topics and groups with unique_name(). All calls are
// made from the test thread; failures fail the test (Catch2 REQUIRE).
//
// ctest runs each test case in its own process, once per cluster ("client[brook]:...", "client[mock]:...",
// "client[kafka]:..."), with the environment set. By hand, e.g.:
//   BROOK_TEST_CLUSTER=mock BROOK_MOCK_CLUSTER=build/bin/brook_mock_cluster build/bin/brook_client_scenarios
//   BROOK_SERVER=build/bin/brook-server build/bin/brook_client_scenarios "[tag]"
//   tests/client/kafka/kafka_broker.py start --bootstrap-file /tmp/kafka-bootstrap, then
//   BROOK_TEST_CLUSTER=kafka BROOK_KAFKA_BOOTSTRAP_FILE=/tmp/kafka-bootstrap build/bin/brook_client_scenarios,
//   and kafka_broker.py stop --bootstrap-file /tmp/kafka-bootstrap.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages/metadata.hpp"
#include "tests/support/wire_client.hpp"

namespace brook::test {

enum class cluster_kind { brook, mock, kafka };

// A broker as Metadata advertises it.
struct broker_address {
  int32_t node_id = -1;
  std::string host;
  uint16_t port = 0;
};

class cluster_under_test {
 public:
  // The cluster of this process (BROOK_TEST_CLUSTER), started on the first call. When the cluster cannot
  // be had for a reason outside the test (no Kafka in this run, a program not built), the test is skipped.
  static cluster_under_test& current();

  virtual ~cluster_under_test();
  cluster_under_test(const cluster_under_test&) = delete;
  cluster_under_test& operator=(const cluster_under_test&) = delete;

  cluster_kind kind() const { return kind_; }
  // "brook", "mock" or "kafka".
  std::string_view name() const;
  // "host:port[,host:port...]", as a client's bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }
  // The number of brokers the cluster advertises (3 on mock, 1 otherwise).
  int broker_count() const { return broker_count_; }

  // "<prefix>-<pid>-<counter>-<random>": a topic or group name no other test of any process uses
  // (several processes share the Kafka broker).
  std::string unique_name(std::string_view prefix);

  // Creates a topic and returns once Metadata shows every partition with a leader. Brook and Kafka:
  // CreateTopics (replication factor 1) with `configs`; mock: its control program (replication
  // min(3, brokers)); the mock has no topic configs, so non-empty `configs` skip the test there.
  void create_topic(const std::string& topic, int32_t partitions, const std::map<std::string, std::string>& configs = {});

  // Fault injection: only the mock cluster has it. The calls below skip the test on other clusters;
  // check supports_faults() first to skip with a better reason.
  bool supports_faults() const { return kind_ == cluster_kind::mock; }
  // Moves the leader of a partition (-1: no leader); Metadata shows it at once.
  void set_leader(const std::string& topic, int32_t partition, int32_t broker_id);
  // Closes the broker's listener and connections (connecting is refused) / opens it again on the same
  // port. Leaders do not move.
  void broker_down(int32_t broker_id);
  void broker_up(int32_t broker_id);
  // Pins the coordinator of a group ("group") or of a transactional id ("txn").
  void set_coordinator(std::string_view key_type, const std::string& key, int32_t broker_id);
  // Delays every response of a broker by `ms`.
  void set_rtt(int32_t broker_id, int ms);
  // The next requests of `api_key` (to any broker) fail with these error codes, one request each.
  void push_request_errors(int16_t api_key, const std::vector<int16_t>& error_codes);

  // Raw protocol helpers for tests and for the harness itself.
  // A new connection to the first bootstrap broker that accepts one.
  wire_client connect(std::string client_id = "brook-scenario-test");
  // The newest version of `api_key` that both the cluster (its ApiVersions, asked once) and Brook's
  // codecs speak; -1 when there is none.
  int16_t version_for(int16_t api_key);
  // Metadata for `topics` (empty: brokers only) at version_for(Metadata), never auto-creating a topic.
  common::protocol::metadata::response metadata(const std::vector<std::string>& topics = {});
  // The leader of `topic`'s `partition` in Metadata (fails the test when there is no such partition).
  int32_t leader_of(const std::string& topic, int32_t partition);
  // The brokers Metadata advertises, by node id.
  std::vector<broker_address> brokers();

 protected:
  cluster_under_test(cluster_kind kind, std::string bootstrap, int broker_count);
  // Sends one command to the mock's control program; "ok" or the error it answered.
  virtual std::string mock_command(const std::string& line);
  void create_topic_with_create_topics(const std::string& topic, int32_t partitions,
                                       const std::map<std::string, std::string>& configs);
  void wait_for_leaders(const std::string& topic, int32_t partitions);
  // Whether the leader answers ListOffsets for every partition; `why` names the first that it does not.
  bool partitions_served(const std::string& topic, int32_t partitions, std::string& why);

 private:
  void require_mock_command(const std::string& what, const std::string& line);

  cluster_kind kind_;
  std::string bootstrap_;
  int broker_count_;
  uint64_t names_made_ = 0;
  std::optional<std::map<int16_t, std::pair<int16_t, int16_t>>> api_ranges_;  // asked once
};

// Ends the current test as skipped, printing "SKIP: <reason>". Under ctest (BROOK_TEST_SKIP_CODE set,
// e.g. 77) the process exits with that code, which ctest reports as skipped; run by hand, the test
// returns with a warning and counts as passed. Use the macro, which returns from the test case.
void skip_test(std::string_view reason);
#define BROOK_SKIP(reason)               \
  do {                                   \
    ::brook::test::skip_test((reason));  \
    return;                              \
  } while (0)

}  // namespace brook::test
