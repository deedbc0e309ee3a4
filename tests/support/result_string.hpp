// Catch2 shows a failed REQUIRE(r) on a brook::common::result as the error's name and message.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "common/error.hpp"

namespace Catch {
template <class T>
struct StringMaker<brook::common::result<T>> {
  static std::string convert(const brook::common::result<T>& r) {
    if (r.ok()) return "ok";
    return std::string(brook::common::error_name(r.err().code)) + ": " + r.err().message;
  }
};
}  // namespace Catch
