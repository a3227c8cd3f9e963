// The main job's stages on a LLaMA-2-7B-shaped model (hidden 4096, 32 heads without grouping,
// SwiGLU 11008, vocabulary 32000, untied head) with its linear weights held in bf16: building the
// model, calibration, GIFT-SW salient selection, 4-bit RTN with the salient columns kept, GPTQ of
// one layer of each shape, GIFT-SW steps of 1 x 128 tokens (forward + backward + AdamW) and an
// evaluation pass — each stage's time, and the process's peak resident memory after it; and,
// separately, GPTQ of one layer of each shape (its own peak: run it alone).
//
//   bench_scale [--blocks=N] [Google Benchmark options]    N decoder blocks (default 2; 7B has 32)
//   bench_scale --benchmark_filter=bf16 --blocks=1           the stages alone (their peak memory)
//
// Everything but the embedding and the head grows with N, so two runs (N = 1 and 2) give the
// cost of one block, and the whole model's figures follow by extrapolation (docs/performance.md
// labels them as such); `--blocks=32` runs the whole 7B shape where memory allows (about 15 GiB).
// Weights are random (`make_synthetic_llama`, a seed): the cost depends on the shape only.
#include <benchmark/benchmark.h>

#include "model_shapes.hpp"

#include <gift/metric.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/memory_estimate.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>
#include <gift/pipeline/calibrate.hpp>
#include <gift/pipeline/evaluate.hpp>
#include <gift/pipeline/quantize_model.hpp>
#include <gift/quant/gptq.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace gm = gift::model;
namespace gp = gift::pipeline;

namespace {

using bench::llama2_7b_shape;

/// Reproducible token ids: `rows` sequences of `length`.
gm::token_matrix ids(Eigen::Index rows, Eigen::Index length, int vocab, int salt) {
  gm::token_matrix t(rows, length);
  for (Eigen::Index r = 0; r < rows; ++r)
    for (Eigen::Index c = 0; c < length; ++c) t(r, c) = static_cast<std::int32_t>((977 * r + 131 * c + c * c + salt) % vocab);
  return t;
}

double gib(std::uint64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(std::uint64_t{1} << 30); }

/// Seconds spent in `work`.
template <class Work>
double seconds_of(const Work& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// GPTQ of an `out × in` layer with the Gram matrix of 512 random activations and 3 % salient columns.
double gptq_seconds(Eigen::Index out, Eigen::Index in) {
  const gift::matrix<float> weight = gift::matrix<float>::Random(out, in) * 0.02f;
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(512, in);
  const gift::matrix<double> gram = x.transpose() * x;
  std::vector<std::int64_t> salient;
  for (Eigen::Index j = 0; j < in; j += 32) salient.push_back(j);
  const auto kept = gift::salient_columns::from_indices(salient, static_cast<std::size_t>(in), "bench_scale");
  gift::gptq_options options;
  options.bits = 4;
  options.search = gift::alpha_search::paper_grid(100);
  return seconds_of([&] { benchmark::DoNotOptimize(gift::gptq(weight, gram, kept, options)); });
}

int blocks = 2;

void BM_llama2_7b_shape_bf16(benchmark::State& state) {
  for (auto _ : state) {
    const gm::llama_config config = llama2_7b_shape(blocks);
    std::optional<gm::llama_model<float>> model;
    state.counters["build_s"] =
        seconds_of([&] { model.emplace(gm::make_synthetic_llama<float>(config, 7, gift::weight_storage::bf16)); });
    state.counters["peak_after_build_gib"] = gib(gm::peak_resident_bytes());

    gp::calibration calibration(config.layers);
    const gm::token_matrix calibration_set = ids(4, 128, config.vocab, 1);
    state.counters["calibrate_512_tokens_s"] = seconds_of([&] { calibration = gp::calibrate(*model, calibration_set, {.batch = 4, .gram = false, .progress = {}}); });

    gm::model_selection salient;
    const gift::symmetric_options quantizer{4, gift::alpha_search::paper_grid(100), 0};
    state.counters["select_s"] = seconds_of([&] {
      salient = gm::select_model_salient<gift::gift_sw>(
          *model, [&](int b, gm::projection p) -> const gift::activation_stats& { return calibration.stats(b, p); },
          quantizer, {0, 0.03125});
    });
    const auto salient_of = [&](int b, gm::projection p) -> const gift::salient_columns& {
      return salient[static_cast<std::size_t>(gm::layer_id(b, p))];
    };

    gp::quantized_model quantized;
    gp::quantize_options rtn{.method = gp::quantize_method::rtn, .bits = 4, .search = gift::alpha_search::paper_grid(100),
                             .group_size = 0, .storage = gift::weight_storage::bf16};
    state.counters["quantize_rtn_s"] = seconds_of([&] {
      quantized = gp::quantize_model(*model, [&](int b, gm::projection p, std::size_t) { return salient_of(b, p); }, rtn);
    });
    state.counters["peak_after_quantize_gib"] = gib(gm::peak_resident_bytes());

    // GIFT-SW slots, frozen weights in bf16, noise scaled by the RTN steps.
    std::vector<gift::optim::parameter<float>> parameters;
    state.counters["install_gift_sw_s"] = seconds_of([&] {
      for (int b = 0; b < config.layers; ++b)
        for (gm::projection p : gm::all_projections) {
          auto slot = std::make_unique<gm::gift_sw_linear<float>>(
              model->linear(b, p).effective_weight(), salient_of(b, p), quantized.steps.at(gm::layer_name(b, p) + ".delta"),
              0, static_cast<std::uint32_t>(gm::layer_id(b, p)), gift::weight_storage::bf16);
          for (auto& view : slot->parameters()) parameters.push_back(view);
          model->replace_linear(b, p, std::move(slot));
        }
    });
    gift::optim::adamw<float> optimizer(parameters, 0.0);
    // Three steps: the first allocates the step's buffers; the mean and spread of the other two.
    std::vector<double> step_seconds;
    for (std::uint32_t step = 0; step < 3; ++step) {
      const gm::token_matrix batch = ids(1, 128, config.vocab, 10 + static_cast<int>(step));
      step_seconds.push_back(seconds_of([&] {
        (void)model->forward_backward(batch, {true, step});
        optimizer.step(1e-5);
        optimizer.zero_grad();
      }));
    }
    state.counters["step_first_s"] = step_seconds[0];
    state.counters["step_s"] = (step_seconds[1] + step_seconds[2]) / 2;
    state.counters["step_spread_s"] = std::abs(step_seconds[1] - step_seconds[2]);
    state.counters["peak_after_steps_gib"] = gib(gm::peak_resident_bytes());

    const gm::token_matrix validation = ids(1, 128, config.vocab, 99);
    state.counters["eval_128_tokens_s"] = seconds_of([&] { benchmark::DoNotOptimize(gp::evaluate(*model, validation, {.batch = 1, .progress = {}})); });
    state.counters["peak_gib"] = gib(gm::peak_resident_bytes());
    state.counters["blocks"] = blocks;
  }
}

/// GPTQ of one layer of each shape of a 7B block (q/k/v/o, gate/up, down), and a block's sum. Its
/// peak memory is the Hessian work of the widest input (11008² doubles, several copies): run it in
/// its own process (--benchmark_filter=gptq) to read that peak.
void BM_llama2_7b_shape_gptq_layers(benchmark::State& state) {
  for (auto _ : state) {
    const double q = gptq_seconds(4096, 4096), gate = gptq_seconds(11008, 4096), down = gptq_seconds(4096, 11008);
    state.counters["gptq_4096x4096_s"] = q;
    state.counters["gptq_11008x4096_s"] = gate;
    state.counters["gptq_4096x11008_s"] = down;
    state.counters["gptq_per_block_s"] = 4 * q + 2 * gate + down;
    state.counters["peak_gib"] = gib(gm::peak_resident_bytes());
  }
}

}  // namespace

int main(int argc, char** argv) {
  // --blocks=N is ours; everything else goes to Google Benchmark.
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--blocks=", 9) == 0) {
      blocks = std::atoi(argv[i] + 9);
      if (blocks < 1 || blocks > 80) {
        std::fprintf(stderr, "bench_scale: --blocks must be in [1, 80], but is '%s'\n", argv[i] + 9);
        return 2;
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(rest.size());
  benchmark::RegisterBenchmark("llama2_7b_shape_bf16", BM_llama2_7b_shape_bf16)
      ->Iterations(1)
      ->Unit(benchmark::kSecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("llama2_7b_shape_gptq_layers", BM_llama2_7b_shape_gptq_layers)
      ->Iterations(1)
      ->Unit(benchmark::kSecond)
      ->UseRealTime();
  benchmark::Initialize(&count, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
