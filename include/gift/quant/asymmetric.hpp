#pragma once
/// \file quant/asymmetric.hpp
/// \brief The asymmetric (min/max, zero-point) uniform quantizer, per row or per group, with the
/// range measured over the non-salient columns only.
///
/// Range `[min(0, w_min), max(0, w_max)]` (zero stays representable), `s = range / (2^b − 1)`,
/// `z = round(−min / s)`, `code = clamp(round(w/s) + z, 0, 2^b − 1)`, `Q(w) = (code − z) · s`.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant_asymmetric.hpp>
#include <gift/backend/traits.hpp>
#include <gift/ops/quantize.hpp>
#include <gift/quant/symmetric.hpp>

namespace gift {

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
  return backend::dispatch<ops::asymmetric_quantize>(tag, where, weights, options,
                                                     detail::keep_flags(salient, cols, where));
}

/// As above, on the backend the weights' type implies.
template <matrix_shaped Weights>
  requires(!backend_tag<Weights>)
auto quantize_asymmetric(const Weights& weights, const asymmetric_options& options, const salient_columns& salient = {}) {
  return quantize_asymmetric(backend_for_t<Weights>{}, weights, options, salient);
}

}  // namespace gift
