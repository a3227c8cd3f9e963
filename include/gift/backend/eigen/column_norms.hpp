#pragma once
/// \file gift/backend/eigen/column_norms.hpp
/// \brief Column norms on the Eigen backend: one pass over the matrix, row blocks in parallel.

#include <gift/backend/dispatch.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/column_norms.hpp>

#include <cstddef>
#include <vector>

namespace gift::backend {

template <norm_policy Norm>
struct implementation<ops::column_norms<Norm>, eigen> {
  static constexpr bool available = true;

  template <class Derived>
  static gift::vector<typename Derived::Scalar> run(eigen, const Eigen::MatrixBase<Derived>& matrix) {
    using scalar = typename Derived::Scalar;
    const std::size_t rows = static_cast<std::size_t>(matrix.rows());
    const std::size_t cols = static_cast<std::size_t>(matrix.cols());
    gift::detail::require(rows > 0 && cols > 0, "gift::column_norms: argument 'matrix' must be non-empty, but it is ",
                          rows, " x ", cols);
    const auto& m = matrix.derived();
    const std::size_t blocks = gift::detail::reduction_block_count(rows);
    // Partial results per (block, column); rows walk contiguous memory for row-major input.
    std::vector<double> partial(blocks * cols, Norm::identity);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (rows * cols > (1u << 16))
#endif
    for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(blocks); ++b) {
      double* acc = partial.data() + static_cast<std::size_t>(b) * cols;
      const std::size_t first = static_cast<std::size_t>(b) * gift::detail::reduction_block_rows;
      const std::size_t last = std::min(rows, first + gift::detail::reduction_block_rows);
      for (std::size_t r = first; r < last; ++r) {
        for (std::size_t j = 0; j < cols; ++j) {
          acc[j] = Norm::accumulate(acc[j], static_cast<double>(m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j))));
        }
      }
    }
    gift::vector<scalar> result(static_cast<Eigen::Index>(cols));
    bool all_finite = true;
    for (std::size_t j = 0; j < cols; ++j) {
      double total = Norm::identity;
      for (std::size_t b = 0; b < blocks; ++b) total = Norm::combine(total, partial[b * cols + j]);
      const double norm = Norm::finish(total);
      all_finite = all_finite && std::isfinite(norm);
      result(static_cast<Eigen::Index>(j)) = static_cast<scalar>(norm);
    }
    // Rare path: find the first offending element so the message can point at it.
    if (!all_finite) gift::detail::throw_first_non_finite(m, "gift::column_norms", "matrix");
    return result;
  }
};

}  // namespace gift::backend
