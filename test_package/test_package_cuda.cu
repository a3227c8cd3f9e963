// gift::cuda from the package: built with nvcc; where a CUDA device exists, gift's kernel must
// draw the Eigen backend's noise bit for bit. Without a device there is nothing to run.
#include <gift/backend/cuda.cuh>
#include <gift/gift.hpp>

#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("gift::cuda: built; no CUDA device, not run");
    return 0;
  }
  const gift::noise_key key{7, 8, 9};
  gift::matrix_f expected(21, 13);
  gift::fill_standard_normal(expected, key);
  gift::cuda_matrix<float> device(21, 13);
  gift::fill_standard_normal(gift::backend::cuda{}, device, key);
  const gift::matrix_f found = device.to_eigen();
  const bool same = std::memcmp(found.data(), expected.data(), sizeof(float) * expected.size()) == 0;
  std::printf("gift::cuda: %s\n", same ? "OK" : "FAILED: kernel noise differs from the Eigen backend");
  return same ? 0 : 1;
}
