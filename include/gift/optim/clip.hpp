#pragma once
/// \file gift/optim/clip.hpp
/// \brief Global gradient-norm clipping over parameter views of any backend.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/optim/parameter.hpp>
#include <gift/detail/optim/parameter.hpp>
#include <gift/error.hpp>
#include <gift/optim/parameter.hpp>

#include <cmath>
#include <concepts>
#include <span>
#include <vector>

namespace gift::optim {

/// The L2 norm of all gradients together, accumulated in double, block by block in order.
/// \throws gift::error if it is not finite (a NaN or Inf gradient), naming the first bad block.
template <std::floating_point T, backend_tag Backend>
[[nodiscard]] double gradient_norm(std::span<const parameter<T, Backend>> parameters) {
  double sum = 0.0;
  for (const auto& p : parameters) {
    const double block = backend::dispatch<ops::squared_norm>(Backend{}, std::span<const T>(p.gradient));
    gift::detail::require(std::isfinite(block), "gift::optim::gradient_norm: the gradient of parameter '", p.name,
                          "' is not finite (", block,
                          "); look for overflow in the loss or lower the learning rate");
    sum += block;
  }
  return std::sqrt(sum);
}

/// As above, for a vector of views.
template <std::floating_point T, backend_tag Backend>
[[nodiscard]] double gradient_norm(const std::vector<parameter<T, Backend>>& parameters) {
  return gradient_norm(std::span<const parameter<T, Backend>>(parameters));
}

/// Scales every gradient by `max_norm / (norm + 1e-6)` when the global norm exceeds `max_norm`
/// (PyTorch's clip_grad_norm_), so the update direction is kept and its length bounded. Returns
/// the norm before clipping.
/// \throws gift::error on a non-finite gradient or `max_norm` ≤ 0.
template <std::floating_point T, backend_tag Backend>
double clip_gradient_norm(std::span<const parameter<T, Backend>> parameters, double max_norm) {
  gift::detail::require(std::isfinite(max_norm) && max_norm > 0.0,
                        "gift::optim::clip_gradient_norm: argument 'max_norm' must be finite and > 0, but it is ",
                        max_norm);
  const double norm = gradient_norm(parameters);
  if (norm > max_norm) {
    const T scale = static_cast<T>(max_norm / (norm + 1e-6));
    for (const auto& p : parameters) backend::dispatch<ops::scale_in_place>(Backend{}, p.gradient, scale);
  }
  return norm;
}

/// As above, for a vector of views.
template <std::floating_point T, backend_tag Backend>
double clip_gradient_norm(const std::vector<parameter<T, Backend>>& parameters, double max_norm) {
  return clip_gradient_norm(std::span<const parameter<T, Backend>>(parameters), max_norm);
}

}  // namespace gift::optim
