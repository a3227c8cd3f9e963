#pragma once
/// \file gift/model/rms_norm.hpp
/// \brief RMSNorm forward and backward, row by row: `y = x / sqrt(mean(x²) + ε) ∘ w`, on the
/// backend the matrices' type implies (the row arithmetic is shared: detail/model/rms_norm.hpp).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/rms_norm.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/model/rms_norm.hpp>
#include <gift/error.hpp>

#include <cstdint>

namespace gift::model {

/// Normalises every row of `x` into `y` (resized) and stores the inverse RMS of each row in
/// `inverse_rms` (what the backward pass needs). Sums run in double so long rows lose nothing.
/// \throws gift::error when `weight` does not have one entry per column of `x`.
template <class Matrix, class Vector>
  requires has_backend<Matrix>
void rms_norm_forward(const Matrix& x, const Vector& weight, double epsilon, Matrix& y, Vector& inverse_rms) {
  gift::detail::require(static_cast<std::int64_t>(weight.size()) == static_cast<std::int64_t>(x.cols()),
                        "gift::model::rms_norm_forward: argument 'weight' must have one entry per column of 'x' (",
                        x.cols(), "), but has ", weight.size());
  backend::dispatch<ops::rms_norm_forward>(backend_for_t<Matrix>{}, x, weight, epsilon, y, inverse_rms);
}

/// Adds the input gradient of RMSNorm to `dx`: with `g = dy ∘ w` and `r` the row's inverse RMS,
/// `dx += r g − x r³ (g·x) / n`.
/// \throws gift::error when the shapes of `dy`, `x` and `dx` differ.
template <class Matrix, class Vector>
  requires has_backend<Matrix>
void rms_norm_backward_add(const Matrix& dy, const Matrix& x, const Vector& weight, const Vector& inverse_rms,
                           Matrix& dx) {
  gift::detail::require(dy.rows() == x.rows() && dy.cols() == x.cols() && dx.rows() == x.rows() &&
                            dx.cols() == x.cols() &&
                            static_cast<std::int64_t>(inverse_rms.size()) == static_cast<std::int64_t>(x.rows()),
                        "gift::model::rms_norm_backward_add: 'dy', 'x' and 'dx' must have one shape (x is ", x.rows(),
                        " x ", x.cols(), ") and 'inverse_rms' one entry per row");
  backend::dispatch<ops::rms_norm_backward_add>(backend_for_t<Matrix>{}, dy, x, weight, inverse_rms, dx);
}

}  // namespace gift::model
