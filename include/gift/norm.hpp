#pragma once
/// \file gift/norm.hpp
/// \brief Vector norms as compile-time policies: `l1`, `l2`, `linf` and `lp<P>`.
///
/// Like Eigen's `lpNorm<p>()`, the common norms are specialised (they change the generated code:
/// `|x|`, `x²`, a running max) and any other `p` takes the generic `(Σ|x|^p)^(1/p)` path. A norm is
/// used as a streaming reduction: start from `identity`, fold elements in with `accumulate`,
/// merge partial results with `combine`, and turn the result into the norm with `finish`.
/// Accumulation is in double, in an order the caller fixes, so every backend gets the same bits.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>
#include <gift/error.hpp>

#include <cmath>
#include <string>

namespace gift {

namespace detail {
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double abs_value(double x) { return std::fabs(x); }
/// max that propagates NaN, so a NaN input is never silently dropped by a max-reduction.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double max_propagating_nan(double acc, double x) {
  return (x != x || acc < x) ? x : acc;
}
}  // namespace detail

/// Manhattan norm Σ|x|.
struct l1 {
  /// The value an empty reduction starts from.
  static constexpr double identity = 0.0;
  /// The norm's exponent p (infinity for the maximum norm).
  static constexpr double p = 1.0;
  /// Printable name for sweep logs.
  static std::string name() { return "l1"; }
  /// Folds one element into a partial result.
  GIFT_HOST_DEVICE static double accumulate(double acc, double x) { return detail::dadd(acc, detail::abs_value(x)); }
  /// Merges two partial results.
  GIFT_HOST_DEVICE static double combine(double a, double b) { return detail::dadd(a, b); }
  /// Turns a partial result over all elements into the norm.
  GIFT_HOST_DEVICE static double finish(double acc) { return acc; }
};

/// Euclidean norm (Σx²)^½.
struct l2 {
  /// The value an empty reduction starts from.
  static constexpr double identity = 0.0;
  /// The norm's exponent p (infinity for the maximum norm).
  static constexpr double p = 2.0;
  /// Printable name for sweep logs.
  static std::string name() { return "l2"; }
  /// Folds one element into a partial result.
  GIFT_HOST_DEVICE static double accumulate(double acc, double x) { return detail::dadd(acc, detail::dmul(x, x)); }
  /// Merges two partial results.
  GIFT_HOST_DEVICE static double combine(double a, double b) { return detail::dadd(a, b); }
  /// Turns a partial result over all elements into the norm.
  GIFT_HOST_DEVICE static double finish(double acc) { return std::sqrt(acc); }
};

/// Maximum norm max|x|.
struct linf {
  /// The value an empty reduction starts from.
  static constexpr double identity = 0.0;
  /// The norm's exponent p (infinity for the maximum norm).
  static constexpr double p = HUGE_VAL;
  /// Printable name for sweep logs.
  static std::string name() { return "linf"; }
  /// Folds one element into a partial result.
  GIFT_HOST_DEVICE static double accumulate(double acc, double x) {
    return detail::max_propagating_nan(acc, detail::abs_value(x));
  }
  /// Merges two partial results.
  GIFT_HOST_DEVICE static double combine(double a, double b) { return detail::max_propagating_nan(a, b); }
  /// Turns a partial result over all elements into the norm.
  GIFT_HOST_DEVICE static double finish(double acc) { return acc; }
};

/// The general p-norm (Σ|x|^P)^(1/P) for an integer P ≥ 1; `lp<1>`, `lp<2>` agree with `l1`, `l2`.
template <int P>
struct lp {
  static_assert(P >= 1, "gift::lp<P>: P must be at least 1 (use linf for the maximum norm)");
  /// The value an empty reduction starts from.
  static constexpr double identity = 0.0;
  /// The norm's exponent p (infinity for the maximum norm).
  static constexpr double p = P;
  /// Printable name for sweep logs.
  static std::string name() { return gift::detail::concat("l", P); }
  /// Folds one element into a partial result.
  GIFT_HOST_DEVICE static double accumulate(double acc, double x) {
    const double a = detail::abs_value(x);
    double power = a;
    for (int k = 1; k < P; ++k) power = detail::dmul(power, a);
    return detail::dadd(acc, power);
  }
  /// Merges two partial results.
  GIFT_HOST_DEVICE static double combine(double a, double b) { return detail::dadd(a, b); }
  /// Turns a partial result over all elements into the norm.
  GIFT_HOST_DEVICE static double finish(double acc) { return std::pow(acc, 1.0 / P); }
};

}  // namespace gift
