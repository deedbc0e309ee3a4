// The pieces shared by broker and topic configuration: Kafka's config types and sources (with their
// DescribeConfigs wire codes), typed values, validators, and what DescribeConfigs reports per config.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.hpp"

namespace brook::broker {

// Kafka's ConfigDef types; the value is DescribeConfigs' ConfigType code (v3+).
enum class config_type : int8_t {
  unknown = 0,
  boolean = 1,
  string = 2,
  int_ = 3,
  short_ = 4,
  long_ = 5,
  double_ = 6,
  list = 7,
  class_ = 8,
  password = 9,
};

// "INT", "LONG", ...: Kafka's spelling, used in error messages ("Not a number of type INT").
std::string_view config_type_name(config_type type);

// Where a value comes from; the value is DescribeConfigs' ConfigSource code.
enum class config_source : int8_t {
  unknown = 0,
  dynamic_topic_config = 1,
  dynamic_broker_config = 2,
  dynamic_default_broker_config = 3,
  static_broker_config = 4,
  default_config = 5,
  dynamic_broker_logger_config = 6,
  client_metrics_config = 7,
  group_config = 8,
};

// A parsed value: null (monostate), BOOLEAN, INT/SHORT/LONG (int64_t), DOUBLE,
// STRING/CLASS/PASSWORD (string), LIST (strings).
using config_value = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<std::string>>;

// Returns why a parsed, non-null value is refused ("Value must be at least 14"), or nothing.
using config_validator = std::function<std::optional<std::string>(const config_value&)>;

// Kafka's stock validators, with Kafka's reasons.
// Long.MAX_VALUE, the default of the "never" limits.
inline constexpr const char* long_max_text = "9223372036854775807";

config_validator at_least(int64_t min);
config_validator in_range(int64_t min, int64_t max);
config_validator in_range_double(double min, double max);
// STRING: the value is one of `allowed` (case-sensitive). LIST: every element is.
config_validator one_of(std::vector<std::string> allowed);
// compression.gzip.level: 1-9, or -1 for the codec's default.
config_validator gzip_level();

// One configuration key: its Kafka name, type, default (in Kafka's string form; nullopt when the
// default is null), a one-line description, and its validator (may be empty).
struct config_definition {
  std::string name;
  config_type type = config_type::string;
  std::optional<std::string> default_value;
  std::string documentation;
  config_validator validator;
  bool read_only = true;
  bool sensitive = false;  // true for PASSWORD: DescribeConfigs reports a null value
};

// Parses text as a value of `def` the way Kafka's ConfigDef does: trims it; BOOLEAN is true/false in
// any case; numbers must fit the type; LIST splits on commas (blanks around them dropped; "" is the
// empty list). Then runs the validator. Errors are kafka_error::invalid_config with Kafka's message
// "Invalid value X for configuration Y: reason".
common::result<config_value> parse_config_value(const config_definition& def, std::string_view text);

// Kafka's string form of a value (ConfigDef.convertToString): lists joined with ",", booleans as
// true/false, doubles as Java prints them ("0.5", "1.0E10"); nullopt for null.
std::optional<std::string> format_config_value(const config_value& value);

// "Invalid value X for configuration Y: reason" (or without ": reason" when it is empty).
std::string invalid_value_message(std::string_view name, std::string_view value, std::string_view reason);

// One synonym of a described config: a name whose value feeds it, with that value and its source.
struct config_synonym {
  std::string name;
  std::optional<std::string> value;  // nullopt for sensitive configs
  config_source source = config_source::default_config;
};

// One config as DescribeConfigs reports it.
struct config_entry {
  std::string name;
  std::optional<std::string> value;  // nullopt for sensitive configs and null values
  config_source source = config_source::default_config;
  bool is_default = true;            // DescribeConfigs v0's IsDefault: source == default_config
  bool read_only = true;
  bool sensitive = false;
  config_type type = config_type::unknown;
  std::string documentation;
  std::vector<config_synonym> synonyms;  // highest precedence first, as Kafka orders them
};

}  // namespace brook::broker
