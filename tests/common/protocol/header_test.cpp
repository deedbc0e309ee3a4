#include <catch2/catch.hpp>

#include "common/protocol/header.hpp"

using namespace brook::common::protocol;

TEST_CASE("request header versions follow the API's flexible versions") {
  CHECK(request_header_version(3, 8) == 1);    // Metadata v8: classic
  CHECK(request_header_version(3, 9) == 2);    // Metadata v9: flexible
  CHECK(request_header_version(18, 3) == 2);   // ApiVersions v3
  CHECK(request_header_version(18, 99) == 2);  // a future ApiVersions is read as flexible
  CHECK(request_header_version(9999, 0) == -1);
  CHECK(response_header_version(18, 3) == 0);  // ApiVersions always answers with header v0
  CHECK(response_header_version(3, 9) == 1);
}

TEST_CASE("request header v2 round-trips and skips tagged fields") {
  request_header h{3, 12, 42, std::string("kcat")};
  writer w;
  encode_request_header(w, h);
  CHECK(w.data() == bytes{0, 3, 0, 12, 0, 0, 0, 42, 0, 4, 'k', 'c', 'a', 't', 0});
  reader r(w.data());
  CHECK(decode_request_header(r) == h);

  bytes with_tag{0, 3, 0, 12, 0, 0, 0, 42, 0xff, 0xff, 1, 5, 2, 'x', 'y'};
  reader r2(with_tag);
  auto h2 = decode_request_header(r2);
  CHECK_FALSE(h2.client_id.has_value());
  CHECK(r2.remaining() == 0);
}
