// CRC-32C (Castagnoli), the checksum of Kafka record batches v2. Uses the SSE4.2 crc32 instruction when the
// CPU has it (checked once at run time) and a table otherwise; both give identical results.
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

// Whether crc32c() uses the hardware instruction on this machine.
bool crc32c_hardware_available();

}  // namespace brook::common
