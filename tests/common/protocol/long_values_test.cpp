#include <catch2/catch.hpp>

#include "common/protocol/messages/create_topics.hpp"
#include "common/protocol/wire.hpp"

using namespace brook::common::protocol;

// A CreateTopics answer to a 32767-character topic name: the name fits (Kafka allows no longer),
// and the error message quoting it is cut to fit rather than written with a wrapped length.
TEST_CASE("a CreateTopics response quoting a 32767-character name encodes with every length intact") {
  const std::string name(0x7fff, 'n');
  for (int16_t v : {int16_t{4}, int16_t{5}, int16_t{7}}) {
    create_topics::response resp;
    auto& r = resp.topics.emplace_back();
    r.name = name;
    r.error_code = 17;  // INVALID_TOPIC_EXCEPTION
    r.error_message = "Topic name is illegal, it can't be longer than 249 characters, topic name: " + name;
    writer w;
    resp.encode(w, v);
    reader rd(w.data());
    create_topics::response back;
    back.decode(rd, v);
    CHECK(rd.remaining() == 0);
    REQUIRE(back.topics.size() == 1);
    CHECK(back.topics[0].name == name);
    REQUIRE(back.topics[0].error_message);
    CHECK(back.topics[0].error_message->size() == max_string_bytes);
    CHECK(back.topics[0].error_message->starts_with("Topic name is illegal"));
  }
}
