// gift select: sensitivity scores per layer from the calibration statistics → salient columns.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/io/calibration_set.hpp>
#include <gift/io/salient_file.hpp>
#include <gift/metric.hpp>
#include <gift/model/empirical_fisher.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/type_list.hpp>
#include <gift/select.hpp>
#include <gift/stats.hpp>

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <ratio>

namespace gift::cli {

namespace {

// The quantizer behind D (--bits, --alpha) is passed at run time, so one instantiation per metric
// serves every bit-width (the compile-time presets stay what the library offers). Each metric is
// one instantiation of the library's harness, gift::model::select_model_salient<Metric>.
using stats_source = std::function<activation_stats(int, model::projection)>;
using selector = std::function<model::model_selection(const model::llama_model<float>&, const stats_source&,
                                                      const symmetric_options&, const model::selection_size&,
                                                      const std::function<void()>&)>;

template <class Metric>
selector make_selector() {
  return [](const model::llama_model<float>& m, const stats_source& stats, const symmetric_options& d,
            const model::selection_size& size, const std::function<void()>& tick) {
    return model::select_model_salient<Metric>(m, stats, d, size, tick);
  };
}

// τ, ρ and γ are compile-time policies in the library; the command line picks among the common
// ones (τ, ρ ∈ {1, 2, inf}, γ ∈ {1/2, 1, 2}, D = the quantization error of --bits/--alpha). The
// exponent δ of ‖D‖ is not an option: a ranking depends on γ/δ only, so --gamma covers it.
template <class Tau, class Rho>
selector with_gamma(const std::string& gamma) {
  if (gamma == "0.5" || gamma == "1/2") return make_selector<sensitivity<Tau, Rho, std::ratio<1, 2>, quantization_error<int4>>>();
  if (gamma == "1") return make_selector<sensitivity<Tau, Rho, std::ratio<1>, quantization_error<int4>>>();
  if (gamma == "2") return make_selector<sensitivity<Tau, Rho, std::ratio<2>, quantization_error<int4>>>();
  throw error("gift select: --gamma must be 0.5, 1 or 2, but is '" + gamma + "'");
}
template <class Tau>
selector with_rho(const std::string& rho, const std::string& gamma) {
  if (rho == "1") return with_gamma<Tau, l1>(gamma);
  if (rho == "2") return with_gamma<Tau, l2>(gamma);
  if (rho == "inf") return with_gamma<Tau, linf>(gamma);
  throw error("gift select: --rho must be 1, 2 or inf, but is '" + rho + "'");
}
selector custom(const std::string& tau, const std::string& rho, const std::string& gamma) {
  if (tau == "1") return with_rho<l1>(rho, gamma);
  if (tau == "2") return with_rho<l2>(rho, gamma);
  if (tau == "inf") return with_rho<linf>(rho, gamma);
  throw error("gift select: --tau must be 1, 2 or inf, but is '" + tau + "'");
}

// The presets, as a type list beside their command-line names (smoothquant is quik).
using presets = type_list<gift_sw, quik, owq, wanda_columns>;
constexpr std::array<const char*, 4> preset_names = {"gift_sw", "quik", "owq", "wanda_columns"};

selector preset(std::string name) {
  if (name == "smoothquant") name = "quik";
  selector chosen;
  std::size_t index = 0;
  for_each_type<presets>([&]<class Metric>() {
    if (name == preset_names[index++]) chosen = make_selector<Metric>();
  });
  if (!chosen)
    throw error("gift select: unknown --metric '" + name +
                "'; presets are gift_sw, quik, smoothquant, owq, wanda_columns (or give --tau/--rho/--gamma)");
  return chosen;
}

// gift select's options.
void declare_select_options(arguments& args) {
  model_options(args);
  text_options(args, "train");
  args.option("stats", "", "folder written by gift calibrate (every metric but fisher)")
      .option("out", "", "salient-column file to write", true)
      .option("metric", "gift_sw", "preset: gift_sw | quik | smoothquant | owq | wanda_columns | fisher")
      .integer_option("fisher-sequences", "16", "fisher: calibration sequences (from the start of the text)", 1, 1000000)
      .integer_option("seq", "256", "fisher: tokens per calibration sequence", 2, 1 << 20)
      .option("tau", "", "custom metric: norm of D = W - Q4(W) per column (1 | 2 | inf; default inf)")
      .option("rho", "", "custom metric: norm of the activations (1 | 2 | inf; default inf)")
      .option("gamma", "", "custom metric: activation exponent (0.5 | 1 | 2; default 1)")
      .integer_option("bits", "4", "bit-width of the quantizer whose error is D (use the one you quantize with)", 2, 8)
      .option("alpha", "grid100", "its scale search: max | grid<N> (the paper's grid; default grid100) | ref80")
      .integer_option("group-size", "0", "its scale groups: columns per scale (0: one scale per row; use the "
                                         "--group-size you quantize with)", 0, 1 << 20)
      .integer_option("k", "0", "salient columns per layer (0: use --fraction)", 0, 1 << 20)
      .number_option("fraction", "0.03125", "share of each layer's input columns (0.03125 = the paper's 128 of 4096)",
                     1e-9, 1.0)
      .result_options();
}

}  // namespace

int run_select(int argc, char** argv) {
  arguments args("select",
                 "Scores every input column of every linear layer, s_j = ||D_j||_tau * ||X_j||_rho^gamma, and keeps "
                 "the k highest as salient. --metric fisher instead scores column j by its empirical Fisher mass "
                 "sum_i sum_s (dL_s/dW_ij)^2 over --fisher-sequences sequences of --seq tokens of the text (NPFT's "
                 "sensitivity; no --stats needed).");
  declare_select_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const auto out_lock = require_writable_outputs(args, out_kind::file, "select");
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  const bool is_custom = args.given("tau") || args.given("rho") || args.given("gamma");
  gift::require(!(is_custom && args.given("metric")), "gift select: give either --metric (a preset) or ",
                "--tau/--rho/--gamma (a custom metric), not both: the preset would be ignored");
  // A custom metric takes the unset exponents from the defaults below; the name says all three.
  const std::string tau = args.get("tau").empty() ? "inf" : args.get("tau");
  const std::string rho = args.get("rho").empty() ? "inf" : args.get("rho");
  const std::string gamma = args.get("gamma").empty() ? "1" : args.get("gamma");
  const std::string metric_name = is_custom ? "tau=" + tau + " rho=" + rho + " gamma=" + gamma : args.get("metric");
  const bool by_fisher = !is_custom && args.get("metric") == "fisher";
  const selector select = is_custom ? custom(tau, rho, gamma) : by_fisher ? selector{} : preset(args.get("metric"));
  const symmetric_options d_quantizer{static_cast<int>(args.integer("bits")), parse_alpha(args.get("alpha"), "--alpha"),
                                      static_cast<std::size_t>(args.integer("group-size"))};
  gift::require(by_fisher || !args.get("stats").empty(), "gift select: --stats is required (the folder of gift ",
                "calibrate) for --metric ", metric_name, "; only --metric fisher works without it");
  const model::selection_size size{args.integer("k"), args.number("fraction")};
  std::optional<io::calibration_set> calibration;
  if (!by_fisher) calibration.emplace(io::calibration_set::open(args.get("stats")));
  auto model = load_model(args);
  io::salient_selection selection;
  std::int64_t total = 0, columns = 0;
  model::model_selection chosen;
  if (by_fisher) {
    const std::int64_t count = args.integer("fisher-sequences"), length = args.integer("seq");
    require_within_context(model, length, "--seq");
    const auto ids = load_text_tokens(args, load_tokenizer(args), count * length);
    progress_bar bar("fisher", count, "sequence");
    chosen = model::select_by_fisher(model::empirical_fisher(model, wrapped_sequences(ids, length, 0, count),
                                                             [&] { bar.advance(); }),
                                     size);
  } else {
    progress_bar bar("select", model.config().layers * model::projections_per_block, "layer");
    chosen = select(model, [&](int b, model::projection p) { return calibration->load_stats(layer_name(b, p)); },
                    d_quantizer, size, [&] { bar.advance(); });
  }
  for (int b = 0; b < model.config().layers; ++b) {
    for (model::projection p : model::all_projections) {
      salient_columns& layer = chosen[static_cast<std::size_t>(model::layer_id(b, p))];
      total += static_cast<std::int64_t>(layer.size());
      columns += static_cast<std::int64_t>(layer.columns());
      selection.emplace(layer_name(b, p), std::move(layer));
    }
  }
  io::write_salient_file(selection, args.get("out"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report result("select");
  result.add("metric", metric_name)
      .add("d_bits", args.integer("bits"))
      .add("d_alpha", args.get("alpha"))
      .add("d_group_size", args.integer("group-size"))
      .add("layers", static_cast<std::int64_t>(selection.size()))
      .add("salient_columns", total)
      .add("salient_share", static_cast<double>(total) / static_cast<double>(columns))
      .add("out", args.get("out"))
      .add("seconds", seconds);
  result.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
