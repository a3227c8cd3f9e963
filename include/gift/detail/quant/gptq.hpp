#pragma once
/// \file gift/detail/quant/gptq.hpp
/// \brief Glue behind quant/gptq.hpp: the GPTQ operation tag and the validated plan its backends
/// receive (the per-row steps are searched by the front end before dispatch).

#include <cstddef>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: GPTQ from the Gram matrix of the layer's inputs.
struct gptq {
  /// Printable name.
  static std::string name() { return "gptq"; }
};
}  // namespace ops

namespace detail {
/// Validated GPTQ settings.
struct gptq_plan {
  int bits = 4;                  ///< b in 2..8
  double damping = 0.01;         ///< λ = damping · mean(diag H)
  std::size_t block_size = 128;  ///< columns per lazy-update block
  bool act_order = false;        ///< quantize columns by decreasing H_jj
};
}  // namespace detail

}  // namespace gift
