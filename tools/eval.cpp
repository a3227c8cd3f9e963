// gift eval: perplexity on held-out text — the first --tokens of the split, or a window sample
// across --files files (pipeline::sample_windows) — with every sequence's loss kept on request
// (--sequence-losses) for paired comparisons (gift compare) — or zero-shot multiple-choice
// accuracy on a task built from the split's documents (--task, pipeline/multiple_choice.hpp).
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/device.hpp"
#include "cli/distributed.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/model/memory_estimate.hpp>
#include <gift/stored_weight.hpp>
#include <gift/io/sequence_losses.hpp>
#include <gift/pipeline/evaluate.hpp>
#include <gift/pipeline/multiple_choice.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gift::cli {

namespace {
/// The task's items (--task next_passage or final_word), built by the library from the split's
/// documents in the task's seeded order, read until enough can give an item.
std::vector<pipeline::choice_item> task_items_of(const arguments& args, const io::tokenizer& tokenizer) {
  const std::string task = args.get("task");
  const std::uint64_t seed = static_cast<std::uint64_t>(args.integer("sample-seed"));
  const std::int64_t wanted = args.integer("task-items"), choices = args.integer("task-choices");
  split_files split = files_of_split(args);
  std::sort(split.files.begin(), split.files.end(), [&](const std::string& a, const std::string& b) {
    const double at_a = io::hash_position(a, seed), at_b = io::hash_position(b, seed);
    return at_a != at_b ? at_a < at_b : a < b;
  });
  std::vector<pipeline::choice_item> items;
  if (task == "next_passage") {
    pipeline::next_passage_options options;
    options.items = wanted;
    options.context = args.integer("task-context");
    options.continuation = args.integer("task-continuation");
    options.choices = choices;
    options.seed = seed;
    std::vector<std::pair<std::string, std::vector<std::int32_t>>> documents;
    std::int64_t long_documents = 0;
    for (const auto& name : split.files) {
      if (long_documents >= options.items + options.choices) break;
      std::vector<std::int32_t> ids;
      tokenizer.encode_append(split.read(name), ids);
      long_documents += static_cast<std::int64_t>(ids.size()) >= options.context + options.continuation ? 1 : 0;
      documents.emplace_back(name, std::move(ids));
    }
    items = pipeline::next_passage_items(documents, [&](const std::vector<std::int32_t>& ids) {
      return static_cast<std::int64_t>(tokenizer.decode(ids).size());
    }, options);
  } else {
    pipeline::final_word_options options;
    options.items = wanted;
    options.context = args.integer("task-context");
    options.choices = choices;
    options.seed = seed;
    // Twice the documents the items need: some hold no sentence-final word, a few give no
    // distinct distractors.
    std::vector<std::pair<std::string, std::string>> documents;
    for (const auto& name : split.files) {
      if (static_cast<std::int64_t>(documents.size()) >= 2 * (options.items + options.choices)) break;
      documents.emplace_back(name, split.read(name));
    }
    items = pipeline::final_word_items(documents, [&](std::string_view text) {
      std::vector<std::int32_t> ids;
      tokenizer.encode_append(std::string(text), ids);
      return ids;
    }, options);
  }
  return items;
}

/// What the "weights" field of the report says: --weights, or the model's own with its format
/// (an exported fine-tuned folder is not "the original").
std::string weights_label(const arguments& args) {
  return args.get("weights").empty()
             ? "the model's own (" + std::string(model::name_of(model::model_format_of(model_path(args)))) + ": " +
                   model_path(args) + ")"
             : args.get("weights");
}

// --task: build the items from the split's documents, score them, report accuracy with its
// Wilson interval.
template <class Model>
int run_eval_task(const arguments& args, device chosen, Model& model, const io::tokenizer& tokenizer,
             std::chrono::steady_clock::time_point start) {
  const std::int64_t choices = args.integer("task-choices");
  const std::vector<pipeline::choice_item> items = task_items_of(args, tokenizer);
  std::vector<std::int32_t> flat;
  for (const auto& item : items) {
    flat.insert(flat.end(), item.context.begin(), item.context.end());
    for (const auto& c : item.choices) flat.insert(flat.end(), c.begin(), c.end());
  }
  require_same_run(args, "eval", model, flat);
  const auto scores = on_device(chosen, model, [&](auto& on) {
    progress_bar bar("eval " + args.get("task"), static_cast<std::int64_t>(items.size()), "item");
    return pipeline::score_choices(on, items, [&](std::int64_t, std::int64_t) { bar.advance(1); });
  });
  if (!args.get("item-results").empty()) {
    std::vector<io::sequence_loss> rows;
    for (std::size_t i = 0; i < items.size(); ++i)
      rows.push_back({items[i].source, 0, 1, scores.correct[i] ? 0.0 : 1.0});
    io::write_sequence_losses(args.get("item-results"), rows);
  }
  const auto [low, high] = scores.interval();
  const auto [low_norm, high_norm] = scores.interval(0.95, true);
  report out("eval");
  if (!args.get("label").empty()) out.add("label", args.get("label"));
  out.add("weights", weights_label(args))
      .add("text", text_description(args))
      .add("task", args.get("task"))
      .add("items", static_cast<std::int64_t>(items.size()))
      .add("choices", choices)
      .add("accuracy", scores.accuracy())
      .add("accuracy_ci_low", low)
      .add("accuracy_ci_high", high)
      .add("accuracy_norm", scores.accuracy_norm())
      .add("accuracy_norm_ci_low", low_norm)
      .add("accuracy_norm_ci_high", high_norm)
      .add("chance", 1.0 / static_cast<double>(choices))
      .add("device", args.get("device"))
      .add("storage", args.get("storage"))
      .add("peak_resident_mib", static_cast<double>(model::peak_resident_bytes()) / (1 << 20))
      .add("seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  out.emit(args.on("json"), args.get("output-json"));
  return 0;
}

// gift eval's options.
void declare_eval_options(arguments& args) {
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
      .option("task", "", "instead of perplexity, zero-shot accuracy on a multiple-choice task built from the "
                          "split's documents: next_passage (choose a passage's true continuation among candidates "
                          "of the same length from other documents) or final_word (choose a sentence's last word "
                          "among the sentence-final words of other documents)")
      .integer_option("task-items", "64", "with --task: items, one per document", 1, 1000000)
      .integer_option("task-context", "96", "with --task: context tokens per item", 1, 1 << 20)
      .integer_option("task-continuation", "32", "with --task next_passage: tokens per candidate", 1, 1 << 20)
      .integer_option("task-choices", "4", "with --task: candidates per item", 2, 26)
      .option("item-results", "", "with --task: write every item's correctness (1 − correct as a loss of one "
                                  "token, so gift compare gives the paired accuracy difference) to this CSV file")
      .option("storage", "f32", "--device eigen: hold the linear weights as f32 or bf16 (half the memory, each "
                                "weight rounded once; products stay fp32)")
      .option("label", "", "a name for this result in the table/JSON")
      .result_options("result", " (the table goes to stderr)");
  shard_options(args, "sequences");
  device_option(args);
}

// The sequences gift eval scores, one row each of where it came from (file and offset), and how
// many files they came from (0 for the first --tokens tokens of the split).
struct eval_sequences {
  model::token_matrix tokens;
  std::vector<io::sequence_loss> rows;
  std::int64_t files_used = 0;
};

// Whole sequences of the first --tokens tokens, or --windows-per-file windows across --files files;
// the same text as the run whose weights --weights holds (require_same_run).
template <class Model, class Tokenizer>
eval_sequences read_eval_sequences(arguments& args, Model& model, const Tokenizer& tokenizer) {
  eval_sequences set;
  const std::int64_t length = args.integer("seq");
  if (args.integer("files") > 0) {
    pipeline::window_options options;
    options.length = length;
    options.files = args.integer("files");
    options.windows_per_file = args.integer("windows-per-file");
    options.seed = static_cast<std::uint64_t>(args.integer("sample-seed"));
    auto windows = sample_text_windows(args, tokenizer, options);
    set.files_used = windows.files_used();
    for (std::size_t r = 0; r < windows.files.size(); ++r) set.rows.push_back({windows.files[r], windows.offsets[r], 0, 0});
    set.tokens = std::move(windows.tokens);
    const std::vector<std::int32_t> flat(set.tokens.data(), set.tokens.data() + set.tokens.size());
    require_same_run(args, "eval", model, flat);
  } else {
    const auto ids = load_text_tokens(args, tokenizer, args.integer("tokens"));
    require_same_run(args, "eval", model, ids);
    set.tokens = whole_sequences(ids, length);
    for (Eigen::Index r = 0; r < set.tokens.rows(); ++r) set.rows.push_back({"-", r * length, 0, 0});
  }
  return set;
}

// Perplexity: the evaluation set's per-sequence losses, written with --sequence-losses, and the
// forward passes' speed.
template <class Model>
int run_eval_perplexity(arguments& args, device chosen, const distributed::shard_plan& plan, Model& model,
                        const io::tokenizer& tokenizer, std::chrono::steady_clock::time_point start) {
  const std::int64_t length = args.integer("seq");
  // The evaluation set: whole sequences of the first --tokens tokens, or windows across --files files.
  eval_sequences set = read_eval_sequences(args, model, tokenizer);
  const model::token_matrix& sequences = set.tokens;
  std::vector<io::sequence_loss>& rows = set.rows;
  const std::int64_t files_used = set.files_used;
  gift::require(sequences.rows() >= plan.shards(), "gift eval: ", sequences.rows(), " sequence(s) of ", length,
                " cannot fill ", plan.shards(), " shards; use more --tokens (or --files) or fewer --shards");
  // The activations of one forward pass, estimated before the first (host backends: CUDA's live
  // on the GPU): a batch too large for the machine is refused, naming the option to lower.
  if (chosen != device::cuda) {
    const std::int64_t per_pass = std::min<std::int64_t>(args.integer("batch"), sequences.rows());
    model::require_memory(model::evaluation_bytes(model.config(), per_pass, length),
                          "gift eval: a batch of " + std::to_string(per_pass) + " sequences of " +
                              std::to_string(length) + " tokens",
                          "--batch (or --seq)");
  }
  // Off Eigen the model computes on the chosen backend (every layer at its effective weight). The
  // forward passes are timed alone (no loading, no tokenizing): tokens_per_second is the figure to
  // hold against another engine's prompt-evaluation speed (benchmarks/llama_cpp_eval.py).
  const auto forward_start = std::chrono::steady_clock::now();
  const auto result = on_device(chosen, model, [&](auto& on) {
    auto bar = std::make_shared<progress_bar>("eval", rows_of_this_rank(sequences.rows(), plan) * length, "tok");
    return pipeline::evaluate(on, sequences, evaluate_with_progress(args.integer("batch"), length, bar), world(), plan);
  });
  const double forward_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - forward_start).count();
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
  out.add("weights", weights_label(args))
      .add("text", text_description(args))
      .add("sequences", static_cast<std::int64_t>(sequences.rows()))
      .add("files", files_used)
      .add("tokens_predicted", loss.count)
      .add("mean_nll", loss.mean())
      .add("perplexity", loss.perplexity())
      .add("device", args.get("device"))
      .add("storage", args.get("storage"))
      .add("peak_resident_mib", static_cast<double>(model::peak_resident_bytes()) / (1 << 20))
      .add("shards", plan.shards())
      .add("ranks", static_cast<std::int64_t>(world().size()))
      .add("forward_seconds", forward_seconds)
      .add("tokens_per_second", static_cast<double>(sequences.size()) / forward_seconds)
      .add("seconds", seconds);
  out.emit(args.on("json"), args.get("output-json"));
  return 0;
}
}  // namespace

int run_eval(int argc, char** argv) {
  arguments args("eval", "Perplexity of the model (optionally with --weights) on validation text.");
  declare_eval_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const device chosen = parse_device(args);
  hand_over_to_cuda_build(chosen, world().size(), argv);
  const auto plan = shard_plan_of(args);
  if (world().rank() == 0) {
    (void)require_writable_outputs(args, out_kind::none, "eval");
    if (!args.get("sequence-losses").empty()) require_writable_file(args.get("sequence-losses"), "--sequence-losses");
    if (!args.get("item-results").empty()) require_writable_file(args.get("item-results"), "--item-results");
  }
  gift::require(args.get("task").empty() || args.get("task") == "next_passage" || args.get("task") == "final_word",
                "gift eval: --task must be next_passage or final_word, not '", args.get("task"), "'");
  gift::require(args.get("task").empty() || plan.shards() == 1, "gift eval: --task runs in one process; ",
                "leave --shards at 1");
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  const auto storage = gift::weight_storage_named(args.get("storage"));
  gift::require(storage.has_value(), "gift eval: --storage must be f32 or bf16, but is '", args.get("storage"), "'");
  gift::require(*storage == gift::weight_storage::f32 || chosen == device::eigen,
                "gift eval: --storage bf16 runs on --device eigen; drop it for --device ", args.get("device"));
  auto model = load_model(args, "", *storage);
  if (args.get("task").empty()) require_within_context(model, args.integer("seq"), "--seq");
  else
    require_within_context(model, args.integer("task-context") + args.integer("task-continuation"),
                           "--task-context + --task-continuation");
  const auto tokenizer = load_tokenizer(args);
  if (!args.get("task").empty()) return run_eval_task(args, chosen, model, tokenizer, start);
  return run_eval_perplexity(args, chosen, plan, model, tokenizer, start);
}

}  // namespace gift::cli
