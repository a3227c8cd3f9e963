#pragma once
/// \file gift/io/detail/json.hpp
/// \brief A small, strict JSON reader and string escaper: enough for safetensors headers and the
/// tokenizer files gift reads, bounds-checked so corrupt input gives `gift::error` with a byte
/// offset, never a crash. `find_duplicate_key` finds a key given twice in one object, which
/// readers of a format may refuse (JSON leaves its meaning open: Python's json keeps the last
/// value, `json_value::find` the first).

#include <gift/error.hpp>
#include <gift/io/unicode.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::detail {

struct json_member;

/// One parsed JSON value. Numbers keep their exact unsigned value when they are written as plain
/// non-negative integers (sizes and offsets need all 64 bits); other numbers are `double`.
struct json_value {
  /// What the value is.
  enum class kind { null, boolean, number, string, array, object };

  kind type = kind::null;                                   ///< which member below is meaningful
  bool boolean = false;                                     ///< for `kind::boolean`
  double number = 0;                                        ///< for `kind::number`
  bool is_unsigned_integer = false;                         ///< number written as digits only
  std::uint64_t unsigned_integer = 0;                       ///< exact value when the above holds
  std::string string;                                       ///< for `kind::string` (UTF-8)
  std::vector<json_value> array;                            ///< for `kind::array`
  std::vector<json_member> object;                          ///< for `kind::object`, file order
  std::size_t offset = 0;                                   ///< byte offset where it starts

  /// The member called `key`, or `nullptr`.
  [[nodiscard]] const json_value* find(std::string_view key) const noexcept;
};

/// One key and value of a JSON object.
struct json_member {
  std::string key;    ///< the key
  json_value value;   ///< the value
};

// Defined out of the class: the members need json_value complete.
inline const json_value* json_value::find(std::string_view key) const noexcept {
  // A named member rather than a structured binding: nvcc takes the binding for a local copy.
  for (const json_member& member : object) {
    if (member.key == key) return &member.value;
  }
  return nullptr;
}

/// The JSON type name, for messages.
[[nodiscard]] inline const char* json_kind_name(json_value::kind kind) noexcept {
  switch (kind) {
    case json_value::kind::null: return "null";
    case json_value::kind::boolean: return "a boolean";
    case json_value::kind::number: return "a number";
    case json_value::kind::string: return "a string";
    case json_value::kind::array: return "an array";
    case json_value::kind::object: return "an object";
  }
  return "?";
}

/// Recursive-descent JSON parser over a byte range; `context` prefixes every message and
/// `base_offset` is added to reported offsets (the text's position in its file).
class json_parser {
public:
  /// Nesting deeper than this is rejected instead of recursed into.
  static constexpr int max_depth = 64;

  json_parser(std::string_view text, std::string context, std::size_t base_offset = 0)
      : text_(text), context_(std::move(context)), base_(base_offset) {}

  /// Parses one value followed only by whitespace.
  [[nodiscard]] json_value parse_document() {
    json_value value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return value;
  }

  /// Throws `gift::error` for the current position.
  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }

  /// Throws `gift::error` for byte `at` of the text.
  [[noreturn]] void fail_at(std::size_t at, const std::string& what) const {
    throw error(concat(context_, ": byte offset ", base_ + at, ": ", what));
  }

private:
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  json_value parse_value(int depth) {
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end of JSON text");
    if (depth > max_depth) fail(concat("JSON nested deeper than ", max_depth, " levels"));
    json_value value;
    value.offset = base_ + pos_;
    const char c = text_[pos_];
    if (c == '{') {
      value.type = json_value::kind::object;
      ++pos_;
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return value;
      }
      for (;;) {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string key in the JSON object");
        std::string key = parse_string();
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != ':') fail("expected ':' after the key \"" + key + "\"");
        ++pos_;
        value.object.push_back(json_member{std::move(key), parse_value(depth + 1)});
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
        if (pos_ < text_.size() && text_[pos_] == '}') { ++pos_; return value; }
        fail("expected ',' or '}' in the JSON object");
      }
    }
    if (c == '[') {
      value.type = json_value::kind::array;
      ++pos_;
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return value;
      }
      for (;;) {
        value.array.push_back(parse_value(depth + 1));
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') { ++pos_; continue; }
        if (pos_ < text_.size() && text_[pos_] == ']') { ++pos_; return value; }
        fail("expected ',' or ']' in the JSON array");
      }
    }
    if (c == '"') {
      value.type = json_value::kind::string;
      value.string = parse_string();
      return value;
    }
    if (consume("true")) { value.type = json_value::kind::boolean; value.boolean = true; return value; }
    if (consume("false")) { value.type = json_value::kind::boolean; return value; }
    if (consume("null")) return value;
    if (c == '-' || (c >= '0' && c <= '9')) {
      parse_number(value);
      return value;
    }
    fail(concat("unexpected character '", c, "' where a JSON value should start"));
  }

  void parse_number(json_value& value) {
    const std::size_t start = pos_;
    value.type = json_value::kind::number;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    const std::size_t digits_start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (pos_ == digits_start) fail_at(start, "a JSON number needs digits");
    if (text_[digits_start] == '0' && pos_ - digits_start > 1) fail_at(start, "JSON numbers have no leading zeros");
    bool integer = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integer = false;
      ++pos_;
      const std::size_t fraction = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == fraction) fail_at(start, "a JSON number needs digits after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      const std::size_t exponent = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == exponent) fail_at(start, "a JSON number needs digits in its exponent");
    }
    const std::string token(text_.substr(start, pos_ - start));
    value.number = std::strtod(token.c_str(), nullptr);
    if (integer && !negative) {
      std::uint64_t exact = 0;
      bool fits = true;
      for (std::size_t i = digits_start; i < pos_; ++i) {
        const auto digit = static_cast<std::uint64_t>(text_[i] - '0');
        if (exact > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) { fits = false; break; }
        exact = exact * 10 + digit;
      }
      value.is_unsigned_integer = fits;
      value.unsigned_integer = exact;
    }
  }

  unsigned parse_hex4() {
    if (text_.size() - pos_ < 4) fail("truncated \\u escape in a JSON string");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad hex digit in a \\u escape");
    }
    return code;
  }

  std::string parse_string() {
    const std::size_t start = pos_;
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail_at(start, "unterminated JSON string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail_at(pos_ - 1, "control character inside a JSON string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) fail_at(start, "unterminated JSON string");
      switch (text_[pos_++]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned code = parse_hex4();
          if (code >= 0xD800 && code < 0xDC00) {  // high surrogate: a low one must follow
            if (!consume("\\u")) fail("lone high surrogate in a JSON string");
            const unsigned low = parse_hex4();
            if (low < 0xDC00 || low >= 0xE000) fail("bad low surrogate in a JSON string");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          } else if (code >= 0xDC00 && code < 0xE000) {
            fail("lone low surrogate in a JSON string");
          }
          io::append_utf8(out, static_cast<char32_t>(code));
          break;
        }
        default: fail_at(pos_ - 1, "unknown escape in a JSON string");
      }
    }
  }

  std::string_view text_;
  std::string context_;
  std::size_t base_ = 0;
  std::size_t pos_ = 0;
};

/// A key given twice in one JSON object, with the byte offsets of its two values.
struct json_duplicate_key {
  std::string key;                 ///< the key
  std::size_t first_offset = 0;    ///< where the first value starts
  std::size_t second_offset = 0;   ///< where the second value starts
};

/// A key that appears twice in one object anywhere inside `value` (one of `value`'s own keys
/// first, then those of the nested values in file order), or nothing. Sorting indices keeps it O(n log n) for objects as large
/// as a tokenizer's vocabulary; nesting is bounded by `json_parser::max_depth`.
[[nodiscard]] inline std::optional<json_duplicate_key> find_duplicate_key(const json_value& value) {
  if (value.type == json_value::kind::array) {
    for (const json_value& element : value.array)
      if (auto found = find_duplicate_key(element)) return found;
    return std::nullopt;
  }
  if (value.type != json_value::kind::object) return std::nullopt;
  const std::vector<json_member>& members = value.object;
  if (members.size() > 1) {
    std::vector<std::size_t> order(members.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Stable: of two equal keys the earlier member stays first.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return members[a].key < members[b].key; });
    std::optional<json_duplicate_key> earliest;  // the repeat that comes first in the file
    for (std::size_t i = 1; i < order.size(); ++i) {
      if (members[order[i]].key != members[order[i - 1]].key) continue;
      const json_value& second = members[order[i]].value;
      if (!earliest || second.offset < earliest->second_offset)
        earliest = json_duplicate_key{members[order[i]].key, members[order[i - 1]].value.offset, second.offset};
    }
    if (earliest) return earliest;
  }
  for (const json_member& member : members)
    if (auto found = find_duplicate_key(member.value)) return found;
  return std::nullopt;
}

/// `text` as a JSON string literal (quotes included); control characters are escaped, valid UTF-8
/// passes through, and each byte that is not part of a valid UTF-8 character becomes U+FFFD, so
/// the literal is always valid UTF-8 and strict JSON readers accept it (RFC 8259 section 8.1).
[[nodiscard]] inline std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (std::size_t pos = 0; pos < text.size();) {
    const char c = text[pos];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const auto decoded = io::decode_utf8(text, pos);
      if (decoded.value == 0xFFFD && decoded.length == 1)
        out += "\xEF\xBF\xBD";  // an invalid byte: the replacement character
      else
        out.append(text.substr(pos, decoded.length));
      pos += decoded.length;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(hex[(c >> 4) & 0xF]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(c);
        }
    }
    ++pos;
  }
  out.push_back('"');
  return out;
}

/// `value` as a JSON number: the shortest decimal that reads back as the same double, always
/// written as a float ("100000.0"), for config files other programs parse. Throws for NaN or infinity, which
/// JSON cannot hold.
[[nodiscard]] inline std::string json_number(double value) {
  require(std::isfinite(value), "gift: cannot write ", value, " as a JSON number (JSON has no NaN or infinity)");
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  // A float-valued field such as rope_theta reads back as a float whether or not it has a
  // fraction, but Python's json keeps "100000" an int: mark it a float so types survive.
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

}  // namespace gift::detail
