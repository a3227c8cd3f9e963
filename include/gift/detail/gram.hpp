#pragma once
/// \file gift/detail/gram.hpp
/// \brief Glue behind gram.hpp: the Gram-update operation tag.

#include <string>

namespace gift::ops {
/// Operation tag: add `XᵀX` of a batch, in double, to the lower triangle of a Gram matrix.
struct gram_update {
  /// Printable name.
  static std::string name() { return "gram_update"; }
};
}  // namespace gift::ops
