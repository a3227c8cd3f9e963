#pragma once
/// \file gift/detail/model/math.hpp
/// \brief The elementary functions of the model's kernels, callable from host and device code,
/// with one definition per scalar type so that every backend rounds alike.
///
/// On the host these are the C library's functions (what `std::exp(float)` calls), on the GPU
/// CUDA's; the Eigen and Thrust host backends therefore produce the same bits.

#include <gift/config.hpp>

#include <cmath>

namespace gift::detail {

/// e^x in single precision.
GIFT_HOST_DEVICE inline float exponential(float x) { return ::expf(x); }
/// e^x in double precision.
GIFT_HOST_DEVICE inline double exponential(double x) { return ::exp(x); }
/// Natural logarithm in double precision.
GIFT_HOST_DEVICE inline double logarithm(double x) { return ::log(x); }
/// Square root in double precision.
GIFT_HOST_DEVICE inline double square_root(double x) { return ::sqrt(x); }

/// The larger of two values (NaN-unaware, like `std::max`).
template <class T>
GIFT_HOST_DEVICE constexpr T larger(T a, T b) {
  return a < b ? b : a;
}

}  // namespace gift::detail
