// Java properties text (the format of Kafka's server.properties), read the way java.util.Properties
// reads it so that a file written for Kafka means the same thing to Brook.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace brook::broker {

// Key/value pairs in file order. A key may repeat; like java.util.Properties, the last one wins.
using property_list = std::vector<std::pair<std::string, std::string>>;

// Parses properties text:
//   - lines end with \n, \r or \r\n; blank lines and lines whose first non-blank character is # or !
//     are skipped (a comment line never continues onto the next one);
//   - a line ending in an odd number of backslashes continues on the next line, whose leading
//     blanks are dropped;
//   - the key ends at the first unescaped '=', ':' or blank; blanks around the separator are
//     dropped, so `key=value`, `key: value` and `key value` are the same; a key alone has value "";
//   - escapes \t \n \r \f and \uXXXX (written as UTF-8); any other escaped character stands for
//     itself (\=, \:, \#, \\, "\ ").
// Trailing blanks of a value are kept, as Java keeps them; typed parsing trims them later.
// Errors (kafka_error::invalid_config): a malformed \uXXXX escape, naming the line.
common::result<property_list> parse_properties(std::string_view text);

// Reads and parses a properties file. Errors: the file cannot be read (invalid_config naming the
// path and the reason), or parse_properties' errors.
common::result<property_list> load_properties_file(const std::string& path);

}  // namespace brook::broker
