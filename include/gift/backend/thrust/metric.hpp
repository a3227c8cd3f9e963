#pragma once
/// \file gift/backend/thrust/metric.hpp
/// \brief Perturbation column norms on the Thrust backend: one functor call per (row block,
/// column), folded in block order — the Eigen backend's order, hence the same bits.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/quant/symmetric.hpp>
#include <gift/detail/metric.hpp>

#include <thrust/copy.h>
#include <thrust/tabulate.h>

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <vector>

namespace gift::backend {

namespace detail {
template <class Norm>
struct perturbation_partial {
  const float* data;
  const float* deltas;  // rows x groups steps, row-major; null: the weights themselves
  std::size_t rows, cols, groups, width;
  float qmin, qmax;
  GIFT_HOST_DEVICE double operator()(std::size_t index) const {
    const std::size_t block = index / cols, column = index % cols;
    const std::size_t first = block * gift::detail::reduction_block_rows;
    const std::size_t last = first + gift::detail::reduction_block_rows < rows ? first + gift::detail::reduction_block_rows : rows;
    return gift::detail::perturbation_block<Norm>(data, cols, column, first, last, deltas, groups, width, qmin, qmax);
  }
};

template <class Norm, class System, class MatrixSystem>
std::vector<double> thrust_perturbation_norms(const thrust_matrix<float, MatrixSystem>& weights, const float* deltas,
                                              int bits, std::size_t group_size) {
  const std::size_t rows = weights.rows(), cols = weights.cols();
  const std::size_t groups = gift::detail::group_count(cols, group_size), width = group_size == 0 ? cols : group_size;
  const std::size_t blocks = gift::detail::reduction_block_count(rows);
  thrust_vector_t<MatrixSystem, double> partial(blocks * cols);
  ::thrust::tabulate(thrust_system_traits<System>::policy(), partial.begin(), partial.end(),
                     perturbation_partial<Norm>{::thrust::raw_pointer_cast(weights.storage().data()), deltas, rows, cols,
                                                groups, width, static_cast<float>(gift::detail::symmetric_qmin(bits)),
                                                static_cast<float>(gift::detail::symmetric_qmax(bits))});
  std::vector<double> host(partial.size());
  ::thrust::copy(partial.begin(), partial.end(), host.data());
  std::vector<double> result(cols);
  bool finite = true;
  for (std::size_t j = 0; j < cols; ++j) {
    double total = Norm::identity;
    for (std::size_t b = 0; b < blocks; ++b) total = Norm::combine(total, host[b * cols + j]);
    result[j] = Norm::finish(total);
    finite = finite && std::isfinite(result[j]);
  }
  if (!finite) gift::detail::throw_first_non_finite(weights.to_eigen(), "gift::column_sensitivity", "weights");
  return result;
}
}  // namespace detail

template <norm_policy Norm, class System>
struct implementation<ops::quantization_error_norms<Norm>, thrust<System>> {
  static constexpr bool available = true;

  /// Two passes: the per-row (or per-group) scales (the quantizer's row functor), then the error norms.
  /// `Scales` is the symmetric quantizer's result type, which the front end names.
  template <class Scales, class T, class MatrixSystem>
  static std::vector<double> run(thrust<System>, std::type_identity<Scales> scales_type,
                                 const thrust_matrix<T, MatrixSystem>& weights,
                                 const gift::detail::symmetric_plan& options) {
    detail::require_float_weights<T>();
    const Scales scales = implementation<ops::symmetric_quantize, thrust<System>>::run(
        thrust<System>{}, scales_type, "gift::column_sensitivity", weights, options, {}, false);
    return detail::thrust_perturbation_norms<Norm, System>(
        weights, ::thrust::raw_pointer_cast(scales.delta.storage().data()), options.bits, options.group_size);
  }
};

template <norm_policy Norm, class System>
struct implementation<ops::weight_column_norms<Norm>, thrust<System>> {
  static constexpr bool available = true;

  template <class T, class MatrixSystem>
  static std::vector<double> run(thrust<System>, const thrust_matrix<T, MatrixSystem>& weights) {
    detail::require_float_weights<T>();
    return detail::thrust_perturbation_norms<Norm, System>(weights, nullptr, 2, 0);
  }
};

}  // namespace gift::backend
