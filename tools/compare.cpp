// gift compare: two evaluations of the same evaluation set (gift eval --sequence-losses), compared
// sequence by sequence (and replicate by replicate): the difference of their mean losses per token
// and its paired bootstrap confidence interval (pipeline::compare_replicates).
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

namespace {

// The comma-separated files of --a or --b, in order (one per replicate).
std::vector<std::string> file_list(const std::string& value) {
  std::vector<std::string> files;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = value.find(',', begin);
    files.push_back(value.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return files;
}

// Each file's per-sequence losses, every file checked to evaluate the sequences of `first`.
std::vector<std::vector<model::loss_sum>> replicate_losses(const std::vector<std::string>& files, const char* option,
                                                           std::vector<io::sequence_loss>& first) {
  std::vector<std::vector<model::loss_sum>> out;
  for (const auto& file : files) {
    gift::require(!file.empty(), "gift compare: ", option, " names an empty file in its list; give files separated "
                  "by single commas");
    const auto rows = io::read_sequence_losses(file);
    if (first.empty()) first = rows;
    gift::require(rows.size() == first.size(), "gift compare: ", file, " (", option, ") holds ", rows.size(),
                  " sequences but ", first.size(), " were expected; compare evaluations of the same evaluation set "
                  "(same text, --seq, --files, --sample-seed)");
    std::vector<model::loss_sum> losses;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      gift::require(rows[i].file == first[i].file && rows[i].offset == first[i].offset &&
                        rows[i].tokens == first[i].tokens,
                    "gift compare: sequence ", i, " is ", first[i].file, "@", first[i].offset, " (", first[i].tokens,
                    " tokens) in the first file but ", rows[i].file, "@", rows[i].offset, " (", rows[i].tokens,
                    " tokens) in ", file, " (", option, "); the files evaluate different sequences");
      losses.push_back({rows[i].nll, rows[i].tokens});
    }
    out.push_back(std::move(losses));
  }
  return out;
}

// exp of the mean loss per token over every replicate of a side.
double pooled_perplexity(const std::vector<std::vector<model::loss_sum>>& side) {
  double nll = 0, tokens = 0;
  for (const auto& replicate : side)
    for (const auto& s : replicate) {
      nll += s.nll;
      tokens += static_cast<double>(s.count);
    }
  return std::exp(nll / tokens);
}

}  // namespace

int run_compare(int argc, char** argv) {
  arguments args("compare",
                 "Paired comparison of evaluations of the same sequences: --b minus --a, in nats per predicted "
                 "token (negative: b is better), with a percentile bootstrap confidence interval, and the perplexity "
                 "ratio exp(difference). The files come from gift eval --sequence-losses on the same text, --seq, "
                 "--files and --sample-seed (or a sweep's cells/*/eval-*.losses.csv). With replicates (e.g. seeds) "
                 "give each side's files as a comma-separated list, paired by position (a side with one file pairs "
                 "with every file of the other); the difference is then the mean over replicates and the interval a "
                 "two-level bootstrap over replicates and sequences, as gift sweep's comparisons.csv.");
  args.option("a", "", "per-sequence losses of the reference (gift eval --sequence-losses); several replicates: "
                       "file,file,...", true)
      .option("b", "", "per-sequence losses of the model compared with it; several replicates: file,file,...", true)
      .integer_option("resamples", "2000", "bootstrap resamples", 100, 10000000)
      .number_option("level", "0.95", "confidence level of the interval", 0.5, 0.9999)
      .integer_option("seed", "0", "draws the resamples", 0, 9223372036854775807LL)
      .result_options();
  if (!args.parse(argc, argv, 2)) return 0;
  (void)require_writable_outputs(args, out_kind::none, "compare");
  std::vector<io::sequence_loss> first;
  const auto left = replicate_losses(file_list(args.get("a")), "--a", first);
  const auto right = replicate_losses(file_list(args.get("b")), "--b", first);
  gift::require(left.size() == right.size() || left.size() == 1 || right.size() == 1, "gift compare: --a lists ",
                left.size(), " files and --b ", right.size(), "; give both sides the same number of replicates "
                "(paired by position), or one file on a side with no random part");
  pipeline::bootstrap_options options;
  options.resamples = static_cast<int>(args.integer("resamples"));
  options.level = args.number("level");
  options.seed = static_cast<std::uint64_t>(args.integer("seed"));
  const auto d = pipeline::compare_replicates(left, right, options);
  report out("compare");
  out.add("a", args.get("a"))
      .add("b", args.get("b"))
      .add("replicates", d.replicates)
      .add("sequences", d.sequences)
      .add("tokens", d.tokens)
      .add("a_perplexity", pooled_perplexity(left))
      .add("b_perplexity", pooled_perplexity(right))
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
