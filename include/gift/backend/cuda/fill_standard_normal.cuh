#pragma once
/// \file gift/backend/cuda/fill_standard_normal.cuh
/// \brief Reproducible N(0, 1) matrices with a dedicated CUDA kernel: each thread turns one
/// Philox block into four values and stores them as one 16-byte vector when aligned.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/cuda/launch.cuh>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/detail/fill_standard_normal.hpp>
#include <gift/random.hpp>

#include <cstdint>

namespace gift::backend {

namespace detail {
template <class T>
__global__ void fill_standard_normal_kernel(T* data, std::uint64_t count, noise_key key) {
  const std::uint64_t blocks = (count + 3) / 4;
  for (std::uint64_t block = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; block < blocks;
       block += static_cast<std::uint64_t>(gridDim.x) * blockDim.x) {
    float values[4];
    standard_normal4(key, block, values);
    for (std::uint64_t lane = 0; lane < 4; ++lane) {
      const std::uint64_t index = block * 4 + lane;
      if (index < count) data[index] = static_cast<T>(values[lane]);
    }
  }
}
}  // namespace detail

template <>
struct implementation<ops::fill_standard_normal, cuda> {
  static constexpr bool available = true;

  template <class T>
  static void run(cuda, thrust_matrix<T, system::cuda>& matrix, const noise_key& key) {
    const std::uint64_t count = matrix.size();
    if (count == 0) return;
    const launch_shape shape = grid_stride_shape((count + 3) / 4);
    detail::fill_standard_normal_kernel<<<shape.blocks, shape.threads>>>(
        ::thrust::raw_pointer_cast(matrix.storage().data()), count, key);
    check_cuda(cudaGetLastError(), "gift::fill_standard_normal kernel launch");
  }
};

}  // namespace gift::backend
