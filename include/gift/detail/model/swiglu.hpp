#pragma once
/// \file gift/detail/model/swiglu.hpp
/// \brief SwiGLU's operation tags and its arithmetic for one element, shared by every backend.

#include <gift/config.hpp>
#include <gift/detail/model/math.hpp>

#include <string>

namespace gift {

namespace ops {
/// Operation tag: `h = silu(gate) ∘ up`.
struct swiglu_forward {
  /// Printable name.
  static std::string name() { return "swiglu_forward"; }
};
/// Operation tag: the gradients of SwiGLU with respect to gate and up.
struct swiglu_backward {
  /// Printable name.
  static std::string name() { return "swiglu_backward"; }
};
}  // namespace ops

namespace detail {

/// `silu(g) · u` with `silu(g) = g σ(g)`.
template <class T>
GIFT_HOST_DEVICE T swiglu_value(T g, T u) {
  return g / (T(1) + exponential(-g)) * u;
}

/// The two gradients of one element: `d_up = dh · silu(g)`, `d_gate = dh · u · σ(g)(1 + g(1 − σ(g)))`.
template <class T>
GIFT_HOST_DEVICE void swiglu_gradients(T g, T u, T dh, T& d_gate, T& d_up) {
  const T sigma = T(1) / (T(1) + exponential(-g));
  d_up = dh * g * sigma;
  d_gate = dh * u * sigma * (T(1) + g * (T(1) - sigma));
}

}  // namespace detail

}  // namespace gift
