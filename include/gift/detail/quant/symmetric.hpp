#pragma once
/// \file gift/detail/quant/symmetric.hpp
/// \brief Glue behind quant/symmetric.hpp: the symmetric quantizer's operation tags and the
/// validated plan the front end hands to every backend.
///
/// Backends never see the public option types: the front end validates `symmetric_options` once
/// and passes this plain plan, and names the result type it wants (`std::type_identity<Result>`),
/// so backend headers depend on nothing in quant/.

#include <cstddef>
#include <string>
#include <vector>

namespace gift {

namespace ops {
/// Operation tag: α search (and optionally codes) of the symmetric per-row/group quantizer.
struct symmetric_quantize {
  /// Printable name.
  static std::string name() { return "symmetric_quantize"; }
};
/// Operation tag: codes of the symmetric quantizer with given steps Δ.
struct symmetric_codes {
  /// Printable name.
  static std::string name() { return "symmetric_codes"; }
};
}  // namespace ops

namespace detail {
/// A validated symmetric quantizer: bit-width, scale groups and the α candidates.
struct symmetric_plan {
  int bits = 4;                 ///< b in 2..8
  std::size_t group_size = 0;   ///< columns per scale group; 0: per row
  std::vector<float> ratios;    ///< α candidates as fractions of max|w|, in search order
  double error_exponent = 2.0;  ///< p of the searched error ‖w − Q(w)‖_p^p
};
}  // namespace detail

}  // namespace gift
