// Tokens per second of the LLaMA model on the CPU: an evaluation forward pass, a GIFT-SW training
// step (all 210 linear layers with 3% salient columns and noise, forward + backward + AdamW), and
// the same forward + backward with every linear layer frozen; the program ends by printing the
// training step's time relative to the frozen step, both measured in this run.
//
// Uses the real SmolLM2-135M model when GIFT_MODEL names its GGUF file, otherwise a random model
// of the same shape (the timings depend on the shape only).
#include <benchmark/benchmark.h>

#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>

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
constexpr Eigen::Index sequence = 128;

struct fixture {
  std::optional<gm::llama_model<float>> model;
  std::string source;
  // Frozen and GIFT-SW modules for every layer; swapped into the model as a benchmark needs.
  std::vector<std::unique_ptr<gm::linear_module<float>>> frozen, trainable;
  std::vector<gift::optim::parameter<float>> parameters;
  gm::token_matrix tokens;
  bool trainable_installed = false;

  fixture() {
    if (const char* path = std::getenv("GIFT_MODEL"); path != nullptr && *path != '\0') {
      model.emplace(gm::load_llama(std::filesystem::path(path)));
      source = path;
    } else {
      gm::llama_config c = gm::tiny_llama_config(30, 576, 9, 3, 1536, 49152);
      c.rope_base = 100000;
      model.emplace(gm::make_synthetic_llama<float>(c, 1));
      source = "synthetic SmolLM2-135M shape (set GIFT_MODEL=<gguf> for the real model)";
    }
    const auto& c = model->config();
    tokens.resize(batch, sequence);
    for (Eigen::Index t = 0; t < sequence; ++t) tokens(0, t) = static_cast<std::int32_t>((t * 7919 + 13) % c.vocab);
    for (int b = 0; b < c.layers; ++b) {
      for (gm::projection p : gm::all_projections) {
        const gift::matrix<float> w = model->linear(b, p).effective_weight();
        // 3% of the input columns (the paper's 128 of 4096), spread evenly.
        const auto k = std::max<Eigen::Index>(1, w.cols() * 3 / 100);
        std::vector<std::int64_t> salient;
        for (Eigen::Index j = 0; j < k; ++j) salient.push_back(j * (w.cols() / k));
        const gift::vector<float> delta = (w.cwiseAbs().rowwise().maxCoeff() / 7.0f).cwiseMax(1e-6f);
        auto module = std::make_unique<gm::gift_sw_linear<float>>(w, gift::salient_columns::from_indices(salient, static_cast<std::size_t>(w.cols())), delta, 42,
                                                                  static_cast<std::uint32_t>(gm::layer_id(b, p)));
        for (auto& view : module->layer().parameters()) parameters.push_back(view);
        trainable.push_back(std::move(module));
        frozen.emplace_back();
      }
    }
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
      benchmark::Counter(static_cast<double>(state.iterations() * batch * sequence), benchmark::Counter::kIsRate);
}

void BM_forward(benchmark::State& state) {
  auto& f = shared();
  f.install(false);
  for (auto _ : state) benchmark::DoNotOptimize(f.model->evaluate(f.tokens));
  set_counters(state);
  state.SetLabel(f.source);
}

void BM_train_step_frozen(benchmark::State& state) {
  auto& f = shared();
  f.install(false);
  std::uint32_t step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(f.model->forward_backward(f.tokens, {true, step++}));
  set_counters(state);
}

void BM_train_step_gift_sw(benchmark::State& state) {
  auto& f = shared();
  f.install(true);
  gift::optim::adamw<float> optimizer(f.parameters, 0.0);
  std::uint32_t step = 0;
  for (auto _ : state) {
    optimizer.zero_grad();
    benchmark::DoNotOptimize(f.model->forward_backward(f.tokens, {true, step++}));
    optimizer.step(1e-5);
  }
  set_counters(state);
  f.install(false);
}

BENCHMARK(BM_forward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_train_step_frozen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_train_step_gift_sw)->Unit(benchmark::kMillisecond)->UseRealTime();

// Prints the ratios after the usual console output.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.run_type == Run::RT_Iteration) seconds_[run.benchmark_name()] = run.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto find = [&](const std::string& prefix) -> double {
      for (const auto& [name, time] : seconds_)
        if (name.rfind(prefix, 0) == 0) return time;
      return 0;
    };
    const double frozen = find("BM_train_step_frozen"), gift_sw = find("BM_train_step_gift_sw"),
                 forward = find("BM_forward");
    if (frozen > 0 && gift_sw > 0) {
      std::cout << "GIFT-SW training step / all-frozen step = " << gift_sw / frozen << "\n";
    }
    if (forward > 0 && frozen > 0) std::cout << "all-frozen step / forward = " << frozen / forward << "\n";
  }

private:
  std::map<std::string, double> seconds_;
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
