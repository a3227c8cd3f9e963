#pragma once
/// \file gift/detail/stats.hpp
/// \brief The column-moments operation (per-column max|x|, Σx², Σ|x| and Σ|x|^P of a batch) and
/// the accumulation every backend performs, in the reduction order of detail/column_norms.hpp.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>
#include <gift/norm.hpp>
#include <gift/detail/column_norms.hpp>

#include <cstddef>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: the moments of every column of a `tokens × columns` batch.
struct column_moments {
  /// Printable name.
  static std::string name() { return "column_moments"; }
};
}  // namespace ops

namespace detail {

/// At most this many extra powers P (beyond 1 and 2) are tracked per statistics object.
inline constexpr std::size_t max_extra_powers = 4;

/// The extra powers P, as a trivially copyable value a device functor can hold.
struct power_set {
  int count = 0;
  int power[max_extra_powers] = {};
};

/// Moments stored per column: max|x|, Σx², Σ|x|, then Σ|x|^P for each extra power.
GIFT_HOST_DEVICE constexpr std::size_t moment_stride(const power_set& powers) {
  return 3 + static_cast<std::size_t>(powers.count);
}

/// The identity of every moment (all are 0: max of absolute values, and sums).
GIFT_HOST_DEVICE inline void reset_moments(double* acc, std::size_t stride) {
  for (std::size_t m = 0; m < stride; ++m) acc[m] = 0.0;
}

/// Folds one value into a column's moments, exactly as `linf`, `l2`, `l1` and `lp<P>` do.
GIFT_HOST_DEVICE inline void accumulate_moments(double* acc, double x, const power_set& powers) {
  acc[0] = linf::accumulate(acc[0], x);
  acc[1] = l2::accumulate(acc[1], x);
  acc[2] = l1::accumulate(acc[2], x);
  const double a = abs_value(x);
  for (int e = 0; e < powers.count; ++e) {
    double power = a;
    for (int k = 1; k < powers.power[e]; ++k) power = dmul(power, a);
    acc[3 + e] = dadd(acc[3 + e], power);
  }
}

/// Merges moments `from` into `into` (max for the first, sums for the rest).
GIFT_HOST_DEVICE inline void combine_moments(double* into, const double* from, std::size_t stride) {
  into[0] = linf::combine(into[0], from[0]);
  for (std::size_t m = 1; m < stride; ++m) into[m] = dadd(into[m], from[m]);
}

}  // namespace detail
}  // namespace gift
