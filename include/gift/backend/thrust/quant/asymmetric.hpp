#pragma once
/// \file gift/backend/thrust/quant/asymmetric.hpp
/// \brief The asymmetric (min/max) quantizer on the Thrust backend, one functor call per row.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/quant/symmetric.hpp>
#include <gift/detail/quant/asymmetric.hpp>
#include <gift/detail/quant/row_kernels.hpp>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace gift::backend {

namespace detail {
struct asymmetric_row_task {
  const float* weights;
  const float* keep;
  std::size_t cols, group, groups;
  int bits;
  float *scale, *zero, *max_abs;
  std::uint8_t* codes;
  float* dequantized;
  GIFT_HOST_DEVICE void operator()(std::size_t r) const {
    const float* row = weights + r * cols;
    gift::detail::asymmetric_row_params(row, keep, cols, group, bits, scale + r * groups, zero + r * groups,
                                        max_abs + r * groups);
    gift::detail::quantize_row_asymmetric(row, cols, group, scale + r * groups, zero + r * groups, bits,
                                          codes + r * cols, dequantized + r * cols);
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::asymmetric_quantize, thrust<System>> {
  static constexpr bool available = true;

  template <class Result, class T, class MatrixSystem>
  static Result run(thrust<System>, std::type_identity<Result>, const char* where,
                    const thrust_matrix<T, MatrixSystem>& weights, const gift::detail::asymmetric_plan& options,
                    const std::vector<float>& keep) {
    detail::require_float_weights<T>();
    const std::size_t rows = weights.rows(), cols = weights.cols();
    const std::size_t groups = gift::detail::group_count(cols, options.group_size);
    Result out;
    out.bits = options.bits;
    out.group_size = options.group_size;
    out.scale = thrust_matrix<float, MatrixSystem>(rows, groups);
    out.zero = thrust_matrix<float, MatrixSystem>(rows, groups);
    out.codes = thrust_matrix<std::uint8_t, MatrixSystem>(rows, cols);
    out.dequantized = thrust_matrix<float, MatrixSystem>(rows, cols);
    thrust_matrix<float, MatrixSystem> max_abs(rows, groups);
    const thrust_vector_t<MatrixSystem, float> keep_device(keep.begin(), keep.end());
    const detail::asymmetric_row_task task{::thrust::raw_pointer_cast(weights.storage().data()),
                                           keep.empty() ? nullptr : ::thrust::raw_pointer_cast(keep_device.data()),
                                           cols,
                                           options.group_size,
                                           groups,
                                           options.bits,
                                           ::thrust::raw_pointer_cast(out.scale.storage().data()),
                                           ::thrust::raw_pointer_cast(out.zero.storage().data()),
                                           ::thrust::raw_pointer_cast(max_abs.storage().data()),
                                           ::thrust::raw_pointer_cast(out.codes.storage().data()),
                                           ::thrust::raw_pointer_cast(out.dequantized.storage().data())};
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::size_t>(0),
                       ::thrust::counting_iterator<std::size_t>(rows), task);
    detail::require_finite_rows(max_abs, weights, where);
    return out;
  }
};

}  // namespace gift::backend
