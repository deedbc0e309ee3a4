// Builders of malformed record batches (valid CRCs around broken records), shared by the validation and
// Produce tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/compression.hpp"
#include "common/record_batch.hpp"

namespace brook::test::hostile {

using common::bytes_view;
using common::compression_codec;

inline bytes_view as_bytes(const std::string& s) {
  return bytes_view(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// One well-formed record (length prefix included) with the given offset delta.
inline std::vector<uint8_t> record(int32_t offset_delta, std::optional<std::string> key = std::string("k"),
                                   std::string value = "v") {
  std::vector<uint8_t> out;
  std::optional<bytes_view> k;
  if (key) k = as_bytes(*key);
  common::append_record(out, 0, 0, offset_delta, k, as_bytes(value), {});
  return out;
}

// `count` well-formed records with deltas 0..count-1.
inline std::vector<uint8_t> records(int32_t count) {
  std::vector<uint8_t> out;
  for (int32_t i = 0; i < count; ++i) {
    // Appended rather than "k" + to_string(i): GCC 12 warns falsely (-Wrestrict) on the latter.
    std::string key = "k", value = "value-";
    key += std::to_string(i);
    value += std::to_string(i);
    auto r = record(i, key, value);
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

struct batch_spec {
  int32_t record_count = 1;
  std::optional<int32_t> last_offset_delta;  // default: record_count - 1
  uint16_t attributes = 0;                   // codec bits etc.
  int64_t timestamp = -1;                    // base and max timestamp
  int64_t producer_id = -1;
  int32_t base_sequence = -1;
};

// A batch around `section` (compressed already if the attributes say so), with a correct CRC.
inline std::vector<uint8_t> batch(const batch_spec& spec, bytes_view section) {
  common::batch_header_fields h;
  h.attributes = static_cast<int16_t>(spec.attributes);
  h.record_count = spec.record_count;
  h.last_offset_delta = spec.last_offset_delta.value_or(spec.record_count - 1);
  h.base_timestamp = spec.timestamp;
  h.max_timestamp = spec.timestamp;
  h.producer_id = spec.producer_id;
  h.base_sequence = spec.base_sequence;
  return common::encode_batch(h, section);
}

// A batch of `count` good records compressed with `codec`.
inline std::vector<uint8_t> compressed_batch(compression_codec codec, int32_t count) {
  auto plain = records(count);
  auto packed = common::compress(codec, plain);
  batch_spec spec;
  spec.record_count = count;
  spec.attributes = static_cast<uint16_t>(codec);
  return batch(spec, *packed);
}

// An uncompressed record section with the given varint-encoded pieces (for lying lengths).
inline std::vector<uint8_t> varints(std::initializer_list<int64_t> values) {
  std::vector<uint8_t> out;
  for (int64_t v : values) common::append_varlong(out, v);
  return out;
}

inline std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace brook::test::hostile
