#pragma once
/// \file gift/io/half.hpp
/// \brief Bit-exact conversions between `float` and the 16-bit formats stored in model files:
/// IEEE 754 binary16 ("F16") and bfloat16 ("BF16").
///
/// Written out by hand rather than through `_Float16` or F16C intrinsics so the results are the
/// same on every compiler and CPU, and so subnormals, infinities and NaNs are handled explicitly.

#include <bit>
#include <cstdint>

namespace gift::io {

/// Widens an IEEE 754 binary16 bit pattern to `float`; exact for every input, including
/// subnormals, infinities and NaN (the NaN payload is kept in the high mantissa bits).
[[nodiscard]] inline float half_to_float(std::uint16_t bits) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
  std::uint32_t mantissa = bits & 0x3FFu;
  std::uint32_t out = 0;
  if (exponent == 0x1Fu) {  // infinity or NaN
    out = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    out = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // signed zero
    out = sign;
  } else {  // subnormal half: normalise, every one is a normal float
    std::uint32_t shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    mantissa &= 0x3FFu;
    out = sign | ((113u - shift) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(out);
}

/// Narrows a `float` to IEEE 754 binary16 with round-to-nearest-even; values beyond the half
/// range become infinity, tiny values become subnormals or zero, NaN stays NaN.
[[nodiscard]] inline std::uint16_t float_to_half(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t exponent = (bits >> 23) & 0xFFu;
  const std::uint32_t mantissa = bits & 0x7FFFFFu;
  if (exponent == 0xFFu) {  // infinity or NaN (keep NaN quiet and non-zero)
    return static_cast<std::uint16_t>(sign | 0x7C00u | (mantissa != 0 ? (0x200u | (mantissa >> 13)) : 0u));
  }
  const int unbiased = static_cast<int>(exponent) - 127;
  if (unbiased > 15) return static_cast<std::uint16_t>(sign | 0x7C00u);  // overflow
  if (unbiased >= -14) {  // normal half
    std::uint32_t half = (static_cast<std::uint32_t>(unbiased + 15) << 10) | (mantissa >> 13);
    const std::uint32_t rest = mantissa & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // may carry into inf: correct
    return static_cast<std::uint16_t>(sign | half);
  }
  if (unbiased < -25) return sign;  // below half the smallest subnormal: rounds to zero
  // Subnormal half: value = m * 2^-24 with the implicit bit made explicit.
  const std::uint32_t full = mantissa | 0x800000u;
  const int shift = -unbiased - 14 + 13;  // 14..24 bits dropped
  std::uint32_t half = full >> shift;
  const std::uint32_t rest = full & ((1u << shift) - 1u);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
  return static_cast<std::uint16_t>(sign | half);
}

/// Widens a bfloat16 bit pattern (the high half of a float) to `float`; exact.
[[nodiscard]] inline float bfloat16_to_float(std::uint16_t bits) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

/// Narrows a `float` to bfloat16 with round-to-nearest-even; NaN stays NaN.
[[nodiscard]] inline std::uint16_t float_to_bfloat16(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  const std::uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

}  // namespace gift::io
