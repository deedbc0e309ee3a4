#include "common/crc32c.hpp"

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

using brook::common::crc32c;
using brook::common::crc32c_extend;
using brook::common::crc32c_extend_with;
using brook::common::crc32c_impl;
using brook::common::crc32c_portable;
using brook::common::crc32c_supported;

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

namespace {
std::vector<uint8_t> pseudo_random_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> data(n);
  for (auto& b : data) {
    seed = seed * 1103515245u + 12345u;
    b = static_cast<uint8_t>(seed >> 16);
  }
  return data;
}

// Every hardware implementation this CPU runs (crc32c() uses the fastest; the others are checked too).
std::vector<crc32c_impl> hardware_impls() {
  std::vector<crc32c_impl> out;
  for (auto impl : {crc32c_impl::crc32, crc32c_impl::crc32_3way, crc32c_impl::crc32_3way_clmul})
    if (crc32c_supported(impl)) out.push_back(impl);
  return out;
}
}  // namespace

TEST_CASE("crc32c: the best implementation is chosen and every one gives the check value") {
  CHECK(crc32c_supported(crc32c_impl::table));
  CHECK(crc32c_supported(brook::common::crc32c_best_impl()));
  for (auto impl :
       {crc32c_impl::table, crc32c_impl::crc32, crc32c_impl::crc32_3way, crc32c_impl::crc32_3way_clmul}) {
    INFO("implementation " << static_cast<int>(impl));
    // Unsupported ones fall back to the table, so the answer is the same either way.
    CHECK(crc32c_extend_with(impl, 0, bytes_of("123456789")) == 0xE3069283u);
  }
}

// The 3-way path switches between three interleaved streams of big blocks (3 x 4096 bytes), of small blocks
// (3 x 256) and a single stream depending on the length; the folding path between chunks of 4 to 128 steps of
// 136 bytes, three short chains and a single one. Every length up to several of each, at every alignment
// within a cache line, must give the table's answer.
TEST_CASE("crc32c agrees with the table at every length 0..5000 and every alignment 0..63") {
  auto data = pseudo_random_bytes(5000 + 64, 777);
  auto impls = hardware_impls();
  for (size_t start = 0; start < 64; ++start)
    for (size_t len = 0; len <= 5000; ++len) {
      auto s = std::span<const uint8_t>(data).subspan(start, len);
      uint32_t want = crc32c_portable(0, s);
      for (auto impl : impls) {
        uint32_t got = crc32c_extend_with(impl, 0, s);
        if (got != want) {  // a REQUIRE only on a mismatch: about a million passing ones would slow the test
          INFO("implementation " << static_cast<int>(impl) << ", length " << len << " at offset " << start);
          REQUIRE(got == want);
        }
      }
    }
}

TEST_CASE("crc32c agrees with the table on large buffers") {
  auto data = pseudo_random_bytes((1 << 20) + 128, 4242);
  for (auto impl : hardware_impls()) {
    INFO("implementation " << static_cast<int>(impl));
    // Lengths around multiples of the block groups and of the folding chunks (17408 bytes at most, 544 at
    // least), and ones that leave every kind of tail.
    for (size_t len : {size_t{12287}, size_t{12288}, size_t{12289}, size_t{13055}, size_t{13056}, size_t{13057},
                       size_t{16384}, size_t{17407}, size_t{17408}, size_t{17409}, size_t{17408 + 543},
                       size_t{17408 + 544}, size_t{2 * 17408 + 136 * 5 + 23}, size_t{24576 + 768 + 7},
                       size_t{65536}, size_t{100003}, size_t{1 << 20}, size_t{(1 << 20) + 13}})
      for (size_t start : {size_t{0}, size_t{1}, size_t{3}, size_t{61}}) {
        auto s = std::span<const uint8_t>(data).subspan(start, len);
        INFO("length " << len << " at offset " << start);
        REQUIRE(crc32c_extend_with(impl, 0, s) == crc32c_portable(0, s));
      }
    // A CRC continued from a non-zero state through the interleaved and folding paths, the first part summed
    // by the same implementation.
    auto all = std::span<const uint8_t>(data).first((1 << 20) + 13);
    uint32_t want = crc32c_portable(0, all);
    for (size_t cut : {size_t{1}, size_t{3}, size_t{543}, size_t{4095}, size_t{17409}, size_t{40000},
                       size_t{40001}, size_t{(1 << 20) - 7}}) {
      INFO("cut at " << cut);
      REQUIRE(crc32c_extend_with(impl, crc32c(all.first(cut)), all.subspan(cut)) == want);
      REQUIRE(crc32c_extend_with(impl, crc32c_extend_with(impl, 0, all.first(cut)), all.subspan(cut)) == want);
    }
  }
}

TEST_CASE("crc32c of long runs of one byte value") {
  // Zeros keep the raw register of every stream but the first at zero; all-ones fill every register.
  for (uint8_t fill : {uint8_t{0x00}, uint8_t{0xFF}}) {
    std::vector<uint8_t> data(3 * 4096 * 5 + 3 * 256 + 5, fill);
    INFO("fill " << int{fill});
    REQUIRE(crc32c(data) == crc32c_portable(0, data));
  }
}
