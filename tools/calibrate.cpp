// gift calibrate: per-layer input statistics (and optionally Gram matrices for GPTQ) → files.
#include "cli/args.hpp"
#include "cli/calibration_set.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/gram.hpp>
#include <gift/io/safetensors.hpp>
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
  if (!args.parse(argc, argv, 2)) return 0;
  require_writable_outputs(args, out_kind::folder);
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  auto model = load_model(args);
  const auto tokenizer = load_tokenizer(args);
  const auto ids = load_text_tokens(args, tokenizer, args.integer("tokens"));
  const auto& config = model.config();
  const auto layers = static_cast<std::size_t>(config.layers * model::projections_per_block);
  std::vector<std::unique_ptr<activation_stats>> stats(layers);
  std::vector<std::unique_ptr<gram_accumulator>> grams(layers);
  const bool with_gram = args.on("gram");
  for (int b = 0; b < config.layers; ++b) {
    for (model::projection p : model::all_projections) {
      if (input_owner(p) != p) continue;
      const auto id = static_cast<std::size_t>(model::layer_id(b, p));
      const auto in = static_cast<std::size_t>(model.linear(b, p).in_features());
      stats[id] = std::make_unique<activation_stats>(in);
      if (with_gram) grams[id] = std::make_unique<gram_accumulator>(in);
    }
  }
  model.set_calibration_hook([&](int block, model::projection p, const gift::matrix<float>& x) {
    if (input_owner(p) != p) return;
    const auto id = static_cast<std::size_t>(model::layer_id(block, p));
    stats[id]->update(x);
    if (grams[id]) grams[id]->update(x);
  });
  const std::int64_t length = args.integer("seq"), batch = args.integer("batch");
  const auto sequences = static_cast<std::int64_t>(ids.size()) / length;
  gift::detail::require(sequences > 0, "gift calibrate: not enough text for one sequence of ", length);
  model::loss_sum loss;
  {
    progress_bar bar("calibrate", sequences * length, "tok");
    for (std::int64_t first = 0; first < sequences; first += batch) {
      const auto count = std::min(batch, sequences - first);
      loss += model.evaluate(wrapped_sequences(ids, length, first, count));
      bar.advance(count * length, "ppl " + std::to_string(loss.perplexity()));
    }
  }
  model.set_calibration_hook({});
  const std::filesystem::path out = args.get("out");
  std::filesystem::create_directories(out);
  // The manifest goes first and comes back last: a run stopped in between leaves no manifest,
  // and select/quantize refuse the folder instead of mixing two runs.
  auto manifest = calibration_set::begin(out, static_cast<std::uint64_t>(sequences * length));
  io::safetensors_writer gram_file;
  for (int b = 0; b < config.layers; ++b) {
    for (model::projection p : model::all_projections) {
      const auto owner = static_cast<std::size_t>(model::layer_id(b, input_owner(p)));
      stats[owner]->save(out / (layer_name(b, p) + ".stats"));
      manifest.add(layer_name(b, p) + ".stats");
      if (with_gram) gram_file.add(layer_name(b, p) + ".gram", grams[owner]->gram().cast<float>());
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
      .add("out", out.string())
      .add("seconds", seconds);
  result.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
