#pragma once
/// \file gift/backend/eigen/gram.hpp
/// \brief The Gram update `XᵀX` on the CPU: one symmetric rank-k update in double.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/gram.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

namespace gift::backend {

template <>
struct implementation<ops::gram_update, eigen> {
  static constexpr bool available = true;

  /// Adds `xᵀx` (in double) to the lower triangle of `gram`.
  template <class Derived>
  static void run(eigen, const Eigen::MatrixBase<Derived>& x, gift::matrix<double>& gram) {
    const Eigen::MatrixXd batch = x.template cast<double>();
    gram.template selfadjointView<Eigen::Lower>().rankUpdate(batch.transpose());
  }
};

}  // namespace gift::backend
