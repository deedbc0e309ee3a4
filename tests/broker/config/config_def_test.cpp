#include "broker/config/config_def.hpp"

#include <catch2/catch.hpp>

using namespace brook::broker;
using brook::common::kafka_error;

namespace {
config_definition make(config_type type, config_validator validator = {}) {
  config_definition d;
  d.name = "some.key";
  d.type = type;
  d.validator = std::move(validator);
  return d;
}
}  // namespace

TEST_CASE("config values: numbers follow Java's parsing and the type's range", "[config]") {
  auto int_def = make(config_type::int_);
  CHECK(std::get<int64_t>(*parse_config_value(int_def, " 42 ")) == 42);
  CHECK(std::get<int64_t>(*parse_config_value(int_def, "+7")) == 7);
  CHECK(std::get<int64_t>(*parse_config_value(int_def, "-2147483648")) == INT32_MIN);
  auto too_big = parse_config_value(int_def, "2147483648");
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.code() == kafka_error::invalid_config);
  CHECK(too_big.err().message == "Invalid value 2147483648 for configuration some.key: Not a number of type INT");
  CHECK_FALSE(parse_config_value(int_def, "12abc").ok());
  CHECK_FALSE(parse_config_value(int_def, "").ok());
  CHECK_FALSE(parse_config_value(int_def, "1.5").ok());
  CHECK_FALSE(parse_config_value(make(config_type::short_), "40000").ok());
  CHECK(std::get<int64_t>(*parse_config_value(make(config_type::long_), "9223372036854775807")) == INT64_MAX);
}

TEST_CASE("config values: booleans, doubles, lists, strings", "[config]") {
  CHECK(std::get<bool>(*parse_config_value(make(config_type::boolean), " TRUE ")) == true);
  CHECK(std::get<bool>(*parse_config_value(make(config_type::boolean), "False")) == false);
  auto bad_bool = parse_config_value(make(config_type::boolean), "yes");
  REQUIRE_FALSE(bad_bool.ok());
  CHECK(bad_bool.err().message == "Invalid value yes for configuration some.key: Expected value to be either true or false");

  CHECK(std::get<double>(*parse_config_value(make(config_type::double_), "0.25")) == 0.25);
  CHECK_FALSE(parse_config_value(make(config_type::double_), "half").ok());

  auto list = parse_config_value(make(config_type::list), " compact , delete ");
  CHECK(std::get<std::vector<std::string>>(*list) == std::vector<std::string>{"compact", "delete"});
  CHECK(std::get<std::vector<std::string>>(*parse_config_value(make(config_type::list), "  ")).empty());

  CHECK(std::get<std::string>(*parse_config_value(make(config_type::string), "  text  ")) == "text");
}

TEST_CASE("config values: validators give Kafka's reasons", "[config]") {
  auto at_least_14 = make(config_type::int_, at_least(14));
  auto r = parse_config_value(at_least_14, "13");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message == "Invalid value 13 for configuration some.key: Value must be at least 14");
  CHECK(parse_config_value(at_least_14, "14").ok());

  auto range = make(config_type::int_, in_range(1, 17));
  CHECK(parse_config_value(range, "18").err().message ==
        "Invalid value 18 for configuration some.key: Value must be no more than 17");

  auto ratio = make(config_type::double_, in_range_double(0, 1));
  CHECK(parse_config_value(ratio, "1.5").err().message ==
        "Invalid value 1.5 for configuration some.key: Value must be no more than 1");

  auto policy = make(config_type::list, one_of({"compact", "delete"}));
  CHECK(parse_config_value(policy, "compact,delete").ok());
  CHECK(parse_config_value(policy, "compact,purge").err().message ==
        "Invalid value purge for configuration some.key: String must be one of: compact, delete");

  auto kind = make(config_type::string, one_of({"CreateTime", "LogAppendTime"}));
  CHECK_FALSE(parse_config_value(kind, "createtime").ok());  // case matters, as in Kafka
}

TEST_CASE("config values: Kafka's string forms", "[config]") {
  CHECK(format_config_value(config_value{}) == std::nullopt);
  CHECK(format_config_value(config_value{true}) == "true");
  CHECK(format_config_value(config_value{int64_t{-1}}) == "-1");
  CHECK(format_config_value(config_value{0.5}) == "0.5");
  CHECK(format_config_value(config_value{1.0}) == "1.0");
  CHECK(format_config_value(config_value{1e10}) == "1.0E10");
  CHECK(format_config_value(config_value{1.5e-5}) == "1.5E-5");
  CHECK(format_config_value(config_value{std::vector<std::string>{"compact", "delete"}}) == "compact,delete");
  CHECK(format_config_value(config_value{std::vector<std::string>{}}) == "");
}

TEST_CASE("config types and sources carry Kafka's wire codes", "[config]") {
  CHECK(static_cast<int>(config_type::boolean) == 1);
  CHECK(static_cast<int>(config_type::long_) == 5);
  CHECK(static_cast<int>(config_type::password) == 9);
  CHECK(static_cast<int>(config_source::dynamic_topic_config) == 1);
  CHECK(static_cast<int>(config_source::static_broker_config) == 4);
  CHECK(static_cast<int>(config_source::default_config) == 5);
  CHECK(config_type_name(config_type::short_) == "SHORT");
}
