// gift eval: perplexity on held-out text — the first --tokens of the split, or a window sample
// across --files files (pipeline::sample_windows) — with every sequence's loss kept on request
// (--sequence-losses) for paired comparisons (gift compare).
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/device.hpp"
#include "cli/distributed.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/io/sequence_losses.hpp>
#include <gift/pipeline/evaluate.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gift::cli {

int run_eval(int argc, char** argv) {
  arguments args("eval", "Perplexity of the model (optionally with --weights) on validation text.");
  model_options(args);
  text_options(args, "validation");
  args.integer_option("tokens", "16384", "evaluate on the first N tokens of the split (whole sequences)", 1,
                      1000000000)
      .integer_option("seq", "256", "sequence length", 2, 1 << 20)
      .integer_option("batch", "4", "sequences per forward pass", 1, 4096)
      .integer_option("files", "0", "evaluate windows sampled across this many files of the split (linux-doc, "
                                    "fortunes), --windows-per-file --seq-token windows from each, instead of the first "
                                    "--tokens tokens (0: the first tokens)", 0, 1000000)
      .integer_option("windows-per-file", "1", "with --files: windows from each file (fewer if it is short)", 1, 1000000)
      .integer_option("sample-seed", "0", "with --files: draws the files and the windows' positions", 0,
                      9223372036854775807LL)
      .option("sequence-losses", "", "write every sequence's loss to this CSV file (for gift compare)")
      .option("label", "", "a name for this result in the table/JSON")
      .flag("json", "print the result as JSON on stdout (the table goes to stderr)")
      .option("output-json", "", "also write the JSON result to this file");
  shard_options(args, "sequences");
  device_option(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const device chosen = parse_device(args);
  hand_over_to_cuda_build(chosen, world().size(), argv);
  if (world().rank() == 0) {
    require_writable_outputs(args, out_kind::none);
    if (!args.get("sequence-losses").empty()) require_writable_file(args.get("sequence-losses"), "--sequence-losses");
  }
  set_threads(args);
  const auto plan = shard_plan_of(args);
  const auto start = std::chrono::steady_clock::now();
  auto model = load_model(args);
  const auto tokenizer = load_tokenizer(args);
  const std::int64_t length = args.integer("seq");
  // The evaluation set: whole sequences of the first --tokens tokens, or windows across --files files.
  model::token_matrix sequences;
  std::vector<io::sequence_loss> rows;
  std::int64_t files_used = 0;
  if (args.integer("files") > 0) {
    pipeline::window_options options;
    options.length = length;
    options.files = args.integer("files");
    options.windows_per_file = args.integer("windows-per-file");
    options.seed = static_cast<std::uint64_t>(args.integer("sample-seed"));
    auto windows = sample_text_windows(args, tokenizer, options);
    files_used = windows.files_used();
    for (std::size_t r = 0; r < windows.files.size(); ++r) rows.push_back({windows.files[r], windows.offsets[r], 0, 0});
    sequences = std::move(windows.tokens);
    const std::vector<std::int32_t> flat(sequences.data(), sequences.data() + sequences.size());
    require_same_run(args, "eval", model, flat);
  } else {
    const auto ids = load_text_tokens(args, tokenizer, args.integer("tokens"));
    require_same_run(args, "eval", model, ids);
    sequences = whole_sequences(ids, length);
    for (Eigen::Index r = 0; r < sequences.rows(); ++r) rows.push_back({"-", r * length, 0, 0});
  }
  gift::detail::require(sequences.rows() >= plan.shards(), "gift eval: ", sequences.rows(), " sequence(s) of ", length,
                        " cannot fill ", plan.shards(), " shards; use more --tokens (or --files) or fewer --shards");
  // Off Eigen the model computes on the chosen backend (every layer at its effective weight).
  const auto result = on_device(chosen, model, [&](auto& on) {
    auto bar = std::make_shared<progress_bar>("eval", rows_of_this_rank(sequences.rows(), plan) * length, "tok");
    return pipeline::evaluate(on, sequences, evaluate_with_progress(args.integer("batch"), length, bar), world(), plan);
  });
  const model::loss_sum loss = result.total;
  if (world().rank() == 0 && !args.get("sequence-losses").empty()) {
    for (std::size_t r = 0; r < rows.size(); ++r) {
      rows[r].tokens = result.sequences[r].count;
      rows[r].nll = result.sequences[r].nll;
    }
    io::write_sequence_losses(args.get("sequence-losses"), rows);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report out("eval");
  if (!args.get("label").empty()) out.add("label", args.get("label"));
  out.add("weights", args.get("weights").empty()
                                ? "original (" + std::string(model::name_of(model::model_format_of(model_path(args)))) + ")"
                                : args.get("weights"))
      .add("text", text_description(args))
      .add("sequences", static_cast<std::int64_t>(sequences.rows()))
      .add("files", files_used)
      .add("tokens_predicted", loss.count)
      .add("mean_nll", loss.mean())
      .add("perplexity", loss.perplexity())
      .add("device", args.get("device"))
      .add("shards", plan.shards())
      .add("ranks", static_cast<std::int64_t>(world().size()))
      .add("seconds", seconds);
  out.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
