// The GoogleTest fixtures of brook/embedded/gtest.hpp as a test program uses them (its own program,
// brook_embedded_gtest, with GoogleTest's main).
#include "brook/embedded/gtest.hpp"

#include <brook/client/consumer.hpp>
#include <brook/client/producer.hpp>

namespace {

int64_t end_offset(const std::string& servers, const std::string& topic) {
  auto c = brook::client::consumer::create({{"bootstrap.servers", servers}});
  if (!c) return -1;
  auto ends = (*c)->end_offsets({{topic, 0}});
  return ends ? ends->at({topic, 0}) : -1;
}

using SharedBrokerTest = brook::embedded::gtest::shared_broker_test;

TEST_F(SharedBrokerTest, ProducesToATopicOfItsOwn) {
  ASSERT_TRUE(brook().create_topic("gtest-topic", 1));
  auto producer = brook::client::producer::create({{"bootstrap.servers", bootstrap_servers()}});
  ASSERT_TRUE(producer);
  brook::client::record r;
  r.topic = "gtest-topic";
  r.partition = 0;
  r.value = "hello";
  auto report = (*producer)->send_sync(std::move(r));
  ASSERT_TRUE(report.ok()) << report.error.message;
  EXPECT_EQ(end_offset(bootstrap_servers(), "gtest-topic"), 1);
}

TEST_F(SharedBrokerTest, FindsTheBrokerResetBeforeIt) {
  ASSERT_TRUE(brook().create_topic("gtest-topic", 1));
  EXPECT_EQ(end_offset(bootstrap_servers(), "gtest-topic"), 0);
}

class CompactedByDefaultTest : public brook::embedded::gtest::fresh_broker_test {
 protected:
  brook::embedded::options options() const override { return {.overrides = {"log.cleanup.policy=compact"}}; }
};

TEST_F(CompactedByDefaultTest, RunsABrokerOfItsOwn) {
  ASSERT_TRUE(brook().create_topic("own", 1));
  ASSERT_TRUE(brook().restart());
  EXPECT_EQ(end_offset(bootstrap_servers(), "own"), 0);
}

}  // namespace
