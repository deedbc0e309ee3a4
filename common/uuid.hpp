// A Kafka UUID (topic ids, KIP-516): 16 bytes, printed as URL-safe base64 without padding the way
// Kafka's tools print it. All zeros is Kafka's "no id" (Uuid.ZERO_UUID).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace brook::common {

struct uuid {
  std::array<uint8_t, 16> bytes{};

  static uuid random();  // a random version-4 id that is neither zero nor Kafka's reserved ids
  static std::optional<uuid> parse(std::string_view base64);
  std::string to_string() const;
  bool is_zero() const { return bytes == std::array<uint8_t, 16>{}; }
  auto operator<=>(const uuid&) const = default;
};

}  // namespace brook::common
