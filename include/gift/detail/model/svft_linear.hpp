#pragma once
/// \file gift/detail/model/svft_linear.hpp
/// \brief SVFT's sparse coefficient matrix `M` next to `Σ`: the operation tags, the layout of `M`
/// every backend reads, and the arithmetic of one output element, shared by every backend (so all
/// of them compute the same bits).

#include <gift/config.hpp>

#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: `g = h (Σ + M)ᵀ` for the hidden activations `h = x V` (`tokens × m`).
struct svft_mix {
  /// Printable name.
  static std::string name() { return "svft_mix"; }
};
/// Operation tag: the backward of `svft_mix`: `dh = dg (Σ + M)` and `∂L/∂M_e += Σ_t dg[t, i_e] h[t, j_e]`.
struct svft_mix_backward {
  /// Printable name.
  static std::string name() { return "svft_mix_backward"; }
};
}  // namespace ops

namespace detail {

/// `Σ` and the trained entries of `M` (`m × m`), as pointers into the backend's memory. Entry e
/// is `(entry_row[e], entry_column[e])` with value `values[e]`; the entries are row-major, so row
/// i holds entries `row_first[i]` up to `row_first[i + 1]`; `column_entries[column_first[j]]` up
/// to `column_entries[column_first[j + 1]]` are the entries of column j, ascending.
template <class T>
struct svft_layout {
  const T* sigma = nullptr;                    ///< the m singular values
  const std::int64_t* row_first = nullptr;     ///< m + 1 offsets into the entries, by row
  const std::int64_t* entry_row = nullptr;     ///< row of each entry
  const std::int64_t* entry_column = nullptr;  ///< column of each entry
  const std::int64_t* column_first = nullptr;  ///< m + 1 offsets into `column_entries`, by column
  const std::int64_t* column_entries = nullptr;  ///< the entries, by column (ascending within one)
  const T* values = nullptr;                   ///< M's trained values
  T* gradient = nullptr;                       ///< their gradient (accumulated)
  std::int64_t m = 0;                          ///< min(out, in)
  std::int64_t entries = 0;                    ///< trained entries
};

/// One element `(t, i)` of `g = h (Σ + M)ᵀ`: `σ_i h[t, i]`, then `M_ij h[t, j]` added entry by entry.
template <class T>
struct svft_mix_element {
  const T* h;
  T* g;
  svft_layout<T> layout;
  GIFT_HOST_DEVICE void operator()(std::int64_t index) const {
    const std::int64_t t = index / layout.m, i = index % layout.m;
    const T* row = h + t * layout.m;
    T sum = row[i] * layout.sigma[i];
    for (std::int64_t e = layout.row_first[i]; e < layout.row_first[i + 1]; ++e)
      sum = sum + layout.values[e] * row[layout.entry_column[e]];
    g[index] = sum;
  }
};

/// One element `(t, j)` of `dh = dg (Σ + M)`: `σ_j dg[t, j]`, then `M_ij dg[t, i]` added entry by entry.
template <class T>
struct svft_unmix_element {
  const T* dg;
  T* dh;
  svft_layout<T> layout;
  GIFT_HOST_DEVICE void operator()(std::int64_t index) const {
    const std::int64_t t = index / layout.m, j = index % layout.m;
    const T* row = dg + t * layout.m;
    T sum = row[j] * layout.sigma[j];
    for (std::int64_t k = layout.column_first[j]; k < layout.column_first[j + 1]; ++k) {
      const std::int64_t e = layout.column_entries[k];
      sum = sum + layout.values[e] * row[layout.entry_row[e]];
    }
    dh[index] = sum;
  }
};

/// The gradient of entry e: `Σ_t dg[t, i] h[t, j]` summed over the tokens in order, added to
/// `gradient[e]`.
template <class T>
struct svft_coefficient_gradient {
  const T* dg;
  const T* h;
  std::int64_t tokens;
  svft_layout<T> layout;
  GIFT_HOST_DEVICE void operator()(std::int64_t e) const {
    const std::int64_t i = layout.entry_row[e], j = layout.entry_column[e];
    T sum = T(0);
    for (std::int64_t t = 0; t < tokens; ++t) sum = sum + dg[t * layout.m + i] * h[t * layout.m + j];
    layout.gradient[e] += sum;
  }
};

}  // namespace detail

}  // namespace gift
