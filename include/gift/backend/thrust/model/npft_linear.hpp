#pragma once
/// \file gift/backend/thrust/model/npft_linear.hpp
/// \brief NPFT's perturbation on a Thrust system: one functor call per row with outliers, by the
/// shared row arithmetic (the same bits as the Eigen backend).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/detail/model/npft_linear.hpp>

#include <thrust/copy.h>

namespace gift::backend {

template <class System>
struct implementation<ops::npft_perturb, thrust<System>> {
  static constexpr bool available = true;
  /// `noisy = base`, then one draw on the outliers `draw` describes (pointers into the system's memory).
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& base, thrust_matrix<T, System>& noisy,
                  const gift::detail::npft_draw& draw) {
    noisy.resize(base.rows(), base.cols());
    ::thrust::copy(thrust_system_traits<System>::policy(), base.storage().begin(), base.storage().end(),
                   noisy.storage().begin());
    detail::for_each_index<System>(draw.groups, gift::detail::npft_perturb_row<T>{base.data(), noisy.data(), draw});
  }
};

}  // namespace gift::backend
