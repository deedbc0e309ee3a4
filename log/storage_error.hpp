// What a failed disk operation becomes at the log's boundary: KAFKA_STORAGE_ERROR, saying what failed.
#pragma once

#include <string>
#include <utility>

#include "common/error.hpp"

namespace brook::log {

inline common::error storage_error(std::string what) {
  return common::error{common::kafka_error::kafka_storage_error, std::move(what)};
}

}  // namespace brook::log
