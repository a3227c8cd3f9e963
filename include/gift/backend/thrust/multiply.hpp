#pragma once
/// \file gift/backend/thrust/multiply.hpp
/// \brief `gift::multiply` on a Thrust system: one product of the system's GEMM
/// (`thrust_gemm`, Eigen on host memory, cuBLAS on CUDA).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/gemm.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/detail/multiply.hpp>

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

}  // namespace gift::backend
