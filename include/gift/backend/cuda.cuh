#pragma once
/// \file gift/backend/cuda.cuh
/// \brief Everything gift implements for CUDA: its own kernels (backend::cuda) and the Thrust
/// backend on the CUDA system, which backend::cuda falls back to. Compile with nvcc and link
/// gift::cuda.

#if !defined(__CUDACC__)
#error "gift/backend/cuda.cuh needs a CUDA compiler: compile this file with nvcc and link gift::cuda"
#endif

#include <gift/backend/cuda/fill_standard_normal.cuh>
#include <gift/backend/cuda/gemm.cuh>
#include <gift/backend/cuda/nn/gift_linear.cuh>
#include <gift/backend/cuda/launch.cuh>
#include <gift/backend/cuda/noisy_gemm.cuh>
#include <gift/backend/cuda/quant/packed.cuh>
#include <gift/backend/cuda/quant/symmetric.cuh>
#include <gift/backend/thrust.hpp>

namespace gift {
/// Matrices in GPU memory.
template <class T>
using cuda_matrix = thrust_matrix<T, backend::system::cuda>;

/// The CUDA backend holds its tensors as the Thrust CUDA system does (device vectors), so the
/// backend-generic parts (`model::llama_model<float, backend::cuda>`) store them there.
template <class T>
struct backend_storage<backend::cuda, T> : backend_storage<backend::thrust<backend::system::cuda>, T> {};
}  // namespace gift
