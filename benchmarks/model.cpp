// Tokens per second of the LLaMA model on the CPU: an evaluation forward pass, a GIFT-SW training
// step (all 210 linear layers with 3% salient columns and noise, forward + backward + AdamW), and
// the same forward + backward with every linear layer frozen, at 1 x 128 and 1 x 512 tokens; and
// the rate of the noise generator (values per second on one thread) on every SIMD path this CPU
// runs. The paired GIFT-SW/frozen ratio is measured with the noisy-weight cache off and on. The
// program ends by printing the training step's time relative to the frozen step at each length,
// and each path's rate relative to the scalar generator, all measured in this run.
//
// Uses the real SmolLM2-135M model when GIFT_MODEL names its GGUF file, otherwise a random model
// of the same shape (the timings depend on the shape only).
#include <benchmark/benchmark.h>

#include "fixtures.hpp"

#include <gift/backend/eigen/noise_rows.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gm = gift::model;

namespace {

constexpr Eigen::Index batch = 1;

struct fixture : bench::smollm2_fixture {
  // Frozen and GIFT-SW modules for every layer; swapped into the model as a benchmark needs.
  std::vector<std::unique_ptr<gm::linear_module<float>>> frozen, trainable;
  std::vector<gift::optim::parameter<float>> parameters;
  bool trainable_installed = false;

  fixture() {
    each_linear([&](int b, gm::projection p, const gift::matrix<float>& w) {
      // 3% of the input columns (the paper's 128 of 4096), spread evenly.
      const gift::vector<float> delta = (w.cwiseAbs().rowwise().maxCoeff() / 7.0f).cwiseMax(1e-6f);
      auto module = std::make_unique<gm::gift_sw_linear<float>>(w, bench::spread_columns(w.cols(), w.cols() * 3 / 100),
                                                                delta, 42, static_cast<std::uint32_t>(gm::layer_id(b, p)));
      for (auto& view : module->layer().parameters()) parameters.push_back(view);
      trainable.push_back(std::move(module));
      frozen.emplace_back();
    });
  }
  /// A fixed, spread-out token sequence of `sequence` tokens.
  gm::token_matrix tokens(Eigen::Index sequence) const {
    gm::token_matrix t(batch, sequence);
    for (Eigen::Index i = 0; i < sequence; ++i)
      t(0, i) = static_cast<std::int32_t>((i * 7919 + 13) % model->config().vocab);
    return t;
  }
  /// Turns the noisy-weight cache of every GIFT-SW layer on or off (the cached W̃ of each layer
  /// then lives between a step's forward and backward: as many bytes as the linear weights).
  void set_noisy_weight_cache(bool on) {
    for (auto* modules : {&trainable, &frozen})
      for (auto& module : *modules)
        if (auto* layer = dynamic_cast<gm::gift_sw_linear<float>*>(module.get())) layer->layer().set_noisy_weight_cache(on);
  }
  void install(bool gift_sw) {
    if (gift_sw == trainable_installed) return;
    auto& incoming = gift_sw ? trainable : frozen;
    auto& outgoing = gift_sw ? frozen : trainable;
    const auto& c = model->config();
    for (int b = 0; b < c.layers; ++b) {
      for (gm::projection p : gm::all_projections) {
        const auto id = static_cast<std::size_t>(gm::layer_id(b, p));
        if (incoming[id] == nullptr) continue;  // first swap: frozen modules still live in the model
        outgoing[id] = model->replace_linear(b, p, std::move(incoming[id]));
      }
    }
    trainable_installed = gift_sw;
  }
};

fixture& shared() {
  static fixture f;
  return f;
}

void set_counters(benchmark::State& state) {
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch * state.range(0)), benchmark::Counter::kIsRate);
}

void BM_forward(benchmark::State& state) {
  auto& f = shared();
  f.install(false);
  const gm::token_matrix tokens = f.tokens(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(f.model->evaluate(tokens));
  set_counters(state);
  state.SetLabel(f.source);
}

void BM_train_step_frozen(benchmark::State& state) {
  auto& f = shared();
  f.install(false);
  const gm::token_matrix tokens = f.tokens(state.range(0));
  std::uint32_t step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(f.model->forward_backward(tokens, {true, step++}));
  set_counters(state);
}

void BM_train_step_gift_sw(benchmark::State& state) {
  auto& f = shared();
  f.install(true);
  const gm::token_matrix tokens = f.tokens(state.range(0));
  gift::optim::adamw<float> optimizer(f.parameters, 0.0);
  std::uint32_t step = 0;
  for (auto _ : state) {
    optimizer.zero_grad();
    benchmark::DoNotOptimize(f.model->forward_backward(tokens, {true, step++}));
    optimizer.step(1e-5);
  }
  set_counters(state);
  f.install(false);
}

// The ratio itself, paired: every iteration runs one frozen step and one GIFT-SW step back to
// back and times each, so drift in the machine's speed (shared hosts) affects both alike. The
// `ratio` counter is Σ GIFT-SW time / Σ frozen time over the iterations.
// The second argument turns the noisy-weight cache on (1) or off (0) in every GIFT-SW layer.
void BM_step_ratio(benchmark::State& state) {
  auto& f = shared();
  const gm::token_matrix tokens = f.tokens(state.range(0));
  f.set_noisy_weight_cache(state.range(1) != 0);
  f.install(true);
  gift::optim::adamw<float> optimizer(f.parameters, 0.0);
  std::uint32_t step = 0;
  // One untimed pair first: the first step of each kind touches its buffers for the first time.
  f.install(false);
  benchmark::DoNotOptimize(f.model->forward_backward(tokens, {true, step}));
  f.install(true);
  benchmark::DoNotOptimize(f.model->forward_backward(tokens, {true, step++}));
  double frozen_seconds = 0, gift_sw_seconds = 0;
  for (auto _ : state) {
    using clock = std::chrono::steady_clock;
    f.install(false);
    const auto t0 = clock::now();
    benchmark::DoNotOptimize(f.model->forward_backward(tokens, {true, step}));
    const auto t1 = clock::now();
    f.install(true);
    const auto t2 = clock::now();
    optimizer.zero_grad();
    benchmark::DoNotOptimize(f.model->forward_backward(tokens, {true, step++}));
    optimizer.step(1e-5);
    const auto t3 = clock::now();
    frozen_seconds += std::chrono::duration<double>(t1 - t0).count();
    gift_sw_seconds += std::chrono::duration<double>(t3 - t2).count();
    state.SetIterationTime(std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count());
  }
  state.counters["ratio"] = frozen_seconds > 0 ? gift_sw_seconds / frozen_seconds : 0.0;
  f.install(false);
  f.set_noisy_weight_cache(false);
}

// The noise of one 576-wide weight row after another (the shape of SmolLM2's attention and
// gate/up inputs), on one thread: the generator's rate without the GEMMs around it.
constexpr std::uint64_t noise_row = 576;

void set_noise_counters(benchmark::State& state) {
  state.counters["values/s"] = benchmark::Counter(static_cast<double>(state.iterations() * noise_row),
                                                  benchmark::Counter::kIsRate);
}

void BM_noise_scalar(benchmark::State& state) {
  const gift::noise_key key{42, 7, 3};
  std::vector<float> row(noise_row);
  std::uint64_t first = 0;
  for (auto _ : state) {
    for (std::uint64_t b = 0; b < noise_row / 4; ++b) gift::standard_normal4(key, first / 4 + b, row.data() + 4 * b);
    first += noise_row;
    benchmark::DoNotOptimize(row.data());
  }
  set_noise_counters(state);
}

void BM_noise_simd(benchmark::State& state) {
  namespace d = gift::backend::detail;
  const auto simd = static_cast<d::noise_simd>(state.range(0));
  constexpr const char* names[] = {"portable", "sse2", "avx2", "avx512"};
  if (!d::noise_simd_available(simd)) {
    state.SkipWithError("this CPU cannot run the path");
    return;
  }
  const gift::noise_key key{42, 7, 3};
  std::vector<float> row(noise_row);
  std::uint64_t first = 0;
  for (auto _ : state) {
    d::standard_normal_range_on(simd, key, first, noise_row, row.data());
    first += noise_row;
    benchmark::DoNotOptimize(row.data());
  }
  set_noise_counters(state);
  state.SetLabel(std::string(names[state.range(0)]) + (simd == d::fastest_noise_simd() ? " (used)" : ""));
}

BENCHMARK(BM_noise_scalar);
BENCHMARK(BM_noise_simd)->DenseRange(0, 3);
BENCHMARK(BM_forward)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_train_step_frozen)->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_train_step_gift_sw)->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_step_ratio)
    ->ArgsProduct({{128, 512}, {0, 1}})
    ->ArgNames({"tokens", "cache"})
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(4);

// Prints the ratios after the usual console output.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    // One time per benchmark: the median when repetitions are asked for, else the single run.
    for (const auto& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (!median && !(run.run_type == Run::RT_Iteration && run.repetitions <= 1)) continue;
      const std::string name = median ? run.run_name.str() : run.benchmark_name();
      seconds_[name] = run.GetAdjustedRealTime();
      if (const auto ratio = run.counters.find("ratio"); ratio != run.counters.end()) paired_[name] = ratio->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto find = [&](const std::string& name) -> double {
      const auto it = seconds_.find(name);
      return it == seconds_.end() ? 0.0 : it->second;
    };
    for (const char* length : {"128", "512"}) {
      const double frozen = find(std::string("BM_train_step_frozen/") + length + "/real_time");
      const double gift_sw = find(std::string("BM_train_step_gift_sw/") + length + "/real_time");
      if (frozen > 0 && gift_sw > 0)
        std::cout << "GIFT-SW training step / all-frozen step at 1 x " << length << " tokens = " << gift_sw / frozen
                  << "\n";
    }
    for (const auto& [name, ratio] : paired_)
      std::cout << "GIFT-SW / frozen step, paired in one loop (" << name << ") = " << ratio << "\n";
    const double forward = find("BM_forward/128/real_time"), frozen = find("BM_train_step_frozen/128/real_time");
    if (forward > 0 && frozen > 0) std::cout << "all-frozen step / forward at 1 x 128 tokens = " << frozen / forward << "\n";
    const double scalar = find("BM_noise_scalar");
    for (int path = 0; path < 4; ++path) {
      const double time = find("BM_noise_simd/" + std::to_string(path));  // ns per row (the default unit)
      if (scalar > 0 && time > 0)
        std::cout << "noise path " << path << " (0 portable, 1 sse2, 2 avx2, 3 avx512): " << scalar / time
                  << "x the scalar generator's rate, " << time / static_cast<double>(noise_row)
                  << " ns per value per thread\n";
    }
  }

private:
  std::map<std::string, double> seconds_;
  std::map<std::string, double> paired_;  // BM_step_ratio's counter, by run name
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
