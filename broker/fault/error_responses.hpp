// Error responses for fault injection: for a decoded request of any API the broker serves, the
// response Kafka's AbstractRequest.getErrorResponse builds, with the given error code in every place
// the response carries one (the top-level error_code and each topic, partition, group, resource or
// member entry, mirroring the request's entries), and the names the request mentions (topics,
// groups), so that a fault rule can be limited to the requests naming one topic or group.
//
// Stateless; any thread. One small function per API in error_responses.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol/wire.hpp"
#include "common/uuid.hpp"

namespace brook::broker::fault {

// What a request names. Topics named by id only (Fetch v13+, Metadata v10+, DeleteTopics v6+) are in
// topic_ids; the caller resolves them against its topics.
struct request_names {
  std::vector<std::string> topics;
  std::vector<common::uuid> topic_ids;
  std::vector<std::string> groups;
};

class decoded_request {
 public:
  virtual ~decoded_request() = default;
  const request_names& names() const { return names_; }
  // The encoded response body with `code` in every error field; nullopt when the request gets no
  // response at all (Produce with acks=0).
  virtual std::optional<common::protocol::encoded_message> error_response(int16_t code) const = 0;

 protected:
  request_names names_;
};

// Decodes a request body; null for an API the broker does not serve. Throws protocol::decode_error
// for a body that does not decode.
std::unique_ptr<decoded_request> decode_request(int16_t api_key, int16_t version, common::protocol::reader& body);

}  // namespace brook::broker::fault
