// GPU: the whole SmolLM2-135M training step (llama_model<float, backend::cuda>: 30 blocks, 210
// linear layers, SmolLM2's shapes with synthetic weights, so no model file is needed) at
// 8 × 512 tokens: a frozen step (forward + backward, no trainable layer) and a GIFT-SW step
// (every linear layer GIFT-SW over 3.125% salient columns, fresh noise, masked AdamW on the
// device), timed back to back in each iteration so that their ratio is paired. Counters:
// tokens_per_s (GIFT-SW), frozen_tokens_per_s, ratio (GIFT-SW ÷ frozen), optimizer_state_MiB,
// device_used_MiB (cudaMemGetInfo after the steps: an upper bound of the step's peak, with the
// CUDA context and the caching of Thrust's temporaries included).
//
//   bench_model_cuda --benchmark_min_time=2x
#include <benchmark/benchmark.h>

#include "model_shapes.hpp"

#include <gift/backend/cuda.cuh>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>

#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace {

namespace gm = gift::model;
using cuda_backend = gift::backend::cuda;

gm::token_matrix tokens(Eigen::Index batch, Eigen::Index sequence, int vocab, std::uint32_t step) {
  gm::token_matrix t(batch, sequence);
  for (Eigen::Index i = 0; i < t.size(); ++i)
    t.data()[i] = static_cast<std::int32_t>((1000 + 7919 * i + 104729 * step) % vocab);
  return t;
}

double seconds_of(const auto& f) {
  cudaDeviceSynchronize();
  const auto start = std::chrono::steady_clock::now();
  f();
  cudaDeviceSynchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void whole_step(benchmark::State& state) {
  const Eigen::Index batch = state.range(0), sequence = state.range(1);
  const auto config = bench::smollm2_135m_shape();
  const auto host_model = gm::make_synthetic_llama<float>(config, 1);
  auto frozen = gm::to_backend<cuda_backend>(host_model);
  auto trained = gm::to_backend<cuda_backend>(host_model);
  std::vector<gift::optim::parameter<float, cuda_backend>> parameters;
  for (int b = 0; b < config.layers; ++b) {
    for (gm::projection p : gm::all_projections) {
      const gift::matrix<float> w = trained.linear(b, p).effective_weight();
      std::vector<std::int64_t> every_32nd;  // 3.125% of the inputs, the paper's 128 of 4096
      for (std::int64_t j = 5; j < w.cols(); j += 32) every_32nd.push_back(j);
      const auto salient = gift::salient_columns::from_indices(every_32nd, static_cast<std::size_t>(w.cols()));
      auto slot = std::make_unique<gm::gift_sw_linear<float, cuda_backend>>(
          w, salient, gift::vector<float>::Constant(w.rows(), 0.01f), 1, static_cast<std::uint32_t>(gm::layer_id(b, p)));
      for (auto& view : slot->parameters()) parameters.push_back(view);
      trained.replace_linear(b, p, std::move(slot));
    }
  }
  gift::optim::adamw<float, cuda_backend> optimizer(parameters, 0.0);
  double frozen_s = 0, gift_s = 0;
  std::uint32_t step = 0;
  for (auto _ : state) {
    const auto batch_tokens = tokens(batch, sequence, config.vocab, step);
    frozen_s += seconds_of([&] { (void)frozen.forward_backward(batch_tokens, {false, step}); });
    const double s = seconds_of([&] {
      optimizer.zero_grad();
      (void)trained.forward_backward(batch_tokens, {true, step});
      optimizer.step(1e-5);
    });
    gift_s += s;
    state.SetIterationTime(s);
    ++step;
  }
  const double n = static_cast<double>(state.iterations()), tokens_per_step = static_cast<double>(batch * sequence);
  std::size_t free_bytes = 0, total_bytes = 0;
  cudaMemGetInfo(&free_bytes, &total_bytes);
  state.counters["tokens_per_s"] = tokens_per_step * n / gift_s;
  state.counters["frozen_tokens_per_s"] = tokens_per_step * n / frozen_s;
  state.counters["ratio"] = gift_s / frozen_s;
  state.counters["optimizer_state_MiB"] = static_cast<double>(optimizer.state_elements()) * 4.0 / (1 << 20);
  state.counters["device_used_MiB"] = static_cast<double>(total_bytes - free_bytes) / (1 << 20);
}

}  // namespace

BENCHMARK(whole_step)->ArgNames({"batch", "seq"})->Args({8, 512})->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("bench_model_cuda: no CUDA device, nothing to measure");
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
