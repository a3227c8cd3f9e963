#pragma once
/// \file gift/backend/eigen/stats.hpp
/// \brief Column moments and Gram updates on the Eigen backend.
///
/// Moments: per row block (256 rows, in parallel) one partial per column, folded in block order:
/// the order of detail/column_norms.hpp, so the Thrust backend gets the same bits.

#include <gift/backend/dispatch.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/stats.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::column_moments, eigen> {
  static constexpr bool available = true;

  /// Returns the batch's moments, `columns × stride` values (column-major by moment), folded
  /// over row blocks in order.
  template <class Derived>
  static std::vector<double> run(eigen, const Eigen::MatrixBase<Derived>& x, const gift::detail::power_set& powers) {
    const std::size_t rows = static_cast<std::size_t>(x.rows()), cols = static_cast<std::size_t>(x.cols());
    const std::size_t stride = gift::detail::moment_stride(powers);
    const std::size_t blocks = gift::detail::reduction_block_count(rows);
    const auto& m = x.derived();
    std::vector<double> partial(blocks * cols * stride, 0.0);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (rows * cols > (1u << 16))
#endif
    for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(blocks); ++b) {
      double* acc = partial.data() + static_cast<std::size_t>(b) * cols * stride;
      const std::size_t first = static_cast<std::size_t>(b) * gift::detail::reduction_block_rows;
      const std::size_t last = std::min(rows, first + gift::detail::reduction_block_rows);
      for (std::size_t r = first; r < last; ++r)
        for (std::size_t j = 0; j < cols; ++j)
          gift::detail::accumulate_moments(
              acc + j * stride, static_cast<double>(m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j))),
              powers);
    }
    std::vector<double> total(cols * stride, 0.0);
    for (std::size_t b = 0; b < blocks; ++b)
      for (std::size_t j = 0; j < cols; ++j)
        gift::detail::combine_moments(total.data() + j * stride, partial.data() + (b * cols + j) * stride, stride);
    return total;
  }
};

}  // namespace gift::backend
