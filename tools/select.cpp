// gift select: sensitivity scores per layer from the calibration statistics → salient columns.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/calibration_set.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"

#include <gift/metric.hpp>
#include <gift/select.hpp>
#include <gift/stats.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <ratio>

namespace gift::cli {

namespace {

// The quantizer behind D (--bits, --alpha): passed at run time, so one instantiation per metric
// serves every bit-width (the compile-time presets stay what the library offers).
using scorer = std::function<gift::vector<double>(const gift::matrix<float>&, const activation_stats&,
                                                  const symmetric_options&)>;

template <class Metric>
scorer make_scorer() {
  return [](const gift::matrix<float>& w, const activation_stats& s, const symmetric_options& q) {
    return column_sensitivity<Metric>(w, s, q);
  };
}

// τ, ρ and γ are compile-time policies in the library; the command line picks among the common
// ones (τ, ρ ∈ {1, 2, inf}, γ ∈ {1/2, 1, 2}, D = the quantization error of --bits/--alpha).
template <class Tau, class Rho>
scorer with_gamma(const std::string& gamma) {
  if (gamma == "0.5" || gamma == "1/2") return make_scorer<sensitivity<Tau, Rho, std::ratio<1, 2>, quantization_error<int4>>>();
  if (gamma == "1") return make_scorer<sensitivity<Tau, Rho, std::ratio<1>, quantization_error<int4>>>();
  if (gamma == "2") return make_scorer<sensitivity<Tau, Rho, std::ratio<2>, quantization_error<int4>>>();
  throw error("gift select: --gamma must be 0.5, 1 or 2, but is '" + gamma + "'");
}
template <class Tau>
scorer with_rho(const std::string& rho, const std::string& gamma) {
  if (rho == "1") return with_gamma<Tau, l1>(gamma);
  if (rho == "2") return with_gamma<Tau, l2>(gamma);
  if (rho == "inf") return with_gamma<Tau, linf>(gamma);
  throw error("gift select: --rho must be 1, 2 or inf, but is '" + rho + "'");
}
scorer custom(const std::string& tau, const std::string& rho, const std::string& gamma) {
  if (tau == "1") return with_rho<l1>(rho, gamma);
  if (tau == "2") return with_rho<l2>(rho, gamma);
  if (tau == "inf") return with_rho<linf>(rho, gamma);
  throw error("gift select: --tau must be 1, 2 or inf, but is '" + tau + "'");
}
scorer preset(const std::string& name) {
  if (name == "gift_sw") return make_scorer<gift_sw>();
  if (name == "quik" || name == "smoothquant") return make_scorer<quik>();
  if (name == "owq") return make_scorer<owq>();
  if (name == "wanda_columns") return make_scorer<wanda_columns>();
  throw error("gift select: unknown --metric '" + name +
              "'; presets are gift_sw, quik, smoothquant, owq, wanda_columns (or give --tau/--rho/--gamma)");
}

}  // namespace

int run_select(int argc, char** argv) {
  arguments args("select",
                 "Scores every input column of every linear layer, s_j = ||D_j||_tau * ||X_j||_rho^gamma, and keeps "
                 "the k highest as salient.");
  model_options(args);
  args.option("stats", "", "folder written by gift calibrate", true)
      .option("out", "", "salient-column file to write", true)
      .option("metric", "gift_sw", "preset: gift_sw | quik | smoothquant | owq | wanda_columns")
      .option("tau", "", "custom metric: norm of D = W - Q4(W) per column (1 | 2 | inf; default inf)")
      .option("rho", "", "custom metric: norm of the activations (1 | 2 | inf; default inf)")
      .option("gamma", "", "custom metric: activation exponent (0.5 | 1 | 2; default 1)")
      .integer_option("bits", "4", "bit-width of the quantizer whose error is D (use the one you quantize with)", 2, 8)
      .option("alpha", "grid100", "its scale search: max | grid<N> (the paper's grid; default grid100) | ref80")
      .integer_option("k", "0", "salient columns per layer (0: use --fraction)", 0, 1 << 20)
      .number_option("fraction", "0.03125", "share of each layer's input columns (0.03125 = the paper's 128 of 4096)",
                     1e-9, 1.0)
      .flag("json", "print the result as JSON on stdout")
      .option("output-json", "", "also write the JSON result to this file");
  if (!args.parse(argc, argv, 2)) return 0;
  require_writable_outputs(args, out_kind::file);
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  const bool is_custom = args.given("tau") || args.given("rho") || args.given("gamma");
  gift::detail::require(!(is_custom && args.given("metric")), "gift select: give either --metric (a preset) or ",
                        "--tau/--rho/--gamma (a custom metric), not both: the preset would be ignored");
  // A custom metric takes the unset exponents from the defaults below; the name says all three.
  const std::string tau = args.get("tau").empty() ? "inf" : args.get("tau");
  const std::string rho = args.get("rho").empty() ? "inf" : args.get("rho");
  const std::string gamma = args.get("gamma").empty() ? "1" : args.get("gamma");
  const std::string metric_name = is_custom ? "tau=" + tau + " rho=" + rho + " gamma=" + gamma : args.get("metric");
  const scorer score = is_custom ? custom(tau, rho, gamma) : preset(args.get("metric"));
  const symmetric_options d_quantizer{static_cast<int>(args.integer("bits")), parse_alpha(args.get("alpha"), "--alpha"),
                                      0};
  const calibration_set calibration = calibration_set::open(args.get("stats"));
  auto model = load_model(args);
  salient_map selection;
  std::int64_t total = 0, columns = 0;
  const auto k = args.integer("k");
  {
    progress_bar bar("select", model.config().layers * model::projections_per_block, "layer");
    for (int b = 0; b < model.config().layers; ++b) {
      for (model::projection p : model::all_projections) {
        const std::string name = layer_name(b, p);
        const auto stats = calibration.load_stats(name);
        const gift::matrix<float> weight = model.linear(b, p).effective_weight();
        const gift::vector<double> scores = score(weight, stats, d_quantizer);
        salient_columns chosen = k > 0 ? select_salient(scores, k) : select_salient(scores, fraction{args.number("fraction")});
        total += static_cast<std::int64_t>(chosen.size());
        columns += weight.cols();
        selection.emplace(name, std::move(chosen));
        bar.advance();
      }
    }
  }
  save_salient(selection, args.get("out"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report result("select");
  result.add("metric", metric_name)
      .add("d_bits", args.integer("bits"))
      .add("d_alpha", args.get("alpha"))
      .add("layers", static_cast<std::int64_t>(selection.size()))
      .add("salient_columns", total)
      .add("salient_share", static_cast<double>(total) / static_cast<double>(columns))
      .add("out", args.get("out"))
      .add("seconds", seconds);
  result.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
