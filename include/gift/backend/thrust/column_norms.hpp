#pragma once
/// \file backend/thrust/column_norms.hpp
/// \brief Column norms on the Thrust backend: one pass computes per-(row block, column) partials,
/// a second, tiny pass folds them in block order. The same order as the Eigen backend, hence the
/// same bits.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/error.hpp>
#include <gift/ops/column_norms.hpp>

#include <thrust/count.h>
#include <thrust/tabulate.h>

#include <cmath>
#include <cstddef>

namespace gift::backend {

namespace detail {
template <class Norm, class T>
struct column_block_partial {
  const T* data;
  std::size_t rows, cols;
  GIFT_HOST_DEVICE double operator()(std::size_t index) const {
    const std::size_t block = index / cols, column = index % cols;
    const std::size_t first = block * gift::detail::reduction_block_rows;
    const std::size_t last = first + gift::detail::reduction_block_rows < rows ? first + gift::detail::reduction_block_rows : rows;
    double acc = Norm::identity;
    for (std::size_t r = first; r < last; ++r) acc = Norm::accumulate(acc, static_cast<double>(data[r * cols + column]));
    return acc;
  }
};

template <class Norm, class T>
struct column_block_fold {
  const double* partials;
  std::size_t blocks, cols;
  GIFT_HOST_DEVICE T operator()(std::size_t column) const {
    double total = Norm::identity;
    for (std::size_t b = 0; b < blocks; ++b) total = Norm::combine(total, partials[b * cols + column]);
    return static_cast<T>(Norm::finish(total));
  }
};

struct is_not_finite {
  template <class T>
  GIFT_HOST_DEVICE bool operator()(T value) const {
    const double v = static_cast<double>(value);
    return v != v || v - v != 0.0;  // NaN, or ±Inf (Inf - Inf is NaN)
  }
};
}  // namespace detail

template <norm_policy Norm, class System>
struct implementation<ops::column_norms<Norm>, thrust<System>> {
  static constexpr bool available = true;

  template <class T, class MatrixSystem>
  static thrust_vector_t<MatrixSystem, T> run(thrust<System>, const thrust_matrix<T, MatrixSystem>& matrix) {
    const std::size_t rows = matrix.rows(), cols = matrix.cols();
    gift::detail::require(rows > 0 && cols > 0, "gift::column_norms: argument 'matrix' must be non-empty, but it is ",
                          rows, " x ", cols);
    const auto policy = thrust_system_traits<System>::policy();
    const std::size_t blocks = gift::detail::reduction_block_count(rows);
    thrust_vector_t<MatrixSystem, double> partials(blocks * cols);
    ::thrust::tabulate(policy, partials.begin(), partials.end(),
                       detail::column_block_partial<Norm, T>{::thrust::raw_pointer_cast(matrix.storage().data()), rows, cols});
    thrust_vector_t<MatrixSystem, T> result(cols);
    ::thrust::tabulate(policy, result.begin(), result.end(),
                       detail::column_block_fold<Norm, T>{::thrust::raw_pointer_cast(partials.data()), blocks, cols});
    if (::thrust::count_if(policy, result.begin(), result.end(), detail::is_not_finite{}) != 0) {
      // Rare path: locate the first bad element on the host for the message.
      const gift::matrix<T> host = matrix.to_eigen();
      for (Eigen::Index r = 0; r < host.rows(); ++r)
        for (Eigen::Index j = 0; j < host.cols(); ++j)
          gift::detail::require_finite(host(r, j), "gift::column_norms", "matrix", static_cast<std::size_t>(r),
                                       static_cast<std::size_t>(j));
    }
    return result;
  }
};

}  // namespace gift::backend
