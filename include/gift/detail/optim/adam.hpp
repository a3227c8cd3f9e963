#pragma once
/// \file gift/detail/optim/adam.hpp
/// \brief Glue behind optim/adam.hpp: the Adam step's operation tag, the validated plan, the
/// per-step constants (computed once on the host, in double) and the element update that every
/// backend applies, so CPU, Thrust and CUDA produce the same bits.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: one Adam / AdamW update of a block.
struct adam_step {
  /// Printable name.
  static std::string name() { return "adam_step"; }
};
}  // namespace ops

namespace detail {

/// Validated Adam settings.
struct adam_plan {
  double beta1 = 0.9;         ///< first-moment decay
  double beta2 = 0.999;       ///< second-moment decay
  double epsilon = 1e-8;      ///< added to √v̂
  double weight_decay = 0.0;  ///< λ
  bool decoupled = false;     ///< AdamW
};

/// The numbers one step applies to every element of one block.
template <class T>
struct adam_constants {
  T step_size;         ///< lr / (1 − β₁ᵗ)
  T sqrt_correction2;  ///< √(1 − β₂ᵗ)
  T beta1, beta2, one_minus_beta1, one_minus_beta2, epsilon;
  T coupled;  ///< λ added to g·p (Adam), 0 for AdamW
  T shrink;   ///< 1 − lr·λ (AdamW), 1 for Adam
};

/// The constants of step `t` (1-based) for a block with (`decay`) or without weight decay.
/// Bias corrections are folded into the step size and ε, PyTorch's formulation:
/// p −= (lr / c₁) · m / (√v / √c₂ + ε).
template <class T>
adam_constants<T> adam_step_constants(const adam_plan& plan, double learning_rate, std::uint64_t t, bool decay) {
  const double step = static_cast<double>(t);
  const double lambda = decay ? plan.weight_decay : 0.0;
  return adam_constants<T>{static_cast<T>(learning_rate / (1.0 - std::pow(plan.beta1, step))),
                           static_cast<T>(std::sqrt(1.0 - std::pow(plan.beta2, step))),
                           static_cast<T>(plan.beta1),
                           static_cast<T>(plan.beta2),
                           static_cast<T>(1.0 - plan.beta1),
                           static_cast<T>(1.0 - plan.beta2),
                           static_cast<T>(plan.epsilon),
                           plan.decoupled ? T(0) : static_cast<T>(lambda),
                           static_cast<T>(1.0 - learning_rate * (plan.decoupled ? lambda : 0.0))};
}

/// One element of an Adam step, every operation rounded once in this order.
template <class T>
GIFT_HOST_DEVICE GIFT_FORCE_INLINE void adam_update(T& value, T gradient, T& m, T& v, const adam_constants<T>& c) {
  T p = value;
  T g = gradient;
  if (c.coupled != T(0)) g = rn_add(g, rn_mul(c.coupled, p));
  if (c.shrink != T(1)) p = rn_mul(p, c.shrink);
  m = rn_add(rn_mul(c.beta1, m), rn_mul(c.one_minus_beta1, g));
  v = rn_add(rn_mul(c.beta2, v), rn_mul(c.one_minus_beta2, rn_mul(g, g)));
  const T denominator = rn_add(rn_div(rn_sqrt(v), c.sqrt_correction2), c.epsilon);
  value = rn_sub(p, rn_mul(c.step_size, rn_div(m, denominator)));
}

}  // namespace detail
}  // namespace gift
