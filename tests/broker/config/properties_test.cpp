#include "broker/config/properties.hpp"

#include <catch2/catch.hpp>

using brook::broker::parse_properties;
using brook::broker::property_list;
using brook::common::kafka_error;

namespace {
property_list parse(std::string_view text) {
  auto r = parse_properties(text);
  REQUIRE(r.ok());
  return *r;
}
using kv = std::pair<std::string, std::string>;
}  // namespace

TEST_CASE("properties: the three separators and blanks around them", "[config][properties]") {
  auto p = parse("a=1\nb: 2\nc 3\n  d  =  4\ne\t:\tfive\nf   six\n");
  CHECK(p == property_list{kv{"a", "1"}, kv{"b", "2"}, kv{"c", "3"}, kv{"d", "4"}, kv{"e", "five"}, kv{"f", "six"}});
}

TEST_CASE("properties: comments and blank lines are skipped", "[config][properties]") {
  auto p = parse("# a comment\n! another\n\n   \n   # indented comment\nkey=value # not a comment\n");
  CHECK(p == property_list{kv{"key", "value # not a comment"}});
}

TEST_CASE("properties: a key alone has an empty value, separators only once", "[config][properties]") {
  auto p = parse("alone\nempty=\nx==y\nz=:w\n");
  CHECK(p == property_list{kv{"alone", ""}, kv{"empty", ""}, kv{"x", "=y"}, kv{"z", ":w"}});
}

TEST_CASE("properties: line continuation drops the backslash and the next line's indent", "[config][properties]") {
  auto p = parse("listeners=PLAINTEXT://a:1,\\\n    PLAINTEXT2://b:2\nnext=x\n");
  CHECK(p == property_list{kv{"listeners", "PLAINTEXT://a:1,PLAINTEXT2://b:2"}, kv{"next", "x"}});
}

TEST_CASE("properties: an even number of trailing backslashes does not continue", "[config][properties]") {
  auto p = parse("path=c:\\\\\nnext=x\n");
  CHECK(p == property_list{kv{"path", "c:\\"}, kv{"next", "x"}});
}

TEST_CASE("properties: a comment line never continues", "[config][properties]") {
  auto p = parse("# comment \\\nkey=value\n");
  CHECK(p == property_list{kv{"key", "value"}});
}

TEST_CASE("properties: a continued line may look like a comment", "[config][properties]") {
  auto p = parse("key=a\\\n  # b\n");
  CHECK(p == property_list{kv{"key", "a# b"}});
}

TEST_CASE("properties: escapes in keys and values", "[config][properties]") {
  auto p = parse("a\\=b=c\\:d\nsp\\ ace=x\\ty\\nz\nuni=\\u00e9\\u0041\nhash=\\#x\nplain=\\q\n");
  CHECK(p == property_list{kv{"a=b", "c:d"}, kv{"sp ace", "x\ty\nz"}, kv{"uni", "\xC3\xA9" "A"}, kv{"hash", "#x"},
                           kv{"plain", "q"}});
}

TEST_CASE("properties: CR and CRLF line endings", "[config][properties]") {
  auto p = parse("a=1\r\nb=2\rc=3");
  CHECK(p == property_list{kv{"a", "1"}, kv{"b", "2"}, kv{"c", "3"}});
}

TEST_CASE("properties: trailing blanks of a value are kept, duplicates kept in order", "[config][properties]") {
  auto p = parse("a=1  \na=2\n");
  CHECK(p == property_list{kv{"a", "1  "}, kv{"a", "2"}});
}

TEST_CASE("properties: a malformed unicode escape (backslash u) is refused with its line", "[config][properties]") {
  auto r = parse_properties("ok=1\nbad=\\u12x4\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == kafka_error::invalid_config);
  CHECK(r.err().message.find("line 2") != std::string::npos);
  CHECK_FALSE(parse_properties("bad=\\u12").ok());
}

TEST_CASE("properties: a missing file is an error naming it", "[config][properties]") {
  auto r = brook::broker::load_properties_file("/nonexistent/dir/server.properties");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("/nonexistent/dir/server.properties") != std::string::npos);
}
