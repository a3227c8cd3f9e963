#pragma once
/// \file gift/detail/model/rms_norm.hpp
/// \brief RMSNorm's operation tags and its arithmetic for one row, shared by every backend.

#include <gift/config.hpp>
#include <gift/detail/model/math.hpp>

#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: RMSNorm of every row, keeping the inverse RMS of each.
struct rms_norm_forward {
  /// Printable name.
  static std::string name() { return "rms_norm_forward"; }
};
/// Operation tag: the input gradient of RMSNorm, added to a gradient.
struct rms_norm_backward_add {
  /// Printable name.
  static std::string name() { return "rms_norm_backward_add"; }
};
}  // namespace ops

namespace detail {

/// `y = x / sqrt(mean(x²) + ε) ∘ w` for one row of `n` values; returns the inverse RMS. The
/// squares are summed in double, in index order.
template <class T>
GIFT_HOST_DEVICE T rms_norm_row(const T* x, const T* weight, std::int64_t n, double epsilon, T* y) {
  double squares = 0;
  for (std::int64_t j = 0; j < n; ++j) squares += static_cast<double>(x[j]) * static_cast<double>(x[j]);
  const T r = static_cast<T>(1.0 / square_root(squares / static_cast<double>(n) + epsilon));
  for (std::int64_t j = 0; j < n; ++j) y[j] = x[j] * r * weight[j];
  return r;
}

/// Adds RMSNorm's input gradient for one row to `dx`: with `g = dy ∘ w` and `r` the row's inverse
/// RMS, `dx += r g − x r³ (g·x) / n` (the dot product in double, in index order).
template <class T>
GIFT_HOST_DEVICE void rms_norm_backward_row(const T* dy, const T* x, const T* weight, T inverse_rms, std::int64_t n,
                                            T* dx) {
  double dot = 0;
  for (std::int64_t j = 0; j < n; ++j) dot += static_cast<double>(dy[j] * weight[j]) * x[j];
  const double r = inverse_rms;
  const T coefficient = static_cast<T>(r * r * r * dot / static_cast<double>(n));
  for (std::int64_t j = 0; j < n; ++j) dx[j] += inverse_rms * dy[j] * weight[j] - x[j] * coefficient;
}

}  // namespace detail

}  // namespace gift
