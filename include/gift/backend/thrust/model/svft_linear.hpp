#pragma once
/// \file gift/backend/thrust/model/svft_linear.hpp
/// \brief SVFT's `Σ + M` on a Thrust system: one functor call per element (and per entry of M for
/// its gradient), by the shared arithmetic (the same bits as the Eigen backend).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/detail/model/svft_linear.hpp>

#include <cstdint>

namespace gift::backend {

template <class System>
struct implementation<ops::svft_mix, thrust<System>> {
  static constexpr bool available = true;
  /// `g = h (Σ + M)ᵀ` (`g` resized to h's shape).
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& h, thrust_matrix<T, System>& g,
                  const gift::detail::svft_layout<T>& layout) {
    g.resize(h.rows(), h.cols());
    detail::for_each_index<System>(static_cast<std::int64_t>(h.size()),
                                   gift::detail::svft_mix_element<T>{h.data(), g.data(), layout});
  }
};

template <class System>
struct implementation<ops::svft_mix_backward, thrust<System>> {
  static constexpr bool available = true;
  /// `dh = dg (Σ + M)` (resized) and the entries' gradients from the recorded `h`.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& dg, const thrust_matrix<T, System>& h,
                  thrust_matrix<T, System>& dh, const gift::detail::svft_layout<T>& layout) {
    dh.resize(dg.rows(), dg.cols());
    detail::for_each_index<System>(static_cast<std::int64_t>(dg.size()),
                                   gift::detail::svft_unmix_element<T>{dg.data(), dh.data(), layout});
    detail::for_each_index<System>(layout.entries,
                                   gift::detail::svft_coefficient_gradient<T>{
                                       dg.data(), h.data(), static_cast<std::int64_t>(dg.rows()), layout});
  }
};

}  // namespace gift::backend
