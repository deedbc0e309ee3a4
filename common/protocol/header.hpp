// Request and response headers (protocol.html, "Headers"). These are the only hand-written
// framing: a request header is v2 (with tagged fields) when its API version is flexible, else v1;
// a response header is v1 when flexible, else v0, except that ApiVersions always answers with v0
// so that a client can read the answer before it knows which versions the broker speaks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/protocol/wire.hpp"

namespace brook::common::protocol {

inline constexpr int16_t api_versions_key = 18;

struct request_header {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // a classic (non-compact) nullable string in every version
  bool operator==(const request_header&) const = default;
};

// The header version a request of this API and version carries; -1 when the API key is unknown.
// An ApiVersions request newer than any we know is read as flexible (Kafka does the same, so that it
// can answer UNSUPPORTED_VERSION with the range it supports).
int16_t request_header_version(int16_t api_key, int16_t api_version);
int16_t response_header_version(int16_t api_key, int16_t api_version);

// Reads the header at the start of a request frame (after the size prefix). Throws decode_error.
request_header decode_request_header(reader& r);
void encode_request_header(writer& w, const request_header& h);
// Writes the response header for a request with this header.
void encode_response_header(writer& w, const request_header& h);
// Reads the response header of a response to a request of this API and version (a client's side);
// returns its correlation id. Throws decode_error.
int32_t decode_response_header(reader& r, int16_t api_key, int16_t api_version);

}  // namespace brook::common::protocol
