#include "broker/config/config_def.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace brook::broker {
namespace {

std::string_view trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Java's Integer/Long/Short.parseLong accept one leading '+' or '-' and decimal digits only.
std::optional<int64_t> parse_integer(std::string_view s, int64_t min, int64_t max) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) return std::nullopt;
  }
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  // Java accepts a trailing type suffix (1.5d, 2f); so do we.
  if (!s.empty() && (s.back() == 'd' || s.back() == 'D' || s.back() == 'f' || s.back() == 'F')) s.remove_suffix(1);
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "Infinity") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Java's Double.toString: plain notation in [1e-3, 1e7) with at least one fractional digit,
// otherwise d.dddE<exp>. Both use the shortest digits that read back the same.
std::string java_double_string(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  double magnitude = std::fabs(v);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    std::string s(buf, end);
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, end);  // e.g. "1e+07", "1.5e-05"
  size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  std::string exponent = s.substr(e + 1);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  bool negative = !exponent.empty() && exponent[0] == '-';
  size_t digits = exponent.find_first_not_of("+-0");
  return mantissa + "E" + (negative ? "-" : "") + (digits == std::string::npos ? "0" : exponent.substr(digits));
}

std::string list_string(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

}  // namespace

std::string_view config_type_name(config_type type) {
  switch (type) {
    case config_type::unknown: return "UNKNOWN";
    case config_type::boolean: return "BOOLEAN";
    case config_type::string: return "STRING";
    case config_type::int_: return "INT";
    case config_type::short_: return "SHORT";
    case config_type::long_: return "LONG";
    case config_type::double_: return "DOUBLE";
    case config_type::list: return "LIST";
    case config_type::class_: return "CLASS";
    case config_type::password: return "PASSWORD";
  }
  return "UNKNOWN";
}

std::string invalid_value_message(std::string_view name, std::string_view value, std::string_view reason) {
  if (reason.empty()) return fmt::format("Invalid value {} for configuration {}", value, name);
  return fmt::format("Invalid value {} for configuration {}: {}", value, name, reason);
}

config_validator at_least(int64_t min) {
  return [min](const config_value& v) -> std::optional<std::string> {
    if (auto* n = std::get_if<int64_t>(&v); n && *n < min) return fmt::format("Value must be at least {}", min);
    return std::nullopt;
  };
}

config_validator in_range(int64_t min, int64_t max) {
  return [min, max](const config_value& v) -> std::optional<std::string> {
    if (auto* n = std::get_if<int64_t>(&v)) {
      if (*n < min) return fmt::format("Value must be at least {}", min);
      if (*n > max) return fmt::format("Value must be no more than {}", max);
    }
    return std::nullopt;
  };
}

config_validator in_range_double(double min, double max) {
  return [min, max](const config_value& v) -> std::optional<std::string> {
    if (auto* d = std::get_if<double>(&v)) {
      // Written as integers when whole, as Kafka's Range.between(0, 1) prints them.
      auto bound = [](double b) { return b == std::floor(b) ? fmt::format("{}", static_cast<int64_t>(b)) : java_double_string(b); };
      if (std::isnan(*d) || *d < min) return "Value must be at least " + bound(min);
      if (*d > max) return "Value must be no more than " + bound(max);
    }
    return std::nullopt;
  };
}

config_validator one_of(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](const config_value& v) -> std::optional<std::string> {
    auto check = [&](const std::string& s) -> std::optional<std::string> {
      for (const auto& a : allowed)
        if (a == s) return std::nullopt;
      return "String must be one of: " + list_string(allowed, ", ");
    };
    if (auto* s = std::get_if<std::string>(&v)) return check(*s);
    if (auto* l = std::get_if<std::vector<std::string>>(&v)) {
      for (const auto& item : *l)
        if (auto reason = check(item)) return reason;
    }
    return std::nullopt;
  };
}

config_validator gzip_level() {
  return [](const config_value& v) -> std::optional<std::string> {
    auto n = std::get<int64_t>(v);
    if (n == -1 || (n >= 1 && n <= 9)) return std::nullopt;
    return std::string("Value must be between 1 and 9, or -1 for the codec's default level");
  };
}

common::result<config_value> parse_config_value(const config_definition& def, std::string_view text) {
  std::string_view t = trim(text);
  auto refuse = [&](std::string_view reason) -> common::result<config_value> {
    return {common::kafka_error::invalid_config, invalid_value_message(def.name, text, reason)};
  };
  config_value value;
  switch (def.type) {
    case config_type::boolean:
      if (iequals(t, "true")) value = true;
      else if (iequals(t, "false")) value = false;
      else return refuse("Expected value to be either true or false");
      break;
    case config_type::int_:
    case config_type::short_:
    case config_type::long_: {
      int64_t min = std::numeric_limits<int64_t>::min(), max = std::numeric_limits<int64_t>::max();
      if (def.type == config_type::int_) min = INT32_MIN, max = INT32_MAX;
      if (def.type == config_type::short_) min = INT16_MIN, max = INT16_MAX;
      auto n = parse_integer(t, min, max);
      if (!n) return refuse(fmt::format("Not a number of type {}", config_type_name(def.type)));
      value = *n;
      break;
    }
    case config_type::double_: {
      auto d = parse_double(t);
      if (!d) return refuse("Not a number of type DOUBLE");
      value = *d;
      break;
    }
    case config_type::list: {
      std::vector<std::string> items;
      if (!t.empty()) {
        size_t start = 0;
        while (true) {
          size_t comma = t.find(',', start);
          items.emplace_back(trim(t.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
          if (comma == std::string_view::npos) break;
          start = comma + 1;
        }
      }
      value = std::move(items);
      break;
    }
    case config_type::password:
      value = std::string(text);  // Kafka keeps passwords exactly as given
      break;
    case config_type::string:
    case config_type::class_:
    case config_type::unknown:
      value = std::string(t);
      break;
  }
  if (def.validator) {
    if (auto reason = def.validator(value)) {
      // Kafka names the offending element of a list, and the parsed value of anything else.
      if (auto* l = std::get_if<std::vector<std::string>>(&value)) {
        for (const auto& item : *l) {
          if (def.validator(config_value{std::string(item)}))
            return {common::kafka_error::invalid_config, invalid_value_message(def.name, item, *reason)};
        }
      }
      return {common::kafka_error::invalid_config,
              invalid_value_message(def.name, format_config_value(value).value_or(""), *reason)};
    }
  }
  return value;
}

std::optional<std::string> format_config_value(const config_value& value) {
  struct visitor {
    std::optional<std::string> operator()(std::monostate) const { return std::nullopt; }
    std::optional<std::string> operator()(bool b) const { return std::string(b ? "true" : "false"); }
    std::optional<std::string> operator()(int64_t n) const { return std::to_string(n); }
    std::optional<std::string> operator()(double d) const { return java_double_string(d); }
    std::optional<std::string> operator()(const std::string& s) const { return s; }
    std::optional<std::string> operator()(const std::vector<std::string>& l) const { return list_string(l, ","); }
  };
  return std::visit(visitor{}, value);
}

}  // namespace brook::broker
