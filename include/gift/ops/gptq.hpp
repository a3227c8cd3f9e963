#pragma once
/// \file ops/gptq.hpp
/// \brief The GPTQ operation tag, its options and its result.

#include <gift/fwd.hpp>
#include <gift/quant/alpha_search.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

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

namespace ops {
/// Operation tag: GPTQ from the Gram matrix of the layer's inputs.
struct gptq {
  /// Printable name.
  static std::string name() { return "gptq"; }
};
}  // namespace ops

}  // namespace gift
