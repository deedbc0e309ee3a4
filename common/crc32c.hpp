// CRC-32C (Castagnoli), the checksum of Kafka record batches v2. The fastest implementation the CPU supports
// is chosen once at run time (crc32c_impl); all give identical results. The x86 ones are compiled with
// per-function target attributes, so the build flags stay those of a generic x86-64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace brook::common {

// CRC-32C of `data`.
uint32_t crc32c(std::span<const uint8_t> data);

// Continues a CRC-32C: crc32c_extend(crc32c(a), b) == crc32c(a + b). Start from 0.
uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data);

// The table implementation, exposed so tests can check it against the hardware path.
uint32_t crc32c_portable(uint32_t crc, std::span<const uint8_t> data);

// The implementations, slowest first.
enum class crc32c_impl {
  table,             // slicing-by-8 tables, any CPU
  crc32,             // SSE4.2 crc32 instruction, one dependent chain
  crc32_3way,        // three crc32 chains over adjacent blocks, combined with PCLMULQDQ
  crc32_3way_clmul,  // the three chains with 256-bit VPCLMULQDQ folding of a fourth block beside them (AVX2)
};
// Whether this CPU (and OS) can run `impl`.
bool crc32c_supported(crc32c_impl impl);
// The implementation crc32c() uses here.
crc32c_impl crc32c_best_impl();
// crc32c_extend with a chosen implementation (tests and benchmarks); one the CPU lacks runs as `table`.
uint32_t crc32c_extend_with(crc32c_impl impl, uint32_t crc, std::span<const uint8_t> data);

// Whether crc32c() uses a hardware instruction on this machine.
bool crc32c_hardware_available();

}  // namespace brook::common
