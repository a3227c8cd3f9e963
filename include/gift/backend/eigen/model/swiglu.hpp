#pragma once
/// \file gift/backend/eigen/model/swiglu.hpp
/// \brief SwiGLU on the Eigen backend: rows in parallel, each element by the shared arithmetic.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/swiglu.hpp>
#include <gift/detail/parallel.hpp>
#include <gift/fwd.hpp>

namespace gift::backend {

template <>
struct implementation<ops::swiglu_forward, eigen> {
  static constexpr bool available = true;
  /// `h = silu(gate) ∘ up`; `h` is resized.
  template <class T>
  static void run(eigen, const gift::matrix<T>& gate, const gift::matrix<T>& up, gift::matrix<T>& h) {
    h.resize(gate.rows(), gate.cols());
    GIFT_MODEL_PARALLEL_FOR
    for (Eigen::Index i = 0; i < gate.rows(); ++i)
      for (Eigen::Index j = 0; j < gate.cols(); ++j) h(i, j) = gift::detail::swiglu_value(gate(i, j), up(i, j));
  }
};

template <>
struct implementation<ops::swiglu_backward, eigen> {
  static constexpr bool available = true;
  /// The gradients with respect to gate and up (both resized).
  template <class T>
  static void run(eigen, const gift::matrix<T>& gate, const gift::matrix<T>& up, const gift::matrix<T>& dh,
                  gift::matrix<T>& d_gate, gift::matrix<T>& d_up) {
    d_gate.resize(gate.rows(), gate.cols());
    d_up.resize(gate.rows(), gate.cols());
    GIFT_MODEL_PARALLEL_FOR
    for (Eigen::Index i = 0; i < gate.rows(); ++i)
      for (Eigen::Index j = 0; j < gate.cols(); ++j)
        gift::detail::swiglu_gradients(gate(i, j), up(i, j), dh(i, j), d_gate(i, j), d_up(i, j));
  }
};

}  // namespace gift::backend
