// gift quantize: non-salient columns to b-bit symmetric (round-to-nearest or GPTQ), salient
// columns kept in full precision; writes the mixed-precision weights and Δ as safetensors. With
// --no-salient every column is quantized (NPFT's end product: no full-precision outliers).
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"

#include <gift/io/calibration_set.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/io/salient_file.hpp>
#include <gift/pipeline/quantize_model.hpp>
#include <gift/quant/alpha_search.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

namespace gift::cli {


namespace {

// gift quantize's options.
void declare_quantize_options(arguments& args) {
  model_options(args);
  args.option("salient", "", "salient-column file from gift select (or --no-salient)")
      .flag("no-salient", "quantize every column: no salient column is kept in full precision")
      .option("out", "", "safetensors file to write", true)
      .integer_option("bits", "4", "bit-width", 2, 8)
      .option("alpha", "grid100", "scale search: max | grid<N> (the paper's grid of N candidates; default grid100) | "
                                  "ref80 (authors' code)")
      .integer_option("group-size", "0", "columns per scale (rtn): 0 one scale per row; 32, 64, 128 one per group, each "
                                         "searched over its non-salient columns", 0, 1 << 20)
      .option("method", "rtn", "rtn (round to nearest) | gptq")
      .option("gram", "", "gram.safetensors from gift calibrate --gram (for --method gptq)")
      .result_options();
}

}  // namespace

int run_quantize(int argc, char** argv) {
  arguments args("quantize",
                 "Quantizes the non-salient columns of every linear layer to --bits (symmetric, per-row scale "
                 "searched over the non-salient columns), keeps the salient columns in full precision, and writes "
                 "the weights and the per-row steps (<layer>.delta) as safetensors. With --no-salient instead of "
                 "--salient every column is quantized, the scale searched over all of them (a fully quantized model, "
                 "as NPFT evaluates).");
  declare_quantize_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const bool fully_quantized = args.on("no-salient");
  gift::require(fully_quantized != !args.get("salient").empty(), "gift quantize: give either --salient ",
                "<file from gift select> (salient columns kept in full precision) or --no-salient (every ",
                "column quantized), ", fully_quantized ? "not both" : "but neither was given");
  const auto out_lock = require_writable_outputs(args, out_kind::file, "quantize");
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  const int bits = static_cast<int>(args.integer("bits"));
  const alpha_search search = parse_alpha(args.get("alpha"), "--alpha");
  const std::string method = args.get("method");
  gift::require(method == "rtn" || method == "gptq", "gift quantize: --method must be rtn or gptq, but is '",
                method, "'");
  const auto group_size = static_cast<std::size_t>(args.integer("group-size"));
  gift::require(group_size == 0 || method == "rtn", "gift quantize: --group-size ", group_size, " works with ",
                "--method rtn only (gift's GPTQ scales whole rows); drop --group-size or use --method rtn");
  std::optional<io::safetensors_file> grams;
  if (method == "gptq") {
    gift::require(!args.get("gram").empty(), "gift quantize: --method gptq needs --gram <gram.safetensors> "
                                                     "(write it with gift calibrate --gram)");
    // The Gram file must be the one its calibration run listed (not half of another run).
    const std::filesystem::path gram = args.get("gram");
    const auto folder = gram.has_parent_path() ? gram.parent_path() : std::filesystem::path(".");
    grams.emplace(io::safetensors_file::open(io::calibration_set::open(folder).verified(gram.filename().string())));
  }
  auto model = load_model(args);
  const io::salient_selection selection =
      fully_quantized ? io::salient_selection{} : io::read_salient_file(args.get("salient"));
  pipeline::quantize_options options;
  options.method = method == "rtn" ? pipeline::quantize_method::rtn : pipeline::quantize_method::gptq;
  options.bits = bits;
  options.search = search;
  options.group_size = group_size;
  progress_bar bar("quantize", model.config().layers * model::projections_per_block, "layer");
  const pipeline::quantized_model quantized = pipeline::quantize_model(
      model,
      [&](int b, model::projection p, std::size_t columns) {
        return fully_quantized ? salient_columns::none(columns) : io::salient_of(selection, layer_name(b, p));
      },
      options,
      [&](int b, model::projection p) -> gift::matrix<double> {
        return grams->read_matrix(layer_name(b, p) + ".gram").cast<double>();
      },
      [&] { bar.advance(); });
  bar.finish();
  // Group steps get their own name: `.delta` is one noise scale per row wherever it is read
  // (finetune computes per-row scales itself when a file has none).
  const auto& deltas = quantized.steps;
  const double relative_error = quantized.relative_error_non_salient;
  save_weights(model, args.get("out"), deltas,
               {{"gift.bits", std::to_string(bits)}, {"gift.method", method}, {"gift.alpha", args.get("alpha")},
                {"gift.group_size", std::to_string(group_size)},
                {"gift.salient", fully_quantized ? std::string("none") : args.get("salient")}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report result("quantize");
  result.add("bits", static_cast<std::int64_t>(bits))
      .add("method", method)
      .add("alpha", args.get("alpha"))
      .add("group_size", static_cast<std::int64_t>(group_size))
      .add("salient", fully_quantized ? std::string("none") : args.get("salient"))
      .add("relative_error_non_salient", relative_error)
      .add("out", args.get("out"))
      .add("seconds", seconds);
  result.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
