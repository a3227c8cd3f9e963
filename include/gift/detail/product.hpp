#pragma once
/// \file gift/detail/product.hpp
/// \brief `gift::detail::product_any_threads(dst, lhs, rhs)`: a dense product whose bits do not
/// depend on the number of OpenMP threads.
///
/// Eigen's multi-threaded GEMM re-blocks the depth (its `kc`) by the thread count, and the sum of
/// every output element is rounded per depth block: 1 and 2 threads give different bits. Here the
/// destination is cut into column blocks whose bounds depend on the shape only, each block is
/// one single-threaded Eigen GEMM (Eigen does not parallelise inside an OpenMP team, and with one
/// thread it has nothing to parallelise), and the blocks are spread over the team. Every output
/// element then sees the same depth blocking for any thread count.
///
/// Must not be called from inside an OpenMP parallel region (there a nested team of one would
/// let Eigen parallelise again).

#include <Eigen/Core>

#include <algorithm>

namespace gift::detail {

/// Columns of the destination per block: wide enough that packing the left factor once per block
/// costs little next to the block's product.
inline constexpr Eigen::Index product_block_columns = 256;

/// `dst = lhs · rhs` (a matrix `dst` is resized; a block must have the shape), or
/// `dst += lhs · rhs` when `accumulate` (`dst` already sized). `dst` may be a matrix or a
/// writable block expression.
template <class Dst, class Lhs, class Rhs>
void product_any_threads(Dst&& dst, const Lhs& lhs, const Rhs& rhs, bool accumulate = false) {
  if (!accumulate) dst.resize(lhs.rows(), rhs.cols());
  const Eigen::Index cols = rhs.cols();
  const Eigen::Index blocks = (cols + product_block_columns - 1) / product_block_columns;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index first = b * product_block_columns;
    const Eigen::Index count = std::min(product_block_columns, cols - first);
    if (accumulate) {
      dst.middleCols(first, count).noalias() += lhs * rhs.middleCols(first, count);
    } else {
      dst.middleCols(first, count).noalias() = lhs * rhs.middleCols(first, count);
    }
  }
}

/// `lhs · rhs` as a new matrix of `Matrix` type (sized here).
template <class Matrix, class Lhs, class Rhs>
[[nodiscard]] Matrix product_any_threads(const Lhs& lhs, const Rhs& rhs) {
  Matrix dst(lhs.rows(), rhs.cols());
  product_any_threads(dst, lhs, rhs);
  return dst;
}

}  // namespace gift::detail
