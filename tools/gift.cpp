// The gift command line: calibrate → select → quantize → finetune → eval, generate, and sweep.
#include "cli/commands.hpp"
#include "cli/distributed.hpp"
#include "cli/progress.hpp"

#include <gift/distributed/agreement.hpp>
#include <gift/distributed/launcher.hpp>
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/version.hpp>

#if defined(GIFT_HAS_MPI)
#include <gift/distributed/mpi.hpp>
#endif

#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

namespace {
void usage(std::ostream& out) {
  out << "usage: gift <command> [options]   (gift <command> --help for its options)\n\n"
         "commands:\n"
         "  calibrate   per-layer input statistics on calibration text -> folder\n"
         "  select      sensitivity metric (preset or tau/rho/gamma) -> salient columns per layer\n"
         "  quantize    non-salient columns to b bits (rtn | gptq), salient kept -> safetensors\n"
         "  finetune    GIFT-SW (salient columns + noise) or a baseline (lora, dora, full, ste, quik_lora)\n"
         "  eval        perplexity on validation text (per-sequence losses with --sequence-losses)\n"
         "  compare     two evaluations of the same sequences: difference and its bootstrap CI\n"
         "  generate    continue a prompt (greedy or sampled)\n"
         "  sweep       a grid of experiments from a JSON file -> results.jsonl/.csv (resumable)\n"
         "  export      the model as a Hugging Face folder, a GGUF file, or gift's packed mixed-precision folder\n\n"
         "calibrate, finetune and eval also run data-parallel: mpirun -np N gift <command> ... (see --shards)\n";
}

/// Reports an error of this rank. In a data-parallel run the other ranks may be waiting for this
/// one in a collective: end them all (the launcher then reports the abort too).
int fail(const std::string& command, const char* kind, const char* what) {
  auto& world = gift::cli::world();
  std::cerr << "gift " << command << ": ";
  if (world.size() > 1) std::cerr << "rank " << world.rank() << " of " << world.size() << ": ";
  std::cerr << kind << ": " << what << std::endl;
  if (world.size() > 1) world.abort(1);
  return 1;
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
  // Under an MPI launcher, calibrate, finetune and eval join the run; the other commands, and a
  // gift built without MPI, refuse to run as N unconnected copies that would write the same files.
  const bool data_parallel = command == "calibrate" || command == "finetune" || command == "eval";
  const int launched = gift::distributed::launched_ranks();
#if defined(GIFT_HAS_MPI)
  std::unique_ptr<gift::distributed::mpi_communicator> mpi;
#endif
  try {
    if (launched > 0 && data_parallel) {
#if defined(GIFT_HAS_MPI)
      mpi = std::make_unique<gift::distributed::mpi_communicator>(&argc, &argv);
      gift::cli::world_pointer() = mpi.get();
      gift::cli::quiet_rank = mpi->rank() != 0;
#else
      gift::require(launched <= 1, "this gift was built without MPI, so its ", launched,
                    " ranks would run unconnected; build with MPI (Debian: openmpi-bin libopenmpi-dev, "
                    "CMake option GIFT_ENABLE_MPI) or start one process without mpirun");
#endif
    }
    gift::require(launched <= 1 || data_parallel, "gift ", command, " runs in one process (only calibrate, ",
                  "finetune and eval run over MPI ranks); start it without mpirun");
    if (command == "calibrate") return gift::cli::run_calibrate(argc, argv);
    if (command == "select") return gift::cli::run_select(argc, argv);
    if (command == "quantize") return gift::cli::run_quantize(argc, argv);
    if (command == "finetune") return gift::cli::run_finetune(argc, argv);
    if (command == "eval") return gift::cli::run_eval(argc, argv);
    if (command == "compare") return gift::cli::run_compare(argc, argv);
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
  } catch (const gift::distributed::disagreement& e) {
    // Every rank found the same disagreement at the same point: rank 0 says it once, and all end
    // normally (no rank waits for another).
    if (gift::cli::world().rank() == 0) std::cerr << "gift " << command << ": error: " << e.what() << std::endl;
    return 1;
  } catch (const gift::error& e) {
    return fail(command, "error", e.what());
  } catch (const std::exception& e) {
    return fail(command, "unexpected error", e.what());
  }
}
