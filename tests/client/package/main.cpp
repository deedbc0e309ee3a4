// Uses the installed public headers only: each client refuses an unknown configuration key by name.
#include <brook/client/admin.hpp>
#include <brook/client/consumer.hpp>
#include <brook/client/producer.hpp>

#include <iostream>
#include <string>

int main() {
  int failures = 0;
  auto expect_refused = [&](const char* what, const auto& created) {
    if (created || created.err().code != brook::client::kafka_error::invalid_config ||
        created.err().message.find("'no.such.key'") == std::string::npos) {
      std::cerr << what << ": an unknown key was not refused by name\n";
      ++failures;
    }
  };
  const brook::client::properties bad{{"bootstrap.servers", "localhost:9092"}, {"no.such.key", "1"}};
  expect_refused("producer", brook::client::producer::create(bad));
  expect_refused("consumer", brook::client::consumer::create(bad));
  expect_refused("admin client", brook::client::admin_client::create(bad));
  auto producer = brook::client::producer::create({{"bootstrap.servers", "localhost:9092"}});
  if (!producer) {
    std::cerr << "producer: " << producer.err().message << "\n";
    ++failures;
  }
  if (failures == 0) std::cout << "the installed brook::client works\n";
  return failures == 0 ? 0 : 1;
}
