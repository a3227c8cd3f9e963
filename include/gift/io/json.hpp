#pragma once
/// \file gift/io/json.hpp
/// \brief gift's JSON reader for front ends and research code: a strict, bounds-checked parser
/// (corrupt input gives `gift::error` with a byte offset, never a crash; nesting and sizes
/// bounded), the value it gives, and the string escaper gift's reports use. The same reader the
/// library uses for safetensors headers, tokenizer files and config.json.
/// \code
/// const gift::io::json_value config = gift::io::parse_json(R"({"bits": [3, 4]})", "config.json");
/// for (const auto& bits : config.find("bits")->array) use(bits.number);
/// \endcode

#include <gift/io/detail/json.hpp>

#include <string>
#include <string_view>

namespace gift::io {

/// One parsed JSON value: its `type`, and `boolean`, `number` (with the exact `unsigned_integer`
/// of a plain non-negative integer), `string`, `array` or `object` (members in document order) by
/// type; `find(key)` gives an object's first member of that name.
using json_value = gift::detail::json_value;
/// One member of a JSON object: `key` and `value`.
using json_member = gift::detail::json_member;

/// Parses `text` as one JSON document (nothing but white space after it); `source` names the
/// input in errors (a path, "results.jsonl line 3").
/// \throws gift::error naming the source and the byte offset of the first problem.
[[nodiscard]] inline json_value parse_json(std::string_view text, const std::string& source) {
  return gift::detail::json_parser(text, source).parse_document();
}

/// `text` as a JSON string literal, quotes included: control characters escaped, valid UTF-8
/// passed through, every byte that is not part of a valid UTF-8 character replaced by U+FFFD, so
/// the literal is always valid UTF-8 and strict JSON readers accept it.
[[nodiscard]] inline std::string json_quote(std::string_view text) { return gift::detail::json_quote(text); }

/// The name of a JSON kind ("object", "number", ...), for messages such as "expected an array,
/// but got a string".
[[nodiscard]] inline const char* json_kind_name(json_value::kind kind) { return gift::detail::json_kind_name(kind); }

}  // namespace gift::io
