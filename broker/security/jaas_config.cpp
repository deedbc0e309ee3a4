#include "broker/security/jaas_config.hpp"

#include <cctype>
#include <fmt/format.h>
#include <optional>

namespace brook::broker::security {

namespace {

using common::kafka_error;

// A token of the JAAS syntax: a word, a quoted string, '=' or ';'.
struct token {
  enum kind_t { word, quoted, equals, semicolon, end } kind = end;
  std::string text;
};

class tokenizer {
 public:
  explicit tokenizer(std::string_view text) : text_(text) {}

  common::result<token> next() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ == text_.size()) return token{token::end, {}};
    const char c = text_[pos_];
    if (c == '=' || c == ';') {
      ++pos_;
      return token{c == '=' ? token::equals : token::semicolon, std::string(1, c)};
    }
    if (c == '"') {
      std::string out;
      for (++pos_; pos_ < text_.size(); ++pos_) {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
          out += text_[++pos_];
        } else if (text_[pos_] == '"') {
          ++pos_;
          return token{token::quoted, std::move(out)};
        } else {
          out += text_[pos_];
        }
      }
      return common::error{kafka_error::invalid_config, "a quoted value is not closed"};
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) && text_[pos_] != '=' &&
           text_[pos_] != ';' && text_[pos_] != '"')
      ++pos_;
    return token{token::word, std::string(text_.substr(start, pos_ - start))};
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

common::result<std::vector<jaas_login_module>> parse_jaas_config(std::string_view config_name, std::string_view text) {
  auto refuse = [&](const std::string& why) {
    return common::error{kafka_error::invalid_config, fmt::format("Invalid value for {}: {}", config_name, why)};
  };
  tokenizer t(text);
  std::vector<jaas_login_module> modules;
  for (;;) {
    auto first = t.next();
    if (!first) return refuse(first.err().message);
    if (first->kind == token::end) break;
    if (first->kind != token::word) return refuse(fmt::format("expected a login module class, found '{}'", first->text));
    jaas_login_module m;
    m.class_name = first->text;
    auto flag = t.next();
    if (!flag) return refuse(flag.err().message);
    if (flag->kind != token::word ||
        (flag->text != "required" && flag->text != "requisite" && flag->text != "sufficient" && flag->text != "optional"))
      return refuse(fmt::format("login module {} has no control flag (required, requisite, sufficient or optional)",
                                m.class_name));
    m.control_flag = flag->text;
    for (;;) {
      auto key = t.next();
      if (!key) return refuse(key.err().message);
      if (key->kind == token::semicolon) break;
      if (key->kind == token::end) return refuse(fmt::format("login module {} does not end with ';'", m.class_name));
      if (key->kind != token::word) return refuse(fmt::format("expected an option name, found '{}'", key->text));
      auto eq = t.next();
      if (!eq) return refuse(eq.err().message);
      if (eq->kind != token::equals) return refuse(fmt::format("option {} has no '='", key->text));
      auto value = t.next();
      if (!value) return refuse(value.err().message);
      if (value->kind != token::word && value->kind != token::quoted)
        return refuse(fmt::format("option {} has no value", key->text));
      m.options[key->text] = value->text;
    }
    modules.push_back(std::move(m));
  }
  if (modules.empty()) return refuse("no login module");
  return modules;
}

}  // namespace brook::broker::security
