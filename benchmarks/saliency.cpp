// Metric + selection on fp32 weights (4096×4096 and 11008×4096, out × in) against a plain memory
// copy of the same weights measured in the same run. bytes_per_second counts the weight bytes
// once for every benchmark, so the ratio metric/copy is the share of copy bandwidth reached.
// Target: >= 70% for the metrics that read W (gift_sw, owq, wanda_columns).
#include <benchmark/benchmark.h>

#include "fixtures.hpp"

#include <gift/backend/thrust.hpp>
#include <gift/metric.hpp>
#include <gift/select.hpp>
#include <gift/fill_standard_normal.hpp>
#include <gift/stats.hpp>

#include <cstring>
#include <map>
#include <vector>

namespace {
constexpr Eigen::Index in = 4096;

const gift::matrix_f& weights(Eigen::Index out) { return bench::normal_weights(out, in, 1); }

const gift::activation_stats& statistics() {
  static const gift::activation_stats stats = [] {
    gift::matrix_f x(512, in);
    gift::fill_standard_normal(x, gift::noise_key{2, 0, 0});
    for (Eigen::Index j = 3; j < in; j += 37) x.col(j) *= 20.0f;  // heavy-tailed columns
    gift::activation_stats s(in);
    s.update(x);
    return s;
  }();
  return stats;
}

void set_bytes(benchmark::State& state, Eigen::Index out) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * out * in * static_cast<std::int64_t>(sizeof(float)));
}

void memory_copy(benchmark::State& state) {
  const Eigen::Index out = state.range(0);
  const gift::matrix_f& w = weights(out);
  std::vector<float> destination(static_cast<std::size_t>(w.size()));
  for (auto _ : state) {
    std::memcpy(destination.data(), w.data(), sizeof(float) * static_cast<std::size_t>(w.size()));
    benchmark::DoNotOptimize(destination.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, out);
}

template <class Metric>
void metric_and_selection(benchmark::State& state) {
  const Eigen::Index out = state.range(0);
  const gift::matrix_f& w = weights(out);
  const gift::activation_stats& stats = statistics();
  for (auto _ : state) {
    const gift::vector<double> scores = gift::column_sensitivity<Metric>(w, stats);
    benchmark::DoNotOptimize(gift::select_salient(scores, gift::default_salient_columns));
  }
  set_bytes(state, out);
}

template <class Metric>
void metric_and_selection_thrust_omp(benchmark::State& state) {
  const Eigen::Index out = state.range(0);
  const auto w = gift::thrust_matrix<float, gift::backend::system::omp>::from_eigen(weights(out));
  const gift::activation_stats& stats = statistics();
  for (auto _ : state) {
    const gift::vector<double> scores = gift::column_sensitivity<Metric>(w, stats);
    benchmark::DoNotOptimize(gift::select_salient(scores, gift::default_salient_columns));
  }
  set_bytes(state, out);
}
}  // namespace

BENCHMARK(memory_copy)->Arg(4096)->Arg(11008)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(metric_and_selection<gift::gift_sw>)->Arg(4096)->Arg(11008)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(metric_and_selection<gift::owq>)->Arg(4096)->Arg(11008)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(metric_and_selection<gift::wanda_columns>)->Arg(4096)->Arg(11008)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(metric_and_selection<gift::quik>)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(metric_and_selection_thrust_omp<gift::gift_sw>)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
