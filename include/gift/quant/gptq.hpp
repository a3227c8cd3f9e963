#pragma once
/// \file gift/quant/gptq.hpp
/// \brief `gift::gptq(weights, gram, salient, options)`: GPTQ quantization of the non-salient
/// columns with the salient columns kept in full precision (QUIK-style).
///
/// From the Gram matrix `H = XᵀX` of the layer's calibration inputs (`gift::gram_accumulator`):
/// damping `λ = 1% · mean(diag H)` by default, blocks of 128 columns with lazy batch updates,
/// optional act-order. Per-row steps Δ_i are searched on the original weights over the
/// non-salient columns (`gptq_options::search`), as in the round-to-nearest quantizer. Salient
/// columns are processed last and never quantized, so they absorb the compensation of every
/// quantized column. CPU (Eigen) only: the algorithm is a sequence of dense factorisations and
/// rank updates that Eigen's BLAS-like kernels run well.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/gptq.hpp>
#include <gift/error.hpp>
#include <gift/detail/quant/gptq.hpp>
#include <gift/fwd.hpp>
#include <gift/quant/alpha_search.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/salient_columns.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace gift {

/// Options of GPTQ with salient columns kept in full precision.
struct gptq_options {
  int bits = default_bits;                        ///< b in 2..8
  alpha_search search = alpha_search::max_abs();  ///< per-row scale search (non-salient columns)
  double damping = 0.01;                          ///< λ = damping · mean(diag H) added to diag H
  std::size_t block_size = 128;                   ///< columns per lazy-update block
  bool act_order = false;                         ///< quantize columns by decreasing H_jj
};

/// Result of GPTQ: the mixed-precision weights and the integer part.
struct gptq_result {
  int bits = 0;                       ///< bit-width
  gift::matrix<float> weights;        ///< quantized non-salient columns, updated fp32 salient columns
  gift::vector<float> delta;          ///< per-row step Δ_i (searched on the original weights)
  gift::matrix<std::int8_t> codes;    ///< codes of the non-salient columns; 0 in salient columns
};

/// GPTQ with salient columns in full precision. `weights` is out × in, `gram` is in × in
/// (symmetric, `XᵀX` of the calibration inputs), `salient` may be empty (plain GPTQ). The backend
/// follows from the weights' type; only the Eigen backend implements it: Thrust or CUDA weights
/// are a compile error saying so (copy them to a `gift::matrix<float>` first).
/// \throws gift::error for bits outside 2..8, empty or non-finite inputs, mismatched shapes, an
/// asymmetric Gram matrix, bad damping or block size, or a Gram matrix that is not positive
/// definite after damping.
template <matrix_shaped Weights, class GramDerived>
gptq_result gptq(const Weights& weights, const Eigen::MatrixBase<GramDerived>& gram,
                 const salient_columns& salient = {}, const gptq_options& options = {}) {
  // Said here rather than by the dispatcher, whose "include the backend header" advice does not
  // apply: no Thrust or CUDA GPTQ exists, whatever is included.
  static_assert(std::is_same_v<backend_for_t<Weights>, backend::eigen>,
                "gift::gptq runs on the Eigen backend only (no Thrust or CUDA implementation exists yet): copy the "
                "weights to a gift::matrix<float> first, and the result back to the device");
  constexpr const char* where = "gift::gptq";
  detail::require_bits(options.bits, where);
  options.search.validate(where);
  const auto rows = static_cast<std::size_t>(weights.rows()), cols = static_cast<std::size_t>(weights.cols());
  detail::require_weights_shape(rows, cols, where);
  (void)detail::keep_flags(salient, cols, where);  // width check
  detail::require(static_cast<std::size_t>(gram.rows()) == cols && static_cast<std::size_t>(gram.cols()) == cols, where,
                  ": argument 'gram' must be ", cols, " x ", cols, " (in x in), but it is ", gram.rows(), " x ",
                  gram.cols());
  detail::require(std::isfinite(options.damping) && options.damping >= 0.0, where,
                  ": gptq_options::damping must be finite and non-negative (0.01 is usual), but it is ", options.damping);
  detail::require(options.block_size >= 1, where, ": gptq_options::block_size must be at least 1 (128 is usual)");
  double largest = 0.0;
  for (Eigen::Index r = 0; r < gram.rows(); ++r)
    for (Eigen::Index c = 0; c < gram.cols(); ++c) {
      detail::require_finite(gram(r, c), where, "gram", static_cast<std::size_t>(r), static_cast<std::size_t>(c));
      largest = std::max(largest, std::abs(static_cast<double>(gram(r, c))));
    }
  for (Eigen::Index r = 0; r < gram.rows(); ++r)
    for (Eigen::Index c = 0; c < r; ++c)
      detail::require(std::abs(static_cast<double>(gram(r, c)) - static_cast<double>(gram(c, r))) <= 1e-9 * largest,
                      where, ": argument 'gram' must be symmetric, but (", r, ", ", c, ") and (", c, ", ", r,
                      ") differ; pass gram_accumulator::gram()");
  // The steps are searched once, on the original weights, over the non-salient columns; the
  // backend then runs the column sweep with them fixed.
  gptq_result result;
  result.bits = options.bits;
  result.delta = row_deltas(weights, options.bits, options.search, salient);
  backend::dispatch<ops::gptq>(backend_for_t<Weights>{}, weights, gram, salient,
                               detail::gptq_plan{options.bits, options.damping, options.block_size, options.act_order},
                               result);
  return result;
}

}  // namespace gift
