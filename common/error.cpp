#include "common/error.hpp"

namespace brook::common {

std::string_view error_name(kafka_error e) {
  switch (e) {
#define BROOK_X(name, code) \
  case kafka_error::name:   \
    return #name;
    BROOK_KAFKA_ERRORS(BROOK_X)
#undef BROOK_X
  }
  return "unknown_error";
}

}  // namespace brook::common
