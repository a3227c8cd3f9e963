#pragma once
/// \file gift/detail/quant/levels.hpp
/// \brief The integer grid of a b-bit quantizer and the rounding every backend shares.
///
/// Rounding is `round half to even` done as `(t + 1.5·2^23) − 1.5·2^23` on a value already
/// clamped to the grid: two single-rounded float additions, so the CPU (any SIMD width, no SSE4.1
/// needed), the Thrust host systems and CUDA all produce the same bits, and the loop vectorises.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>

namespace gift {

namespace detail {

/// Largest code of a symmetric b-bit grid, `2^(b−1) − 1` (7 for 4 bits).
GIFT_HOST_DEVICE constexpr int symmetric_qmax(int bits) { return (1 << (bits - 1)) - 1; }
/// Smallest code of a symmetric b-bit grid, `−2^(b−1)` (−8 for 4 bits).
GIFT_HOST_DEVICE constexpr int symmetric_qmin(int bits) { return -(1 << (bits - 1)); }
/// Largest code of an asymmetric (unsigned) b-bit grid, `2^b − 1`.
GIFT_HOST_DEVICE constexpr int asymmetric_qmax(int bits) { return (1 << bits) - 1; }

/// The scale used where a row (or group) has nothing to measure (all kept weights zero): the
/// smallest normal float. Positive, so it is a valid noise scale and divisor; zero weights still
/// quantize to code 0 exactly.
inline constexpr float degenerate_scale = 1.17549435082228750797e-38f;

/// Throws unless `bits` is in 2..8.
inline void require_bits(int bits, const char* where) {
  require(bits >= min_quant_bits && bits <= max_quant_bits, where, ": argument 'bits' must be in ", min_quant_bits,
          "..", max_quant_bits, ", but it is ", bits,
          "; gift stores codes in 8-bit integers and 1-bit symmetric grids have no zero level");
}

/// `t` clamped to `[lo, hi]` (integers, |.| < 2^22), then rounded half to even.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float round_clamped(float t, float lo, float hi) {
  t = lo > t ? lo : t;  // written as max/min patterns the vectoriser maps to maxps/minps
  t = hi < t ? hi : t;
  constexpr float magic = 12582912.0f;  // 1.5 · 2^23: ulp 1 over the whole clamped range
  return fsub(fadd(t, magic), magic);
}

/// The integer code of a level `round_clamped` returned. A NaN level (from a non-finite weight,
/// which the caller's finiteness check reports) becomes code 0, because converting NaN to an
/// integer type is undefined behaviour; every finite level converts exactly.
template <class Code>
GIFT_HOST_DEVICE GIFT_FORCE_INLINE Code code_of(float level) {
  return static_cast<Code>(level == level ? level : 0.0f);
}

/// The symmetric quantization error `w − Δ·clamp(round(w·(1/Δ)))` of one weight. The division is
/// a multiplication by the reciprocal computed once per row, here and in every backend, so the
/// α search measures exactly the quantizer later applied.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float symmetric_error(float w, float delta, float inverse, float qmin, float qmax) {
  return fsub(w, fmul(round_clamped(fmul(w, inverse), qmin, qmax), delta));
}

}  // namespace detail
}  // namespace gift
