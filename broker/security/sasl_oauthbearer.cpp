#include "broker/security/sasl_oauthbearer.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "broker/security/jaas_config.hpp"

namespace brook::broker::security {

namespace {

using common::kafka_error;

constexpr std::string_view oauthbearer_login_module =
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

// What Kafka's SaslServerAuthenticator answers for any SaslException a mechanism throws (here: a client
// first message that breaks the grammar); the reason stays in the broker's log. On a re-authentication
// Kafka says "re-authentication" instead, which the connection knows and this exchange does not.
constexpr std::string_view oauthbearer_invalid_credentials =
    "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER";

constexpr std::string_view oauthbearer_invalid_first_message = "Invalid OAUTHBEARER client first message";

// Java's String.trim(): what Kafka applies to options and claims; it strips every character up to space.
std::string_view java_trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

bool java_blank(std::string_view s) { return java_trim(s).empty(); }

// Java's Integer.parseInt: an optional sign, then decimal digits, within 32 bits.
std::optional<int32_t> java_parse_int(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return std::nullopt;
  int64_t magnitude = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    magnitude = magnitude * 10 + (s[i] - '0');
    if (magnitude > int64_t{1} << 31) return std::nullopt;
  }
  const int64_t value = negative ? -magnitude : magnitude;
  if (value > std::numeric_limits<int32_t>::max()) return std::nullopt;
  return static_cast<int32_t>(value);
}

// RFC 6749's scope-token characters: %x21 / %x23-5B / %x5D-7E (no space, quote or backslash).
bool is_scope_item_char(unsigned char c) { return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E); }

// A list as Java's List.toString() prints it, which is how Kafka reports scopes: "[a, b]".
template <class Range>
std::string java_list_text(const Range& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ", ";
    out += item;
  }
  return out + "]";
}

// Java's Math.round: the nearest long, ties toward positive infinity, saturating at the long range.
int64_t java_round(double x) {
  if (std::isnan(x)) return 0;
  const double floor = std::floor(x);
  const double rounded = x - floor >= 0.5 ? floor + 1 : floor;
  if (rounded >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (rounded <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(rounded);
}

// Java's Double.toString, which is how Jackson renders a fractional number as text (a list claim's
// numeric items): plain notation from 10^-3 to 10^7, otherwise d.dddE<n>; always a fractional digit.
std::string java_double_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string_view sci(buf, end - buf);  // [-]d[.ddd]e<sign><exp>
  const size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  const int exponent = std::stoi(std::string(sci.substr(e + 1)));
  std::string sign;
  if (mantissa.front() == '-') {
    sign = "-";
    mantissa.remove_prefix(1);
  }
  std::string digits(1, mantissa.front());
  if (mantissa.size() > 2) digits += mantissa.substr(2);
  const double magnitude = std::fabs(d);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    std::string whole, fraction;
    if (exponent >= 0) {
      whole = digits.substr(0, std::min<size_t>(digits.size(), exponent + 1));
      whole.resize(exponent + 1, '0');
      fraction = digits.size() > static_cast<size_t>(exponent + 1) ? digits.substr(exponent + 1) : "0";
    } else {
      whole = "0";
      fraction = std::string(-exponent - 1, '0') + digits;
    }
    return sign + whole + "." + fraction;
  }
  return sign + digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0") + "E" +
         std::to_string(exponent);
}

// Java's Base64.getUrlDecoder(): the URL-safe alphabet, optional but correct '=' padding, nothing after
// the padding, no dangling single character; bits left over in the last character are ignored.
std::optional<std::string> decode_base64url(std::string_view text) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t bits = 0;
  int pending = 0;  // characters of the current 4-character group
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const int v = sextet(text[i]);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++pending == 4) {
      out += static_cast<char>((bits >> 16) & 0xFF);
      out += static_cast<char>((bits >> 8) & 0xFF);
      out += static_cast<char>(bits & 0xFF);
      bits = 0;
      pending = 0;
    }
  }
  if (i < text.size()) {  // '=' padding completes the last group ("xx==" or "xxx=") and ends the text
    if (pending < 2) return std::nullopt;
    if (text.substr(i) != (pending == 2 ? "==" : "=")) return std::nullopt;
  }
  if (pending == 1) return std::nullopt;
  if (pending == 2) out += static_cast<char>((bits >> 4) & 0xFF);
  if (pending == 3) {
    out += static_cast<char>((bits >> 10) & 0xFF);
    out += static_cast<char>((bits >> 2) & 0xFF);
  }
  return out;
}

// A JWS header parameter or claim as Kafka holds it after Jackson: a number, text (strings; booleans,
// null and objects as Jackson's asText() renders them) or a list of texts (an array, item by item).
struct jws_member {
  enum class kind { number, text, list } what = kind::text;
  double number = 0;
  std::string_view java_number_type;  // the Java class Jackson would use: Integer, Long, BigInteger, Double
  std::string text;
  std::vector<std::string> list;

  // Java's simple class name of the value, for Kafka's "not of type" reasons.
  std::string_view java_type() const {
    return what == kind::number ? java_number_type : what == kind::text ? "String" : "ArrayList";
  }
};

using jws_members = std::map<std::string, jws_member, std::less<>>;

// Jackson's JsonNode.asText().
std::string jackson_text(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return std::string(v.get_string());
    case boost::json::kind::bool_: return v.get_bool() ? "true" : "false";
    case boost::json::kind::null: return "null";
    case boost::json::kind::int64: return std::to_string(v.get_int64());
    case boost::json::kind::uint64: return std::to_string(v.get_uint64());
    case boost::json::kind::double_: return java_double_text(v.get_double());
    case boost::json::kind::object:
    case boost::json::kind::array: return {};
  }
  return {};
}

jws_member to_jws_member(const boost::json::value& v) {
  jws_member m;
  switch (v.kind()) {
    case boost::json::kind::int64: {
      const int64_t n = v.get_int64();
      m.what = jws_member::kind::number;
      m.number = static_cast<double>(n);
      m.java_number_type = n >= std::numeric_limits<int32_t>::min() && n <= std::numeric_limits<int32_t>::max()
                               ? "Integer"
                               : "Long";
      break;
    }
    case boost::json::kind::uint64:
      m.what = jws_member::kind::number;
      m.number = static_cast<double>(v.get_uint64());
      m.java_number_type = "BigInteger";
      break;
    case boost::json::kind::double_:
      m.what = jws_member::kind::number;
      m.number = v.get_double();
      m.java_number_type = "Double";
      break;
    case boost::json::kind::array:
      m.what = jws_member::kind::list;
      for (const auto& item : v.get_array()) m.list.push_back(jackson_text(item));
      break;
    default: m.text = jackson_text(v); break;
  }
  return m;
}

// One Base64URL part of the token as its JSON object's members, or Kafka's reason. Like Kafka's Jackson
// reading, text after the first JSON value is ignored, a later duplicate member wins, and a part that
// is empty or not an object has no members.
std::optional<jws_members> decode_jws_part(std::string_view encoded, std::string& reason) {
  auto json = decode_base64url(encoded);
  if (!json) {
    reason = "malformed Base64 URL encoded value";
    return std::nullopt;
  }
  jws_members members;
  // Jackson reads no value at all from empty text, and Kafka takes that as no members.
  if (json->find_first_not_of(" \t\r\n") == std::string::npos) return members;
  boost::json::parser parser;
  boost::system::error_code ec;
  parser.write_some(json->data(), json->size(), ec);
  if (ec) {
    reason = "malformed JSON";
    return std::nullopt;
  }
  const boost::json::value value = parser.release();
  if (const auto* object = value.if_object())
    for (const auto& [key, member] : *object) members[std::string(key)] = to_jws_member(member);
  return members;
}

std::string oauthbearer_error_json(std::string_view status, const std::optional<std::string>& scope) {
  std::string json = fmt::format("{{\"status\":\"{}\"", status);
  if (scope) json += fmt::format(", \"scope\":\"{}\"", *scope);
  return json + "}";
}

int64_t oauthbearer_epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

common::result<oauthbearer_validator_options> oauthbearer_validator_options::from_jaas(std::string_view config_name,
                                                                                       std::string_view jaas_text) {
  auto modules = parse_jaas_config(config_name, jaas_text);
  if (!modules) return modules.err();
  auto refuse = [&](const std::string& why) {
    return common::error{kafka_error::invalid_config, fmt::format("Invalid value for {}: {}", config_name, why)};
  };
  const auto module = std::find_if(modules->begin(), modules->end(),
                                   [](const jaas_login_module& m) { return m.class_name == oauthbearer_login_module; });
  if (module == modules->end()) return refuse(fmt::format("no {} entry", oauthbearer_login_module));
  // A blank or absent option takes its default, as in Kafka.
  auto option = [&](std::string_view name) -> std::optional<std::string_view> {
    const auto it = module->options.find(std::string(name));
    if (it == module->options.end() || java_blank(it->second)) return std::nullopt;
    return std::string_view(it->second);
  };

  oauthbearer_validator_options options;
  if (auto v = option("unsecuredValidatorPrincipalClaimName")) options.principal_claim_name = java_trim(*v);
  if (auto v = option("unsecuredValidatorScopeClaimName")) options.scope_claim_name = java_trim(*v);
  if (auto v = option("unsecuredValidatorRequiredScope")) {
    // Kafka splits on single spaces, so runs of spaces leave empty items, which it skips.
    std::string_view rest = java_trim(*v);
    for (;;) {
      const size_t space = rest.find(' ');
      const std::string_view item = rest.substr(0, space);
      if (!item.empty()) {
        if (!std::all_of(item.begin(), item.end(), [](char c) { return is_scope_item_char(c); }))
          return refuse(fmt::format("Invalid scope value: {}", item));
        options.required_scope.emplace_back(item);
      }
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
  }
  if (auto v = option("unsecuredValidatorAllowableClockSkewMs")) {
    const auto skew = java_parse_int(java_trim(*v));
    if (!skew) return refuse(fmt::format("For input string: \"{}\"", java_trim(*v)));
    if (*skew < 0) return refuse(fmt::format("Allowable clock skew millis must not be negative: {}", *v));
    options.allowable_clock_skew = std::chrono::milliseconds(*skew);
  }
  return options;
}

common::result<oauthbearer_client_first_message> parse_oauthbearer_client_first_message(std::string_view message) {
  auto invalid = [](std::string_view why) {
    return common::error{kafka_error::sasl_authentication_failed, std::string(why)};
  };
  // Kafka matches n,(a=<saslname>)?,\x01(<key>=<value>\x01)*\x01 against the whole message.
  if (!message.starts_with("n,")) return invalid(oauthbearer_invalid_first_message);
  size_t pos = 2;
  oauthbearer_client_first_message out;
  if (message.substr(pos).starts_with("a=")) {
    pos += 2;
    const size_t start = pos;
    while (pos < message.size() && message[pos] != ',') {
      const auto c = static_cast<unsigned char>(message[pos]);
      if (c == '=') {
        const std::string_view escape = message.substr(pos, 3);
        if (escape != "=2C" && escape != "=3D") return invalid(oauthbearer_invalid_first_message);
        pos += 3;
      } else if (c >= 0x01 && c <= 0x7F) {
        ++pos;
      } else {
        return invalid(oauthbearer_invalid_first_message);
      }
    }
    if (pos == start) return invalid(oauthbearer_invalid_first_message);
    out.authorization_id = message.substr(start, pos - start);
  }
  if (message.substr(pos, 2) != ",\x01") return invalid(oauthbearer_invalid_first_message);
  pos += 2;

  auto is_key_char = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  auto is_value_char = [](char c) {
    return (c >= 0x21 && c <= 0x7E) || c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  std::map<std::string, std::string> pairs;
  while (message.substr(pos) != "\x01") {
    const size_t key_start = pos;
    while (pos < message.size() && is_key_char(message[pos])) ++pos;
    if (pos == key_start || pos == message.size() || message[pos] != '=')
      return invalid(oauthbearer_invalid_first_message);
    const std::string_view key = message.substr(key_start, pos - key_start);
    const size_t value_start = ++pos;
    while (pos < message.size() && is_value_char(message[pos])) ++pos;
    if (pos == value_start || pos == message.size() || message[pos] != '\x01')
      return invalid(oauthbearer_invalid_first_message);
    pairs[std::string(key)] = std::string(message.substr(value_start, pos - value_start));
    ++pos;
  }

  const auto auth = pairs.find("auth");
  if (auth == pairs.end()) return invalid(fmt::format("{}: 'auth' not specified", oauthbearer_invalid_first_message));
  const std::string auth_value = std::move(auth->second);
  pairs.erase(auth);
  out.extensions = std::move(pairs);

  // auth: <scheme> SP+ <token>, the scheme a run of word characters, the token's characters those of
  // RFC 6750's b64token followed by '=' padding.
  auto is_word_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  };
  auto is_token_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '~' || c == '+' || c == '/' || c == '.';
  };
  const std::string_view a = auth_value;
  size_t i = 0;
  while (i < a.size() && is_word_char(a[i])) ++i;
  const size_t scheme_end = i;
  while (i < a.size() && a[i] == ' ') ++i;
  const size_t token_start = i;
  while (i < a.size() && is_token_char(a[i])) ++i;
  const size_t token_chars_end = i;
  while (i < a.size() && a[i] == '=') ++i;
  if (scheme_end == 0 || token_start == scheme_end || token_chars_end == token_start || i != a.size())
    return invalid(fmt::format("{}: invalid 'auth' format", oauthbearer_invalid_first_message));
  const std::string_view scheme = a.substr(0, scheme_end);
  const bool bearer = scheme.size() == 6 && std::equal(scheme.begin(), scheme.end(), "bearer", [](char x, char y) {
                        return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == y;
                      });
  // (Kafka means to fail with this message, though its own formatting of it throws instead.)
  if (!bearer) return invalid(fmt::format("Invalid scheme in OAUTHBEARER client first message: {}", scheme));
  out.token = a.substr(token_start);
  return out;
}

oauthbearer_token_check validate_unsecured_jws(std::string_view token, const oauthbearer_validator_options& options,
                                               std::chrono::system_clock::time_point now) {
  auto refuse = [](std::string reason) {
    return oauthbearer_token_check{std::nullopt, "invalid_token", std::nullopt, std::move(reason)};
  };
  if (token.find("..") != std::string_view::npos) return refuse("Malformed compact serialization contains '..'");
  // Java's split("\\.") drops trailing empty parts; Kafka then counts a final '.' as an empty signature.
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  if (token.ends_with('.')) parts.emplace_back();
  if (parts.size() != 3)
    return refuse("Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values");

  std::string reason;
  const auto header = decode_jws_part(parts[0], reason);
  if (!header) return refuse(reason);
  const auto claims = decode_jws_part(parts[1], reason);
  if (!claims) return refuse(reason);
  const auto alg = header->find("alg");
  // Kafka fails on a missing alg with a NullPointerException, which drops the connection; a refused token
  // is the answer that says what happened.
  if (alg == header->end()) return refuse("JWS header must have an Algorithm value");
  if (alg->second.what != jws_member::kind::text || alg->second.text != "none")
    return refuse("Unsecured JWS must have 'none' for an algorithm");
  if (!parts[2].empty()) return refuse("Unsecured JWS must not contain a digital signature");

  auto not_of_type = [](std::string_view claim, std::string_view type, const jws_member& m) {
    return fmt::format("The '{}' claim was not of type {}: {}", claim, type, m.java_type());
  };
  oauthbearer_token accepted;
  // The scope: a string is one scope item (Kafka does not split it), a list holds one item each.
  if (const auto scope = claims->find(options.scope_claim_name); scope != claims->end()) {
    switch (scope->second.what) {
      case jws_member::kind::text:
        if (!java_blank(scope->second.text)) accepted.scope.emplace(java_trim(scope->second.text));
        break;
      case jws_member::kind::list:
        for (const auto& item : scope->second.list)
          if (!java_blank(item)) accepted.scope.emplace(java_trim(item));
        break;
      case jws_member::kind::number: return refuse(not_of_type(options.scope_claim_name, "List", scope->second));
    }
  }
  const auto exp = claims->find("exp");
  if (exp == claims->end()) return refuse("No expiration time in JWT");
  if (exp->second.what != jws_member::kind::number) return refuse(not_of_type("exp", "Number", exp->second));
  const auto principal = claims->find(options.principal_claim_name);
  if (principal != claims->end() && principal->second.what != jws_member::kind::text)
    return refuse(not_of_type(options.principal_claim_name, "String", principal->second));
  if (principal == claims->end() || java_blank(principal->second.text))
    return refuse(fmt::format("No principal name in JWT claim: {}", options.principal_claim_name));
  std::optional<double> issued_at;
  if (const auto iat = claims->find("iat"); iat != claims->end()) {
    if (iat->second.what != jws_member::kind::number) return refuse(not_of_type("iat", "Number", iat->second));
    issued_at = iat->second.number;
  }

  // The times, compared as Kafka compares them: claim seconds times 1000 against milliseconds, in doubles.
  const int64_t now_ms = oauthbearer_epoch_ms(now);
  const int64_t skew_ms = options.allowable_clock_skew.count();
  const double expiration = exp->second.number;
  if (issued_at && 1000.0 * *issued_at > static_cast<double>(now_ms + skew_ms))
    return refuse(fmt::format(
        "The Issued At value ({:.6f} seconds) was after the indicated time ({} ms) plus allowable clock skew ({} ms)",
        *issued_at, now_ms, skew_ms));
  if (static_cast<double>(now_ms - skew_ms) >= 1000.0 * expiration)
    return refuse(fmt::format("The indicated time ({} ms) minus allowable clock skew ({} ms) was on or after the "
                              "Expiration Time value ({:.6f} seconds)",
                              now_ms, skew_ms, expiration));
  if (issued_at && expiration <= *issued_at)
    return refuse(fmt::format(
        "The Expiration Time time ({:.6f} seconds) was not after the Issued At time ({:.6f} seconds)", expiration,
        *issued_at));
  for (const auto& required : options.required_scope) {
    if (accepted.scope.contains(required)) continue;
    return oauthbearer_token_check{
        std::nullopt, "insufficient_scope", java_list_text(options.required_scope),
        fmt::format("The provided scope ({}) was missing a required scope ({}).  All required scope elements: {}",
                    java_list_text(accepted.scope), required, java_list_text(options.required_scope))};
  }

  accepted.principal = principal->second.text;
  accepted.expiration_ms = java_round(expiration * 1000);
  if (issued_at) accepted.issued_at_ms = java_round(*issued_at * 1000);
  return oauthbearer_token_check{std::move(accepted), {}, std::nullopt, {}};
}

oauthbearer_sasl_server::oauthbearer_sasl_server(oauthbearer_validator_options options, oauthbearer_clock clock)
    : options_(std::move(options)), clock_(std::move(clock)) {}

sasl_step oauthbearer_sasl_server::respond(std::span<const uint8_t> client_token) {
  const std::string_view message(reinterpret_cast<const char*>(client_token.data()), client_token.size());
  switch (state_) {
    case state::done: return sasl_step::failure("The OAUTHBEARER exchange is already over");
    case state::awaiting_error_acknowledgement:
      if (message == "\x01") {
        state_ = state::done;
        return sasl_step::failure(error_json_);
      }
      // Anything else starts over, as in Kafka: the client may present another token.
      return first_message(message);
    case state::awaiting_first_message: return first_message(message);
  }
  return sasl_step::failure("The OAUTHBEARER exchange is already over");
}

sasl_step oauthbearer_sasl_server::first_message(std::string_view message) {
  error_json_.clear();
  auto parsed = parse_oauthbearer_client_first_message(message);
  if (!parsed) {
    rejection_reason_ = parsed.err().message;
    state_ = state::done;
    return sasl_step::failure(std::string(oauthbearer_invalid_credentials));
  }
  const auto now = clock_();
  auto check = validate_unsecured_jws(parsed->token, options_, now);
  if (!check.token) {
    rejection_reason_ = std::move(check.reason);
    error_json_ = oauthbearer_error_json(check.error_status, check.error_scope);
    state_ = state::awaiting_error_acknowledgement;
    return sasl_step::challenge_with(error_json_);
  }
  state_ = state::done;
  const oauthbearer_token& token = *check.token;
  if (!parsed->authorization_id.empty() && parsed->authorization_id != token.principal) {
    rejection_reason_ = fmt::format(
        "Authentication failed: Client requested an authorization id ({}) that is different from the token's "
        "principal name ({})",
        parsed->authorization_id, token.principal);
    return sasl_step::failure(rejection_reason_);
  }
  rejection_reason_.clear();
  extensions_ = std::move(parsed->extensions);
  auto step = sasl_step::success(token.principal);
  // KIP-368: the session lasts until the token expires; a token accepted within the clock skew after its
  // expiry has no time left (Kafka clamps to zero, which ends the session at the next request).
  step.credential_lifetime =
      std::chrono::milliseconds(std::max<int64_t>(0, token.expiration_ms - oauthbearer_epoch_ms(now)));
  return step;
}

std::unique_ptr<oauthbearer_sasl_server> make_oauthbearer_server(const oauthbearer_validator_options& options,
                                                                 oauthbearer_clock clock) {
  return std::make_unique<oauthbearer_sasl_server>(options, std::move(clock));
}

}  // namespace brook::broker::security
