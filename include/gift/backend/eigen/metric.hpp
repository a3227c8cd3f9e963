#pragma once
/// \file gift/backend/eigen/metric.hpp
/// \brief Perturbation column norms (quantization error or weights) on the Eigen backend: row
/// blocks in parallel, each row read once and folded into per-column partials.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/common.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/metric.hpp>
#include <gift/detail/quant/symmetric.hpp>
#include <gift/detail/quant/row_kernels.hpp>

#include <algorithm>
#include <type_traits>
#include <cmath>
#include <cstddef>
#include <vector>

namespace gift::backend {

namespace detail {
/// Column norms of W (options null) or of W − Q(W), finished, in double. With a quantizer, each
/// row's scale is searched right before its error is folded in, while the row is still in cache:
/// W is read from memory once.
template <class Norm>
std::vector<double> eigen_perturbation_norms(const float_rows& w, const gift::detail::symmetric_plan* options, const char* where) {
  const int bits = options == nullptr ? 2 : options->bits;
  const std::size_t rows = static_cast<std::size_t>(w.rows()), cols = static_cast<std::size_t>(w.cols());
  const float qmin = static_cast<float>(gift::detail::symmetric_qmin(bits));
  const float qmax = static_cast<float>(gift::detail::symmetric_qmax(bits));
  const std::size_t blocks = gift::detail::reduction_block_count(rows);
  // Per-row scales are one group as wide as the row.
  const std::size_t group_size = options == nullptr ? 0 : options->group_size;
  const std::size_t groups = gift::detail::group_count(cols, group_size), width = group_size == 0 ? cols : group_size;
  std::vector<double> partial(blocks * cols, Norm::identity);
  bool rows_finite = true;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) reduction(&& : rows_finite) if (rows * cols > (1u << 16))
#endif
  for (std::ptrdiff_t b = 0; b < static_cast<std::ptrdiff_t>(blocks); ++b) {
    double* acc = partial.data() + static_cast<std::size_t>(b) * cols;
    std::vector<float> error(options == nullptr ? 0 : cols);  // one row of W − Q(W), in cache
    std::vector<float> alphas(groups), deltas(groups), maxima(groups);  // the row's scales per group
    const std::size_t first = static_cast<std::size_t>(b) * gift::detail::reduction_block_rows;
    const std::size_t last = std::min(rows, first + gift::detail::reduction_block_rows);
    for (std::size_t r = first; r < last; ++r) {
      const float* row = w.data() + static_cast<std::ptrdiff_t>(r) * w.outerStride();
      if (options == nullptr) {
        for (std::size_t j = 0; j < cols; ++j) acc[j] = Norm::accumulate(acc[j], static_cast<double>(row[j]));
      } else {
        gift::detail::search_row_scales(row, nullptr, cols, group_size, options->ratios.data(),
                                        options->ratios.size(), bits, static_cast<float>(options->error_exponent),
                                        alphas.data(), deltas.data(), maxima.data());
        // Two simple loops instead of one: each vectorises (GCC gives up on one loop with all
        // the selects), and the row stays in cache between them.
        for (std::size_t g = 0, first = 0; g < groups; ++g, first += width) {
          rows_finite = rows_finite && std::isfinite(maxima[g]);
          const float delta = deltas[g], inverse = gift::detail::fdiv(1.0f, delta);
          const std::size_t stop = std::min(cols, first + width);
          for (std::size_t j = first; j < stop; ++j)
            error[j] = gift::detail::symmetric_error(row[j], delta, inverse, qmin, qmax);
        }
        if constexpr (std::is_same_v<Norm, linf>) {
          // The row is known finite (its max is), so a plain max gives linf::accumulate's bits.
          for (std::size_t j = 0; j < cols; ++j) {
            const double a = std::fabs(static_cast<double>(error[j]));
            acc[j] = a > acc[j] ? a : acc[j];
          }
        } else {
          for (std::size_t j = 0; j < cols; ++j) acc[j] = Norm::accumulate(acc[j], static_cast<double>(error[j]));
        }
      }
    }
  }
  std::vector<double> result(cols);
  bool finite = true;
  for (std::size_t j = 0; j < cols; ++j) {
    double total = Norm::identity;
    for (std::size_t b = 0; b < blocks; ++b) total = Norm::combine(total, partial[b * cols + j]);
    result[j] = Norm::finish(total);
    finite = finite && std::isfinite(result[j]);
  }
  if (!finite || !rows_finite) throw_first_non_finite(w, where, "weights");
  return result;
}
}  // namespace detail

template <norm_policy Norm>
struct implementation<ops::quantization_error_norms<Norm>, eigen> {
  static constexpr bool available = true;

  /// `options`: the quantizer (per-row or per-group scales), already validated.
  template <class Scales, class Derived>
  static std::vector<double> run(eigen, std::type_identity<Scales>, const Eigen::MatrixBase<Derived>& weights,
                                 const gift::detail::symmetric_plan& options) {
    const detail::float_rows w(weights.derived().template cast<float>());
    return detail::eigen_perturbation_norms<Norm>(w, &options, "gift::column_sensitivity");
  }
};

template <norm_policy Norm>
struct implementation<ops::weight_column_norms<Norm>, eigen> {
  static constexpr bool available = true;

  template <class Derived>
  static std::vector<double> run(eigen, const Eigen::MatrixBase<Derived>& weights) {
    const detail::float_rows w(weights.derived().template cast<float>());
    return detail::eigen_perturbation_norms<Norm>(w, nullptr, "gift::column_sensitivity");
  }
};

}  // namespace gift::backend
