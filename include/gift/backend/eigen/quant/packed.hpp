#pragma once
/// \file gift/backend/eigen/quant/packed.hpp
/// \brief `y = x Wᵀ` from the packed mixed-precision layout on the CPU: dequantize-on-the-fly.
///
/// W is never materialised whole. The output columns (rows of W) are cut into the shape-fixed
/// blocks `detail::product_any_threads` uses; each block of W's rows is decoded into a per-thread
/// buffer (codes times Δ with one rounding, salient values in place: exactly the dense fp32
/// rows) and multiplied by one single-threaded Eigen GEMM, the blocks spread over the OpenMP team.
/// Memory traffic per call is the packed bytes plus one block per thread; the result has the
/// bits `frozen_linear` gives with the dequantized weight, for any thread count.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/product.hpp>
#include <gift/detail/quant/packed.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace gift::backend {

template <>
struct implementation<ops::packed_matmul, eigen> {
  static constexpr bool available = true;

  /// `y = x Wᵀ` (`x` tokens × in, `y` resized to tokens × out); `packed.view()` gives the host
  /// pointers of the packed matrix.
  template <class Packed, class X, class Y>
  static void run(eigen, const Packed& packed, const X& x, Y& y) {
    const gift::detail::packed_view w = packed.view();
    y.resize(x.rows(), static_cast<Eigen::Index>(w.rows));
    const Eigen::Index block_rows = gift::detail::product_block_columns;
    const Eigen::Index blocks = (static_cast<Eigen::Index>(w.rows) + block_rows - 1) / block_rows;
#if defined(_OPENMP)
    const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
#else
    const int threads = 1;
#endif
    std::vector<gift::matrix<float>> buffers(static_cast<std::size_t>(std::max(threads, 1)));
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
    for (Eigen::Index b = 0; b < blocks; ++b) {
#if defined(_OPENMP)
      auto& block = buffers[static_cast<std::size_t>(omp_get_thread_num())];
#else
      auto& block = buffers.front();
#endif
      const Eigen::Index first = b * block_rows;
      const Eigen::Index count = std::min(block_rows, static_cast<Eigen::Index>(w.rows) - first);
      block.resize(count, static_cast<Eigen::Index>(w.cols));
      gift::detail::dequantize_packed_rows(w, first, count, block.data());
      y.middleCols(first, count).noalias() = x * block.transpose();
    }
  }
};

}  // namespace gift::backend
