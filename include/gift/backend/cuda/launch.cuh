#pragma once
/// \file gift/backend/cuda/launch.cuh
/// \brief Kernel launch shapes and CUDA error checking for gift's own kernels.

#include <gift/error.hpp>

#include <cuda_runtime.h>

#include <cstdint>

namespace gift::backend {

/// Throws `gift::error` naming `what` when a CUDA call failed.
inline void check_cuda(cudaError_t status, const char* what) {
  gift::detail::require(status == cudaSuccess, what, " failed: ", cudaGetErrorString(status));
}

/// Grid and block size of a launch.
struct launch_shape {
  unsigned blocks;   ///< blocks in the grid
  unsigned threads;  ///< threads per block
};

/// A grid-stride launch covering `tasks` work items: 256 threads a block, at most 65535 blocks
/// (the kernels loop over the rest).
inline launch_shape grid_stride_shape(std::uint64_t tasks) {
  constexpr unsigned threads = 256;
  const std::uint64_t wanted = (tasks + threads - 1) / threads;
  return launch_shape{static_cast<unsigned>(wanted < 65535 ? (wanted == 0 ? 1 : wanted) : 65535), threads};
}

}  // namespace gift::backend
