// gift compare: two evaluations of the same evaluation set (gift eval --sequence-losses), compared
// sequence by sequence: the difference of their mean losses per token and its paired bootstrap
// confidence interval (pipeline::compare_paired).
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/report.hpp"

#include <gift/io/sequence_losses.hpp>
#include <gift/pipeline/compare.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace gift::cli {

int run_compare(int argc, char** argv) {
  arguments args("compare",
                 "Paired comparison of two evaluations of the same sequences: --b minus --a, in nats per predicted "
                 "token (negative: b is better), with a percentile bootstrap confidence interval over the sequences, "
                 "and the perplexity ratio exp(difference). Both files come from gift eval --sequence-losses on the "
                 "same text, --seq, --files and --sample-seed.");
  args.option("a", "", "per-sequence losses of the reference (gift eval --sequence-losses)", true)
      .option("b", "", "per-sequence losses of the model compared with it", true)
      .integer_option("resamples", "2000", "bootstrap resamples", 100, 10000000)
      .number_option("level", "0.95", "confidence level of the interval", 0.5, 0.9999)
      .integer_option("seed", "0", "draws the resamples", 0, 9223372036854775807LL)
      .flag("json", "print the result as JSON on stdout")
      .option("output-json", "", "also write the JSON result to this file");
  if (!args.parse(argc, argv, 2)) return 0;
  (void)require_writable_outputs(args, out_kind::none, "compare");
  const auto a = io::read_sequence_losses(args.get("a"));
  const auto b = io::read_sequence_losses(args.get("b"));
  gift::require(a.size() == b.size(), "gift compare: --a holds ", a.size(), " sequences and --b ", b.size(),
                "; compare two evaluations of the same evaluation set (same text, --seq, --files, "
                "--sample-seed)");
  std::vector<model::loss_sum> left, right;
  for (std::size_t i = 0; i < a.size(); ++i) {
    gift::require(a[i].file == b[i].file && a[i].offset == b[i].offset && a[i].tokens == b[i].tokens,
                  "gift compare: sequence ", i, " is ", a[i].file, "@", a[i].offset, " (", a[i].tokens,
                  " tokens) in --a but ", b[i].file, "@", b[i].offset, " (", b[i].tokens,
                  " tokens) in --b; the two files evaluate different sequences");
    left.push_back({a[i].nll, a[i].tokens});
    right.push_back({b[i].nll, b[i].tokens});
  }
  pipeline::bootstrap_options options;
  options.resamples = static_cast<int>(args.integer("resamples"));
  options.level = args.number("level");
  options.seed = static_cast<std::uint64_t>(args.integer("seed"));
  const auto d = pipeline::compare_paired(left, right, options);
  double a_sum = 0, b_sum = 0;
  for (std::size_t i = 0; i < left.size(); ++i) {
    a_sum += left[i].nll;
    b_sum += right[i].nll;
  }
  const double tokens = static_cast<double>(d.tokens);
  report out("compare");
  out.add("a", args.get("a"))
      .add("b", args.get("b"))
      .add("sequences", d.sequences)
      .add("tokens", d.tokens)
      .add("a_perplexity", std::exp(a_sum / tokens))
      .add("b_perplexity", std::exp(b_sum / tokens))
      .add("difference_nats_per_token", d.difference)
      .add("ci_low", d.low)
      .add("ci_high", d.high)
      .add("level", d.level)
      .add("perplexity_ratio", d.perplexity_ratio())
      .add("perplexity_ratio_ci_low", std::exp(d.low))
      .add("perplexity_ratio_ci_high", std::exp(d.high))
      .add("differ", d.excludes_zero())
      .add("resamples", static_cast<std::int64_t>(d.resamples));
  out.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
