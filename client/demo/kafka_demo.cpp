// kafka-demo: the walk-through program Brook grew from, on Brook's own client. The producer sends five
// keyed messages (the same key always lands on the same partition, in order); the consumer joins a
// consumer group, reads from the group's committed offsets (or from the beginning for a new group) and
// prints every message until Ctrl+C, or until -count messages.
//
//   kafka-demo -mode producer [-topic test-topic] [-brokers localhost:9092]
//   kafka-demo -mode consumer [-topic test-topic] [-group my-group] [-brokers localhost:9092] [-count N]
//
// Flags are spelt as Go's flag package takes them (-mode producer, -mode=producer, --mode producer).
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "brook/client/consumer.hpp"
#include "brook/client/producer.hpp"

namespace {

std::atomic<bool> stop_requested{false};

void on_signal(int) { stop_requested = true; }

struct demo_options {
  std::string mode;
  std::string topic = "test-topic";
  std::string group = "my-group";
  std::string brokers = "localhost:9092";
  int64_t count = 0;  // 0: until interrupted
};

// Go's flag package takes -name as well as --name; CLI11 wants --name for long options.
std::vector<std::string> go_style_flags(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 2 && a[0] == '-' && a[1] != '-') a = "-" + a;
    args.push_back(std::move(a));
  }
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  return args;
}

int run_producer(const demo_options& o) {
  std::cout << "=== Starting Kafka Producer Demo ===" << std::endl;
  auto created = brook::client::producer::create({{"bootstrap.servers", o.brokers}, {"client.id", "kafka-demo"}});
  if (!created) {
    std::cerr << "Failed to create producer: " << created.err().message << std::endl;
    return 1;
  }
  auto& producer = **created;
  const std::vector<std::pair<std::string, std::string>> messages = {
      {"user-1", "Hello from Kafka Producer!"},
      {"user-2", "This is message number 2"},
      {"user-3", "Learning Kafka topics"},
      {"user-1", "Another message for user-1"},
      {"user-4", "Final test message"},
  };
  int failed = 0;
  for (const auto& [key, value] : messages) {
    brook::client::record r;
    r.topic = o.topic;
    r.key = key;
    r.value = value;
    const auto report = producer.send_sync(std::move(r));
    if (!report.ok()) {
      std::cerr << fmt::format("Failed to send message: {} (key {})", report.error.message, key) << std::endl;
      ++failed;
      continue;
    }
    std::cout << fmt::format("Message sent successfully! Topic: {}, Partition: {}, Offset: {}, Key: {}", report.topic,
                             report.partition, report.offset, key)
              << std::endl;
  }
  producer.close();
  return failed == 0 ? 0 : 1;
}

// Prints "Consumer group session setup" when the group hands this consumer its partitions.
class session_listener : public brook::client::rebalance_listener {
 public:
  void on_partitions_assigned(const std::vector<brook::client::topic_partition>& partitions) override {
    std::cout << "Consumer group session setup" << std::endl;
  }
};

int run_consumer(const demo_options& o) {
  std::cout << "=== Starting Kafka Consumer Demo ===" << std::endl;
  auto created = brook::client::consumer::create({{"bootstrap.servers", o.brokers},
                                                  {"group.id", o.group},
                                                  {"client.id", "kafka-demo"},
                                                  {"auto.offset.reset", "earliest"},
                                                  {"enable.auto.commit", "false"}});
  if (!created) {
    std::cerr << "Failed to create consumer: " << created.err().message << std::endl;
    return 1;
  }
  auto& consumer = **created;
  if (auto s = consumer.subscribe({o.topic}, std::make_shared<session_listener>()); !s) {
    std::cerr << "Failed to subscribe: " << s.err().message << std::endl;
    return 1;
  }
  int64_t seen = 0;
  int status = 0;
  // Exactly the messages printed count as consumed: their offsets are committed after each poll (and a
  // consumer stopped by -count in the middle of a batch leaves the rest for the next member).
  brook::client::topic_partition_offsets printed;
  while (!stop_requested && (o.count == 0 || seen < o.count)) {
    auto records = consumer.poll(std::chrono::milliseconds(200));
    if (!records) {
      std::cerr << "Consumer error: " << records.err().message << std::endl;
      status = 1;
      break;
    }
    for (const auto& r : *records) {
      ++seen;
      std::cout << fmt::format("[Message #{}] Topic: {}, Partition: {}, Offset: {}, Key: {}, Value: {}", seen, r.topic,
                               r.partition, r.offset, r.key.value_or(""), r.value.value_or(""))
                << std::endl;
      printed[brook::client::topic_partition{std::string(r.topic), r.partition}] = brook::client::offset_and_metadata{r.offset + 1, r.leader_epoch, ""};
      if (o.count > 0 && seen >= o.count) break;
    }
    if (!printed.empty()) {
      if (auto c = consumer.commit_sync(printed); !c) std::cerr << "Commit failed: " << c.err().message << std::endl;
      printed.clear();
    }
  }
  if (auto c = consumer.close(); !c) {
    std::cerr << "Failed to close the consumer cleanly: " << c.err().message << std::endl;
    status = 1;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  demo_options o;
  CLI::App app{"The Kafka walk-through demo: a producer of five keyed messages and a consumer group member",
               "kafka-demo"};
  app.add_option("--mode", o.mode, "producer or consumer")->required()->check(CLI::IsMember({"producer", "consumer"}));
  app.add_option("--topic", o.topic, "Topic name")->capture_default_str();
  app.add_option("--group", o.group, "Consumer group (consumer mode)")->capture_default_str();
  app.add_option("--brokers", o.brokers, "Bootstrap brokers, host:port[,host:port...]")->capture_default_str();
  app.add_option("--count", o.count, "Consumer mode: exit after this many messages (0: until Ctrl+C)")
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(go_style_flags(argc, argv));
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return o.mode == "producer" ? run_producer(o) : run_consumer(o);
}
