// gift_linear's training step (forward with noise + backward: dx through the same noisy weights
// and dW_S) against the least any frozen dense layer must do in training: forward y = x Wᵀ and
// the input gradient dx = dy W. Same shape, fp32, same run, alternating inside each iteration so
// both see the same machine load. Counters: gift_s, dense_s, ratio = gift_s / dense_s, and
// clean_s/clean_ratio — the same layer in evaluation mode (panels copied, no noise), which
// separates the cost of generating noise from the cost of the panel scheme itself.
//
//   bench_gift_linear                      (one iteration per shape)
//   GIFT_BENCH_PANEL_ELEMENTS=4194304 bench_gift_linear   (panel-size experiments)
#include <benchmark/benchmark.h>

#include <gift/nn/gift_linear.hpp>
#include <gift/fill_standard_normal.hpp>

#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

gift::matrix_f random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint32_t layer, float scale) {
  gift::matrix_f m(rows, cols);
  gift::fill_standard_normal(m, gift::noise_key{7, layer, 0});
  return m * scale;
}

/// Seconds of one forward and backward pass of `layer` (its gradients then cleared).
double forward_backward_seconds(gift::nn::gift_linear<float>& layer, const gift::matrix_f& x, const gift::matrix_f& dy,
                                std::uint32_t step) {
  const auto start = clock_type::now();
  {  // the results' release is part of the step
    gift::matrix_f y = layer.forward(x, step);
    gift::matrix_f dx = layer.backward(dy);
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    layer.zero_grad();
  }
  return seconds_since(start);
}

void training_step_vs_dense(benchmark::State& state) {
  const Eigen::Index tokens = state.range(0), out = state.range(1), in = state.range(2);
  const bool measure_clean = state.range(3) != 0;  // the third variant costs time on big shapes
  const Eigen::Index salient_count = 128;
  const gift::matrix_f weight = random_matrix(out, in, 1, 0.02f);
  const gift::matrix_f x = random_matrix(tokens, in, 2, 1.0f);
  const gift::matrix_f dy = random_matrix(tokens, out, 3, 1.0f);
  std::vector<std::int64_t> salient;
  for (Eigen::Index s = 0; s < salient_count; ++s) salient.push_back(s * (in / salient_count) + 3);
  const gift::vector_f delta = gift::vector_f::Constant(out, 0.01f);
  gift::nn::gift_linear<float> layer(weight, salient, delta, gift::noise_key{1, 0, 0});
  gift::nn::gift_linear<float> clean(weight, salient, delta, gift::noise_key{1, 0, 0});
  clean.set_training(false);
  if (const char* panel = std::getenv("GIFT_BENCH_PANEL_ELEMENTS")) {  // tuning experiments
    layer.set_panel_elements(std::strtoull(panel, nullptr, 10));
    clean.set_panel_elements(std::strtoull(panel, nullptr, 10));
  }

  double gift_total = 0, dense_total = 0, clean_total = 0;
  std::uint32_t step = 0;
  for (auto _ : state) {
    auto start = clock_type::now();
    {
      gift::matrix_f y = x * weight.transpose();
      gift::matrix_f dx = dy * weight;
      benchmark::DoNotOptimize(y.data());
      benchmark::DoNotOptimize(dx.data());
    }
    const double dense = seconds_since(start);

    const double noisy = forward_backward_seconds(layer, x, dy, step);
    const double eval = measure_clean ? forward_backward_seconds(clean, x, dy, step) : 0.0;
    ++step;
    state.SetIterationTime(noisy);
    gift_total += noisy;
    dense_total += dense;
    clean_total += eval;
  }
  state.counters["gift_s"] = gift_total / static_cast<double>(state.iterations());
  state.counters["dense_s"] = dense_total / static_cast<double>(state.iterations());
  state.counters["ratio"] = gift_total / dense_total;
  if (measure_clean) {
    state.counters["clean_s"] = clean_total / static_cast<double>(state.iterations());
    state.counters["clean_ratio"] = clean_total / dense_total;
  }
}

}  // namespace

// {tokens, out, in, measure the clean variant}; the small shape gives a quick reading, the
// others are the shapes (one iteration each: a 4096³ GEMM is ~137 GFLOP).
BENCHMARK(training_step_vs_dense)
    ->ArgNames({"T", "out", "in", "clean"})
    ->Args({1024, 1024, 1024, 1})
    ->Args({512, 4096, 4096, 1})
    ->Args({4096, 4096, 4096, 0})
    ->Args({4096, 11008, 4096, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

BENCHMARK_MAIN();
