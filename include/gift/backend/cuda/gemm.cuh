#pragma once
/// \file gift/backend/cuda/gemm.cuh
/// \brief `thrust_gemm<system::cuda>`: the Thrust backend's GEMM on the GPU — cuBLAS with fp32
/// accumulation and no TF32, so the CUDA system runs the same backend-generic kernels (the model's
/// attention and output head, `gift::multiply`) as the host systems.

#include <gift/backend/cuda/launch.cuh>
#include <gift/backend/cuda/noisy_gemm.cuh>
#include <gift/backend/tags.hpp>
#include <gift/backend/thrust/gemm.hpp>

#include <cublas_v2.h>

#include <memory>
#include <span>

namespace gift::backend {

namespace detail {
/// One cuBLAS handle per host thread, made on first use (in exact fp32 mode, no TF32), so the
/// backend-generic kernels need no handle argument.
inline cublasHandle_t thread_cublas_handle() {
  struct holder {
    cublasHandle_t handle = nullptr;
    holder() {
      check_cublas(cublasCreate(&handle), "gift::backend::thrust_gemm<cuda>: cublasCreate");
      check_cublas(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    }
    ~holder() { cublasDestroy(handle); }
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;
  };
  thread_local holder h;
  return h.handle;
}
}  // namespace detail

/// Thrust's CUDA system: cuBLAS, one call per product of a batch.
template <>
struct thrust_gemm<system::cuda> {
  /// Runs every product of the batch (all of shape `shape`).
  template <class T>
  static void run(const gemm_shape& shape, std::span<const gemm_operands<T>> operands) {
    for (const auto& o : operands) run_one(shape, o);
  }
  /// Runs one product.
  template <class T>
  static void run_one(const gemm_shape& s, const gemm_operands<T>& o) {
    gemm_row_major(detail::thread_cublas_handle(), s.transpose_a, s.transpose_b, s.m, s.n, s.depth, o.a, s.lda, o.b,
                   s.ldb, o.c, s.ldc, s.accumulate ? 1.0f : 0.0f);
  }
};

}  // namespace gift::backend
