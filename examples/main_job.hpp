#pragma once
// The main job as one function of library calls, for a model on any backend: calibrate, select
// 3.125 % salient columns with the GIFT-SW metric, quantize the rest to 4 bits with the salient
// columns kept, fine-tune the salient columns with GIFT-SW (noise scaled by each row's
// quantization step), and evaluate the original, quantized and fine-tuned models on held-out
// text. examples/main_job.cpp runs it on Eigen (SmolLM2 or the synthetic model);
// examples/main_job_thrust.cpp on the Thrust host systems beside Eigen.
#include <gift/metric.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/model/tokens.hpp>
#include <gift/optim/adam.hpp>
#include <gift/optim/schedule.hpp>
#include <gift/pipeline/calibrate.hpp>
#include <gift/pipeline/compare.hpp>
#include <gift/pipeline/evaluate.hpp>
#include <gift/pipeline/quantize_model.hpp>
#include <gift/pipeline/trainer.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace main_job {

namespace gm = gift::model;
namespace gp = gift::pipeline;

/// A model and the token streams it calibrates, trains and is evaluated on.
struct inputs {
  gm::llama_model<float> model;
  std::vector<std::int32_t> train, validation;  // token streams
  std::int64_t seq = 256;
};

/// The synthetic tiny model and reproducible ids: the whole job in seconds.
inline inputs tiny_inputs() {
  inputs in{gm::make_synthetic_llama<float>(gm::tiny_llama_config(), 5), {}, {}, 16};
  const int vocab = in.model.config().vocab;
  for (int i = 0; i < 4096; ++i) in.train.push_back(static_cast<std::int32_t>((7 * i + i * i / 5) % vocab));
  for (int i = 0; i < 1024; ++i) in.validation.push_back(static_cast<std::int32_t>((11 * i + i * i / 3) % vocab));
  return in;
}

/// What the job measured: the three evaluations and the training run.
struct results {
  gp::evaluation original, quantized, finetuned;
  gp::train_result training;
  double relative_error_non_salient = 0;
};

inline void print_comparison(const char* what, const gp::evaluation& a, const gp::evaluation& b) {
  const auto d = gp::compare_paired(a.sequences, b.sequences);
  std::printf("  %-28s %+.4f nats/token [%+.4f, %+.4f] (95 %% CI; perplexity x%.4f)\n", what, d.difference, d.low,
              d.high, d.perplexity_ratio());
}

/// Runs the job on `model` (which it quantizes and fine-tunes in place), printing as it goes.
template <gift::backend_tag Backend>
results run(gm::llama_model<float, Backend>& model, const std::vector<std::int32_t>& train,
            const std::vector<std::int32_t>& validation_ids, std::int64_t seq, std::int64_t steps) {
  results out;
  const std::int64_t validation_rows = std::min<std::int64_t>(16, static_cast<std::int64_t>(validation_ids.size()) / seq);
  const auto validation = gm::wrapped_sequences(validation_ids, seq, 0, validation_rows);
  const auto calibration_set = gm::wrapped_sequences(train, seq, 0, 8);

  // 1. The original model.
  out.original = gp::evaluate(model, validation, {.batch = 4, .progress = {}});
  std::printf("original      perplexity %8.3f\n", out.original.perplexity());

  // 2. Calibrate: every layer's input statistics.
  const gp::calibration calibration = gp::calibrate(model, calibration_set, {.batch = 4, .gram = false, .progress = {}});

  // 3. Select 3.125 % of each layer's columns with the GIFT-SW metric (4-bit quantization error).
  const gift::symmetric_options quantizer{4, gift::alpha_search::paper_grid(100), 0};
  const gm::model_selection salient = gm::select_model_salient<gift::gift_sw>(
      model, [&](int b, gm::projection p) -> const gift::activation_stats& { return calibration.stats(b, p); },
      quantizer, {0, 0.03125});
  const auto salient_of = [&](int b, gm::projection p) -> const gift::salient_columns& {
    return salient[static_cast<std::size_t>(gm::layer_id(b, p))];
  };

  // 4. Quantize the other columns to 4 bits; the salient ones stay in full precision.
  const gp::quantized_model quantized = gp::quantize_model(
      model, [&](int b, gm::projection p, std::size_t) { return salient_of(b, p); },
      {.method = gp::quantize_method::rtn, .bits = 4, .search = gift::alpha_search::paper_grid(100), .group_size = 0});
  out.relative_error_non_salient = quantized.relative_error_non_salient;
  out.quantized = gp::evaluate(model, validation, {.batch = 4, .progress = {}});
  std::printf("quantized     perplexity %8.3f (non-salient relative error %.4f)\n", out.quantized.perplexity(),
              quantized.relative_error_non_salient);

  // 5. GIFT-SW: every layer trains its salient columns under noise scaled by its rows' steps.
  std::vector<gift::optim::parameter<float, Backend>> parameters;
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : gm::all_projections) {
      auto slot = std::make_unique<gm::gift_sw_linear<float, Backend>>(
          model.linear(b, p).effective_weight(), salient_of(b, p), quantized.steps.at(gm::layer_name(b, p) + ".delta"),
          /*seed=*/0, static_cast<std::uint32_t>(gm::layer_id(b, p)));
      for (auto& view : slot->parameters()) parameters.push_back(view);
      model.replace_linear(b, p, std::move(slot));
    }
  gift::optim::adamw<float, Backend> optimizer(parameters, 0.0);
  gp::train_options options;
  options.steps = steps;
  options.schedule = gift::optim::cosine_schedule(1e-4, static_cast<std::uint64_t>(steps), 0.03);
  options.on_step = [&](const gp::train_step& done) {
    if (done.step % 5 == 0 || done.step == done.steps)
      std::printf("  step %3lld loss %.4f\n", static_cast<long long>(done.step), done.loss);
  };
  const auto batches = [&](std::int64_t step) { return gm::wrapped_sequences(train, seq, 8 + step, 1); };
  out.training = gp::train(model, parameters, optimizer, batches, options);
  out.finetuned = gp::evaluate(model, validation, {.batch = 4, .progress = {}});
  std::printf("fine-tuned    perplexity %8.3f (loss %.4f -> %.4f over %lld steps)\n", out.finetuned.perplexity(),
              out.training.first_loss(), out.training.last_loss(), static_cast<long long>(steps));

  // 6. What each step did, paired over the validation sequences.
  std::printf("differences over %lld validation sequences:\n", static_cast<long long>(validation.rows()));
  print_comparison("quantized - original", out.original, out.quantized);
  print_comparison("fine-tuned - quantized", out.quantized, out.finetuned);
  return out;
}

}  // namespace main_job
