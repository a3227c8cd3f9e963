#pragma once
/// \file gift/detail/fp.hpp
/// \brief Floating-point operations with one rounding each, on host and device alike.
///
/// Reproducibility across backends (same seed, same bits on CPU and GPU) needs every operation
/// rounded once, in the same order. nvcc contracts `a * b + c` into an FMA unless told not to; the
/// device intrinsics below forbid that. On the host gift builds with `-ffp-contract=off`
/// (set on the gift::gift target) for the same reason.

#include <gift/config.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace gift::detail {

// Each operation is one IEEE operation rounded to nearest: a device intrinsic in the device pass
// (which nvcc never contracts), the plain operator on the host (built with -ffp-contract=off).
#if GIFT_DEVICE_PASS
/// Returns `device_call` in the device pass, `host_expression` elsewhere (undefined below).
#define GIFT_DETAIL_ROUNDED(device_call, host_expression) return device_call
#else
/// Returns `device_call` in the device pass, `host_expression` elsewhere (undefined below).
#define GIFT_DETAIL_ROUNDED(device_call, host_expression) return host_expression
#endif
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float fmul(float a, float b) { GIFT_DETAIL_ROUNDED(__fmul_rn(a, b), a * b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float fadd(float a, float b) { GIFT_DETAIL_ROUNDED(__fadd_rn(a, b), a + b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float fsub(float a, float b) { GIFT_DETAIL_ROUNDED(__fsub_rn(a, b), a - b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float fdiv(float a, float b) { GIFT_DETAIL_ROUNDED(__fdiv_rn(a, b), a / b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float fsqrt(float a) { GIFT_DETAIL_ROUNDED(__fsqrt_rn(a), std::sqrt(a)); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double dmul(double a, double b) { GIFT_DETAIL_ROUNDED(__dmul_rn(a, b), a * b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double dadd(double a, double b) { GIFT_DETAIL_ROUNDED(__dadd_rn(a, b), a + b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double dsub(double a, double b) { GIFT_DETAIL_ROUNDED(__dsub_rn(a, b), a - b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double ddiv(double a, double b) { GIFT_DETAIL_ROUNDED(__ddiv_rn(a, b), a / b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double dsqrt(double a) { GIFT_DETAIL_ROUNDED(__dsqrt_rn(a), std::sqrt(a)); }
#undef GIFT_DETAIL_ROUNDED

// The same operations overloaded on the precision, for code templated on the scalar.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float rn_add(float a, float b) { return fadd(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float rn_sub(float a, float b) { return fsub(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float rn_mul(float a, float b) { return fmul(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float rn_div(float a, float b) { return fdiv(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float rn_sqrt(float a) { return fsqrt(a); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double rn_add(double a, double b) { return dadd(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double rn_sub(double a, double b) { return dsub(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double rn_mul(double a, double b) { return dmul(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double rn_div(double a, double b) { return ddiv(a, b); }
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double rn_sqrt(double a) { return dsqrt(a); }

/// The bits of a float, without aliasing UB.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE std::uint32_t float_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
/// The float with the given bits.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float bits_float(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// ln m for a mantissa m in [√½, √2): 2 atanh(s) with s = (m − 1) / (m + 1), |s| ≤ 0.1716, as
/// 2 · (s + s³/3 + s⁵/5 + s⁷/7 + s⁹/9) (the next term is below 4e-10). Shared by
/// `reproducible_log` and the vectorised power in detail/quant/row_kernels.hpp, so both round
/// alike.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float log_of_reduced_mantissa(float m) {
  const float s = fdiv(fsub(m, 1.0f), fadd(m, 1.0f));
  const float s2 = fmul(s, s);
  float poly = fadd(fmul(s2, 1.0f / 9.0f), 1.0f / 7.0f);
  poly = fadd(fmul(s2, poly), 1.0f / 5.0f);
  poly = fadd(fmul(s2, poly), 1.0f / 3.0f);
  poly = fadd(fmul(s2, poly), 1.0f);
  return fmul(fmul(2.0f, s), poly);
}

/// Natural logarithm of a positive normal float, from plain arithmetic only (no libm), so that
/// every backend computes the same bits. Relative error about 1e-7.
GIFT_HOST_DEVICE inline float reproducible_log(float x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1).
  std::uint32_t bits = float_bits(x);
  int exponent = static_cast<int>((bits >> 23) & 0xffu) - 127;
  std::uint32_t mantissa_bits = (bits & 0x007fffffu) | 0x3f800000u;  // m in [1, 2)
  float m = bits_float(mantissa_bits);
  if (m > 1.41421356f) {
    m = fmul(m, 0.5f);
    exponent += 1;
  }
  const float log_m = log_of_reduced_mantissa(m);
  // ln 2 split in two parts so e * ln2 stays exact in its high part.
  const float e = static_cast<float>(exponent);
  return fadd(fadd(fmul(e, 0.693145751953125f), log_m), fmul(e, 1.428606765330187e-06f));
}

/// sin and cos of `quarter_turns * pi / 2` for `quarter_turns` in [0, 1), by polynomials with
/// plain arithmetic (reproducible on every backend). Absolute error about 1e-7.
GIFT_HOST_DEVICE inline void reproducible_sincos_quarter(float quarter_turns, float& sine, float& cosine) {
  // Centre on pi/4 so both series converge fast: a in [-pi/4, pi/4).
  const float a = fmul(fsub(quarter_turns, 0.5f), 1.57079632679489662f);
  const float a2 = fmul(a, a);
  // sin a = a (1 - a^2/3! + a^4/5! - a^6/7! + a^8/9!)
  float sp = fadd(fmul(a2, 2.755731922e-06f), -1.984126984e-04f);
  sp = fadd(fmul(a2, sp), 8.333333333e-03f);
  sp = fadd(fmul(a2, sp), -1.666666667e-01f);
  sp = fadd(fmul(a2, sp), 1.0f);
  const float sin_a = fmul(a, sp);
  // cos a = 1 - a^2/2! + a^4/4! - a^6/6! + a^8/8! - a^10/10!
  float cp = fadd(fmul(a2, -2.755731922e-07f), 2.480158730e-05f);
  cp = fadd(fmul(a2, cp), -1.388888889e-03f);
  cp = fadd(fmul(a2, cp), 4.166666667e-02f);
  cp = fadd(fmul(a2, cp), -0.5f);
  cp = fadd(fmul(a2, cp), 1.0f);
  const float cos_a = cp;
  // angle = pi/4 + a: sin = (sin a + cos a) / sqrt 2, cos = (cos a - sin a) / sqrt 2.
  constexpr float inv_sqrt2 = 0.70710678118654752f;
  sine = fmul(fadd(cos_a, sin_a), inv_sqrt2);
  cosine = fmul(fsub(cos_a, sin_a), inv_sqrt2);
}

}  // namespace gift::detail
