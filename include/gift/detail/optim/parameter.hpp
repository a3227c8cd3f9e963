#pragma once
/// \file gift/detail/optim/parameter.hpp
/// \brief Glue behind the optimizers: the operations every backend provides on trainable blocks
/// (zeroed state buffers, clearing and scaling gradients, the squared norm of a gradient).

#include <string>

namespace gift::ops {
/// Operation tag: a zero-filled state buffer of n elements in the backend's memory.
struct optimizer_state {
  /// Printable name.
  static std::string name() { return "optimizer_state"; }
};
/// Operation tag: set n elements to zero in place.
struct zero_fill {
  /// Printable name.
  static std::string name() { return "zero_fill"; }
};
/// Operation tag: Σ g², in double, in a fixed order.
struct squared_norm {
  /// Printable name.
  static std::string name() { return "squared_norm"; }
};
/// Operation tag: multiply n elements by a factor in place.
struct scale_in_place {
  /// Printable name.
  static std::string name() { return "scale_in_place"; }
};
}  // namespace gift::ops
