#pragma once
/// \file gift/detail/fill_standard_normal.hpp
/// \brief The fill-with-N(0,1) operation tag.

#include <string>

namespace gift::ops {
/// Operation tag: set element (i, j) of a `rows × cols` matrix to
/// `standard_normal(key, i * cols + j)`.
struct fill_standard_normal {
  /// Printable name.
  static std::string name() { return "fill_standard_normal"; }
};
}  // namespace gift::ops
