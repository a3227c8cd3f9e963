#pragma once
/// \file gift/backend/eigen/quant/common.hpp
/// \brief What the Eigen quantizers share: a row-major float view of any input and the search
/// for the first non-finite weight (for the error message).

#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>

namespace gift::backend::detail {

/// A row-major float view: binds without copying to row-major float storage, copies otherwise.
using float_rows = Eigen::Ref<const gift::matrix<float>, 0, Eigen::OuterStride<>>;

/// Throws for the first non-finite element of `m`, naming `where` and `argument`. Called only
/// after a reduction has shown that one exists, so the scan costs nothing on good input.
template <class Matrix>
[[noreturn]] void throw_first_non_finite(const Matrix& m, const char* where, const char* argument) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      gift::detail::require_finite(m(r, c), where, argument, static_cast<std::size_t>(r), static_cast<std::size_t>(c));
  throw gift::error(gift::detail::concat(where, ": argument '", argument, "' holds a non-finite value"));
}

/// True when every element of `m` is finite.
template <class Matrix>
bool all_finite(const Matrix& m) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      if (!std::isfinite(static_cast<double>(m(r, c)))) return false;
  return true;
}

}  // namespace gift::backend::detail
