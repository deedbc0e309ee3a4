#include <catch2/catch.hpp>
#include <string>

#include "broker_fixture.hpp"
#include "common/protocol/messages/metadata.hpp"

namespace proto = brook::common::protocol;
namespace md = proto::metadata;

namespace {
md::request naming(int count, const std::string& prefix) {
  md::request req;
  req.allow_auto_topic_creation = true;
  req.topics.emplace();
  for (int i = 0; i < count; ++i) {
    md::request_topic t;
    t.name = prefix + std::to_string(i);
    req.topics->push_back(t);
  }
  return req;
}
}  // namespace

TEST_CASE("Metadata auto-creates unknown topics only up to 10,000 partitions per request") {
  brook::test::broker_fixture b({"auto.create.topics.enable=true", "num.partitions=1"});
  auto flood = b.call<md::response>(md::api_key, 12, naming(10'001, "flood-"));
  REQUIRE(flood.topics.size() == 10'001);
  for (const auto& t : flood.topics) CHECK(t.error_code == 3);  // UNKNOWN_TOPIC_OR_PARTITION
  CHECK(b.server().topics().all().empty());

  auto few = b.call<md::response>(md::api_key, 12, naming(3, "few-"));
  REQUIRE(few.topics.size() == 3);
  for (const auto& t : few.topics) CHECK(t.error_code == 0);
  CHECK(b.server().topics().all().size() == 3);
}
