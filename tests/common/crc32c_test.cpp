#include "common/crc32c.hpp"

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

using brook::common::crc32c;
using brook::common::crc32c_extend;
using brook::common::crc32c_portable;

namespace {
std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
}  // namespace

TEST_CASE("crc32c matches the published check values") {
  CHECK(crc32c(bytes_of("123456789")) == 0xE3069283u);
  CHECK(crc32c({}) == 0u);
  // RFC 3720 (iSCSI) appendix B.4 vectors.
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<uint8_t>(i);
    down[i] = static_cast<uint8_t>(31 - i);
  }
  CHECK(crc32c(zeros) == 0x8A9136AAu);
  CHECK(crc32c(ones) == 0x62A8AB43u);
  CHECK(crc32c(up) == 0x46DD794Eu);
  CHECK(crc32c(down) == 0x113FDB5Cu);
  CHECK(crc32c_portable(0, up) == 0x46DD794Eu);
}

TEST_CASE("crc32c hardware and table paths agree at every length and alignment") {
  std::vector<uint8_t> data(1000);
  uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  for (size_t start = 0; start < 9; ++start)
    for (size_t len = 0; len + start <= data.size(); len += 37) {
      auto s = std::span<const uint8_t>(data).subspan(start, len);
      REQUIRE(crc32c(s) == crc32c_portable(0, s));
    }
}

TEST_CASE("crc32c can be computed in pieces") {
  auto all = bytes_of("The quick brown fox jumps over the lazy dog");
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    uint32_t c = crc32c_extend(crc32c(all.first(cut)), all.subspan(cut));
    REQUIRE(c == crc32c(all));
    REQUIRE(crc32c_portable(crc32c_portable(0, all.first(cut)), all.subspan(cut)) == crc32c(all));
  }
  CHECK(crc32c(all) == 0x22620404u);
}
