// Column norms of a 4096 x 4096 fp32 matrix per backend, as bytes/s beside a plain memory copy of
// the same matrix measured in the same run (the ceiling for a one-pass reduction).
#include <benchmark/benchmark.h>

#include "fixtures.hpp"

#include <gift/backend/thrust.hpp>
#include <gift/column_norms.hpp>
#include <gift/fill_standard_normal.hpp>

namespace {
constexpr Eigen::Index size = 4096;

const gift::matrix_f& weights() { return bench::normal_weights(size, size, 1); }

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * size * size * static_cast<std::int64_t>(sizeof(float)));
}

void memory_copy(benchmark::State& state) {
  bench::copy_once_per_iteration(state, weights());
  set_bytes(state);
}
BENCHMARK(memory_copy)->Unit(benchmark::kMillisecond)->UseRealTime();

template <class Norm>
void eigen_backend(benchmark::State& state) {
  const gift::matrix_f& w = weights();
  for (auto _ : state) benchmark::DoNotOptimize(gift::column_norms<Norm>(w));
  set_bytes(state);
}
BENCHMARK(eigen_backend<gift::l1>)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(eigen_backend<gift::l2>)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(eigen_backend<gift::linf>)->Unit(benchmark::kMillisecond)->UseRealTime();

template <class System, class Norm>
void thrust_backend(benchmark::State& state) {
  static const auto w = gift::thrust_matrix<float, System>::from_eigen(weights());
  for (auto _ : state) benchmark::DoNotOptimize(gift::column_norms<Norm>(w));
  set_bytes(state);
}
BENCHMARK(thrust_backend<gift::backend::system::omp, gift::l2>)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(thrust_backend<gift::backend::system::omp, gift::linf>)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(thrust_backend<gift::backend::system::cpp, gift::l2>)->Unit(benchmark::kMillisecond)->UseRealTime();
}  // namespace

BENCHMARK_MAIN();
