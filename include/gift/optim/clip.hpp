#pragma once
/// \file gift/optim/clip.hpp
/// \brief Global gradient-norm clipping over a set of parameter blocks (all layers at once).

#include <gift/error.hpp>
#include <gift/optim/parameter.hpp>

#include <cmath>
#include <concepts>
#include <span>

namespace gift::optim {

/// The L2 norm of all gradients together, accumulated in double.
/// \throws gift::error if it is not finite (a NaN or Inf gradient), naming the first bad block.
template <std::floating_point T>
[[nodiscard]] double gradient_norm(std::span<const parameter<T>> parameters) {
  double sum = 0.0;
  for (const auto& p : parameters) {
    double block = 0.0;
    for (const T g : p.gradient) block += static_cast<double>(g) * static_cast<double>(g);
    gift::detail::require(std::isfinite(block), "gift::optim::gradient_norm: the gradient of parameter '", p.name,
                          "' is not finite (", block,
                          "); look for overflow in the loss or lower the learning rate");
    sum += block;
  }
  return std::sqrt(sum);
}

/// Scales every gradient by `max_norm / (norm + 1e-6)` when the global norm exceeds `max_norm`
/// (PyTorch's clip_grad_norm_), so the update direction is kept and its length bounded. Returns
/// the norm before clipping.
/// \throws gift::error on a non-finite gradient or `max_norm` ≤ 0.
template <std::floating_point T>
double clip_gradient_norm(std::span<const parameter<T>> parameters, double max_norm) {
  gift::detail::require(std::isfinite(max_norm) && max_norm > 0.0,
                        "gift::optim::clip_gradient_norm: argument 'max_norm' must be finite and > 0, but it is ",
                        max_norm);
  const double norm = gradient_norm(parameters);
  if (norm > max_norm) {
    const T scale = static_cast<T>(max_norm / (norm + 1e-6));
    for (const auto& p : parameters)
      for (T& g : p.gradient) g *= scale;
  }
  return norm;
}

}  // namespace gift::optim
