#pragma once
/// \file gift/backend/thrust/model/swiglu.hpp
/// \brief SwiGLU on a Thrust system: one functor call per element, by the shared arithmetic.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/model/swiglu.hpp>

#include <cstdint>

namespace gift::backend {

namespace detail {
template <class T>
struct swiglu_elements {
  const T* gate;
  const T* up;
  T* h;
  GIFT_HOST_DEVICE void operator()(std::int64_t e) const { h[e] = gift::detail::swiglu_value(gate[e], up[e]); }
};

template <class T>
struct swiglu_gradient_elements {
  const T* gate;
  const T* up;
  const T* dh;
  T* d_gate;
  T* d_up;
  GIFT_HOST_DEVICE void operator()(std::int64_t e) const {
    gift::detail::swiglu_gradients(gate[e], up[e], dh[e], d_gate[e], d_up[e]);
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::swiglu_forward, thrust<System>> {
  static constexpr bool available = true;
  /// `h = silu(gate) ∘ up`; `h` is resized.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& gate, const thrust_matrix<T, System>& up,
                  thrust_matrix<T, System>& h) {
    h.resize(gate.rows(), gate.cols());
    detail::for_each_index<System>(static_cast<std::int64_t>(gate.size()),
                                   detail::swiglu_elements<T>{gate.data(), up.data(), h.data()});
  }
};

template <class System>
struct implementation<ops::swiglu_backward, thrust<System>> {
  static constexpr bool available = true;
  /// The gradients with respect to gate and up (both resized).
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& gate, const thrust_matrix<T, System>& up,
                  const thrust_matrix<T, System>& dh, thrust_matrix<T, System>& d_gate,
                  thrust_matrix<T, System>& d_up) {
    d_gate.resize(gate.rows(), gate.cols());
    d_up.resize(gate.rows(), gate.cols());
    detail::for_each_index<System>(
        static_cast<std::int64_t>(gate.size()),
        detail::swiglu_gradient_elements<T>{gate.data(), up.data(), dh.data(), d_gate.data(), d_up.data()});
  }
};

}  // namespace gift::backend
