#pragma once
/// \file gift/quant/options.hpp
/// \brief Runtime options of the symmetric and asymmetric quantizers.

#include <gift/fwd.hpp>
#include <gift/quant/alpha_search.hpp>

#include <concepts>
#include <cstddef>

namespace gift {

/// Options of the symmetric uniform quantizer.
struct symmetric_options {
  int bits = default_bits;                         ///< b in 2..8
  alpha_search search = alpha_search::max_abs();   ///< how α_i is chosen
  std::size_t group_size = 0;                      ///< columns per scale group; 0: per row
};

/// Options of the asymmetric (min/max) quantizer.
struct asymmetric_options {
  int bits = default_bits;     ///< b in 2..8
  std::size_t group_size = 0;  ///< columns per scale group; 0: per row
};

}  // namespace gift

namespace gift {

/// A matrix with a shape: an Eigen dense matrix or expression, or a `gift::thrust_matrix`.
template <class M>
concept matrix_shaped = requires(const M& m) {
  { m.rows() } -> std::convertible_to<std::size_t>;
  { m.cols() } -> std::convertible_to<std::size_t>;
};

}  // namespace gift
