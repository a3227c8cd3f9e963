// GPU: gift_linear<T, backend::cuda>: the training step (noisy panels + cuBLAS forward, regenerated panels +
// cuBLAS dx, dW_S) against a dense layer's forward y = x Wᵀ and input gradient dx = dy W with
// cuBLAS, same shape and precision, same run, alternating. Counters: gift_ms, dense_ms, ratio.
// Needs a CUDA device; the issue's targets on an H100 are ratio ≤ 1.10 (bf16, T = 4096) and
// ≤ 1.3 (T = 512).
//
//   bench_gift_linear_cuda --benchmark_min_time=0.5s
#include <benchmark/benchmark.h>

#include <gift/backend/cuda.cuh>
#include <gift/nn/gift_linear.hpp>
#include <gift/fill_standard_normal.hpp>

#include <cuda_bf16.h>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

template <class T>
gift::thrust_matrix<T, gift::backend::system::cuda> device_normal(std::size_t rows, std::size_t cols, std::uint32_t layer,
                                                                  float scale) {
  gift::cuda_matrix<float> values(rows, cols);
  gift::fill_standard_normal(gift::backend::cuda{}, values, gift::noise_key{9, layer, 0});
  const gift::matrix_f host = values.to_eigen() * scale;
  std::vector<T> converted(host.size());
  for (std::size_t e = 0; e < converted.size(); ++e) converted[e] = static_cast<T>(host.data()[e]);
  gift::thrust_matrix<T, gift::backend::system::cuda> result(rows, cols);
  thrust::copy(converted.begin(), converted.end(), result.storage().begin());
  return result;
}

template <class T>
void training_step_vs_dense(benchmark::State& state) {
  const auto tokens = static_cast<std::size_t>(state.range(0));
  const auto out = static_cast<std::size_t>(state.range(1)), in = static_cast<std::size_t>(state.range(2));
  gift::matrix_f weight(static_cast<Eigen::Index>(out), static_cast<Eigen::Index>(in));
  gift::fill_standard_normal(weight, gift::noise_key{1, 0, 0});
  weight *= 0.02f;
  std::vector<std::int64_t> salient;
  for (std::size_t s = 0; s < 128; ++s) salient.push_back(static_cast<std::int64_t>(s * (in / 128) + 3));
  gift::nn::gift_linear<T, gift::backend::cuda> layer(weight, gift::vector_f(), salient,
                                      gift::vector_f::Constant(static_cast<Eigen::Index>(out), 0.01f),
                                      gift::noise_key{1, 0, 0});
  const auto dense_weight = device_normal<T>(out, in, 1, 0.02f);
  const auto x = device_normal<T>(tokens, in, 2, 1.0f);
  const auto dy = device_normal<T>(tokens, out, 3, 1.0f);
  gift::thrust_matrix<T, gift::backend::system::cuda> y(tokens, out), dx(tokens, in);
  cublasHandle_t handle;
  gift::backend::check_cublas(cublasCreate(&handle), "cublasCreate");
  auto raw = [](auto& m) { return thrust::raw_pointer_cast(m.storage().data()); };
  auto craw = [](const auto& m) { return thrust::raw_pointer_cast(m.storage().data()); };
  cudaEvent_t start, middle, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&middle);
  cudaEventCreate(&stop);
  double gift_ms = 0, dense_ms = 0;
  std::uint32_t step = 0;
  const auto t = static_cast<std::int64_t>(tokens), o = static_cast<std::int64_t>(out), i = static_cast<std::int64_t>(in);
  for (auto _ : state) {
    cudaEventRecord(start);
    gift::backend::gemm_row_major(handle, false, true, t, o, i, craw(x), i, craw(dense_weight), i, raw(y), o);
    gift::backend::gemm_row_major(handle, false, false, t, i, o, craw(dy), o, craw(dense_weight), i, raw(dx), i);
    cudaEventRecord(middle);
    {
      auto noisy_y = layer.forward(x, step++);
      auto noisy_dx = layer.backward(dy);
      layer.zero_grad();
    }
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float dense = 0, noisy = 0;
    cudaEventElapsedTime(&dense, start, middle);
    cudaEventElapsedTime(&noisy, middle, stop);
    state.SetIterationTime(noisy / 1000.0);
    gift_ms += noisy;
    dense_ms += dense;
  }
  state.counters["gift_ms"] = gift_ms / static_cast<double>(state.iterations());
  state.counters["dense_ms"] = dense_ms / static_cast<double>(state.iterations());
  state.counters["ratio"] = gift_ms / dense_ms;
  cublasDestroy(handle);
  cudaEventDestroy(start);
  cudaEventDestroy(middle);
  cudaEventDestroy(stop);
}

}  // namespace

BENCHMARK_TEMPLATE(training_step_vs_dense, __nv_bfloat16)
    ->ArgNames({"T", "out", "in"})
    ->Args({4096, 4096, 4096})
    ->Args({4096, 11008, 4096})
    ->Args({512, 4096, 4096})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(training_step_vs_dense, float)
    ->ArgNames({"T", "out", "in"})
    ->Args({4096, 4096, 4096})
    ->Args({512, 4096, 4096})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("bench_gift_linear_cuda: no CUDA device, nothing to measure");
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
