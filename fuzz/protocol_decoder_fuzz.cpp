// Fuzzes the wire decoders of every API the schema declares, requests and responses, and the request
// header. The first input byte picks what the rest is:
//   0: a request frame after its size prefix (header, then body), decoded as the broker does: the
//      header names the API and version, the body is read by a borrowing reader;
//   1: api key (int16), version (int16), then a request body;
//   2: api key (int16), version (int16), then a response body.
// A decode_error is the expected answer to a bad input. Whatever decodes must re-encode stably (see
// protocol_apis.hpp); anything else (a crash, a sanitizer report, an abort) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/protocol/header.hpp"
#include "common/protocol/messages/catalog.hpp"
#include "protocol_apis.hpp"

namespace protocol = brook::common::protocol;
using brook::fuzz::api_entry;

namespace {

const api_entry* supported(int16_t key, int16_t version) {
  const api_entry* api = brook::fuzz::find_protocol_api(key);
  if (!api || version < api->min_version || version > api->max_version) return nullptr;
  return api;
}

void decode_frame(std::span<uint8_t> frame) {
  protocol::reader r = protocol::reader::borrowing(frame);
  protocol::request_header h = protocol::decode_request_header(r);
  protocol::writer w;
  protocol::encode_request_header(w, h);
  protocol::reader again(w.data());
  if (protocol::decode_request_header(again) != h || again.remaining() != 0) {
    std::fprintf(stderr, "request header of api %d v%d does not re-encode\n", h.api_key, h.api_version);
    std::abort();
  }
  if (const api_entry* api = supported(h.api_key, h.api_version)) api->decode_request(r, h.api_version);
}

void decode_body(std::span<const uint8_t> input, bool request) {
  protocol::reader r(input);
  const int16_t key = r.int16();
  const int16_t version = r.int16();
  const api_entry* api = supported(key, version);
  if (!api) return;
  protocol::reader body(r.rest());
  (request ? api->decode_request : api->decode_response)(body, version);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The generated table must cover the whole catalogue, or some API would go unfuzzed.
  if (brook::fuzz::protocol_apis().size() != protocol::all_api_schemas().size()) {
    std::fprintf(stderr, "fuzz table has %zu APIs, the catalogue %zu\n", brook::fuzz::protocol_apis().size(),
                 protocol::all_api_schemas().size());
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // A writable copy of exactly the input, so that ASan sees any read past its end.
  std::vector<uint8_t> rest(data + 1, data + size);
  try {
    switch (data[0] % 3) {
      case 0: decode_frame(rest); break;
      case 1: decode_body(rest, true); break;
      case 2: decode_body(rest, false); break;
    }
  } catch (const protocol::decode_error&) {
  }
  return 0;
}
