#pragma once
/// \file gift/quant/asymmetric.hpp
/// \brief The asymmetric (min/max, zero-point) uniform quantizer, per row or per group, with the
/// range measured over the non-salient columns only.
///
/// Range `[min(0, w_min), max(0, w_max)]` (zero stays representable), `s = range / (2^b − 1)`,
/// `z = round(−min / s)`, `code = clamp(round(w/s) + z, 0, 2^b − 1)`, `Q(w) = (code − z) · s`.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/asymmetric.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/quant/asymmetric.hpp>
#include <gift/quant/symmetric.hpp>

#include <cstdint>
#include <type_traits>

namespace gift {

/// Output of an asymmetric (min/max) quantizer on one backend.
template <class FloatMatrix, class CodeMatrix>
struct asymmetric_quantized {
  int bits = 0;                ///< bit-width b
  std::size_t group_size = 0;  ///< columns per scale group; 0: one group per row
  FloatMatrix scale;           ///< step per (row, group), rows × groups
  FloatMatrix zero;            ///< zero point (an integer in [0, 2^b − 1]) per (row, group)
  CodeMatrix codes;            ///< unsigned codes in [0, 2^b − 1], rows × cols
  FloatMatrix dequantized;     ///< (code − zero) · scale, rows × cols
};

/// The result type of the asymmetric quantizer for weights of type `Weights`.
template <class Weights>
using asymmetric_quantized_t =
    asymmetric_quantized<rebind_matrix_t<Weights, float>, rebind_matrix_t<Weights, std::uint8_t>>;

/// Quantizes `weights` with the asymmetric quantizer on `tag`'s backend. Returns scale and zero
/// point per (row, group), uint8 codes and the dequantized matrix in the backend's containers.
/// \throws gift::error for bits outside 2..8, an empty or non-finite matrix, or a selection made
/// for a different width.
template <backend_tag Backend, matrix_shaped Weights>
auto quantize_asymmetric(Backend tag, const Weights& weights, const asymmetric_options& options,
                         const salient_columns& salient = {}) {
  constexpr const char* where = "gift::quantize_asymmetric";
  detail::require_bits(options.bits, where);
  const auto rows = static_cast<std::size_t>(weights.rows()), cols = static_cast<std::size_t>(weights.cols());
  detail::require_weights_shape(rows, cols, where);
  return backend::dispatch<ops::asymmetric_quantize>(tag, std::type_identity<asymmetric_quantized_t<Weights>>{}, where,
                                                     weights, detail::asymmetric_plan{options.bits, options.group_size},
                                                     detail::keep_flags(salient, cols, where));
}

/// As above, on the backend the weights' type implies.
template <matrix_shaped Weights>
  requires(!backend_tag<Weights>)
auto quantize_asymmetric(const Weights& weights, const asymmetric_options& options, const salient_columns& salient = {}) {
  return quantize_asymmetric(backend_for_t<Weights>{}, weights, options, salient);
}

}  // namespace gift
