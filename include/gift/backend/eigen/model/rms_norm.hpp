#pragma once
/// \file gift/backend/eigen/model/rms_norm.hpp
/// \brief RMSNorm on the Eigen backend: rows in parallel, each by the shared row arithmetic.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/rms_norm.hpp>
#include <gift/detail/parallel.hpp>
#include <gift/fwd.hpp>

namespace gift::backend {

template <>
struct implementation<ops::rms_norm_forward, eigen> {
  static constexpr bool available = true;
  /// Normalises every row of `x` into `y` (resized) and keeps each row's inverse RMS.
  template <class T>
  static void run(eigen, const gift::matrix<T>& x, const gift::vector<T>& weight, double epsilon, gift::matrix<T>& y,
                  gift::vector<T>& inverse_rms) {
    const Eigen::Index rows = x.rows(), cols = x.cols();
    y.resize(rows, cols);
    inverse_rms.resize(rows);
    GIFT_MODEL_PARALLEL_FOR
    for (Eigen::Index i = 0; i < rows; ++i)
      inverse_rms(i) = gift::detail::rms_norm_row(x.row(i).data(), weight.data(), cols, epsilon, y.row(i).data());
  }
};

template <>
struct implementation<ops::rms_norm_backward_add, eigen> {
  static constexpr bool available = true;
  /// Adds the input gradient of RMSNorm to `dx`.
  template <class T>
  static void run(eigen, const gift::matrix<T>& dy, const gift::matrix<T>& x, const gift::vector<T>& weight,
                  const gift::vector<T>& inverse_rms, gift::matrix<T>& dx) {
    const Eigen::Index rows = x.rows(), cols = x.cols();
    GIFT_MODEL_PARALLEL_FOR
    for (Eigen::Index i = 0; i < rows; ++i)
      gift::detail::rms_norm_backward_row(dy.row(i).data(), x.row(i).data(), weight.data(), inverse_rms(i), cols,
                                          dx.row(i).data());
  }
};

}  // namespace gift::backend
