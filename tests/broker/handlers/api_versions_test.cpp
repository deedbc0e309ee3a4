// ApiVersions, in process: the advertised table, software-name validation, and the v0 answer to a
// version newer than any the broker serves.
#include <catch2/catch.hpp>

#include "broker/api_table.hpp"
#include "broker_fixture.hpp"
#include "common/error.hpp"
#include "common/protocol/messages/api_versions.hpp"

using namespace brook;
namespace proto = common::protocol;
namespace av = proto::api_versions;

TEST_CASE("ApiVersions advertises exactly the handler table, in key order", "[handlers][api_versions]") {
  test::broker_fixture b;
  for (int16_t v = av::min_version; v <= av::max_version; ++v) {
    av::request req;
    req.client_software_name = "brook-test";
    req.client_software_version = "1.0";
    auto resp = b.call<av::response>(av::api_key, v, req);
    CHECK(resp.error_code == 0);
    REQUIRE(resp.api_keys.size() == broker::api_table().size());
    for (size_t i = 1; i < resp.api_keys.size(); ++i) CHECK(resp.api_keys[i - 1].api_key < resp.api_keys[i].api_key);
    for (const auto& k : resp.api_keys) {
      const auto* e = broker::find_api(k.api_key);
      REQUIRE(e != nullptr);
      CHECK(k.min_version == e->min_version);
      CHECK(k.max_version == e->max_version);
    }
  }
}

TEST_CASE("ApiVersions v3 refuses a software name outside Kafka's pattern", "[handlers][api_versions]") {
  test::broker_fixture b;
  av::request req;
  req.client_software_name = "-bad name";
  req.client_software_version = "1.0";
  auto resp = b.call<av::response>(av::api_key, 3, req);
  CHECK(resp.error_code == common::wire_code(common::kafka_error::invalid_request));
  // The connection stays usable.
  req.client_software_name = "good";
  CHECK(b.call<av::response>(av::api_key, 3, req).error_code == 0);
}

TEST_CASE("ApiVersions newer than the broker gets UNSUPPORTED_VERSION in a v0 body", "[handlers][api_versions]") {
  test::broker_fixture b;
  // A v99 request: its body is read as flexible; an empty tagged-field section follows two empty strings.
  const std::vector<uint8_t> body{1, 1, 0};
  auto raw = b.client().call_raw(av::api_key, 99, body);
  REQUIRE(raw);
  proto::reader r(*raw);
  av::response resp;
  resp.decode(r, 0);
  CHECK(resp.error_code == common::wire_code(common::kafka_error::unsupported_version));
  REQUIRE(resp.api_keys.size() == 1);
  CHECK(resp.api_keys[0].api_key == av::api_key);
  CHECK(resp.api_keys[0].max_version == av::max_version);
}
