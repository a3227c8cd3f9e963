#pragma once
/// \file gift/quant/symmetric.hpp
/// \brief The symmetric uniform quantizer with a searched clipping value, per row or per group,
/// with the scale estimated over the non-salient columns only.
///
/// `Δ_i = α_i / (2^(b−1) − 1)`, `Q(w) = Δ_i · clamp(round(w · (1/Δ_i)), −2^(b−1), 2^(b−1) − 1)`,
/// round half to even. α_i is the α-search winner over the row's non-salient weights (salient
/// columns are outliers by construction and would inflate the scale). Weights are quantized in
/// fp32 whatever their input type.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/symmetric.hpp>
#include <gift/backend/traits.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/quant/levels.hpp>
#include <gift/detail/quant/row_kernels.hpp>
#include <gift/detail/quant/symmetric.hpp>
#include <gift/quant/options.hpp>
#include <gift/salient_columns.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace gift {

/// Output of a symmetric quantizer on one backend. `FloatMatrix` is the backend's float matrix,
/// `CodeMatrix` its int8 matrix.
template <class FloatMatrix, class CodeMatrix>
struct symmetric_quantized {
  int bits = 0;                ///< bit-width b
  std::size_t group_size = 0;  ///< columns per scale group; 0: one group per row
  FloatMatrix alpha;           ///< clipping value α per (row, group), rows × groups
  FloatMatrix delta;           ///< step Δ = α / (2^(b−1) − 1) per (row, group), rows × groups
  CodeMatrix codes;            ///< integer codes in [−2^(b−1), 2^(b−1) − 1], rows × cols
  FloatMatrix dequantized;     ///< Δ · code, rows × cols
};

/// The result type of the symmetric quantizer for weights of type `Weights`: the backend's float
/// and int8 matrices (Eigen for Eigen weights, the same Thrust system for Thrust weights).
template <class Weights>
using symmetric_quantized_t = symmetric_quantized<rebind_matrix_t<Weights, float>, rebind_matrix_t<Weights, std::int8_t>>;

namespace detail {
/// The 0/1 keep flags of `salient` for a layer with `cols` columns (empty: keep all).
inline std::vector<float> keep_flags(const salient_columns& salient, std::size_t cols, const char* where) {
  if (salient.columns() == 0) return {};  // default-constructed: keep every column
  salient.require_columns(cols, where);
  return salient.keep_weights();
}

inline void require_weights_shape(std::size_t rows, std::size_t cols, const char* where) {
  require(rows > 0 && cols > 0, where, ": argument 'weights' must be non-empty, but it is ", rows, " x ", cols);
}

/// Validates `options` and turns them into the plan the backends take.
inline symmetric_plan symmetric_plan_of(const symmetric_options& options, const char* where) {
  require_bits(options.bits, where);
  options.search.validate(where);
  return symmetric_plan{options.bits, options.group_size, options.search.ratios, options.search.error_exponent};
}
/// The symmetric quantizer's front end: validates once, then runs the α search (and, with
/// `with_codes`, the codes) on `tag`'s backend.
template <backend_tag Backend, matrix_shaped Weights>
auto run_symmetric(Backend tag, const Weights& weights, const symmetric_options& options,
                   const salient_columns& salient, bool with_codes, const char* where) {
  const symmetric_plan plan = symmetric_plan_of(options, where);
  const auto rows = static_cast<std::size_t>(weights.rows()), cols = static_cast<std::size_t>(weights.cols());
  require_weights_shape(rows, cols, where);
  return backend::dispatch<ops::symmetric_quantize>(tag, std::type_identity<symmetric_quantized_t<Weights>>{}, where,
                                                    weights, plan, keep_flags(salient, cols, where), with_codes);
}
}  // namespace detail

/// Quantizes `weights` (out × in) with the symmetric quantizer on `tag`'s backend; the scale of
/// each row (or group) is searched over the columns not in `salient`. Returns α, Δ, the int8
/// codes and the dequantized matrix in the backend's containers. Salient columns are quantized
/// too (with the row's scale); put them back with `restore_salient_columns` for mixed precision.
/// \throws gift::error for bits outside 2..8, an empty or non-finite matrix, a bad α search, or a
/// selection made for a different width.
template <backend_tag Backend, matrix_shaped Weights>
auto quantize_symmetric(Backend tag, const Weights& weights, const symmetric_options& options,
                        const salient_columns& salient = {}) {
  return detail::run_symmetric(tag, weights, options, salient, true, "gift::quantize_symmetric");
}

/// As above, on the backend the weights' type implies.
template <matrix_shaped Weights>
  requires(!backend_tag<Weights>)
auto quantize_symmetric(const Weights& weights, const symmetric_options& options, const salient_columns& salient = {}) {
  return quantize_symmetric(backend_for_t<Weights>{}, weights, options, salient);
}

/// Only the α search: α and Δ per (row, group), without codes (`codes`, `dequantized` empty).
template <backend_tag Backend, matrix_shaped Weights>
auto search_scales(Backend tag, const Weights& weights, const symmetric_options& options,
                   const salient_columns& salient = {}) {
  return detail::run_symmetric(tag, weights, options, salient, false, "gift::search_scales");
}

/// As above, on the backend the weights' type implies.
template <matrix_shaped Weights>
  requires(!backend_tag<Weights>)
auto search_scales(const Weights& weights, const symmetric_options& options, const salient_columns& salient = {}) {
  return search_scales(backend_for_t<Weights>{}, weights, options, salient);
}

/// The per-row step Δ_i of `bits`-bit symmetric quantization with `search` over the non-salient
/// columns: the noise scale of GIFT-SW training (`½ · Δ_i · Ω_ij`). The search runs on `tag`'s
/// backend; Δ comes back to the host (one float per row), as the layers take it.
template <backend_tag Backend, matrix_shaped Weights>
gift::vector<float> row_deltas(Backend tag, const Weights& weights, int bits, const alpha_search& search,
                               const salient_columns& salient = {}) {
  const auto scales = search_scales(tag, weights, symmetric_options{bits, search, 0}, salient);
  if constexpr (eigen_dense<decltype(scales.delta)>) {
    return scales.delta.col(0);
  } else {
    return scales.delta.to_eigen().col(0);
  }
}

/// As above, on the backend the weights' type implies.
template <matrix_shaped Weights>
  requires(!backend_tag<Weights>)
gift::vector<float> row_deltas(const Weights& weights, int bits, const alpha_search& search,
                               const salient_columns& salient = {}) {
  return row_deltas(backend_for_t<Weights>{}, weights, bits, search, salient);
}

/// Codes and dequantized weights for given steps `delta` (rows × groups, as returned by
/// `search_scales`), e.g. steps computed once and reused. CPU (Eigen) weights.
template <class Derived, class DeltaDerived>
auto quantize_with_deltas(const Eigen::MatrixBase<Derived>& weights, const Eigen::MatrixBase<DeltaDerived>& delta,
                          int bits, std::size_t group_size = 0) {
  constexpr const char* where = "gift::quantize_with_deltas";
  detail::require_bits(bits, where);
  const auto rows = static_cast<std::size_t>(weights.rows()), cols = static_cast<std::size_t>(weights.cols());
  detail::require_weights_shape(rows, cols, where);
  const auto groups = detail::group_count(cols, group_size);
  detail::require(static_cast<std::size_t>(delta.rows()) == rows && static_cast<std::size_t>(delta.cols()) == groups,
                  where, ": argument 'delta' must be ", rows, " x ", groups, " (rows x groups), but it is ",
                  delta.rows(), " x ", delta.cols());
  for (Eigen::Index r = 0; r < delta.rows(); ++r)
    for (Eigen::Index g = 0; g < delta.cols(); ++g)
      detail::require(std::isfinite(static_cast<double>(delta(r, g))) && delta(r, g) > 0, where,
                      ": every step in 'delta' must be finite and positive, but (", r, ", ", g, ") is ",
                      static_cast<double>(delta(r, g)));
  return backend::dispatch<ops::symmetric_codes>(backend::eigen{}, std::type_identity<symmetric_quantized_t<Derived>>{},
                                                where, weights, delta, group_size, bits);
}

/// Copies the salient columns of `weights` into `quantized` (same shape): mixed precision, with
/// salient columns in full precision and the rest quantized.
template <class Derived>
void restore_salient_columns(gift::matrix<float>& quantized, const Eigen::MatrixBase<Derived>& weights,
                             const salient_columns& salient) {
  detail::require(quantized.rows() == weights.rows() && quantized.cols() == weights.cols(),
                  "gift::restore_salient_columns: 'quantized' is ", quantized.rows(), " x ", quantized.cols(),
                  " but 'weights' is ", weights.rows(), " x ", weights.cols());
  detail::require(salient.columns() == static_cast<std::size_t>(weights.cols()) || salient.columns() == 0,
                  "gift::restore_salient_columns: the selection covers ", salient.columns(), " columns, the weights have ",
                  weights.cols());
  for (const std::int64_t j : salient.indices())
    quantized.col(static_cast<Eigen::Index>(j)) = weights.col(static_cast<Eigen::Index>(j)).template cast<float>();
}

}  // namespace gift
