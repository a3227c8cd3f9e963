#pragma once
/// \file gift/detail/optim/sgd.hpp
/// \brief Glue behind optim/sgd.hpp: the SGD step's operation tag, its per-step constants and the
/// element update every backend applies.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>

#include <string>

namespace gift {

namespace ops {
/// Operation tag: one SGD (momentum, Nesterov) update of a block.
struct sgd_step {
  /// Printable name.
  static std::string name() { return "sgd_step"; }
};
}  // namespace ops

namespace detail {

/// The numbers one SGD step applies to every element of one block.
template <class T>
struct sgd_constants {
  T learning_rate;   ///< lr
  T momentum;        ///< μ (0: plain SGD, no buffer)
  T decay;           ///< λ for this block (0 without decay)
  bool first_step;   ///< the momentum buffer starts as the gradient
  bool nesterov;     ///< g + μ·b instead of b
};

/// One element of an SGD step (`buffer` is unused when μ = 0).
template <class T>
GIFT_HOST_DEVICE GIFT_FORCE_INLINE void sgd_update(T& value, T gradient, T* buffer, const sgd_constants<T>& c) {
  T g = gradient;
  if (c.decay != T(0)) g = rn_add(g, rn_mul(c.decay, value));
  if (c.momentum != T(0)) {
    *buffer = c.first_step ? g : rn_add(rn_mul(c.momentum, *buffer), g);
    g = c.nesterov ? rn_add(g, rn_mul(c.momentum, *buffer)) : *buffer;
  }
  value = rn_sub(value, rn_mul(c.learning_rate, g));
}

}  // namespace detail
}  // namespace gift
