// The main job (examples/main_job.hpp: calibrate → select → quantize → GIFT-SW fine-tune →
// evaluate) on the Thrust host systems, OMP and CPP, beside the same job on Eigen — the whole
// pipeline through library calls on a second backend. The synthetic model and ids keep it to
// seconds; ctest example_main_job_thrust runs it.
//
// Selection and quantization run on the host for every backend, so the salient columns and the
// quantized weights are the same bits; the forward and backward passes are each backend's own.
// On this project's machines the three runs print the same bits; the program allows 1e-4 relative
// (the tolerance of pipeline_trainer_thrust) so that a reordered reduction on another machine is
// not a failure, and fails when any perplexity, or the last training loss, differs by more.
#include <gift/backend/thrust.hpp>

#include "main_job.hpp"

#include <cmath>
#include <cstdio>
#include <exception>

namespace {

constexpr double tolerance = 1e-4;  // relative

// Prints the relative difference of `here` from `eigen` under `what`; false when it is over the tolerance.
bool agrees(const char* backend, const char* what, double here, double eigen) {
  const double difference = std::abs(here - eigen) / std::abs(eigen);
  const bool ok = std::isfinite(here) && difference <= tolerance;
  std::printf("  %-10s %-22s %.6f vs Eigen %.6f (relative difference %.1e)%s\n", backend, what, here, eigen, difference,
              ok ? "" : "  <- over the tolerance");
  return ok;
}

template <gift::backend_tag Backend>
bool run_and_compare(const char* backend, const main_job::results& eigen, std::int64_t steps) {
  std::printf("\n== %s\n", backend);
  main_job::inputs in = main_job::tiny_inputs();
  auto model = gift::model::to_backend<Backend>(in.model);
  const main_job::results here = main_job::run(model, in.train, in.validation, in.seq, steps);
  std::printf("agreement with Eigen:\n");
  bool ok = agrees(backend, "original perplexity", here.original.perplexity(), eigen.original.perplexity());
  ok = agrees(backend, "quantized perplexity", here.quantized.perplexity(), eigen.quantized.perplexity()) && ok;
  ok = agrees(backend, "fine-tuned perplexity", here.finetuned.perplexity(), eigen.finetuned.perplexity()) && ok;
  ok = agrees(backend, "last training loss", here.training.last_loss(), eigen.training.last_loss()) && ok;
  return ok;
}

}  // namespace

int main() {
  try {
    constexpr std::int64_t steps = 20;
    std::printf("== Eigen\n");
    main_job::inputs in = main_job::tiny_inputs();
    const main_job::results eigen = main_job::run(in.model, in.train, in.validation, in.seq, steps);
    bool ok = run_and_compare<gift::backend::thrust_omp>("thrust_omp", eigen, steps);
    ok = run_and_compare<gift::backend::thrust_cpp>("thrust_cpp", eigen, steps) && ok;
    if (!ok) {
      std::fprintf(stderr, "example_main_job_thrust: a Thrust run left the Eigen run's numbers (tolerance %.0e)\n",
                   tolerance);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example_main_job_thrust: %s\n", e.what());
    return 1;
  }
}
