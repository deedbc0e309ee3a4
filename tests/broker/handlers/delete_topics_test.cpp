// DeleteTopics, in process: by name and by id; with an authorizer only topics the principal may DELETE.
#include <catch2/catch.hpp>

#include "acl_test_util.hpp"
#include "common/protocol/messages/delete_topics.hpp"
#include "group_test_util.hpp"

namespace dt = brook::common::protocol::delete_topics;
using brook::common::kafka_error;
using brook::common::wire_code;

TEST_CASE("DeleteTopics deletes by name and by id and answers UNKNOWN_TOPIC_ID for an unknown id") {
  brook::test::broker_fixture b;
  brook::test::create_topic(b.client(), "by-name");
  const auto id = brook::test::create_topic_with_id(b.client(), "by-id");
  dt::request req;
  req.topics.push_back({std::string("by-name"), {}});
  req.topics.push_back({std::nullopt, id});
  req.topics.push_back({std::nullopt, brook::common::uuid::random()});
  auto resp = b.call<dt::response>(dt::api_key, 6, req);
  REQUIRE(resp.responses.size() == 3);
  CHECK(resp.responses[0].error_code == 0);
  CHECK(resp.responses[1].error_code == 0);
  CHECK(resp.responses[1].name == "by-id");
  CHECK(resp.responses[2].error_code == wire_code(kafka_error::unknown_topic_id));
}

TEST_CASE("with an authorizer DeleteTopics needs DELETE on the cluster or the topic") {
  namespace t = brook::test;
  using t::sec::acl_operation;
  using t::sec::resource_type;
  t::broker_fixture b({t::standard_authorizer});
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::create),
               t::allowing(resource_type::topic, "gone", acl_operation::delete_)});
  t::create_topic(b.client(), "gone");
  t::create_topic(b.client(), "kept");
  const auto hidden_id = t::create_topic_with_id(b.client(), "hidden");
  dt::request req;
  req.topics.push_back({std::string("gone"), {}});
  req.topics.push_back({std::string("kept"), {}});
  req.topics.push_back({std::nullopt, hidden_id});
  auto resp = b.call<dt::response>(dt::api_key, 6, req);
  REQUIRE(resp.responses.size() == 3);
  CHECK(resp.responses[0].error_code == 0);
  CHECK(resp.responses[1].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK(resp.responses[1].name == "kept");
  // Asked for by id without DESCRIBE: refused without its name.
  CHECK(resp.responses[2].error_code == wire_code(kafka_error::topic_authorization_failed));
  CHECK_FALSE(resp.responses[2].name.has_value());
  CHECK(b.server().topics().find(std::string("kept")));
  t::grant(b, {t::allowing(resource_type::cluster, "kafka-cluster", acl_operation::delete_)});
  dt::request again;
  again.topic_names = {"kept"};
  CHECK(b.call<dt::response>(dt::api_key, 5, again).responses.at(0).error_code == 0);
}
