#pragma once
/// \file gift/detail/column_norms.hpp
/// \brief The column-norms operation tag and the reduction order every backend follows.

#include <gift/concepts.hpp>
#include <gift/norm.hpp>

#include <cstddef>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: the `Norm` of every column of a matrix.
template <norm_policy Norm>
struct column_norms {
  /// Printable name.
  static std::string name() { return "column_norms<" + Norm::name() + ">"; }
};
}  // namespace ops

namespace detail {
/// Column reductions fold rows in blocks of this many rows, each block in row order, then fold
/// the block results in block order. Fixing the order (not the thread count) is what makes the
/// result bit-identical on every backend.
inline constexpr std::size_t reduction_block_rows = 256;

/// Number of row blocks of a matrix with `rows` rows.
constexpr std::size_t reduction_block_count(std::size_t rows) {
  return (rows + reduction_block_rows - 1) / reduction_block_rows;
}
}  // namespace detail

}  // namespace gift
