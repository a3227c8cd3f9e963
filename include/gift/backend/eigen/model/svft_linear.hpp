#pragma once
/// \file gift/backend/eigen/model/svft_linear.hpp
/// \brief SVFT's `Σ + M` on the Eigen backend: the shared element arithmetic over OpenMP threads
/// (each element is computed by one thread in a fixed order: the bits do not depend on the count).

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/svft_linear.hpp>
#include <gift/detail/parallel.hpp>
#include <gift/fwd.hpp>

#include <cstdint>

namespace gift::backend {

template <>
struct implementation<ops::svft_mix, eigen> {
  static constexpr bool available = true;
  /// `g = h (Σ + M)ᵀ` (`g` resized to h's shape).
  template <class T>
  static void run(eigen, const gift::matrix<T>& h, gift::matrix<T>& g, const gift::detail::svft_layout<T>& layout) {
    g.resize(h.rows(), h.cols());
    const gift::detail::svft_mix_element<T> element{h.data(), g.data(), layout};
    const auto count = static_cast<std::int64_t>(h.size());
    GIFT_MODEL_PARALLEL_FOR
    for (std::int64_t index = 0; index < count; ++index) element(index);
  }
};

template <>
struct implementation<ops::svft_mix_backward, eigen> {
  static constexpr bool available = true;
  /// `dh = dg (Σ + M)` (resized) and the entries' gradients from the recorded `h`.
  template <class T>
  static void run(eigen, const gift::matrix<T>& dg, const gift::matrix<T>& h, gift::matrix<T>& dh,
                  const gift::detail::svft_layout<T>& layout) {
    dh.resize(dg.rows(), dg.cols());
    const gift::detail::svft_unmix_element<T> element{dg.data(), dh.data(), layout};
    const auto count = static_cast<std::int64_t>(dg.size());
    GIFT_MODEL_PARALLEL_FOR
    for (std::int64_t index = 0; index < count; ++index) element(index);
    const gift::detail::svft_coefficient_gradient<T> gradient{dg.data(), h.data(), static_cast<std::int64_t>(dg.rows()),
                                                              layout};
    GIFT_MODEL_PARALLEL_FOR
    for (std::int64_t e = 0; e < layout.entries; ++e) gradient(e);
  }
};

}  // namespace gift::backend
