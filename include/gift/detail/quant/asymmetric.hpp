#pragma once
/// \file gift/detail/quant/asymmetric.hpp
/// \brief Glue behind quant/asymmetric.hpp: the asymmetric quantizer's operation tag and the
/// validated plan every backend receives.

#include <cstddef>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: asymmetric min/max quantizer.
struct asymmetric_quantize {
  /// Printable name.
  static std::string name() { return "asymmetric_quantize"; }
};
}  // namespace ops

namespace detail {
/// A validated asymmetric quantizer: bit-width and scale groups.
struct asymmetric_plan {
  int bits = 4;                ///< b in 2..8
  std::size_t group_size = 0;  ///< columns per scale group; 0: per row
};
}  // namespace detail

}  // namespace gift
