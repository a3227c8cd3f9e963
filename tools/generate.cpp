// gift generate: greedy or temperature sampling, to see that a model is alive. Decoding keeps a
// KV cache: the prompt is run once, then each new token costs one position.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/io/unicode.hpp>
#include <gift/model/kv_cache.hpp>
#include <gift/model/memory_estimate.hpp>
#include <gift/random.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <span>
#include <vector>

namespace gift::cli {

namespace {
/// The token after `logits`: the most likely one at temperature 0, else a draw from
/// softmax(logits / temperature) over the top_k most likely (0: all), reproducible from (seed, step).
std::int32_t next_token(const gift::vector<float>& logits, double temperature, std::int64_t top_k, std::uint64_t seed,
                        std::uint32_t step) {
  if (temperature <= 0) {
    Eigen::Index best = 0;
    logits.maxCoeff(&best);
    return static_cast<std::int32_t>(best);
  }
  std::vector<std::int32_t> order(static_cast<std::size_t>(logits.size()));
  std::iota(order.begin(), order.end(), 0);
  const auto keep = top_k > 0 ? std::min<std::size_t>(static_cast<std::size_t>(top_k), order.size()) : order.size();
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    [&](std::int32_t a, std::int32_t b) { return logits(a) > logits(b); });
  std::vector<double> weights(keep);
  double total = 0;
  for (std::size_t i = 0; i < keep; ++i) {
    weights[i] = std::exp((logits(order[i]) - logits(order[0])) / temperature);
    total += weights[i];
  }
  // A reproducible uniform draw from gift's counter-based generator.
  const float normal = standard_normal(noise_key{seed, 0xfffffu, step}, 0);
  const double uniform = 0.5 * std::erfc(-normal / std::sqrt(2.0));
  double cumulative = 0;
  std::int32_t next = order[keep - 1];
  for (std::size_t i = 0; i < keep; ++i) {
    cumulative += weights[i] / total;
    if (uniform <= cumulative) {
      next = order[i];
      break;
    }
  }
  return next;
}
}  // namespace

int run_generate(int argc, char** argv) {
  arguments args("generate", "Continues a prompt: greedy (--temperature 0) or sampled, top-k.");
  model_options(args);
  args.option("prompt", "The Linux kernel", "text to continue")
      .flag("chat", "wrap the prompt in the model's chat template (<|im_start|>user ... assistant)")
      .integer_option("max-new", "48", "tokens to generate", 0, 1 << 16)
      .number_option("temperature", "0", "0: greedy; > 0: sample from softmax(logits / T)", 0.0, 100.0)
      .integer_option("top-k", "40", "sample among the k most likely tokens (0: all)", 0, 1 << 20)
      .integer_option("seed", "1", "sampling seed", 0, 9223372036854775807LL)
      .result_options();
  if (!args.parse(argc, argv, 2)) return 0;
  (void)require_writable_outputs(args, out_kind::none, "generate");
  set_threads(args);
  auto model = load_model(args);
  const auto tokenizer = load_tokenizer(args);
  std::string prompt = args.get("prompt");
  if (const auto bad = io::first_invalid_utf8(prompt); bad != std::string::npos)
    gift::require(false, "gift generate: --prompt is not valid UTF-8: byte ", bad, " (value ",
                  static_cast<int>(static_cast<unsigned char>(prompt[bad])),
                  ") does not belong to a valid character; pass the prompt as UTF-8 text (check the "
                  "terminal's locale, e.g. LANG=C.UTF-8)");
  if (args.on("chat")) prompt = "<|im_start|>user\n" + prompt + "<|im_end|>\n<|im_start|>assistant\n";
  std::vector<std::int32_t> ids = tokenizer.encode(prompt, {.parse_special = true});
  gift::require(!ids.empty(), "gift generate: the prompt is empty");
  const auto prompt_length = ids.size();
  // The model was trained for context_length positions: refuse a request that would run past it.
  const auto context = static_cast<std::int64_t>(model.config().context_length);
  if (context > 0)
    gift::require(static_cast<std::int64_t>(prompt_length) + args.integer("max-new") <= context,
                  "gift generate: the prompt (", prompt_length, " tokens) plus --max-new ", args.integer("max-new"),
                  " exceeds the model's context length of ", context, " tokens; lower --max-new to at most ",
                  std::max<std::int64_t>(0, context - static_cast<std::int64_t>(prompt_length)),
                  " or shorten the prompt");
  const double temperature = args.number("temperature");
  const auto top_k = args.integer("top-k");
  const auto eos = tokenizer.special().eos;
  progress_bar bar("generate", args.integer("max-new"), "tok");
  // The prompt's pass and the cache, estimated before either is made.
  const std::int64_t positions = static_cast<std::int64_t>(prompt_length) + args.integer("max-new");
  model::require_memory(model::generation_bytes(model.config(), static_cast<std::int64_t>(prompt_length), positions,
                                                context > 0 ? context : positions),
                        "gift generate: a prompt of " + std::to_string(prompt_length) + " tokens plus --max-new " +
                            std::to_string(args.integer("max-new")),
                        "--max-new (or shorten the prompt)");
  // Without a stated context length the cache holds what this request needs.
  model::kv_cache<float> cache(model.config(),
                               context > 0 ? 0 : static_cast<Eigen::Index>(prompt_length) + args.integer("max-new"));
  gift::vector<float> logits;
  for (std::int64_t n = 0; n < args.integer("max-new"); ++n) {
    logits = n == 0 ? model.extend(cache, ids) : model.extend(cache, std::span<const std::int32_t>(&ids.back(), 1));
    gift::require(logits.allFinite(), "gift generate: the model's logits at token ", ids.size(),
                  " are not finite; the weights are damaged (check them with gift eval)");
    const std::int32_t next = next_token(logits, temperature, top_k, static_cast<std::uint64_t>(args.integer("seed")),
                                         static_cast<std::uint32_t>(n));
    ids.push_back(next);
    bar.advance();
    if (next == eos) break;
  }
  bar.finish();
  const std::vector<std::int32_t> generated(ids.begin() + static_cast<std::ptrdiff_t>(prompt_length), ids.end());
  // Byte-level tokens can stop in the middle of a character (a CJK character is often two
  // tokens): the unfinished bytes are held back, so the output never splits a code point.
  std::string text = tokenizer.decode(generated, true);
  const auto held_back = static_cast<std::int64_t>(text.size() - io::complete_utf8_prefix(text));
  text.resize(io::complete_utf8_prefix(text));
  report out("generate");
  out.add("prompt", args.get("prompt")).add("generated_tokens", static_cast<std::int64_t>(generated.size()))
      .add("text", text).add("held_back_bytes", held_back);
  if (!args.on("json")) std::cout << prompt << text << "\n";
  out.emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
