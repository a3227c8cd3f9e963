// A program that consumes the installed gift::cuda: gift's own CUDA kernel must draw the same
// noise as the Eigen backend. Exits 77 (skipped) on a machine without a CUDA device.
#include "consumer_checks.hpp"

#include <gift/backend/cuda.cuh>

#include <cuda_runtime.h>

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("gift::cuda consumer: built; no CUDA device to run on");
    return 77;
  }
  const gift::noise_key key{5, 6, 7};
  gift::matrix_f expected(33, 17);
  gift::fill_standard_normal(expected, key);
  gift::cuda_matrix<float> device(33, 17);
  gift::fill_standard_normal(gift::backend::cuda{}, device, key);
  const gift::matrix_f found = device.to_eigen();
  const int failures = consumer::check(
      std::memcmp(found.data(), expected.data(), sizeof(float) * expected.size()) == 0,
      "the CUDA kernel's noise is bit-identical to the Eigen backend's");
  std::printf("%s\n", failures == 0 ? "gift::cuda consumer: OK" : "gift::cuda consumer: FAILED");
  return failures == 0 ? 0 : 1;
}
