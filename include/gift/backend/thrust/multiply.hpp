#pragma once
/// \file gift/backend/thrust/multiply.hpp
/// \brief `gift::multiply` and `gift::multiply_transposed` on a Thrust system: one product of the
/// system's GEMM (`thrust_gemm`, Eigen on host memory, cuBLAS on CUDA); `gift::scale` as one
/// Thrust transform.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/gemm.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/config.hpp>
#include <gift/detail/multiply.hpp>

#include <thrust/fill.h>
#include <thrust/transform.h>

#include <cstdint>

namespace gift::backend {

template <class System>
struct implementation<ops::multiply, thrust<System>> {
  static constexpr bool available = true;

  /// `c = a · op(b)` (or `+=`), the shapes checked by the front end.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& a, const thrust_matrix<T, System>& b,
                  thrust_matrix<T, System>& c, bool transpose_b, bool accumulate) {
    const auto m = static_cast<std::int64_t>(a.rows());
    const auto n = static_cast<std::int64_t>(transpose_b ? b.rows() : b.cols());
    if (!accumulate) c.resize(a.rows(), static_cast<std::size_t>(n));
    if (m == 0 || n == 0) return;
    const gemm_shape shape{m,
                           n,
                           static_cast<std::int64_t>(a.cols()),
                           static_cast<std::int64_t>(a.cols()),
                           static_cast<std::int64_t>(b.cols()),
                           n,
                           false,
                           transpose_b,
                           accumulate};
    const gemm_operands<T> operands{a.data(), b.data(), c.data()};
    thrust_gemm<System>::template run_one<T>(shape, operands);
  }
};

template <class System>
struct implementation<ops::multiply_transposed, thrust<System>> {
  static constexpr bool available = true;

  /// `c = aᵀ · b` (or `+=`), the shapes checked by the front end.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& a, const thrust_matrix<T, System>& b,
                  thrust_matrix<T, System>& c, bool accumulate) {
    const auto m = static_cast<std::int64_t>(a.cols());
    const auto n = static_cast<std::int64_t>(b.cols());
    if (!accumulate) c.resize(a.cols(), b.cols());
    if (m == 0 || n == 0) return;
    if (a.rows() == 0) {  // an empty sum: zero (or nothing to add)
      if (!accumulate) ::thrust::fill(thrust_system_traits<System>::policy(), c.storage().begin(), c.storage().end(), T(0));
      return;
    }
    // A is stored depth × m and read transposed.
    const gemm_shape shape{m, n, static_cast<std::int64_t>(a.rows()), m, n, n, true, false, accumulate};
    const gemm_operands<T> operands{a.data(), b.data(), c.data()};
    thrust_gemm<System>::template run_one<T>(shape, operands);
  }
};

namespace detail {
/// `x ↦ s · x` in `T`.
template <class T>
struct times_scalar {
  T value;
  GIFT_HOST_DEVICE T operator()(T x) const { return value * x; }
};
}  // namespace detail

template <class System>
struct implementation<ops::scale, thrust<System>> {
  static constexpr bool available = true;

  /// `c = value · a` (`c` may be `a`).
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& a, double value, thrust_matrix<T, System>& c) {
    if (&c != &a) c.resize(a.rows(), a.cols());
    ::thrust::transform(thrust_system_traits<System>::policy(), a.storage().begin(), a.storage().end(),
                        c.storage().begin(), detail::times_scalar<T>{static_cast<T>(value)});
  }
};

}  // namespace gift::backend
