#pragma once
/// \file gift/model/rms_norm.hpp
/// \brief RMSNorm forward and backward, row by row: `y = x / sqrt(mean(x²) + ε) ∘ w`.

#include <gift/fwd.hpp>
#include <gift/model/detail/parallel.hpp>

#include <cmath>
#include <concepts>

namespace gift::model {

/// Normalises every row of `x` into `y` and stores the inverse RMS of each row in
/// `inverse_rms` (what the backward pass needs). Sums run in double so long rows lose nothing.
template <std::floating_point T>
void rms_norm_forward(const matrix<T>& x, const vector<T>& weight, double epsilon, matrix<T>& y,
                      vector<T>& inverse_rms) {
  const Eigen::Index rows = x.rows(), cols = x.cols();
  y.resize(rows, cols);
  inverse_rms.resize(rows);
  GIFT_MODEL_PARALLEL_FOR
  for (Eigen::Index i = 0; i < rows; ++i) {
    double squares = 0;
    for (Eigen::Index j = 0; j < cols; ++j) squares += static_cast<double>(x(i, j)) * static_cast<double>(x(i, j));
    const T r = static_cast<T>(1.0 / std::sqrt(squares / static_cast<double>(cols) + epsilon));
    inverse_rms(i) = r;
    for (Eigen::Index j = 0; j < cols; ++j) y(i, j) = x(i, j) * r * weight(j);
  }
}

/// Adds the input gradient of RMSNorm to `dx`: with `g = dy ∘ w` and `r` the row's inverse RMS,
/// `dx += r g − x r³ (g·x) / n`.
template <std::floating_point T>
void rms_norm_backward_add(const matrix<T>& dy, const matrix<T>& x, const vector<T>& weight,
                           const vector<T>& inverse_rms, matrix<T>& dx) {
  const Eigen::Index rows = x.rows(), cols = x.cols();
  GIFT_MODEL_PARALLEL_FOR
  for (Eigen::Index i = 0; i < rows; ++i) {
    double dot = 0;
    for (Eigen::Index j = 0; j < cols; ++j) dot += static_cast<double>(dy(i, j) * weight(j)) * x(i, j);
    const double r = inverse_rms(i);
    const T coefficient = static_cast<T>(r * r * r * dot / static_cast<double>(cols));
    const T ri = inverse_rms(i);
    for (Eigen::Index j = 0; j < cols; ++j) dx(i, j) += ri * dy(i, j) * weight(j) - x(i, j) * coefficient;
  }
}

}  // namespace gift::model
