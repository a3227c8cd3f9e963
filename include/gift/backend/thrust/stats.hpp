#pragma once
/// \file gift/backend/thrust/stats.hpp
/// \brief Column moments and Gram updates on the Thrust backend. Moments: one functor call per
/// (row block, column) fills that block's partial; the partials come back to the host and fold in
/// block order, the Eigen backend's order, hence the same bits.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/stats.hpp>

#include <thrust/copy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstddef>
#include <vector>

namespace gift::backend {

namespace detail {
template <class T>
struct column_moments_block {
  const T* data;
  std::size_t rows, cols, stride;
  gift::detail::power_set powers;
  double* partial;
  GIFT_HOST_DEVICE void operator()(std::size_t index) const {
    const std::size_t block = index / cols, column = index % cols;
    const std::size_t first = block * gift::detail::reduction_block_rows;
    const std::size_t last = first + gift::detail::reduction_block_rows < rows ? first + gift::detail::reduction_block_rows : rows;
    double* acc = partial + index * stride;
    gift::detail::reset_moments(acc, stride);
    for (std::size_t r = first; r < last; ++r)
      gift::detail::accumulate_moments(acc, static_cast<double>(data[r * cols + column]), powers);
  }
};

}  // namespace detail

template <class System>
struct implementation<ops::column_moments, thrust<System>> {
  static constexpr bool available = true;

  template <class T, class MatrixSystem>
  static std::vector<double> run(thrust<System>, const thrust_matrix<T, MatrixSystem>& x,
                                 const gift::detail::power_set& powers) {
    const std::size_t rows = x.rows(), cols = x.cols(), stride = gift::detail::moment_stride(powers);
    const std::size_t blocks = gift::detail::reduction_block_count(rows);
    thrust_vector_t<MatrixSystem, double> partial(blocks * cols * stride);
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::size_t>(0),
                       ::thrust::counting_iterator<std::size_t>(blocks * cols),
                       detail::column_moments_block<T>{::thrust::raw_pointer_cast(x.storage().data()), rows, cols,
                                                       stride, powers, ::thrust::raw_pointer_cast(partial.data())});
    std::vector<double> host(partial.size());
    ::thrust::copy(partial.begin(), partial.end(), host.data());
    std::vector<double> total(cols * stride, 0.0);
    for (std::size_t b = 0; b < blocks; ++b)
      for (std::size_t j = 0; j < cols; ++j)
        gift::detail::combine_moments(total.data() + j * stride, host.data() + (b * cols + j) * stride, stride);
    return total;
  }
};

}  // namespace gift::backend
