#pragma once
/// \file gift/model/swiglu.hpp
/// \brief The SwiGLU gate of LLaMA's feed-forward: `h = silu(gate) ∘ up`, forward and backward.

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/detail/parallel.hpp>

#include <cmath>
#include <concepts>

namespace gift::model {

/// `h = silu(gate) ∘ up` with `silu(g) = g σ(g)`; `h` is resized.
template <std::floating_point T>
void swiglu_forward(const matrix<T>& gate, const matrix<T>& up, matrix<T>& h) {
  gift::detail::require(gate.rows() == up.rows() && gate.cols() == up.cols(),
                  "gift::model::swiglu_forward: 'gate' and 'up' must have the same shape, but are ", gate.rows(),
                  " x ", gate.cols(), " and ", up.rows(), " x ", up.cols());
  h.resize(gate.rows(), gate.cols());
  GIFT_MODEL_PARALLEL_FOR
  for (Eigen::Index i = 0; i < gate.rows(); ++i) {
    for (Eigen::Index j = 0; j < gate.cols(); ++j) {
      const T g = gate(i, j);
      h(i, j) = g / (T(1) + std::exp(-g)) * up(i, j);
    }
  }
}

/// Gradients of `swiglu_forward`: `d_up = dh ∘ silu(g)`, `d_gate = dh ∘ up ∘ σ(g)(1 + g(1 − σ(g)))`.
template <std::floating_point T>
void swiglu_backward(const matrix<T>& gate, const matrix<T>& up, const matrix<T>& dh, matrix<T>& d_gate,
                     matrix<T>& d_up) {
  gift::detail::require(dh.rows() == gate.rows() && dh.cols() == gate.cols(),
                  "gift::model::swiglu_backward: 'dh' must have the shape of 'gate'");
  d_gate.resize(gate.rows(), gate.cols());
  d_up.resize(gate.rows(), gate.cols());
  GIFT_MODEL_PARALLEL_FOR
  for (Eigen::Index i = 0; i < gate.rows(); ++i) {
    for (Eigen::Index j = 0; j < gate.cols(); ++j) {
      const T g = gate(i, j);
      const T sigma = T(1) / (T(1) + std::exp(-g));
      d_up(i, j) = dh(i, j) * g * sigma;
      d_gate(i, j) = dh(i, j) * up(i, j) * sigma * (T(1) + g * (T(1) - sigma));
    }
  }
}

}  // namespace gift::model
