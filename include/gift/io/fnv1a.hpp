#pragma once
/// \file gift/io/fnv1a.hpp
/// \brief `io::fnv1a64`: the one 64-bit FNV-1a of gift — splits by file, sample orders, sweep
/// ids, file fingerprints and temporary names all use it.
///
/// A fixed, documented hash rather than `std::hash`, whose values may change with the compiler or
/// the standard library: a file's split or a sweep's cell name must not.

#include <cstdint>
#include <string_view>

namespace gift::io {

/// FNV-1a's 64-bit offset basis: the state before any byte.
inline constexpr std::uint64_t fnv1a64_basis = 0xcbf29ce484222325ull;

/// 64-bit FNV-1a of `text`, continuing from `state` (so a long input can be hashed in pieces:
/// `fnv1a64(b, fnv1a64(a)) == fnv1a64(a + b)`).
[[nodiscard]] constexpr std::uint64_t fnv1a64(std::string_view text, std::uint64_t state = fnv1a64_basis) noexcept {
  for (const char c : text) {
    state ^= static_cast<unsigned char>(c);
    state *= 0x100000001b3ull;
  }
  return state;
}

}  // namespace gift::io
