#pragma once
/// \file gift/detail/noise.hpp
/// \brief Glue behind noise.hpp and the GIFT-SW layers: the quantization-noise operation tag, the
/// element arithmetic every backend follows, and the checks of Δ and of the step counter.
///
/// GIFT-SW perturbs each frozen (non-salient) weight with `½ · Δ_i · Ω_ij`, Ω ~ N(0, 1). Every
/// backend computes it as `w + (0.5 · Δ_i) · Ω_ij` with two single-rounded operations, in that
/// order, so the noisy weight has the same bits on the CPU and the GPU.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>
#include <gift/error.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: add `½ · Δ_i · Ω_ij` in place to every element (i, j) of a weight whose column
/// j is not salient, with `Ω_ij = standard_normal(key, i * cols + j)`.
struct add_quantization_noise {
  /// Printable name.
  static std::string name() { return "add_quantization_noise"; }
};
}  // namespace ops

namespace detail {

/// The noisy value of a frozen weight, `w + half_delta · omega` (half_delta = ½ · Δ_i), rounded
/// once per operation. In float the two steps use gift's single-rounding helpers so that nvcc
/// cannot fuse them into an FMA (the host builds with -ffp-contract=off for the same reason).
GIFT_HOST_DEVICE GIFT_FORCE_INLINE float noisy_weight(float weight, float half_delta, float omega) {
  return fadd(weight, fmul(half_delta, omega));
}
/// Double-precision variant (reference layers for gradient checks); the noise itself is the
/// float variate widened exactly.
GIFT_HOST_DEVICE GIFT_FORCE_INLINE double noisy_weight(double weight, double half_delta, float omega) {
  return dadd(weight, dmul(half_delta, static_cast<double>(omega)));
}

/// ½ · Δ_i, in the precision of the weights (exact: a power-of-two scaling of a normal number).
template <class T>
GIFT_HOST_DEVICE GIFT_FORCE_INLINE T half_delta(float delta) {
  return static_cast<T>(0.5) * static_cast<T>(delta);
}

/// Checks the per-row quantization scale: `rows` entries, each finite and > 0. `Delta` is any
/// vector with `size()` and `operator()(i)` (an Eigen vector, or a host copy of a device one).
/// \throws gift::error naming the first bad entry.
template <class Delta>
void check_delta(const Delta& delta, std::int64_t rows, const char* where) {
  require(static_cast<std::int64_t>(delta.size()) == rows, where,
          ": argument 'delta' must hold one scale per output row (", rows, "), but it has ", delta.size(),
          " entries; pass the quantizer's per-row scale for this weight");
  for (std::int64_t i = 0; i < rows; ++i) {
    const double value = static_cast<double>(delta(i));
    require(std::isfinite(value) && value > 0.0, where, ": argument 'delta' must be finite and > 0 in every row, but row ",
            i, " is ", value, "; a zero scale means an all-zero row: clamp Δ to a small positive value");
  }
}

/// Checks that a step counter fits the 32-bit step field of `noise_key` (it would wrap otherwise
/// and replay the noise of an earlier step).
inline void check_step(std::uint64_t step, const char* where) {
  require(step <= 0xffffffffull, where, ": argument 'step' must fit in 32 bits (<= 4294967295), but it is ", step,
          "; the noise key's step counter would wrap and repeat earlier noise");
}

}  // namespace detail
}  // namespace gift
