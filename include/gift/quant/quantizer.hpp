#pragma once
/// \file gift/quant/quantizer.hpp
/// \brief Compile-time quantizer policies (`int4`, `symmetric<3, paper_alpha_grid<>>`, …), the
/// types a metric names in `quantization_error<Quantizer>`.

#include <gift/quant/alpha_search.hpp>
#include <gift/fwd.hpp>

#include <concepts>
#include <string>

namespace gift {

/// Symmetric uniform per-row quantizer with `Bits` bits and the α-search policy `Search`:
/// `Δ_i = α_i / (2^(b−1) − 1)`, `Q(w) = Δ_i · clamp(round(w/Δ_i), −2^(b−1), 2^(b−1) − 1)`.
template <int Bits, alpha_search_policy Search = max_abs_alpha>
struct symmetric {
  static_assert(Bits >= min_quant_bits && Bits <= max_quant_bits,
                "gift::symmetric<Bits>: Bits must be in 2..8 (codes are stored in 8-bit integers)");
  /// The bit-width b.
  static constexpr int bits = Bits;
  /// The α-search policy that picks each row's clipping range.
  using search_policy = Search;
  /// `int4` for the absmax scale, `int4/grid100` with a search.
  static std::string name() {
    // Appended piece by piece: `"int" + std::to_string(...)` trips GCC 12's false -Wrestrict
    // (bug 105329) once inlined deeply enough.
    std::string n = "int";
    n += std::to_string(Bits);
    if (const std::string search = Search::name(); search != "max") {
      n += '/';
      n += search;
    }
    return n;
  }
};

/// Absmax round-to-nearest 2-bit quantizer.
using int2 = symmetric<2>;
/// Absmax round-to-nearest 3-bit quantizer.
using int3 = symmetric<3>;
/// Absmax round-to-nearest 4-bit quantizer (the paper's default).
using int4 = symmetric<4>;
/// Absmax round-to-nearest 8-bit quantizer.
using int8 = symmetric<8>;

/// A compile-time quantizer policy: bit-width, α-search policy, printable name.
template <class Q>
concept quantizer_policy = requires {
  { Q::bits } -> std::convertible_to<int>;
  typename Q::search_policy;
  { Q::name() } -> std::convertible_to<std::string>;
} && alpha_search_policy<typename Q::search_policy>;

}  // namespace gift
