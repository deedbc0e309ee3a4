// A JAAS configuration as Kafka reads `sasl.jaas.config` and `listener.name.<l>.<mechanism>.sasl.jaas.config`
// (org.apache.kafka.common.security.JaasConfig): one or more login module entries, each
//   <login module class> <required|requisite|sufficient|optional> [<name>=<value>]... ;
// where a value is a bare word or a double-quoted string (backslash escapes the next character).
// Pure: parsing only; errors name the problem and where it is.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace brook::broker::security {

struct jaas_login_module {
  std::string class_name;
  std::string control_flag;  // required, requisite, sufficient or optional
  std::map<std::string, std::string> options;
};

// Parses `text`. An empty text, a missing ';', an unknown control flag or an option without '=' is an
// invalid_config error naming `config_name`.
common::result<std::vector<jaas_login_module>> parse_jaas_config(std::string_view config_name, std::string_view text);

}  // namespace brook::broker::security
