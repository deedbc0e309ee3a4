#include "common/crc32c.hpp"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BROOK_CRC32C_X86 1
#include <immintrin.h>
#endif

// The math behind the hardware path. Below, a "raw" CRC is the register without the initial and final
// inversion: raw(c, M) = (c * x^(8|M|) + M * x^32) mod P over GF(2), with bits stored reflected (bit 31 of the
// word is the coefficient of x^0). raw is linear, so for a message A || B:
//   raw(c, A || B) = raw(c, A) * x^(8|B|) mod P  xor  raw(0, B).
// A buffer of three adjacent blocks A, B, C of L bytes each is therefore summed as three independent crc32
// instruction chains (raw(c, A), raw(0, B), raw(0, C)), which the CPU overlaps, combined as
//   raw(c, A) * x^(16L)  xor  raw(0, B) * x^(8L)  xor  raw(0, C)   (mod P).
// The multiplications by the fixed powers of x use PCLMULQDQ: the carry-less product of two reflected 32-bit
// values is, read as a reflected 64-bit value V, their product times x; and crc32(0, V) computes
// V * x^32 mod P. So crc32(0, clmul(a, x^(n - 33) mod P)) == a * x^n mod P, with the constants computed at
// compile time below.

namespace brook::common {

namespace {

constexpr uint32_t castagnoli_reflected = 0x82F63B78u;

// table[k][b]: the CRC of byte b followed by k zero bytes (slicing-by-8).
constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ castagnoli_reflected : c >> 1;
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b)
    for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  return t;
}

constexpr auto tables = make_tables();

uint32_t portable_raw(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    if constexpr (std::endian::native == std::endian::big) {
      lo = __builtin_bswap32(lo);
      hi = __builtin_bswap32(hi);
    }
    lo ^= c;
    c = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^ tables[4][lo >> 24] ^
        tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^ tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xFF];
  return c;
}

#ifdef BROOK_CRC32C_X86

// x^n mod P, reflected (x^0 is 0x80000000; multiplying by x is a right shift, reduced by P on carry-out).
constexpr uint32_t x_pow_mod_p(uint64_t n) {
  uint32_t v = 0x80000000u;
  for (uint64_t i = 0; i < n; ++i) v = (v & 1) ? (v >> 1) ^ castagnoli_reflected : v >> 1;
  return v;
}

// Sanity checks of the constant generator: x^31 is the lowest bit, x^32 mod P is P's low terms.
static_assert(x_pow_mod_p(31) == 1u);
static_assert(x_pow_mod_p(32) == castagnoli_reflected);

// Block sizes of the three streams. Combining costs about as much as a few dozen bytes of crc32, so large
// buffers go in big blocks and what is left (or a small buffer) in small ones; below 3 small blocks, one stream.
constexpr size_t big_block = 4096;
constexpr size_t small_block = 256;

// Multipliers for shifting a stream's CRC past one and two blocks of each size: x^(8L - 33), x^(16L - 33).
constexpr uint32_t big_shift_1 = x_pow_mod_p(8 * big_block - 33);
constexpr uint32_t big_shift_2 = x_pow_mod_p(16 * big_block - 33);
constexpr uint32_t small_shift_1 = x_pow_mod_p(8 * small_block - 33);
constexpr uint32_t small_shift_2 = x_pow_mod_p(16 * small_block - 33);

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

__attribute__((target("sse4.2"))) uint32_t single_stream_raw(uint32_t c, const uint8_t* p, size_t n) {
  uint64_t c64 = c;
  while (n >= 8) {
    c64 = _mm_crc32_u64(c64, load64(p));
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c64);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

// (a * shift_a xor b * shift_b) * x^33 mod P: with shift = x^(n - 33), a and b moved past n zero bytes each.
__attribute__((target("sse4.2,pclmul"))) inline uint32_t combine(uint32_t a, uint32_t shift_a, uint32_t b,
                                                                   uint32_t shift_b) {
  __m128i pa = _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(a)),
                                    _mm_cvtsi32_si128(static_cast<int>(shift_a)), 0x00);
  __m128i pb = _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(b)),
                                    _mm_cvtsi32_si128(static_cast<int>(shift_b)), 0x00);
  auto v = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_xor_si128(pa, pb)));
  return static_cast<uint32_t>(_mm_crc32_u64(0, v));
}

// Consumes whole groups of three blocks of `block` bytes from [p, p + n); returns the raw CRC so far.
template <size_t block>
__attribute__((target("sse4.2,pclmul"))) inline uint32_t three_way(uint32_t c, const uint8_t*& p, size_t& n,
                                                                 uint32_t shift_1, uint32_t shift_2) {
  while (n >= 3 * block) {
    uint64_t a = c, b = 0, d = 0;
    for (size_t i = 0; i < block; i += 8) {
      a = _mm_crc32_u64(a, load64(p + i));
      b = _mm_crc32_u64(b, load64(p + block + i));
      d = _mm_crc32_u64(d, load64(p + 2 * block + i));
    }
    c = combine(static_cast<uint32_t>(a), shift_2, static_cast<uint32_t>(b), shift_1) ^ static_cast<uint32_t>(d);
    p += 3 * block;
    n -= 3 * block;
  }
  return c;
}

__attribute__((target("sse4.2,pclmul"))) uint32_t interleaved_raw(uint32_t c, const uint8_t* p, size_t n) {
  c = three_way<big_block>(c, p, n, big_shift_1, big_shift_2);
  c = three_way<small_block>(c, p, n, small_shift_1, small_shift_2);
  return single_stream_raw(c, p, n);
}

bool cpu_has(crc32c_impl impl) {
  __builtin_cpu_init();
  switch (impl) {
    case crc32c_impl::table:
      return true;
    case crc32c_impl::crc32:
      return __builtin_cpu_supports("sse4.2");
    case crc32c_impl::crc32_3way:
      return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
  }
  return false;
}
#else
bool cpu_has(crc32c_impl impl) { return impl == crc32c_impl::table; }
#endif

crc32c_impl detect_best() {
  for (auto impl : {crc32c_impl::crc32_3way, crc32c_impl::crc32})
    if (cpu_has(impl)) return impl;
  return crc32c_impl::table;
}

// A function-local static so that callers from other static initialisers see it initialised.
crc32c_impl best() {
  static const crc32c_impl impl = detect_best();
  return impl;
}

}  // namespace

uint32_t crc32c_portable(uint32_t crc, std::span<const uint8_t> data) {
  return ~portable_raw(~crc, data.data(), data.size());
}

namespace {
uint32_t extend([[maybe_unused]] crc32c_impl impl, uint32_t crc, std::span<const uint8_t> data) {
#ifdef BROOK_CRC32C_X86
  switch (impl) {
    case crc32c_impl::crc32_3way:
      return ~interleaved_raw(~crc, data.data(), data.size());
    case crc32c_impl::crc32:
      return ~single_stream_raw(~crc, data.data(), data.size());
    case crc32c_impl::table:
      break;
  }
#endif
  return crc32c_portable(crc, data);
}
}  // namespace

uint32_t crc32c_extend_with(crc32c_impl impl, uint32_t crc, std::span<const uint8_t> data) {
  return extend(cpu_has(impl) ? impl : crc32c_impl::table, crc, data);
}

uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data) { return extend(best(), crc, data); }

uint32_t crc32c(std::span<const uint8_t> data) { return crc32c_extend(0, data); }

bool crc32c_supported(crc32c_impl impl) { return cpu_has(impl); }

crc32c_impl crc32c_best_impl() { return best(); }

bool crc32c_hardware_available() { return best() != crc32c_impl::table; }

}  // namespace brook::common
