#pragma once
/// \file gift/backend/eigen/model/npft_linear.hpp
/// \brief NPFT's perturbation on the Eigen backend: the shared row arithmetic, row by row.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/npft_linear.hpp>
#include <gift/fwd.hpp>

#include <cstdint>

namespace gift::backend {

template <>
struct implementation<ops::npft_perturb, eigen> {
  static constexpr bool available = true;
  /// `noisy = base`, then one draw on the outliers `draw` describes.
  template <class T>
  static void run(eigen, const gift::matrix<T>& base, gift::matrix<T>& noisy, const gift::detail::npft_draw& draw) {
    noisy = base;
    const gift::detail::npft_perturb_row<T> perturb{base.data(), noisy.data(), draw};
    for (std::int64_t g = 0; g < draw.groups; ++g) perturb(g);
  }
};

}  // namespace gift::backend
