#pragma once
/// \file gift/detail/model/npft_linear.hpp
/// \brief NPFT's perturbation: its operation tag, the layout of the perturbed entries every
/// backend reads, and the arithmetic of one row, shared by every backend (so all of them draw the
/// same bits).

#include <gift/config.hpp>
#include <gift/random.hpp>

#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: `noisy = base` plus one draw of NPFT's perturbation on the outliers.
struct npft_perturb {
  /// Printable name.
  static std::string name() { return "npft_perturb"; }
};
}  // namespace ops

namespace detail {

/// The perturbed entries of a weight grouped by row, as pointers into the backend's memory, and
/// the draw: group g is row `group_row[g]`, its outliers are entries `group_first[g]` up to
/// `group_first[g + 1]` (exclusive) of `column`, ascending. Entry e draws from word `e % 4` of
/// Philox block `e / 4` of `key`.
struct npft_draw {
  const std::int64_t* group_row = nullptr;    ///< row of each group
  const std::int64_t* group_first = nullptr;  ///< first entry of each group; `groups + 1` values
  const std::int64_t* column = nullptr;       ///< column of each entry
  std::int64_t groups = 0;                    ///< rows with outliers
  std::int64_t columns = 0;                   ///< the weight's width (row stride)
  noise_key key{};                            ///< the draw's stream
  double scale = 1;                           ///< multiplies the perturbation
};

/// Perturbs the outliers of one group (row) of the row-major `noisy`, a copy of `base`: each
/// entry gets `scale · (u_e − mean_row u)`, `u_e` uniform on `[min, max]` of the row's outlier
/// values in `base`. The uniforms are drawn again rather than stored, so a GPU thread needs no
/// scratch memory; the sums run in entry order, in double.
template <class T>
struct npft_perturb_row {
  const T* base;
  T* noisy;
  npft_draw draw;

  GIFT_HOST_DEVICE double uniform(std::int64_t e, double low, double high) const {
    const auto index = static_cast<std::uint64_t>(e);
    const auto bits = noise_bits(draw.key, index / 4).word[index % 4];
    return low + static_cast<double>(uniform_closed_open(bits)) * (high - low);
  }

  GIFT_HOST_DEVICE void operator()(std::int64_t group) const {
    const std::int64_t first = draw.group_first[group], last = draw.group_first[group + 1];
    const std::int64_t row = draw.group_row[group] * draw.columns;
    T low = base[row + draw.column[first]], high = low;
    for (std::int64_t e = first; e < last; ++e) {
      const T w = base[row + draw.column[e]];
      low = w < low ? w : low;
      high = w > high ? w : high;
    }
    const auto lo = static_cast<double>(low), hi = static_cast<double>(high);
    double mean = 0;
    for (std::int64_t e = first; e < last; ++e) mean += uniform(e, lo, hi);
    mean /= static_cast<double>(last - first);
    for (std::int64_t e = first; e < last; ++e)
      noisy[row + draw.column[e]] += static_cast<T>(draw.scale * (uniform(e, lo, hi) - mean));
  }
};

}  // namespace detail

}  // namespace gift
