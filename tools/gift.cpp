// The gift command line: calibrate → select → quantize → finetune → eval, generate, and sweep.
#include "cli/commands.hpp"

#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/version.hpp>

#include <cstring>
#include <exception>
#include <iostream>
#include <string>

namespace {
void usage(std::ostream& out) {
  out << "usage: gift <command> [options]   (gift <command> --help for its options)\n\n"
         "commands:\n"
         "  calibrate   per-layer input statistics on calibration text -> folder\n"
         "  select      sensitivity metric (preset or tau/rho/gamma) -> salient columns per layer\n"
         "  quantize    non-salient columns to b bits (rtn | gptq), salient kept -> safetensors\n"
         "  finetune    GIFT-SW (salient columns + noise) or a baseline (lora, dora, full, ste, quik_lora)\n"
         "  eval        perplexity on validation text\n"
         "  generate    continue a prompt (greedy or sampled)\n"
         "  sweep       a grid of experiments from a JSON file -> results.jsonl/.csv (resumable)\n"
         "  export      the model as a Hugging Face folder, a GGUF file, or gift's packed mixed-precision folder\n";
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  // Ctrl-C or a kill during a write removes the temporary instead of leaving it behind.
  gift::io::remove_temporaries_on_signals();
  try {
    if (command == "calibrate") return gift::cli::run_calibrate(argc, argv);
    if (command == "select") return gift::cli::run_select(argc, argv);
    if (command == "quantize") return gift::cli::run_quantize(argc, argv);
    if (command == "finetune") return gift::cli::run_finetune(argc, argv);
    if (command == "eval") return gift::cli::run_eval(argc, argv);
    if (command == "generate") return gift::cli::run_generate(argc, argv);
    if (command == "sweep") return gift::cli::run_sweep(argc, argv);
    if (command == "export") return gift::cli::run_export(argc, argv);
    if (command == "--version") {
      std::cout << "gift " << GIFT_VERSION_MAJOR << "." << GIFT_VERSION_MINOR << "." << GIFT_VERSION_PATCH << "\n";
      return 0;
    }
    std::cerr << "gift: unknown command '" << command << "'\n";
    usage(std::cerr);
    return 2;
  } catch (const gift::error& e) {
    std::cerr << "gift " << command << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gift " << command << ": unexpected error: " << e.what() << "\n";
    return 1;
  }
}
