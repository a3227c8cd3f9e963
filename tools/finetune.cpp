// gift finetune: GIFT-SW — train only the salient columns of every linear layer, with fresh
// quantization noise ½·Δ_i·Ω_ij on the frozen columns at every step; checkpoints written atomically.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/io/safetensors.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/optim/adam.hpp>
#include <gift/optim/clip.hpp>
#include <gift/optim/schedule.hpp>
#include <gift/quant/symmetric.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gift::cli {

int run_finetune(int argc, char** argv) {
  arguments args("finetune",
                 "GIFT-SW fine-tuning: only the salient columns train (AdamW); the other columns are frozen and get "
                 "fresh Gaussian noise 1/2 * delta_i * N(0,1) in every training step. Writes the merged weights.");
  model_options(args);
  text_options(args, "train");
  args.option("salient", "", "salient-column file from gift select", true)
      .option("out", "", "safetensors file for the fine-tuned weights (also the checkpoint)", true)
      .integer_option("steps", "100", "optimizer steps", 1, 1000000000)
      .integer_option("batch", "1", "sequences per step", 1, 4096)
      .integer_option("seq", "256", "sequence length", 2, 1 << 20)
      .integer_option("tokens", "0", "training tokens to read (0: steps * batch * seq)", 0, 1000000000000)
      .number_option("lr", "1e-4", "peak learning rate", 0.0, 1.0)
      .option("schedule", "cosine", "constant | linear | cosine (with warmup)")
      .number_option("warmup", "0.03", "warmup share of the steps", 0.0, 1.0)
      .number_option("weight-decay", "0", "AdamW decoupled weight decay", 0.0, 1.0)
      .number_option("clip", "1.0", "clip the global gradient norm to this (0: off)", 0.0, 1e6)
      .integer_option("noise-bits", "4", "bit-width whose step delta scales the noise, when --weights holds no <layer>.delta",
                      2, 8)
      .flag("no-noise", "train without noise injection (ablation)")
      .integer_option("seed", "0", "noise seed", 0, 9223372036854775807LL)
      .integer_option("checkpoint-every", "0", "also write --out every N steps (0: only at the end)", 0, 1000000000)
      .flag("json", "print the result as JSON on stdout")
      .option("output-json", "", "also write the JSON result to this file");
  if (!args.parse(argc, argv, 2)) return 0;
  require_writable_outputs(args, out_kind::file);
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t steps = args.integer("steps"), batch = args.integer("batch"), length = args.integer("seq");
  gift::detail::require(steps > 0 && batch > 0 && length >= 2, "gift finetune: --steps and --batch must be positive, "
                                                                "--seq at least 2");
  auto model = load_model(args);
  const auto tokenizer = load_tokenizer(args);
  const std::int64_t wanted = args.integer("tokens") > 0 ? args.integer("tokens") : steps * batch * length;
  const auto ids = load_text_tokens(args, tokenizer, wanted);
  const salient_map selection = load_salient(args.get("salient"));
  std::optional<io::safetensors_file> weights_file;
  if (!args.get("weights").empty()) weights_file.emplace(io::safetensors_file::open(args.get("weights")));

  // Every linear layer becomes a GIFT-SW layer.
  const std::uint64_t seed = static_cast<std::uint64_t>(args.integer("seed"));
  std::vector<optim::parameter<float>> parameters;
  std::int64_t trainable = 0, delta_from_file = 0;
  for (int b = 0; b < model.config().layers; ++b) {
    for (model::projection p : model::all_projections) {
      const std::string name = layer_name(b, p);
      const salient_columns& salient = salient_of(selection, name);
      const gift::matrix<float> weight = model.linear(b, p).effective_weight();
      gift::vector<float> delta;
      if (weights_file && weights_file->find_tensor(name + ".delta") != nullptr) {
        delta = weights_file->read_vector(name + ".delta");
        ++delta_from_file;
      } else {
        delta = row_deltas(weight, static_cast<int>(args.integer("noise-bits")), alpha_search::max_abs(), salient);
      }
      auto layer = std::make_unique<model::gift_sw_linear<float>>(weight, salient, delta, seed,
                                                                  static_cast<std::uint32_t>(model::layer_id(b, p)));
      for (auto& view : layer->layer().parameters()) parameters.push_back(view);
      trainable += static_cast<std::int64_t>(layer->layer().salient_weight().size());
      model.replace_linear(b, p, std::move(layer));
    }
  }
  optim::adamw<float> optimizer(parameters, args.number("weight-decay"));
  const double lr = args.number("lr"), warmup = args.number("warmup");
  const std::string schedule_name = args.get("schedule");
  std::function<double(std::uint64_t)> schedule;
  const auto total = static_cast<std::uint64_t>(steps);
  if (schedule_name == "constant") {
    schedule = optim::constant_schedule(lr, static_cast<std::uint64_t>(std::ceil(warmup * static_cast<double>(steps))));
  } else if (schedule_name == "linear") {
    schedule = optim::linear_schedule(lr, total, warmup);
  } else if (schedule_name == "cosine") {
    schedule = optim::cosine_schedule(lr, total, warmup);
  } else {
    throw error("gift finetune: --schedule must be constant, linear or cosine, but is '" + schedule_name + "'");
  }
  const bool noise = !args.on("no-noise");
  const double clip = args.number("clip");
  const auto checkpoint_every = args.integer("checkpoint-every");
  const auto save = [&](std::int64_t step) {
    save_weights(model, args.get("out"), {},
                 {{"gift.step", std::to_string(step)}, {"gift.method", "gift_sw"}, {"gift.salient", args.get("salient")}});
  };
  double first_loss = 0, last_loss = 0, running = 0;
  {
    progress_bar bar("finetune", steps, "step");
    for (std::int64_t step = 0; step < steps; ++step) {
      optimizer.zero_grad();
      const auto tokens = wrapped_sequences(ids, length, step * batch, batch);
      const double loss =
          model.forward_backward(tokens, {noise, static_cast<std::uint32_t>(step)}).mean();
      // A diverged run stops here, before anything non-finite reaches the weights or a file: the
      // last checkpoint written (if any) stays as it was.
      const std::string at = "gift finetune: step " + std::to_string(step + 1) + " of " + std::to_string(steps);
      gift::detail::require(std::isfinite(loss), at, ": the loss is ", loss,
                            "; training diverged: lower --lr (now ", lr, ") or keep --clip on");
      try {
        (void)optim::gradient_norm(parameters);  // names the first block whose gradient is not finite
      } catch (const error& e) {
        throw error(at + ": " + e.what() + " (lower --lr, now " + std::to_string(lr) + ")");
      }
      if (clip > 0) optim::clip_gradient_norm<float>(parameters, clip);
      optimizer.step(schedule(static_cast<std::uint64_t>(step)));
      for (const auto& p : parameters)
        gift::detail::require(std::all_of(p.value.begin(), p.value.end(), [](float w) { return std::isfinite(w); }), at,
                              ": the update made '", p.name, "' non-finite; lower --lr (now ", lr, ")");
      if (step == 0) first_loss = loss;
      last_loss = loss;
      running = step == 0 ? loss : 0.9 * running + 0.1 * loss;
      bar.advance(1, "loss " + std::to_string(running));
      if (checkpoint_every > 0 && (step + 1) % checkpoint_every == 0 && step + 1 < steps) save(step + 1);
    }
  }
  save(steps);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report result("finetune");
  result.add("steps", steps)
      .add("batch", batch)
      .add("seq", length)
      .add("lr", lr)
      .add("schedule", schedule_name)
      .add("noise", noise)
      .add("delta_from_weights_file", delta_from_file)
      .add("trainable_parameters", trainable)
      .add("first_loss", first_loss)
      .add("last_loss", last_loss)
      .add("smoothed_loss", running)
      .add("train_tokens_per_second", static_cast<double>(steps * batch * length) / seconds)
      .add("out", args.get("out"))
      .add("seconds", seconds);
  result.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
