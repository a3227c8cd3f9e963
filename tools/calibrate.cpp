// gift calibrate: per-layer input statistics (and optionally Gram matrices for GPTQ) → files.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/distributed.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/distributed/merge_shards.hpp>
#include <gift/gram.hpp>
#include <gift/io/calibration_set.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/model/memory_estimate.hpp>
#include <gift/stats.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace gift::cli {

namespace {
// q, k and v read the same normalised input, and so do gate and up: one accumulator serves each
// group, saved under every member's name.
model::projection input_owner(model::projection p) {
  switch (p) {
    case model::projection::k: case model::projection::v: return model::projection::q;
    case model::projection::up: return model::projection::gate;
    default: return p;
  }
}
}  // namespace

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
      .flag("json", "print the result as JSON on stdout")
      .option("output-json", "", "also write the JSON result to this file");
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
  // Each shard of sequences (this rank's ones) accumulates from zero; the shards are merged in
  // shard order below, so the statistics depend on --shards, not on the number of ranks.
  const int me = world().rank();
  const auto owned = static_cast<std::size_t>(plan.count(me));
  std::vector<std::vector<activation_stats>> stats(layers);
  std::vector<std::vector<gram_accumulator>> grams(layers);
  for (int b = 0; b < config.layers; ++b) {
    for (model::projection p : model::all_projections) {
      if (input_owner(p) != p) continue;
      const auto id = static_cast<std::size_t>(model::layer_id(b, p));
      const auto in = static_cast<std::size_t>(model.linear(b, p).in_features());
      stats[id].assign(owned, activation_stats(in));
      if (with_gram) grams[id].assign(owned, gram_accumulator(in));
    }
  }
  std::size_t shard = 0;
  model.set_calibration_hook([&](int block, model::projection p, const gift::matrix<float>& x) {
    if (input_owner(p) != p) return;
    const auto id = static_cast<std::size_t>(model::layer_id(block, p));
    stats[id][shard].update(x);
    if (with_gram) grams[id][shard].update(x);
  });
  std::vector<double> shard_losses;  // nll, count per owned shard
  {
    std::int64_t mine = 0;
    for (std::int64_t k = 0; k < plan.count(me); ++k) {
      const auto [begin, end] = distributed::shard_plan::items_of(sequences, plan.shards(), plan.first(me) + k);
      mine += end - begin;
    }
    progress_bar bar("calibrate", mine * length, "tok");
    for (shard = 0; shard < owned; ++shard) {
      const auto [begin, end] =
          distributed::shard_plan::items_of(sequences, plan.shards(), plan.first(me) + static_cast<std::int64_t>(shard));
      model::loss_sum loss;
      for (std::int64_t first = begin; first < end; first += batch) {
        const auto count = std::min(batch, end - first);
        loss += model.evaluate(wrapped_sequences(ids, length, first, count));
        bar.advance(count * length, "ppl " + std::to_string(loss.perplexity()));
      }
      shard_losses.push_back(loss.nll);
      shard_losses.push_back(static_cast<double>(loss.count));
    }
  }
  model.set_calibration_hook({});
  std::vector<double> total(2);
  distributed::ordered_sum(world(), plan, std::span<const double>(shard_losses), std::span<double>(total));
  const model::loss_sum loss{total[0], static_cast<std::int64_t>(total[1])};
  std::vector<std::unique_ptr<activation_stats>> merged_stats(layers);
  std::vector<std::unique_ptr<gram_accumulator>> merged_grams(layers);
  for (std::size_t id = 0; id < layers; ++id) {
    if (stats[id].empty()) continue;
    merged_stats[id] = std::make_unique<activation_stats>(
        distributed::merge_shards(world(), plan, std::span<const activation_stats>(stats[id])));
    stats[id].clear();
    if (!with_gram) continue;
    merged_grams[id] = std::make_unique<gram_accumulator>(
        distributed::merge_shards(world(), plan, std::span<const gram_accumulator>(grams[id])));
    grams[id].clear();
  }
  if (!writer) return 0;
  const std::filesystem::path out = args.get("out");
  std::filesystem::create_directories(out);
  // The manifest goes first and comes back last: a run stopped in between leaves no manifest,
  // and select/quantize refuse the folder instead of mixing two runs.
  auto manifest = io::calibration_set::begin(out, static_cast<std::uint64_t>(sequences * length));
  io::safetensors_writer gram_file;
  for (int b = 0; b < config.layers; ++b) {
    for (model::projection p : model::all_projections) {
      const auto owner = static_cast<std::size_t>(model::layer_id(b, input_owner(p)));
      merged_stats[owner]->save(out / (layer_name(b, p) + ".stats"));
      manifest.add(layer_name(b, p) + ".stats");
      if (with_gram) gram_file.add(layer_name(b, p) + ".gram", merged_grams[owner]->gram().cast<float>());
    }
  }
  if (with_gram) {
    gram_file.write(out / "gram.safetensors");
    manifest.add("gram.safetensors");
  }
  manifest.commit();
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
