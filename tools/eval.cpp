// gift eval: perplexity on held-out text.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/device.hpp"
#include "cli/distributed.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <chrono>

namespace gift::cli {

int run_eval(int argc, char** argv) {
  arguments args("eval", "Perplexity of the model (optionally with --weights) on validation text.");
  model_options(args);
  text_options(args, "validation");
  args.integer_option("tokens", "16384", "evaluate on the first N tokens of the split (whole sequences)", 1,
                      1000000000)
      .integer_option("seq", "256", "sequence length", 2, 1 << 20)
      .integer_option("batch", "4", "sequences per forward pass", 1, 4096)
      .option("label", "", "a name for this result in the table/JSON")
      .flag("json", "print the result as JSON on stdout (the table goes to stderr)")
      .option("output-json", "", "also write the JSON result to this file");
  shard_options(args, "sequences");
  device_option(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const device chosen = parse_device(args);
  hand_over_to_cuda_build(chosen, world().size(), argv);
  if (world().rank() == 0) require_writable_outputs(args, out_kind::none);
  set_threads(args);
  const auto plan = shard_plan_of(args);
  const auto start = std::chrono::steady_clock::now();
  auto model = load_model(args);
  const auto tokenizer = load_tokenizer(args);
  const auto ids = load_text_tokens(args, tokenizer, args.integer("tokens"));
  require_same_run(args, "eval", model, ids);
  // Off Eigen the model computes on the chosen backend (every layer at its effective weight).
  const auto loss = on_device(chosen, model, [&](auto& on) {
    return sharded_perplexity(on, ids, args.integer("seq"), args.integer("batch"), "eval", plan);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report out("eval");
  if (!args.get("label").empty()) out.add("label", args.get("label"));
  out.add("weights", args.get("weights").empty()
                                ? "original (" + std::string(model::name_of(model::model_format_of(model_path(args)))) + ")"
                                : args.get("weights"))
      .add("text", text_description(args))
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
