#pragma once
/// \file gift/backend/eigen/quant/common.hpp
/// \brief What the Eigen quantizers share: a row-major float view of any input and a finiteness
/// test (the message for a bad element comes from gift::detail::throw_first_non_finite).

#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>

namespace gift::backend::detail {

/// A row-major float view: binds without copying to row-major float storage, copies otherwise.
using float_rows = Eigen::Ref<const gift::matrix<float>, 0, Eigen::OuterStride<>>;

using gift::detail::throw_first_non_finite;

/// True when every element of `m` is finite.
template <class Matrix>
bool all_finite(const Matrix& m) {
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c)
      if (!std::isfinite(static_cast<double>(m(r, c)))) return false;
  return true;
}

}  // namespace gift::backend::detail
