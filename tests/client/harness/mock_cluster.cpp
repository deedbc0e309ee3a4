// brook_mock_cluster BROKERS: librdkafka's mock Kafka cluster as a program the client tests control.
//
// Prints the cluster's bootstrap list ("127.0.0.1:p1,127.0.0.1:p2,...") as its first line, then reads one
// command a line on stdin and answers each with one line, "ok" or "error <reason>":
//   create TOPIC PARTITIONS [REPLICATION]      a topic (replication defaults to min(3, BROKERS))
//   leader TOPIC PARTITION BROKER              moves a partition's leader (-1: none)
//   down BROKER | up BROKER                    closes a broker's listener and connections / opens it again
//   coordinator group|txn KEY BROKER           pins a group's or transactional id's coordinator
//   rtt BROKER MILLISECONDS                    delays every response of a broker
//   request-errors API_KEY CODE [CODE...]      the next requests of that API key fail with these codes
//   request-errors-clear API_KEY               drops the codes not yet used
// and exits when stdin closes. Brokers are numbered 1..BROKERS. The mock serves only part of the protocol
// (Produce, Fetch, ListOffsets, Metadata v0-2, the group and transaction APIs; not CreateTopics, not
// DeleteTopics, not the admin APIs), which is why topics are made here.
//
// The main thread owns the rd_kafka_t handle and the cluster; the cluster runs its brokers on librdkafka's
// own thread, and each call below waits for that thread to have applied the change.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string answer(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return "ok";
  return std::string("error ") + rd_kafka_err2name(err) + ": " + rd_kafka_err2str(err);
}

bool read_int(std::istringstream& in, long long& out) {
  std::string word;
  if (!(in >> word)) return false;
  char* end = nullptr;
  out = std::strtoll(word.c_str(), &end, 10);
  return end && *end == '\0' && !word.empty();
}

std::string run(rd_kafka_mock_cluster_t* cluster, int brokers, const std::string& line) {
  std::istringstream in(line);
  std::string command;
  if (!(in >> command)) return "error empty command";
  long long a = 0, b = 0;
  std::string name, extra;
  if (command == "create") {
    long long replication = std::min(3, brokers);
    if (!(in >> name) || !read_int(in, a)) return "error usage: create TOPIC PARTITIONS [REPLICATION]";
    if (in >> extra) {
      char* end = nullptr;
      replication = std::strtoll(extra.c_str(), &end, 10);
      if (!end || *end != '\0') return "error usage: create TOPIC PARTITIONS [REPLICATION]";
    }
    if (a <= 0 || replication <= 0 || replication > brokers) return "error partitions or replication out of range";
    return answer(rd_kafka_mock_topic_create(cluster, name.c_str(), static_cast<int>(a), static_cast<int>(replication)));
  }
  if (command == "leader") {
    if (!(in >> name) || !read_int(in, a) || !read_int(in, b)) return "error usage: leader TOPIC PARTITION BROKER";
    return answer(rd_kafka_mock_partition_set_leader(cluster, name.c_str(), static_cast<int32_t>(a),
                                                     static_cast<int32_t>(b)));
  }
  if (command == "down" || command == "up") {
    if (!read_int(in, a)) return "error usage: " + command + " BROKER";
    if (a < 1 || a > brokers) return "error no broker " + std::to_string(a);
    return answer(command == "down" ? rd_kafka_mock_broker_set_down(cluster, static_cast<int32_t>(a))
                                    : rd_kafka_mock_broker_set_up(cluster, static_cast<int32_t>(a)));
  }
  if (command == "coordinator") {
    std::string type;
    if (!(in >> type >> name) || !read_int(in, a)) return "error usage: coordinator group|txn KEY BROKER";
    if (type != "group" && type != "txn") return "error the coordinator type is group or txn";
    return answer(rd_kafka_mock_coordinator_set(cluster, type == "group" ? "group" : "transaction", name.c_str(),
                                                static_cast<int32_t>(a)));
  }
  if (command == "rtt") {
    if (!read_int(in, a) || !read_int(in, b)) return "error usage: rtt BROKER MILLISECONDS";
    return answer(rd_kafka_mock_broker_set_rtt(cluster, static_cast<int32_t>(a), static_cast<int>(b)));
  }
  if (command == "request-errors") {
    if (!read_int(in, a)) return "error usage: request-errors API_KEY CODE [CODE...]";
    std::vector<rd_kafka_resp_err_t> codes;
    while (read_int(in, b)) codes.push_back(static_cast<rd_kafka_resp_err_t>(b));
    if (codes.empty()) return "error usage: request-errors API_KEY CODE [CODE...]";
    rd_kafka_mock_push_request_errors_array(cluster, static_cast<int16_t>(a), codes.size(), codes.data());
    return "ok";
  }
  if (command == "request-errors-clear") {
    if (!read_int(in, a)) return "error usage: request-errors-clear API_KEY";
    rd_kafka_mock_clear_request_errors(cluster, static_cast<int16_t>(a));
    return "ok";
  }
  return "error unknown command '" + command + "'";
}

}  // namespace

int main(int argc, char** argv) {
  const int brokers = argc == 2 ? std::atoi(argv[1]) : 0;
  if (brokers < 1) {
    std::fprintf(stderr, "usage: %s BROKERS\n", argv[0]);
    return 2;
  }
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster; errors only, so that the test output stays readable.
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "%s\n", errstr);
    return 1;
  }
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!handle) {
    std::fprintf(stderr, "cannot create the librdkafka handle: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle, brokers);
  if (!cluster) {
    std::fprintf(stderr, "cannot create a mock cluster of %d brokers\n", brokers);
    rd_kafka_destroy(handle);
    return 1;
  }
  std::cout << rd_kafka_mock_cluster_bootstraps(cluster) << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::cout << run(cluster, brokers, line) << std::endl;
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(handle);
  return 0;
}
