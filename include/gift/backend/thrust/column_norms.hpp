#pragma once
/// \file gift/backend/thrust/column_norms.hpp
/// \brief Column norms on the Thrust backend: one pass computes per-(row block, column) partials,
/// a second, tiny pass folds them in block order. The same order as the Eigen backend, hence the
/// same bits.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/error.hpp>
#include <gift/detail/column_norms.hpp>

#include <thrust/count.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/tabulate.h>

#include <cmath>
#include <cstddef>

namespace gift::backend {

namespace detail {
/// Tuning: how many adjacent columns one task folds. On the GPU one column per thread keeps
/// neighbouring threads on neighbouring addresses (coalesced); on the host a task walks rows of a
/// column strip, reading contiguous memory. Either way each column is folded in row order, so the
/// bits do not depend on the choice.
template <class System>
struct column_reduction_tuning {
  static constexpr std::size_t columns_per_task = 64;
};
template <>
struct column_reduction_tuning<system::cuda> {
  static constexpr std::size_t columns_per_task = 1;
};

template <class Norm, class T, std::size_t Columns>
struct column_block_partial {
  const T* data;
  double* partials;
  std::size_t rows, cols, strips;
  GIFT_HOST_DEVICE void operator()(std::size_t task) const {
    const std::size_t block = task / strips, strip = task % strips;
    const std::size_t first_row = block * gift::detail::reduction_block_rows;
    const std::size_t last_row =
        first_row + gift::detail::reduction_block_rows < rows ? first_row + gift::detail::reduction_block_rows : rows;
    const std::size_t first_col = strip * Columns;
    const std::size_t width = first_col + Columns < cols ? Columns : cols - first_col;
    double acc[Columns];
    for (std::size_t c = 0; c < width; ++c) acc[c] = Norm::identity;
    for (std::size_t r = first_row; r < last_row; ++r) {
      const T* row = data + r * cols + first_col;
      for (std::size_t c = 0; c < width; ++c) acc[c] = Norm::accumulate(acc[c], static_cast<double>(row[c]));
    }
    for (std::size_t c = 0; c < width; ++c) partials[block * cols + first_col + c] = acc[c];
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
    constexpr std::size_t strip = detail::column_reduction_tuning<System>::columns_per_task;
    const std::size_t strips = (cols + strip - 1) / strip;
    thrust_vector_t<MatrixSystem, double> partials(blocks * cols);
    ::thrust::for_each(policy, ::thrust::counting_iterator<std::size_t>(0),
                       ::thrust::counting_iterator<std::size_t>(blocks * strips),
                       detail::column_block_partial<Norm, T, strip>{::thrust::raw_pointer_cast(matrix.storage().data()),
                                                                    ::thrust::raw_pointer_cast(partials.data()), rows,
                                                                    cols, strips});
    thrust_vector_t<MatrixSystem, T> result(cols);
    ::thrust::tabulate(policy, result.begin(), result.end(),
                       detail::column_block_fold<Norm, T>{::thrust::raw_pointer_cast(partials.data()), blocks, cols});
    if (::thrust::count_if(policy, result.begin(), result.end(), detail::is_not_finite{}) != 0) {
      // Rare path: locate the first bad element on the host for the message.
      gift::detail::throw_first_non_finite(matrix.to_eigen(), "gift::column_norms", "matrix");
    }
    return result;
  }
};

}  // namespace gift::backend
