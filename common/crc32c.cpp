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
//
// Folding (crc32_3way_clmul): a 16-byte block X of a message, read as a reflected 128-bit value (its low
// 64-bit half H holds the higher powers), is X = H * x^64 + L. Moving it d bytes further along the message
// multiplies it by x^(8d), and
//   X * x^(8d) == clmul(H, x^(8d + 31) mod P) xor clmul(L, x^(8d - 33) mod P)   (mod P),
// a 128-bit value again (each product has degree < 96, and brings its own factor x^33 as above). So a
// 128-bit accumulator absorbs the block d bytes ahead with two PCLMULQDQ and two xors, and stays congruent
// to the data it has consumed. At the end its 16 bytes, fed to crc32 as if they were message bytes, give
// the same raw CRC as the data they stand for.

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

// a * b mod P, both reflected: the sum of a * x^i over the terms x^i of b.
constexpr uint32_t mul_mod_p(uint32_t a, uint32_t b) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i) {
    if ((b >> (31 - i)) & 1) r ^= a;
    a = (a & 1) ? (a >> 1) ^ castagnoli_reflected : a >> 1;
  }
  return r;
}

// x^n mod P by repeated squaring, for the large exponents of the folding path's tables.
constexpr uint32_t x_pow_mod_p_squaring(uint64_t n) {
  uint32_t result = 0x80000000u, power = 0x40000000u;  // x^0 and x^1
  for (; n != 0; n >>= 1) {
    if (n & 1) result = mul_mod_p(result, power);
    power = mul_mod_p(power, power);
  }
  return result;
}
static_assert(x_pow_mod_p_squaring(0) == x_pow_mod_p(0));
static_assert(x_pow_mod_p_squaring(31) == x_pow_mod_p(31));
static_assert(x_pow_mod_p_squaring(1000) == x_pow_mod_p(1000));
static_assert(x_pow_mod_p_squaring(8 * 4096 - 33) == x_pow_mod_p(8 * 4096 - 33));

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

// crc32_3way_clmul. The crc32 instruction takes one 8-byte word per cycle, so three chains top out at 8 bytes
// a cycle; VPCLMULQDQ runs on the vector units beside it. Each step of the loop below has three crc32 chains
// take 24 bytes each of their own block (A, B, C) while two 256-bit accumulators (four 128-bit lanes) fold in
// 64 bytes of a fourth block D. A chunk of N steps is laid out as A | B | C | D with |A| = |B| = |C| = 24N and
// |D| = 64N, and is summed as
//   raw(c, chunk) = c * x^(8 * 136N) xor raw(0, A) * x^(8(|B| + |C| + |D|)) xor raw(0, B) * x^(8(|C| + |D|))
//                   xor raw(0, C) * x^(8|D|) xor raw(0, D),
// the multipliers coming from a table indexed by N. Nothing in a chunk's loop waits for the previous chunk.
// About 72 bytes of crc32 to 64 bytes of folding per step measured best here, though ratios from 48:64 to
// 144:128 came within the noise of each other (128-bit PCLMULQDQ costs as much per instruction as the 256-bit
// form here, so folds are 256-bit). Measured by CPU time on an AMD EPYC (family 25, model 1) shared with other
// work: 16 KiB 22-31 GB/s and 1 MiB 26-33 GB/s, against 15-21 GB/s for crc32_3way in the same runs (1.4-1.8x);
// 256 B to 4 KiB gain 1.5-2x, much of it from the short three-way tail below; a 1 MiB buffer not in cache
// stays bound by memory (8-9 GB/s either way).
constexpr size_t fold_crc_bytes = 24;                                   // per crc32 chain per step
constexpr size_t fold_vec_bytes = 64;                                   // folded per step
constexpr size_t fold_step = 3 * fold_crc_bytes + fold_vec_bytes;      // 136
constexpr size_t fold_max_steps = 128;                                  // chunks of up to 17408 bytes
constexpr size_t fold_min_steps = 4;                                    // below 544 bytes, the tail alone

// x^(8n - 33) for n = the chunk's length (moving the CRC before it) and the distances from the end of A, B
// and C to the end of the chunk.
struct fold_chunk_shifts {
  uint32_t prev, a, b, c;
};

// Entry `steps` from entry steps - 1: each distance grows by a fixed number of bytes per step.
constexpr std::array<fold_chunk_shifts, fold_max_steps + 1> make_fold_chunk_shifts() {
  constexpr uint64_t crc = fold_crc_bytes, vec = fold_vec_bytes;
  const uint64_t bytes[4] = {3 * crc + vec, 2 * crc + vec, crc + vec, vec};  // per step
  std::array<fold_chunk_shifts, fold_max_steps + 1> t{};
  uint32_t cur[4], grow[4];
  for (int i = 0; i < 4; ++i) {
    cur[i] = x_pow_mod_p_squaring(8 * bytes[i] - 33);
    grow[i] = x_pow_mod_p_squaring(8 * bytes[i]);
  }
  for (size_t steps = 1; steps <= fold_max_steps; ++steps) {
    t[steps] = {cur[0], cur[1], cur[2], cur[3]};
    for (int i = 0; i < 4; ++i) cur[i] = mul_mod_p(cur[i], grow[i]);
  }
  return t;
}
constexpr auto fold_chunk_table = make_fold_chunk_shifts();
static_assert(fold_chunk_table[fold_max_steps].prev == x_pow_mod_p_squaring(8 * fold_max_steps * fold_step - 33));
static_assert(fold_chunk_table[7].c == x_pow_mod_p_squaring(8 * 7 * fold_vec_bytes - 33));

// Constants that move a 128-bit lane d bytes along: x^(8d + 31) for its low half, x^(8d - 33) for its high.
constexpr uint32_t fold_low(uint64_t d) { return x_pow_mod_p_squaring(8 * d + 31); }
constexpr uint32_t fold_high(uint64_t d) { return x_pow_mod_p_squaring(8 * d - 33); }
constexpr uint32_t fold_64_low = fold_low(64), fold_64_high = fold_high(64);  // the loop: one step ahead
constexpr uint32_t fold_32_low = fold_low(32), fold_32_high = fold_high(32);  // first accumulator into second
constexpr uint32_t fold_16_low = fold_low(16), fold_16_high = fold_high(16);  // low lane into high lane

// The tail (under fold_min_steps steps): three chains of q words each, then one chain for under 24 bytes.
constexpr size_t tail_max_words = (fold_min_steps * fold_step) / 24;

struct tail_shifts {
  uint32_t one, two;  // x^(64q - 33), x^(128q - 33): past one and two chains of q words
};

constexpr std::array<tail_shifts, tail_max_words + 1> make_tail_shifts() {
  std::array<tail_shifts, tail_max_words + 1> t{};
  for (uint64_t q = 1; q <= tail_max_words; ++q)
    t[q] = {x_pow_mod_p_squaring(64 * q - 33), x_pow_mod_p_squaring(128 * q - 33)};
  return t;
}
constexpr auto tail_table = make_tail_shifts();

__attribute__((target("sse4.2,pclmul"))) uint32_t short_raw(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 2 * 24) {  // from fold_raw, once at most (n < 544)
    size_t q = n / 24;
    if (q > tail_max_words) q = tail_max_words;
    const uint8_t* pb = p + 8 * q;
    const uint8_t* pc = p + 16 * q;
    uint64_t a = c, b = 0, d = 0;
    for (size_t i = 0; i < 8 * q; i += 8) {
      a = _mm_crc32_u64(a, load64(p + i));
      b = _mm_crc32_u64(b, load64(pb + i));
      d = _mm_crc32_u64(d, load64(pc + i));
    }
    c = combine(static_cast<uint32_t>(a), tail_table[q].two, static_cast<uint32_t>(b), tail_table[q].one) ^
        static_cast<uint32_t>(d);
    p += 24 * q;
    n -= 24 * q;
  }
  return single_stream_raw(c, p, n);
}

__attribute__((target("sse4.2,pclmul,avx2,vpclmulqdq"))) uint32_t fold_raw(uint32_t c, const uint8_t* p,
                                                                          size_t n) {
  const __m256i k64 = _mm256_set_epi64x(fold_64_high, fold_64_low, fold_64_high, fold_64_low);
  while (n >= fold_min_steps * fold_step) {
    size_t steps = n / fold_step;
    if (steps > fold_max_steps) steps = fold_max_steps;
    const size_t crc_len = fold_crc_bytes * steps;
    const uint8_t* pa = p;
    const uint8_t* pb = p + crc_len;
    const uint8_t* pc = p + 2 * crc_len;
    const uint8_t* pd = p + 3 * crc_len;
    uint64_t a = 0, b = 0, d = 0;
    // Starting from zero, the first step's fold leaves just the first 64 bytes of D.
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    for (size_t i = 0; i < steps; ++i) {
      __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pd));
      __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pd + 32));
      acc0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(acc0, k64, 0x00),
                                               _mm256_clmulepi64_epi128(acc0, k64, 0x11)),
                              x0);
      acc1 = _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(acc1, k64, 0x00),
                                               _mm256_clmulepi64_epi128(acc1, k64, 0x11)),
                              x1);
      for (size_t j = 0; j < fold_crc_bytes; j += 8) {
        a = _mm_crc32_u64(a, load64(pa + j));
        b = _mm_crc32_u64(b, load64(pb + j));
        d = _mm_crc32_u64(d, load64(pc + j));
      }
      pa += fold_crc_bytes;
      pb += fold_crc_bytes;
      pc += fold_crc_bytes;
      pd += fold_vec_bytes;
    }
    // D's four lanes down to one: acc0 sits 32 bytes before acc1, and each low lane 16 bytes before its high.
    const __m256i k32 = _mm256_set_epi64x(fold_32_high, fold_32_low, fold_32_high, fold_32_low);
    __m256i y = _mm256_xor_si256(acc1, _mm256_xor_si256(_mm256_clmulepi64_epi128(acc0, k32, 0x00),
                                                        _mm256_clmulepi64_epi128(acc0, k32, 0x11)));
    const __m128i k16 = _mm_set_epi64x(fold_16_high, fold_16_low);
    __m128i lo = _mm256_castsi256_si128(y);
    __m128i v = _mm_xor_si128(_mm256_extracti128_si256(y, 1),
                              _mm_xor_si128(_mm_clmulepi64_si128(lo, k16, 0x00), _mm_clmulepi64_si128(lo, k16, 0x11)));
    uint64_t d_raw = _mm_crc32_u64(_mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(v))),
                                   static_cast<uint64_t>(_mm_extract_epi64(v, 1)));
    // The earlier CRC and the three chains, each moved to the end of the chunk.
    const fold_chunk_shifts& s = fold_chunk_table[steps];
    __m128i m = _mm_xor_si128(
        _mm_xor_si128(_mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(c)),
                                           _mm_cvtsi32_si128(static_cast<int>(s.prev)), 0x00),
                      _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(a)),
                                           _mm_cvtsi32_si128(static_cast<int>(s.a)), 0x00)),
        _mm_xor_si128(_mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(b)),
                                           _mm_cvtsi32_si128(static_cast<int>(s.b)), 0x00),
                      _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(d)),
                                           _mm_cvtsi32_si128(static_cast<int>(s.c)), 0x00)));
    c = static_cast<uint32_t>(_mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(m)))) ^
        static_cast<uint32_t>(d_raw);
    p += steps * fold_step;
    n -= steps * fold_step;
  }
  return short_raw(c, p, n);
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
    case crc32c_impl::crc32_3way_clmul:
      // "avx2" is reported only when the OS saves the 256-bit registers too.
      return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("vpclmulqdq");
  }
  return false;
}
#else
bool cpu_has(crc32c_impl impl) { return impl == crc32c_impl::table; }
#endif

crc32c_impl detect_best() {
  for (auto impl : {crc32c_impl::crc32_3way_clmul, crc32c_impl::crc32_3way, crc32c_impl::crc32})
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
    case crc32c_impl::crc32_3way_clmul:
      return ~fold_raw(~crc, data.data(), data.size());
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
