#pragma once
/// \file gift/backend/thrust/quant/symmetric.hpp
/// \brief The symmetric quantizer on the Thrust backend: one functor call per row runs the shared
/// row kernels (the same code as the Eigen backend, so the same bits on the host systems).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/error.hpp>
#include <gift/detail/quant/symmetric.hpp>
#include <gift/detail/quant/row_kernels.hpp>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace gift::backend {

namespace detail {
struct symmetric_row_task {
  const float* weights;
  const float* keep;  // null: keep all
  std::size_t cols, group, groups;
  const float* ratios;
  std::size_t count;
  int bits;
  float exponent;
  float *alpha, *delta, *max_abs;
  std::int8_t* codes;  // null: scales only
  float* dequantized;
  GIFT_HOST_DEVICE void operator()(std::size_t r) const {
    const float* row = weights + r * cols;
    gift::detail::search_row_scales(row, keep, cols, group, ratios, count, bits, exponent, alpha + r * groups,
                                    delta + r * groups, max_abs + r * groups);
    if (codes != nullptr)
      gift::detail::quantize_row_symmetric(row, cols, group, delta + r * groups, bits, codes + r * cols,
                                           dequantized + r * cols);
  }
};

/// Throws for the first non-finite weight when a per-row max says there is one.
template <class System>
void require_finite_rows(const thrust_matrix<float, System>& max_abs, const thrust_matrix<float, System>& weights,
                         const char* where) {
  const gift::matrix<float> maxima = max_abs.to_eigen();
  if (!maxima.allFinite()) gift::detail::throw_first_non_finite(weights.to_eigen(), where, "weights");
}

template <class T>
constexpr void require_float_weights() {
  static_assert(std::is_same_v<T, float>,
                "gift quantizers on the Thrust backend take float matrices: convert the weights with "
                "gift::thrust_matrix<float, System>::from_eigen(w.cast<float>())");
}
}  // namespace detail

template <class System>
struct implementation<ops::symmetric_quantize, thrust<System>> {
  static constexpr bool available = true;

  template <class Result, class T, class MatrixSystem>
  static Result run(thrust<System>, std::type_identity<Result>, const char* where,
                    const thrust_matrix<T, MatrixSystem>& weights, const gift::detail::symmetric_plan& options,
                    const std::vector<float>& keep, bool with_codes) {
    detail::require_float_weights<T>();
    const std::size_t rows = weights.rows(), cols = weights.cols();
    const std::size_t groups = gift::detail::group_count(cols, options.group_size);
    Result out;
    out.bits = options.bits;
    out.group_size = options.group_size;
    out.alpha = thrust_matrix<float, MatrixSystem>(rows, groups);
    out.delta = thrust_matrix<float, MatrixSystem>(rows, groups);
    thrust_matrix<float, MatrixSystem> max_abs(rows, groups);
    if (with_codes) {
      out.codes = thrust_matrix<std::int8_t, MatrixSystem>(rows, cols);
      out.dequantized = thrust_matrix<float, MatrixSystem>(rows, cols);
    }
    const thrust_vector_t<MatrixSystem, float> keep_device(keep.begin(), keep.end());
    const thrust_vector_t<MatrixSystem, float> ratios(options.ratios.begin(), options.ratios.end());
    const detail::symmetric_row_task task{
        ::thrust::raw_pointer_cast(weights.storage().data()),
        keep.empty() ? nullptr : ::thrust::raw_pointer_cast(keep_device.data()),
        cols,
        options.group_size,
        groups,
        ::thrust::raw_pointer_cast(ratios.data()),
        ratios.size(),
        options.bits,
        static_cast<float>(options.error_exponent),
        ::thrust::raw_pointer_cast(out.alpha.storage().data()),
        ::thrust::raw_pointer_cast(out.delta.storage().data()),
        ::thrust::raw_pointer_cast(max_abs.storage().data()),
        with_codes ? ::thrust::raw_pointer_cast(out.codes.storage().data()) : nullptr,
        with_codes ? ::thrust::raw_pointer_cast(out.dequantized.storage().data()) : nullptr};
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::size_t>(0),
                       ::thrust::counting_iterator<std::size_t>(rows), task);
    detail::require_finite_rows(max_abs, weights, where);
    return out;
  }
};

}  // namespace gift::backend
