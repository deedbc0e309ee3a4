// Every API the schema declares, with type-erased decoders for its request and response bodies,
// for the fuzz targets and the seed writer. The table is generated from the schema files by
// fuzz/CMakeLists.txt (protocol_apis.cpp.in).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/protocol/wire.hpp"

namespace brook::fuzz {

// Decodes one body at `version` from `r` (throws protocol::decode_error), then checks that what it
// decoded re-encodes to bytes that decode to the same thing and re-encode identically; aborts if not.
using body_decoder = void (*)(common::protocol::reader& r, int16_t version);

struct api_entry {
  std::string_view name;
  int16_t key;
  int16_t min_version;
  int16_t max_version;
  body_decoder decode_request;
  body_decoder decode_response;
};

std::span<const api_entry> protocol_apis();
const api_entry* find_protocol_api(int16_t key);

}  // namespace brook::fuzz
