#pragma once
/// \file gift/model/swiglu.hpp
/// \brief The SwiGLU gate of LLaMA's feed-forward: `h = silu(gate) ∘ up`, forward and backward,
/// on the backend the matrices' type implies.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/swiglu.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/model/swiglu.hpp>
#include <gift/error.hpp>

namespace gift::model {

/// `h = silu(gate) ∘ up` with `silu(g) = g σ(g)`; `h` is resized.
/// \throws gift::error when `gate` and `up` differ in shape.
template <class Matrix>
  requires has_backend<Matrix>
void swiglu_forward(const Matrix& gate, const Matrix& up, Matrix& h) {
  gift::detail::require(gate.rows() == up.rows() && gate.cols() == up.cols(),
                        "gift::model::swiglu_forward: 'gate' and 'up' must have the same shape, but are ", gate.rows(),
                        " x ", gate.cols(), " and ", up.rows(), " x ", up.cols());
  backend::dispatch<ops::swiglu_forward>(backend_for_t<Matrix>{}, gate, up, h);
}

/// Gradients of `swiglu_forward`: `d_up = dh ∘ silu(g)`, `d_gate = dh ∘ up ∘ σ(g)(1 + g(1 − σ(g)))`
/// (both resized).
/// \throws gift::error when `gate`, `up` and `dh` differ in shape.
template <class Matrix>
  requires has_backend<Matrix>
void swiglu_backward(const Matrix& gate, const Matrix& up, const Matrix& dh, Matrix& d_gate, Matrix& d_up) {
  gift::detail::require(dh.rows() == gate.rows() && dh.cols() == gate.cols() && up.rows() == gate.rows() &&
                            up.cols() == gate.cols(),
                        "gift::model::swiglu_backward: 'gate', 'up' and 'dh' must have the same shape");
  backend::dispatch<ops::swiglu_backward>(backend_for_t<Matrix>{}, gate, up, dh, d_gate, d_up);
}

}  // namespace gift::model
