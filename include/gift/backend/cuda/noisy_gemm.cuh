#pragma once
/// \file gift/backend/cuda/noisy_gemm.cuh
/// \brief The GPU building blocks of GIFT-SW training: noisy weight panels generated where they
/// are consumed, and cuBLAS GEMMs with fp32 accumulation on fp32 or bf16 data.
///
/// Why panels and not noise fused into a GEMM's tile loads: in a tiled GEMM every tile of W is
/// loaded once per tile-row of the activations (T / 128 times for T tokens), so fused noise
/// would be generated T/128 times per element — 32× at T = 4096 — while Philox plus Box–Muller
/// costs ~50 instructions per value. A panel kernel generates each noisy value exactly once per
/// pass and writes it next to where the tensor-core GEMM (cuBLAS) reads it: the extra traffic is
/// one write and one read of W per pass, the scratch is one panel (default 2^22 elements), never
/// out × in. The noise is bit-identical to the CPU's (same key, index and arithmetic).

#include <gift/backend/cuda/launch.cuh>
#include <gift/detail/noise.hpp>
#include <gift/random.hpp>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

namespace gift::backend {

/// Element types the GPU training path supports: fp32 and bf16 (accumulation is fp32 for both).
template <class T>
concept cuda_training_scalar = std::is_same_v<T, float> || std::is_same_v<T, __nv_bfloat16>;

namespace detail {

__device__ GIFT_FORCE_INLINE float to_float(float x) { return x; }
__device__ GIFT_FORCE_INLINE float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class T>
__device__ GIFT_FORCE_INLINE T from_float(float x) {
  if constexpr (std::is_same_v<T, float>) {
    return x;
  } else {
    return __float2bfloat16_rn(x);
  }
}

/// Where the salient columns live: `slot[j]` is the position of column j in the salient block,
/// or −1 for a frozen column.
struct salient_layout {
  const std::int32_t* slot;
  const float* master;  // out × k, fp32 master copy of the salient block
  std::int64_t k;
};

/// Writes W̃[first_row + r, first_col + c] to `panel[r * cols + c]`: frozen elements get
/// `½ Δ_i Ω_ij` (when `noisy`), salient ones the fp32 master value, all rounded once to T. One
/// thread per Philox block of a panel row, so each noise value is generated once.
template <class T>
__global__ void noisy_panel_kernel(const T* weight, salient_layout salient, const float* half_delta,
                                   std::uint64_t in, noise_key key, bool noisy, std::uint64_t first_row,
                                   std::uint64_t rows, std::uint64_t first_col, std::uint64_t cols, T* panel) {
  const std::uint64_t per_row = (cols + 3) / 4 + 1;  // Philox blocks touching one panel row
  const std::uint64_t tasks = rows * per_row;
  for (std::uint64_t task = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; task < tasks;
       task += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t r = task / per_row, group = task % per_row;
    const std::uint64_t i = first_row + r;
    const std::uint64_t start = i * in + first_col, stop = start + cols;
    const std::uint64_t block = (start >> 2) + group;
    if (block * 4 >= stop) continue;
    float omega[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (noisy) standard_normal4(key, block, omega);
    for (unsigned lane = 0; lane < 4; ++lane) {
      const std::uint64_t index = block * 4 + lane;
      if (index < start || index >= stop) continue;
      const std::uint64_t j = index - i * in;
      const std::int32_t slot = salient.slot[j];
      float value;
      if (slot >= 0) {
        value = salient.master[i * static_cast<std::uint64_t>(salient.k) + static_cast<std::uint64_t>(slot)];
      } else {
        value = to_float(weight[index]);
        if (noisy) value = gift::detail::noisy_weight(value, half_delta[i], omega[lane]);
      }
      panel[r * cols + (j - first_col)] = from_float<T>(value);
    }
  }
}

/// x_S: the salient columns of `x` (tokens × in), gathered into tokens × k.
template <class T>
__global__ void gather_columns_kernel(const T* x, std::uint64_t tokens, std::uint64_t in, const std::int32_t* columns,
                                      std::uint64_t k, T* out) {
  const std::uint64_t count = tokens * k;
  for (std::uint64_t e = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t t = e / k, s = e % k;
    out[e] = x[t * in + static_cast<std::uint64_t>(columns[s])];
  }
}

/// y[t, i] += bias[i] (fp32 add, rounded once to T).
template <class T>
__global__ void add_bias_kernel(T* y, std::uint64_t tokens, std::uint64_t out, const float* bias) {
  const std::uint64_t count = tokens * out;
  for (std::uint64_t e = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<std::uint64_t>(gridDim.x) * blockDim.x)
    y[e] = from_float<T>(__fadd_rn(to_float(y[e]), bias[e % out]));
}

/// db[i] += Σ_t dy[t, i], in fp32, tokens in order (one thread per output feature).
template <class T>
__global__ void bias_gradient_kernel(const T* dy, std::uint64_t tokens, std::uint64_t out, float* gradient) {
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < out;
       i += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    float sum = gradient[i];
    for (std::uint64_t t = 0; t < tokens; ++t) sum = __fadd_rn(sum, to_float(dy[t * out + i]));
    gradient[i] = sum;
  }
}

}  // namespace detail

/// Throws `gift::error` naming `what` when a cuBLAS call failed.
inline void check_cublas(cublasStatus_t status, const char* what) {
  gift::detail::require(status == CUBLAS_STATUS_SUCCESS, what, " failed: cuBLAS status ", static_cast<int>(status));
}

/// The cuBLAS data type of T.
template <cuda_training_scalar T>
constexpr cudaDataType_t cuda_data_type() {
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_16BF;
}

/// Row-major `C (m × n) = op(A) · op(B) + beta · C` with fp32 accumulation (no TF32). op(A) is
/// m × depth: A itself (`lda`), or with `transpose_a` the transpose of a depth × m A. op(B) is
/// depth × n: B itself (`ldb`), or with `transpose_b` the transpose of an n × depth B. Row-major
/// C is column-major Cᵀ = op(B)ᵀ op(A)ᵀ, which is what cuBLAS is asked for.
template <cuda_training_scalar TA, class TC>
void gemm_row_major(cublasHandle_t handle, bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n,
                    std::int64_t depth, const TA* a, std::int64_t lda, const TA* b, std::int64_t ldb, TC* c,
                    std::int64_t ldc, float beta = 0.0f) {
  const float alpha = 1.0f;
  check_cublas(cublasGemmEx(handle, transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N, transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                            static_cast<int>(n), static_cast<int>(m), static_cast<int>(depth), &alpha, b,
                            cuda_data_type<TA>(), static_cast<int>(ldb), a, cuda_data_type<TA>(), static_cast<int>(lda),
                            &beta, c, std::is_same_v<TC, float> ? CUDA_R_32F : CUDA_R_16BF, static_cast<int>(ldc),
                            CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
               "gift::nn::gift_linear<cuda>: cublasGemmEx");
}

}  // namespace gift::backend
