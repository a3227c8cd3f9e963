#pragma once
/// \file gift/detail/multiply.hpp
/// \brief The matrix-product operation tag and how its right factor is read.

#include <string>

namespace gift {

namespace ops {
/// Operation tag: `c = a · op(b)` (or `c += a · op(b)`), with bits independent of the thread count.
struct multiply {
  /// Printable name.
  static std::string name() { return "multiply"; }
};
}  // namespace ops

}  // namespace gift
