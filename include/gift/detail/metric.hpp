#pragma once
/// \file gift/detail/metric.hpp
/// \brief The quantization-error column-norm operation: ‖W_j − Q(W_j)‖_τ for every column j,
/// given each row's step Δ_i, without forming W − Q(W). Every backend folds rows in the order of
/// detail/column_norms.hpp (blocks of 256 rows, block results in order, double accumulation).

#include <gift/concepts.hpp>
#include <gift/config.hpp>
#include <gift/detail/column_norms.hpp>
#include <gift/detail/quant/levels.hpp>

#include <cstddef>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: `Norm` of every column of `W − Q(W)` for a symmetric per-row quantizer (the
/// backend searches the row scales first).
template <norm_policy Norm>
struct quantization_error_norms {
  /// Printable name.
  static std::string name() { return "quantization_error_norms<" + Norm::name() + ">"; }
};
/// Operation tag: `Norm` of every column of W, returned in double (unlike `column_norms`, which
/// returns the matrix's scalar type).
template <norm_policy Norm>
struct weight_column_norms {
  /// Printable name.
  static std::string name() { return "weight_column_norms<" + Norm::name() + ">"; }
};
}  // namespace ops

namespace detail {
/// Folds rows `[first, last)` of column `column` of a row-major `cols`-wide matrix into a norm
/// accumulator: the quantization error with steps `deltas` (row-major, rows x `groups`, each
/// group `width` columns wide; one group per row: groups 1, width cols), or (deltas null) the weights.
template <class Norm>
GIFT_HOST_DEVICE inline double perturbation_block(const float* w, std::size_t cols, std::size_t column,
                                                  std::size_t first, std::size_t last, const float* deltas,
                                                  std::size_t groups, std::size_t width, float qmin, float qmax) {
  double acc = Norm::identity;
  const std::size_t group = column / width;
  for (std::size_t r = first; r < last; ++r) {
    const float x = w[r * cols + column];
    const float step = deltas == nullptr ? 0.0f : deltas[r * groups + group];
    const float e = deltas == nullptr ? x : symmetric_error(x, step, fdiv(1.0f, step), qmin, qmax);
    acc = Norm::accumulate(acc, static_cast<double>(e));
  }
  return acc;
}
}  // namespace detail

}  // namespace gift
