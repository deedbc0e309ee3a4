#include "broker/config/properties.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace brook::broker {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Resolves the escapes of one key or value. A \uXXXX pair of UTF-16 surrogates becomes one code point.
common::result<std::string> unescape(std::string_view in, int line_number) {
  std::string out;
  out.reserve(in.size());
  uint32_t pending_high_surrogate = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == in.size()) break;  // a lone backslash at the very end stands for nothing
    c = in[i];
    switch (c) {
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 'f': out.push_back('\f'); break;
      case 'u': {
        if (in.size() - i <= 4) {  // fewer than four characters follow the 'u'
          return {common::kafka_error::invalid_config,
                  fmt::format("Malformed \\uxxxx encoding on line {}", line_number)};
        }
        uint32_t unit = 0;
        for (int k = 1; k <= 4; ++k) {
          char h = in[i + k];
          unit <<= 4;
          if (h >= '0' && h <= '9') unit |= static_cast<uint32_t>(h - '0');
          else if (h >= 'a' && h <= 'f') unit |= static_cast<uint32_t>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') unit |= static_cast<uint32_t>(h - 'A' + 10);
          else
            return {common::kafka_error::invalid_config,
                    fmt::format("Malformed \\uxxxx encoding on line {}", line_number)};
        }
        i += 4;
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          pending_high_surrogate = unit;
          continue;
        }
        if (unit >= 0xDC00 && unit <= 0xDFFF && pending_high_surrogate != 0) {
          uint32_t cp = 0x10000 + ((pending_high_surrogate - 0xD800) << 10) + (unit - 0xDC00);
          pending_high_surrogate = 0;
          out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
          out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          continue;
        }
        append_utf8(out, unit);
        break;
      }
      default: out.push_back(c); break;
    }
    pending_high_surrogate = 0;
  }
  return out;
}

}  // namespace

common::result<property_list> parse_properties(std::string_view text) {
  property_list out;
  size_t pos = 0;
  int line_number = 0;

  // Returns the next natural line (without its terminator), or false at the end of the text.
  auto next_natural_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    size_t end = pos;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
    line = text.substr(pos, end - pos);
    if (end < text.size() && text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n') ++end;
    pos = end + 1;
    ++line_number;
    return true;
  };
  auto skip_leading_blanks = [](std::string_view s) {
    size_t i = 0;
    while (i < s.size() && is_blank(s[i])) ++i;
    return s.substr(i);
  };
  auto ends_in_odd_backslashes = [](std::string_view s) {
    size_t n = 0;
    while (n < s.size() && s[s.size() - 1 - n] == '\\') ++n;
    return n % 2 == 1;
  };

  std::string_view natural;
  while (next_natural_line(natural)) {
    std::string_view first = skip_leading_blanks(natural);
    if (first.empty() || first[0] == '#' || first[0] == '!') continue;
    int start_line = line_number;

    // Join continuation lines into one logical line, escapes still in place.
    std::string logical;
    std::string_view piece = first;
    while (ends_in_odd_backslashes(piece)) {
      logical.append(piece.substr(0, piece.size() - 1));
      std::string_view next;
      if (!next_natural_line(next)) {
        piece = {};
        break;
      }
      piece = skip_leading_blanks(next);
    }
    logical.append(piece);

    // Split into key and value: the key ends at the first unescaped separator or blank.
    size_t key_len = 0;
    size_t value_start = logical.size();
    bool has_separator = false;
    bool preceding_backslash = false;
    while (key_len < logical.size()) {
      char c = logical[key_len];
      if ((c == '=' || c == ':') && !preceding_backslash) {
        value_start = key_len + 1;
        has_separator = true;
        break;
      }
      if (is_blank(c) && !preceding_backslash) {
        value_start = key_len + 1;
        break;
      }
      preceding_backslash = (c == '\\') ? !preceding_backslash : false;
      ++key_len;
    }
    while (value_start < logical.size()) {
      char c = logical[value_start];
      if (!is_blank(c)) {
        if (!has_separator && (c == '=' || c == ':')) {
          has_separator = true;
        } else {
          break;
        }
      }
      ++value_start;
    }

    auto key = unescape(std::string_view(logical).substr(0, key_len), start_line);
    if (!key) return key.err();
    auto value = unescape(std::string_view(logical).substr(std::min(value_start, logical.size())), start_line);
    if (!value) return value.err();
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

common::result<property_list> load_properties_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {common::kafka_error::invalid_config,
            fmt::format("Cannot read configuration file {}: {}", path, std::strerror(errno))};
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return {common::kafka_error::invalid_config, fmt::format("Cannot read configuration file {}", path)};
  }
  auto parsed = parse_properties(buffer.str());
  if (!parsed) return common::error{parsed.err().code, fmt::format("{}: {}", path, parsed.err().message)};
  return parsed;
}

}  // namespace brook::broker
