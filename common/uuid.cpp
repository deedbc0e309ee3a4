#include "common/uuid.hpp"

#include <random>

namespace brook::common {
namespace {
constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decode_char(char c) {
  auto pos = alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}
}  // namespace

uuid uuid::random() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  uuid id;
  for (;;) {
    for (int i = 0; i < 16; i += 8) {
      uint64_t r = gen();
      for (int j = 0; j < 8; ++j) id.bytes[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
    id.bytes[6] = (id.bytes[6] & 0x0f) | 0x40;  // version 4
    id.bytes[8] = (id.bytes[8] & 0x3f) | 0x80;  // IETF variant
    // Kafka reserves the zero id and the "metadata topic" id (all zero but the last byte 1); and
    // like Kafka, never hand out an id whose string starts with '-' (it looks like a CLI flag).
    std::array<uint8_t, 16> reserved{};
    reserved[15] = 1;
    if (!id.is_zero() && id.bytes != reserved && id.to_string().front() != '-') return id;
  }
}

std::string uuid::to_string() const {
  std::string out;
  out.reserve(22);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<uuid> uuid::parse(std::string_view text) {
  if (text.size() != 22) return std::nullopt;
  uuid id;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int v = decode_char(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < 16) id.bytes[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  if (n != 16 || (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // no stray trailing bits
  return id;
}

}  // namespace brook::common
