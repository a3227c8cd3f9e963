// gift calibrate: per-layer input statistics (and optionally Gram matrices for GPTQ) → files.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/distributed.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/model/memory_estimate.hpp>
#include <gift/pipeline/calibrate.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace gift::cli {

int run_calibrate(int argc, char** argv) {
  arguments args("calibrate",
                 "Runs the model on calibration text and writes, for every linear layer, streaming statistics of "
                 "its input columns (max |x|, sum x^2, sum |x|, tokens) to <out>/<layer>.stats, and last "
                 "<out>/manifest.txt (sizes and hashes; select and quantize refuse a folder without it).");
  model_options(args);
  text_options(args, "train");
  args.option("out", "", "output folder", true)
      .integer_option("tokens", "8192", "calibration tokens (whole sequences)", 1, 1000000000)
      .integer_option("seq", "256", "sequence length", 2, 1 << 20)
      .integer_option("batch", "4", "sequences per forward pass", 1, 4096)
      .flag("gram", "also accumulate X^T X per layer (needed by quantize --method gptq) into <out>/gram.safetensors")
      .result_options();
  shard_options(args, "sequences");
  if (!args.parse(argc, argv, 2)) return 0;
  const bool writer = world().rank() == 0;  // rank 0 writes the folder for all ranks
  const auto out_lock = writer ? require_writable_outputs(args, out_kind::folder, "calibrate") : io::output_lock{};
  set_threads(args);
  const auto plan = shard_plan_of(args);
  const auto start = std::chrono::steady_clock::now();
  auto model = load_model(args);
  const auto tokenizer = load_tokenizer(args);
  const auto ids = load_text_tokens(args, tokenizer, args.integer("tokens"));
  require_same_run(args, "calibrate", model, ids);
  const auto& config = model.config();
  const auto layers = static_cast<std::size_t>(config.layers * model::projections_per_block);
  const bool with_gram = args.on("gram");
  const std::int64_t length = args.integer("seq"), batch = args.integer("batch");
  require_within_context(model, length, "--seq");
  const auto sequences = static_cast<std::int64_t>(ids.size()) / length;
  gift::require(sequences > 0, "gift calibrate: not enough text for one sequence of ", length);
  gift::require(sequences >= plan.shards(), "gift calibrate: ", sequences, " sequence(s) of ", length,
                " tokens cannot fill ", plan.shards(), " shards; use more --tokens or fewer --shards");
  // The forward pass of one batch and every shard's Gram matrices, estimated before any is made.
  const std::int64_t per_pass = std::min(batch, sequences), held = plan.count(world().rank());
  model::require_memory(model::calibration_bytes(config, per_pass, length, with_gram, held),
                        "gift calibrate: a batch of " + std::to_string(per_pass) + " sequences of " +
                            std::to_string(length) + " tokens" +
                            (with_gram ? " with Gram matrices for " + std::to_string(held) + " shard(s) in this process"
                                       : std::string()),
                        with_gram ? "--batch, or the shards per process (--shards, or more MPI ranks)"
                                  : "--batch (or --seq)");
  std::int64_t reported = 0;
  progress_bar bar("calibrate", rows_of_this_rank(sequences, plan) * length, "tok");
  pipeline::calibrate_options options;
  options.batch = batch;
  options.gram = with_gram;
  options.progress = [&](std::int64_t done, std::int64_t, const model::loss_sum& loss) {
    bar.advance((done - reported) * length, "ppl " + std::to_string(loss.perplexity()));
    reported = done;
  };
  const pipeline::calibration calibration =
      pipeline::calibrate(model, wrapped_sequences(ids, length, 0, sequences), options, world(), plan);
  if (!writer) return 0;
  const std::filesystem::path out = args.get("out");
  pipeline::save_calibration(calibration, out);
  const model::loss_sum loss = calibration.loss;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report result("calibrate");
  result.add("layers", static_cast<std::int64_t>(layers))
      .add("tokens", static_cast<std::int64_t>(sequences * length))
      .add("text", text_description(args))
      .add("calibration_perplexity", loss.perplexity())
      .add("gram", with_gram)
      .add("shards", plan.shards())
      .add("ranks", static_cast<std::int64_t>(world().size()))
      .add("out", out.string())
      .add("seconds", seconds);
  result.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
