#pragma once
/// \file gift/detail/multiply.hpp
/// \brief The operation tags of the matrix products (`multiply`, `multiply_transposed`) and of
/// scaling by a scalar.

#include <string>

namespace gift {

namespace ops {
/// Operation tag: `c = a · op(b)` (or `c += a · op(b)`), with bits independent of the thread count.
struct multiply {
  /// Printable name.
  static std::string name() { return "multiply"; }
};
/// Operation tag: `c = aᵀ · b` (or `c += aᵀ · b`), with bits independent of the thread count.
struct multiply_transposed {
  /// Printable name.
  static std::string name() { return "multiply_transposed"; }
};
/// Operation tag: `c = s · a`, element by element.
struct scale {
  /// Printable name.
  static std::string name() { return "scale"; }
};
}  // namespace ops

}  // namespace gift
