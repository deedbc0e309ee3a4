// How the client reacts to a Kafka error code, as the Java client classifies its exceptions: which
// errors are retriable (a RetriableException there), which mean the cached metadata is stale (an
// InvalidMetadataException: refresh before retrying), and which mean the coordinator moved.
#pragma once

#include <string>

#include "common/error.hpp"

namespace brook::client::core {

using common::kafka_error;

bool is_retriable(kafka_error e);
bool invalidates_metadata(kafka_error e);
bool invalidates_coordinator(kafka_error e);

// An error value for a response's error code, with the server's message when it sent one.
common::error error_from(kafka_error code, std::string context);

}  // namespace brook::client::core
