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

/// Decodes fields [first, first + count) of a row into `out` as `fmul(code, delta)`. Widths
/// that divide 32 (2, 4, 8) never straddle a word: after the fields up to the next word
/// boundary, they decode a word at a time with constant shifts.
template <int Bits>
inline void decode_packed_fields(const std::uint32_t* row, std::int64_t first, std::int64_t count, float delta,
                                 float* out) noexcept {
  std::int64_t t = first;
  const std::int64_t end = first + count;
  if constexpr (32 % Bits == 0) {
    constexpr int per_word = 32 / Bits;
    constexpr std::uint32_t mask = (1u << Bits) - 1u;
    constexpr int offset = 1 << (Bits - 1);
    for (; t < end && t % per_word != 0; ++t) *out++ = fmul(static_cast<float>(packed_code(row, t, Bits)), delta);
    for (; t + per_word <= end; t += per_word, out += per_word) {
      const std::uint32_t word = row[t / per_word];
      for (int k = 0; k < per_word; ++k)
        out[k] = fmul(static_cast<float>(static_cast<int>((word >> (k * Bits)) & mask) - offset), delta);
    }
  }
  for (; t < end; ++t) *out++ = fmul(static_cast<float>(packed_code(row, t, Bits)), delta);
}

/// `decode_packed_fields` for a bit-width known at run time.
inline void decode_packed_fields(int bits, const std::uint32_t* row, std::int64_t first, std::int64_t count, float delta,
                                 float* out) noexcept {
  switch (bits) {
    case 2: decode_packed_fields<2>(row, first, count, delta, out); break;
    case 3: decode_packed_fields<3>(row, first, count, delta, out); break;
    case 4: decode_packed_fields<4>(row, first, count, delta, out); break;
    case 5: decode_packed_fields<5>(row, first, count, delta, out); break;
    case 6: decode_packed_fields<6>(row, first, count, delta, out); break;
    case 7: decode_packed_fields<7>(row, first, count, delta, out); break;
    default: decode_packed_fields<8>(row, first, count, delta, out); break;
  }
}

/// Writes rows [first, first + count) of the dense weight `W` of `w` into `out` (count × cols,
/// row-major): `fmul(code, Δ_i)` in the non-salient columns (the product the quantizer wrote,
/// so the values are bit-identical to the dequantized fp32 weight) and the stored values in the
/// salient ones. Each run of non-salient columns between two salient ones is decoded straight
/// into place.
inline void dequantize_packed_rows(const packed_view& w, std::int64_t first, std::int64_t count, float* out) noexcept {
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t r = first + i;
    float* dense = out + i * w.cols;
    const std::uint32_t* row = w.words + r * w.words_per_row;
    const float delta = w.delta[r];
    const float* values = w.salient_values + r * w.salient;
    std::int64_t column = 0, field = 0;
    for (std::int64_t s = 0; s < w.salient; ++s) {
      const std::int64_t run = w.salient_columns[s] - column;
      decode_packed_fields(w.bits, row, field, run, delta, dense + column);
      field += run;
      column = w.salient_columns[s] + 1;
      dense[column - 1] = values[s];
    }
    decode_packed_fields(w.bits, row, field, w.cols - column, delta, dense + column);
  }
}

}  // namespace detail

}  // namespace gift
