// GPTQ (4 bits, 128 salient columns in full precision, block 128) on fp32 4096×4096 and
// 11008×4096 weights, beside round-to-nearest with the same scale search in the same run.
// GPTQ is O(in³ + out·in²): one iteration each.
#include <benchmark/benchmark.h>

#include "fixtures.hpp"

#include <gift/quant/gptq.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/fill_standard_normal.hpp>

#include <map>
#include <vector>

namespace {
constexpr Eigen::Index in = 4096;

const gift::matrix_f& weights(Eigen::Index out) { return bench::normal_weights(out, in, 4, 0.02f); }

const gift::matrix<double>& gram() {
  static const gift::matrix<double> h = [] {
    // 2 · in tokens of correlated inputs: enough for a well-conditioned XᵀX.
    gift::matrix_f z(2 * in, in);
    gift::fill_standard_normal(z, gift::noise_key{5, 0, 0});
    gift::matrix_f x = z;
    x.rightCols(in - 1) += 0.5f * z.leftCols(in - 1);  // neighbouring columns correlate
    gift::matrix<double> g = (x.transpose() * x).cast<double>();
    return g;
  }();
  return h;
}

const gift::salient_columns& salient() {
  static const gift::salient_columns s = [] {
    std::vector<std::int64_t> idx;
    for (std::int64_t j = 7; j < in; j += 32) idx.push_back(j);
    return gift::salient_columns::from_indices(idx, in);
  }();
  return s;
}

void round_to_nearest(benchmark::State& state) {
  const gift::matrix_f& w = weights(state.range(0));
  for (auto _ : state)
    benchmark::DoNotOptimize(gift::quantize_symmetric(w, {4, gift::alpha_search::reference_code(), 0}, salient()));
}

void gptq_salient(benchmark::State& state) {
  const gift::matrix_f& w = weights(state.range(0));
  const auto& h = gram();
  for (auto _ : state)
    benchmark::DoNotOptimize(gift::gptq(w, h, salient(), {4, gift::alpha_search::reference_code()}));
}
}  // namespace

BENCHMARK(round_to_nearest)->Arg(4096)->Arg(11008)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(gptq_salient)->Arg(4096)->Arg(11008)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
