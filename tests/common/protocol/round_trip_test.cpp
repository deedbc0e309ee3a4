// Every message of every API at every version the schema declares: a populated example encodes,
// decodes back to an equal value consuming every byte, and re-encodes to the same bytes.
#include <catch2/catch.hpp>

#include <set>

#include "common/protocol/messages/catalog.hpp"
#include "common/protocol/messages/examples.hpp"

using namespace brook::common::protocol;

TEST_CASE("every (API, version) round-trips through its codec") {
  auto cases = all_examples();
  std::set<std::tuple<std::string, bool, int16_t>> covered;
  for (const auto& c : cases) {
    INFO(c.api << (c.request ? " request" : " response") << " v" << c.version << " variant " << c.variant);
    bytes first = c.encode();
    std::string why;
    CHECK(c.decode_matches(first, why));
    INFO(why);
    CHECK(c.encode() == first);
    covered.insert({c.api, c.request, c.version});
  }
  // Nothing in the catalogue is left without examples.
  for (const auto& s : all_api_schemas())
    for (int16_t v = s.min_version; v <= s.max_version; ++v) {
      CHECK(covered.count({std::string(s.name), true, v}) == 1);
      CHECK(covered.count({std::string(s.name), false, v}) == 1);
    }
}

TEST_CASE("a truncated message never decodes and never reads past its end") {
  for (const auto& c : all_examples()) {
    if (c.variant != 0) continue;
    bytes full = c.encode();
    // Chop at a handful of places; every prefix must be rejected (or, for tag-free tails, be
    // a shorter but still exact message, which the equality check catches).
    for (size_t cut : {size_t{0}, full.size() / 3, full.size() / 2, full.size() - 1}) {
      if (cut >= full.size()) continue;
      bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
      std::string why;
      INFO(c.api << " v" << c.version << " cut at " << cut);
      CHECK_FALSE(c.decode_matches(prefix, why));
    }
  }
}

TEST_CASE("every data message at every version round-trips through its codec") {
  std::set<std::pair<std::string, int16_t>> covered;
  for (const auto& c : all_data_examples()) {
    INFO(c.api << " v" << c.version << " variant " << c.variant);
    bytes first = c.encode();
    std::string why;
    CHECK(c.decode_matches(first, why));
    INFO(why);
    CHECK(c.encode() == first);
    covered.insert({c.api, c.version});
  }
  for (int16_t v = 0; v <= 3; ++v) {
    CHECK(covered.count({"consumer_protocol_subscription", v}) == 1);
    CHECK(covered.count({"consumer_protocol_assignment", v}) == 1);
  }
}
