#pragma once
/// \file gift/io/unicode.hpp
/// \brief The little Unicode a byte-level BPE pre-tokenizer needs: lenient UTF-8 decoding and
/// the classes letter (\\p{L}), number (\\p{N}) and white space (\\s, the White_Space property).

#include <gift/io/detail/unicode_tables.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gift::io {

/// The character classes the GPT-2 style split distinguishes.
enum class char_class : std::uint8_t {
  other,   ///< anything else: punctuation, symbols, marks, controls, invalid bytes
  letter,  ///< general category L
  number,  ///< general category N
  space,   ///< White_Space property (what \\s matches)
};

/// One decoded code point and the number of bytes it took.
struct decoded_char {
  char32_t value;       ///< the code point (U+FFFD for an invalid byte)
  std::uint32_t length; ///< 1..4 bytes
};

/// Decodes the code point starting at `text[pos]` (`pos < text.size()`). Invalid or truncated
/// sequences decode as U+FFFD of length 1, so every byte is consumed exactly once.
[[nodiscard]] inline decoded_char decode_utf8(std::string_view text, std::size_t pos) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(text[i])); };
  const std::uint32_t b0 = byte(pos);
  if (b0 < 0x80) return {b0, 1};
  const std::size_t left = text.size() - pos;
  const auto continuation = [&](std::size_t i) { return i < left && (byte(pos + i) & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF && continuation(1)) {
    return {((b0 & 0x1F) << 6) | (byte(pos + 1) & 0x3F), 2};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && continuation(1) && continuation(2)) {
    const std::uint32_t cp = ((b0 & 0x0F) << 12) | ((byte(pos + 1) & 0x3F) << 6) | (byte(pos + 2) & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3};  // no overlongs, no surrogates
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && continuation(1) && continuation(2) && continuation(3)) {
    const std::uint32_t cp = ((b0 & 0x07) << 18) | ((byte(pos + 1) & 0x3F) << 12) | ((byte(pos + 2) & 0x3F) << 6) |
                             (byte(pos + 3) & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4};
  }
  return {0xFFFD, 1};
}

/// Offset of the first byte of `text` that does not belong to a valid UTF-8 character (a stray
/// continuation byte, an overlong form, a surrogate, a truncated sequence), or `npos` when all of
/// `text` is valid UTF-8. Used to refuse prompts that a JSON reader would reject.
[[nodiscard]] inline std::size_t first_invalid_utf8(std::string_view text) noexcept {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto c = decode_utf8(text, pos);
    if (c.value == 0xFFFD && c.length == 1) return pos;  // a real U+FFFD decodes with length 3
    pos += c.length;
  }
  return std::string_view::npos;
}

/// Length of the longest prefix of `text` that does not stop inside a character: when `text` ends
/// with the first bytes of a multi-byte character that further bytes could still complete, the
/// prefix ends before them. Streaming decoders hold those bytes back until the character is whole,
/// so what they emit never splits a code point. Anything else (ASCII, whole characters, invalid
/// bytes that no continuation can repair) is kept.
[[nodiscard]] inline std::size_t complete_utf8_prefix(std::string_view text) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  // A character is at most 4 bytes, so an unfinished one starts within the last 3.
  for (std::size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    const std::size_t start = text.size() - back;
    const unsigned char lead = byte(start);
    if ((lead & 0xC0) == 0x80) continue;  // a continuation byte: the lead is further back
    const std::size_t needed = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                               : lead >= 0xF0 && lead <= 0xF4 ? 4 : 1;
    if (needed <= back) return text.size();  // complete (or a byte no continuation can repair)
    if (back >= 2) {
      // The second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF).
      const unsigned char second = byte(start + 1);
      const unsigned char low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
      const unsigned char high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
      if (second < low || second > high) return text.size();
    }
    return start;
  }
  return text.size();
}

/// Appends the UTF-8 encoding of `cp` (a valid scalar value) to `out`.
inline void append_utf8(std::string& out, char32_t cp) {
  const auto c = static_cast<std::uint32_t>(cp);
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

/// Whether `cp` has the Unicode White_Space property (the set `\s` matches in Unicode regexes).
[[nodiscard]] constexpr bool is_unicode_space(char32_t cp) noexcept {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

/// The class of code point `cp`.
[[nodiscard]] inline char_class classify(char32_t cp) noexcept {
  if (cp < 0x80) {  // ASCII without a search
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return char_class::letter;
    if (cp >= '0' && cp <= '9') return char_class::number;
    return is_unicode_space(cp) ? char_class::space : char_class::other;
  }
  if (is_unicode_space(cp)) return char_class::space;
  const auto& ranges = detail::unicode_letter_number_ranges;
  const auto it = std::upper_bound(ranges.begin(), ranges.end(), static_cast<std::uint32_t>(cp),
                                   [](std::uint32_t value, const detail::unicode_range& r) { return value < r.first; });
  if (it == ranges.begin()) return char_class::other;
  const auto& range = *(it - 1);
  if (static_cast<std::uint32_t>(cp) > range.last) return char_class::other;
  return range.category == 1 ? char_class::letter : char_class::number;
}

}  // namespace gift::io
