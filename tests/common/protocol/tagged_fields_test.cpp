#include <catch2/catch.hpp>

#include "common/protocol/messages/fetch.hpp"

using namespace brook::common::protocol;

// A known tagged field whose declared size is larger than its value: the value is read and the rest
// of what the tag declared is ignored, as Kafka reads what it needs and never checks the remainder.
TEST_CASE("bytes after a known tagged field's value, within its declared size, are ignored") {
  fetch::request req;
  req.cluster_id = "abc";  // tag 0 of Fetch v12+
  writer w;
  req.encode(w, 12);
  bytes data = w.take();
  const bytes tail{0x01, 0x00, 0x04, 0x04, 'a', 'b', 'c'};  // one tagged field: tag 0, size 4, "abc"
  REQUIRE(data.size() > tail.size());
  REQUIRE(bytes(data.end() - tail.size(), data.end()) == tail);
  data.resize(data.size() - tail.size());
  for (uint8_t b : bytes{0x01, 0x00, 0x06, 0x04, 'a', 'b', 'c', 0xff, 0xff}) data.push_back(b);
  reader r(data);
  fetch::request back;
  back.decode(r, 12);
  CHECK(r.remaining() == 0);
  CHECK(back.cluster_id == std::optional<std::string>("abc"));
}
