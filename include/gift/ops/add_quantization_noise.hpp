#pragma once
/// \file ops/add_quantization_noise.hpp
/// \brief The quantization-noise operation tag and the element arithmetic every backend follows.
///
/// GIFT-SW perturbs each frozen (non-salient) weight with `½ · Δ_i · Ω_ij`, Ω ~ N(0, 1). Every
/// backend computes it as `w + (0.5 · Δ_i) · Ω_ij` with two single-rounded operations, in that
/// order, so the noisy weight has the same bits on the CPU and the GPU.

#include <gift/config.hpp>
#include <gift/detail/fp.hpp>

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

}  // namespace detail
}  // namespace gift
