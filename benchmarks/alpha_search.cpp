// The α search of the symmetric 4-bit quantizer on fp32 4096×4096 weights with 128 salient
// columns: 80 candidates (the authors' code) and 100 (the paper's grid), squared error, plus the
// p = 2.4 variant, beside a memory copy of the weights in the same run. Target: <= 0.5 s for
// 80 candidates on 2 CPU cores (every candidate evaluated while the row is in cache: one pass
// over W).
#include <benchmark/benchmark.h>

#include "fixtures.hpp"

#include <gift/backend/thrust.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/fill_standard_normal.hpp>

#include <vector>

namespace {
constexpr Eigen::Index size = 4096;

const gift::matrix_f& weights() { return bench::normal_weights(size, size, 3); }

const gift::salient_columns& salient() {
  static const gift::salient_columns s = [] {
    std::vector<std::int64_t> idx;
    for (std::int64_t j = 5; j < size; j += 32) idx.push_back(j);  // 128 columns
    return gift::salient_columns::from_indices(idx, size);
  }();
  return s;
}

gift::alpha_search search_for(std::int64_t candidates, std::int64_t exponent_times_10) {
  const double p = static_cast<double>(exponent_times_10) / 10.0;
  return candidates == 80 ? gift::alpha_search::reference_code(p) : gift::alpha_search::paper_grid(static_cast<int>(candidates), p);
}

void memory_copy(benchmark::State& state) {
  bench::copy_once_per_iteration(state, weights());
}

void alpha_search_eigen(benchmark::State& state) {
  const gift::symmetric_options options{4, search_for(state.range(0), state.range(1)), 0};
  for (auto _ : state) benchmark::DoNotOptimize(gift::search_scales(weights(), options, salient()));
  state.counters["candidates"] = static_cast<double>(state.range(0));
}

void alpha_search_thrust_omp(benchmark::State& state) {
  static const auto w = gift::thrust_matrix<float, gift::backend::system::omp>::from_eigen(weights());
  const gift::symmetric_options options{4, search_for(state.range(0), state.range(1)), 0};
  for (auto _ : state) benchmark::DoNotOptimize(gift::search_scales(w, options, salient()));
}

void quantize_rtn_after_search(benchmark::State& state) {
  const gift::symmetric_options options{4, gift::alpha_search::reference_code(), 0};
  for (auto _ : state) benchmark::DoNotOptimize(gift::quantize_symmetric(weights(), options, salient()));
}
}  // namespace

BENCHMARK(memory_copy)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(alpha_search_eigen)->Args({80, 20})->Args({100, 20})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(alpha_search_thrust_omp)->Args({80, 20})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(quantize_rtn_after_search)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(alpha_search_eigen)->Args({80, 24})->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
