// GPU: the α search of the symmetric 4-bit quantizer on fp32 4096 × 4096 weights with 128 salient
// columns, the paper's grid of 100 candidates (squared error), beside a device-to-device copy of
// the weights in the same run. Counter: ms per search. Target on an H100: ≤ 0.4 ms (PyTorch:
// 38 ms).
//
//   bench_alpha_search_cuda --benchmark_min_time=0.5s
#include <benchmark/benchmark.h>

#include <gift/backend/cuda.cuh>
#include <gift/fill_standard_normal.hpp>
#include <gift/quant/symmetric.hpp>

#include <cuda_runtime.h>
#include <thrust/copy.h>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

constexpr std::size_t size = 4096;

const gift::cuda_matrix<float>& weights() {
  static const gift::cuda_matrix<float> w = [] {
    gift::matrix_f host(static_cast<Eigen::Index>(size), static_cast<Eigen::Index>(size));
    gift::fill_standard_normal(host, gift::noise_key{3, 0, 0});
    return gift::cuda_matrix<float>::from_eigen(host * 0.02f);
  }();
  return w;
}

const gift::salient_columns& salient() {
  static const gift::salient_columns s = [] {
    std::vector<std::int64_t> idx;
    for (std::int64_t j = 5; j < static_cast<std::int64_t>(size); j += 32) idx.push_back(j);  // 128 columns
    return gift::salient_columns::from_indices(idx, size);
  }();
  return s;
}

template <class F>
void timed(benchmark::State& state, const F& f) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (auto _ : state) {
    cudaEventRecord(start);
    f();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1000.0);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

void device_copy(benchmark::State& state) {
  const auto& w = weights();
  gift::cuda_matrix<float> destination(size, size);
  timed(state, [&] { thrust::copy(w.storage().begin(), w.storage().end(), destination.storage().begin()); });
}

void alpha_search_grid100(benchmark::State& state) {
  const auto& w = weights();
  const gift::symmetric_options options{4, gift::alpha_search::paper_grid(100), 0};
  timed(state, [&] { benchmark::DoNotOptimize(gift::search_scales(gift::backend::cuda{}, w, options, salient())); });
}

}  // namespace

BENCHMARK(device_copy)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(alpha_search_grid100)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("bench_alpha_search_cuda: no CUDA device, nothing to measure");
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
