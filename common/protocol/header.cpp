#include "common/protocol/header.hpp"

#include "common/protocol/messages/catalog.hpp"

namespace brook::common::protocol {
namespace {
bool flexible(int16_t api_key, int16_t api_version) {
  const api_schema* s = find_api_schema(api_key);
  if (!s) return false;
  if (api_key == api_versions_key && api_version > s->max_version) return true;
  return s->first_flexible >= 0 && api_version >= s->first_flexible;
}
}  // namespace

int16_t request_header_version(int16_t api_key, int16_t api_version) {
  if (!find_api_schema(api_key)) return -1;
  return flexible(api_key, api_version) ? 2 : 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) {
  if (api_key == api_versions_key) return 0;
  return flexible(api_key, api_version) ? 1 : 0;
}

request_header decode_request_header(reader& r) {
  request_header h;
  h.api_key = r.int16();
  h.api_version = r.int16();
  h.correlation_id = r.int32();
  h.client_id = r.nullable_string(false);
  if (request_header_version(h.api_key, h.api_version) >= 2) {
    const uint32_t tagged = r.tagged_field_count();
    for (uint32_t i = 0; i < tagged; ++i) {
      r.uvarint();  // tag: none are defined for the request header yet
      r.skip(r.uvarint());
    }
  }
  return h;
}

void encode_request_header(writer& w, const request_header& h) {
  w.int16(h.api_key);
  w.int16(h.api_version);
  w.int32(h.correlation_id);
  w.nullable_string(h.client_id, false);
  if (request_header_version(h.api_key, h.api_version) >= 2) w.uvarint(0);
}

void encode_response_header(writer& w, const request_header& h) {
  w.int32(h.correlation_id);
  if (response_header_version(h.api_key, h.api_version) >= 1) w.uvarint(0);
}

int32_t decode_response_header(reader& r, int16_t api_key, int16_t api_version) {
  const int32_t correlation_id = r.int32();
  if (response_header_version(api_key, api_version) >= 1) {
    const uint32_t tagged = r.tagged_field_count();
    for (uint32_t i = 0; i < tagged; ++i) {
      r.uvarint();  // tag: none are defined for the response header yet
      r.skip(r.uvarint());
    }
  }
  return correlation_id;
}

}  // namespace brook::common::protocol
