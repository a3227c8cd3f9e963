#pragma once
/// \file gift/detail/quant/packed.hpp
/// \brief Glue behind quant/packed.hpp: the bit layout of packed codes (shared by the host and
/// the CUDA kernel), the operation tag, and the plain view of a packed matrix that backends take.
///
/// Layout of one row: its non-salient codes, in column order, as a stream of `bits`-bit fields,
/// field t at bits [t·b, t·b + b) of the row's little-endian 32-bit words (a field may straddle
/// two words); each field holds `code + 2^(b−1)` (so 0 .. 2^b − 1); the row is padded with zero
/// bits to a whole word, and rows follow each other.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: `y = x Wᵀ` with W in the packed mixed-precision layout.
struct packed_matmul {
  /// Printable name.
  static std::string name() { return "packed_matmul"; }
};
}  // namespace ops

namespace detail {

/// 32-bit words one row of `count` codes of `bits` bits occupies.
GIFT_HOST_DEVICE constexpr std::int64_t packed_words_per_row(std::int64_t count, int bits) noexcept {
  return (count * bits + 31) / 32;
}

/// The signed code of field `t` of a row whose words start at `row`.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE int packed_code(const std::uint32_t* row, std::int64_t t, int bits) noexcept {
  const std::int64_t bit = t * bits;
  const std::int64_t word = bit >> 5;
  const unsigned shift = static_cast<unsigned>(bit & 31);
  std::uint64_t window = row[word];
  if (shift + static_cast<unsigned>(bits) > 32u) window |= static_cast<std::uint64_t>(row[word + 1]) << 32;
  const unsigned field = static_cast<unsigned>(window >> shift) & ((1u << bits) - 1u);
  return static_cast<int>(field) - (1 << (bits - 1));
}

/// Stores the signed `code` (in [−2^(b−1), 2^(b−1) − 1]) into field `t` of a row whose words
/// start at `row` (the field's bits must be zero before).
inline void store_packed_code(std::uint32_t* row, std::int64_t t, int bits, int code) noexcept {
  const std::uint64_t field = static_cast<std::uint64_t>(code + (1 << (bits - 1)));
  const std::int64_t bit = t * bits;
  const std::int64_t word = bit >> 5;
  const unsigned shift = static_cast<unsigned>(bit & 31);
  row[word] |= static_cast<std::uint32_t>(field << shift);
  if (shift + static_cast<unsigned>(bits) > 32u) row[word + 1] |= static_cast<std::uint32_t>(field >> (32u - shift));
}

/// A packed matrix as plain pointers (host or device memory, as the backend needs), valid while
/// the matrix it was taken from lives.
struct packed_view {
  int bits = 0;                              ///< b in 2..8
  std::int64_t rows = 0;                     ///< out
  std::int64_t cols = 0;                     ///< in
  std::int64_t kept = 0;                     ///< non-salient columns (codes per row)
  std::int64_t salient = 0;                  ///< salient columns k
  std::int64_t words_per_row = 0;            ///< 32-bit words per row
  const std::uint32_t* words = nullptr;      ///< rows × words_per_row
  const float* delta = nullptr;              ///< Δ per row
  const std::int32_t* kept_columns = nullptr;  ///< the non-salient column of each field, ascending
  const std::int32_t* salient_columns = nullptr;  ///< the salient columns, ascending
  const float* salient_values = nullptr;     ///< rows × salient, row-major
};

/// Writes rows [first, first + count) of the dense weight `W` of `w` into `out` (count × cols,
/// row-major): `fmul(code, Δ_i)` in the non-salient columns (the product the quantizer wrote,
/// so the values are bit-identical to the dequantized fp32 weight) and the stored values in the
/// salient ones.
inline void dequantize_packed_rows(const packed_view& w, std::int64_t first, std::int64_t count, float* out) noexcept {
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t r = first + i;
    const std::uint32_t* row = w.words + r * w.words_per_row;
    float* dense = out + i * w.cols;
    const float delta = w.delta[r];
    for (std::int64_t t = 0; t < w.kept; ++t)
      dense[w.kept_columns[t]] = fmul(static_cast<float>(packed_code(row, t, w.bits)), delta);
    const float* values = w.salient_values + r * w.salient;
    for (std::int64_t s = 0; s < w.salient; ++s) dense[w.salient_columns[s]] = values[s];
  }
}

}  // namespace detail

}  // namespace gift
