// Data-parallel GIFT-SW training steps on this machine: 2 MPI ranks × 1 thread against 1 rank ×
// 2 threads, for the same global batch (2 sequences × 128 tokens) of the SmolLM2-135M shape with
// 3.125 % salient columns in all 210 linear layers (forward, backward, gradient combination,
// AdamW). Reported per benchmark: steps/s (items_per_second), the share of the step spent
// combining the shards' gradients (`combine_share`: the all-to-all, the fold, the all-gather and
// any wait for the slower rank), and the bytes each rank sends per step (`sent_bytes`; it
// receives as many). `BM_paired` times the three variants back to back in every iteration, so a
// shared machine's drift affects all alike. At the end, rank 0 prints the ratios, all measured in
// this run:
//
//   mpirun -np 2 --bind-to none bench_distributed     (both variants; the idle rank sleeps while
//                                                      rank 0 runs the one-rank variant)
//   bench_distributed                                 (one rank only)
//
// The one-rank variant runs the 2 shards itself (`shards:2`, the same bits as 2 ranks) and, as a
// second baseline, the unsharded step (`shards:1`). Uses the real model when GIFT_MODEL names its
// GGUF file, otherwise a random model of the same shape (the timings depend on the shape only).
#include <benchmark/benchmark.h>

#include "fixtures.hpp"

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/launcher.hpp>
#include <gift/model/data_parallel.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>

#if defined(GIFT_HAS_MPI)
#include <gift/distributed/mpi.hpp>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gm = gift::model;
namespace gd = gift::distributed;

namespace {

constexpr Eigen::Index batch = 2, sequence = 128;
constexpr int iterations = 4;

std::unique_ptr<gd::communicator> world_communicator;
gd::single_process alone;

struct fixture : bench::smollm2_fixture {
  std::vector<gift::optim::parameter<float>> parameters;

  fixture() {
    each_linear([&](int b, gm::projection p, const gift::matrix<float>& w) {
      // 3.125 % of the input columns (the paper's 128 of 4096; 18 of SmolLM2's 576), spread evenly.
      const gift::vector<float> delta = (w.cwiseAbs().rowwise().maxCoeff() / 7.0f).cwiseMax(1e-6f);
      auto module = std::make_unique<gm::gift_sw_linear<float>>(w, bench::spread_columns(w.cols(), w.cols() / 32), delta,
                                                                42, static_cast<std::uint32_t>(gm::layer_id(b, p)));
      for (auto& view : module->layer().parameters()) parameters.push_back(view);
      model->replace_linear(b, p, std::move(module));
    });
  }
  [[nodiscard]] gm::token_matrix tokens() const {
    gm::token_matrix t(batch, sequence);
    for (Eigen::Index i = 0; i < t.size(); ++i) t.data()[i] = static_cast<std::int32_t>((i * 7919 + 13) % model->config().vocab);
    return t;
  }
};

fixture& shared() {
  static fixture f;
  return f;
}

struct measured {
  double steps_per_second = 0, combine_share = 0;
};
std::map<std::string, measured> results;
double paired_sharded = 0, paired_whole = 0, paired_combine = 0;
void idle_until_rank_0_is_done();

/// One variant: `ranks` ranks (1: rank 0 alone, the others sleep), `threads` OpenMP threads each,
/// the global batch in `shards` shards.
void run_steps(benchmark::State& state, const char* key, int ranks, int threads, std::int64_t shards) {
  gd::communicator& world = *world_communicator;
  if (ranks > world.size()) {
    state.SkipWithError("needs more MPI ranks: run under mpirun -np 2 --bind-to none");
    return;
  }
  const bool works = world.rank() < ranks;
  double combine = 0, total = 0;
  if (works) {
#if defined(_OPENMP)
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    auto& f = shared();
    gd::communicator& comm = ranks == 1 ? static_cast<gd::communicator&>(alone) : world;
    const gd::shard_plan plan(shards, ranks);
    const gm::token_matrix tokens = f.tokens();
    gift::optim::adamw<float> optimizer(f.parameters, 0.0);
    std::uint32_t step = 0;
    const auto one_step = [&] {
      const auto result = gm::sharded_forward_backward(f.model.value(), std::span<const gift::optim::parameter<float>>(f.parameters),
                                                       tokens, {true, step++}, comm, plan);
      optimizer.step(1e-6);
      return result.combine_seconds;
    };
    (void)one_step();  // touch every buffer once, untimed
    std::size_t values = 0;
    for (const auto& p : f.parameters) values += p.value.size();
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      combine += one_step();
      total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    // Per step and rank (ordered_fold): its shards' slices out, then its folded slice to the others.
    const double r = ranks, owned = static_cast<double>(plan.count(0));
    state.counters["sent_bytes"] =
        ranks > 1 ? (owned + 1.0) * static_cast<double>(values) * 4.0 * (r - 1.0) / r : 0.0;
    state.counters["combine_share"] = total > 0 ? combine / total : 0.0;
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(f.source);
    if (world.rank() == 0) results[key] = {static_cast<double>(state.iterations()) / total, combine / total};
  } else {
    state.SkipWithError("idle rank");
  }
  if (ranks < world.size()) idle_until_rank_0_is_done();
}

/// The ranks other than 0 sleep until rank 0 is done (a non-blocking barrier tested every
/// millisecond: a blocking MPI wait would spin and take a core from the measured rank).
void idle_until_rank_0_is_done() {
#if defined(GIFT_HAS_MPI)
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  int done = 0;
  while (MPI_Test(&request, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && done == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
#endif
}

/// The ratios, paired: every iteration times a 2-rank step, then (the other rank asleep) rank 0's
/// 2-thread step with 2 shards and without, so drift in a shared machine's speed affects all three
/// alike. `sharded_over_ranks` and `whole_over_ranks` are Σ one-rank time / Σ two-rank time: how
/// many times faster 2 ranks × 1 thread are than 1 rank × 2 threads.
void BM_paired(benchmark::State& state) {
  gd::communicator& world = *world_communicator;
  if (world.size() < 2) {
    state.SkipWithError("needs mpirun -np 2 --bind-to none");
    return;
  }
  auto& f = shared();
  const gm::token_matrix tokens = f.tokens();
  gift::optim::adamw<float> optimizer(f.parameters, 0.0);
  std::uint32_t step = 0;
  const gd::shard_plan over_ranks(2, world.size()), two_local(2, 1), one_local(1, 1);
  const auto timed = [&](gd::communicator& comm, const gd::shard_plan& plan, int threads, double* combine) {
#if defined(_OPENMP)
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    const auto t0 = std::chrono::steady_clock::now();
    const auto result = gm::sharded_forward_backward(f.model.value(), std::span<const gift::optim::parameter<float>>(f.parameters),
                                                     tokens, {true, step++}, comm, plan);
    optimizer.step(1e-6);
    if (combine != nullptr) *combine += result.combine_seconds;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  (void)timed(world, over_ranks, 1, nullptr);  // touch the buffers, untimed
  double ranks_seconds = 0, sharded_seconds = 0, whole_seconds = 0, combine = 0;
  for (auto _ : state) {
    ranks_seconds += timed(world, over_ranks, 1, &combine);
    if (world.rank() == 0) {
      sharded_seconds += timed(alone, two_local, 2, nullptr);
      whole_seconds += timed(alone, one_local, 2, nullptr);
    }
    idle_until_rank_0_is_done();
  }
  state.counters["sharded_over_ranks"] = ranks_seconds > 0 ? sharded_seconds / ranks_seconds : 0.0;
  state.counters["whole_over_ranks"] = ranks_seconds > 0 ? whole_seconds / ranks_seconds : 0.0;
  state.counters["combine_share"] = ranks_seconds > 0 ? combine / ranks_seconds : 0.0;
  if (world.rank() == 0) {
    paired_sharded = sharded_seconds / ranks_seconds;
    paired_whole = whole_seconds / ranks_seconds;
    paired_combine = combine / ranks_seconds;
  }
}

void BM_step_2_ranks_1_thread(benchmark::State& state) { run_steps(state, "2x1", 2, 1, 2); }
void BM_step_1_rank_2_threads_2_shards(benchmark::State& state) { run_steps(state, "1x2 sharded", 1, 2, 2); }
void BM_step_1_rank_2_threads_1_shard(benchmark::State& state) { run_steps(state, "1x2 whole", 1, 2, 1); }

BENCHMARK(BM_step_2_ranks_1_thread)->Iterations(iterations)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_step_1_rank_2_threads_2_shards)->Iterations(iterations)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_step_1_rank_2_threads_1_shard)->Iterations(iterations)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_paired)->Iterations(iterations)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The ranks other than 0 report nothing: rank 0 speaks for the run.
class silent_reporter : public benchmark::BenchmarkReporter {
public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

int main(int argc, char** argv) {
#if defined(GIFT_HAS_MPI)
  if (gd::launched_ranks() > 0) world_communicator = std::make_unique<gd::mpi_communicator>(&argc, &argv);
#endif
  if (!world_communicator) world_communicator = std::make_unique<gd::single_process>();
  benchmark::Initialize(&argc, argv);
  if (world_communicator->rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
    const auto find = [](const char* name) {
      const auto it = results.find(name);
      return it == results.end() ? measured{} : it->second;
    };
    const measured two = find("2x1"), sharded = find("1x2 sharded"), whole = find("1x2 whole");
    if (two.steps_per_second > 0 && sharded.steps_per_second > 0)
      std::cout << "steps/s, 2 ranks x 1 thread / 1 rank x 2 threads (2 shards, same bits) = "
                << two.steps_per_second / sharded.steps_per_second << "\n";
    if (two.steps_per_second > 0 && whole.steps_per_second > 0)
      std::cout << "steps/s, 2 ranks x 1 thread / 1 rank x 2 threads (unsharded) = "
                << two.steps_per_second / whole.steps_per_second << "\n";
    if (two.steps_per_second > 0)
      std::cout << "share of the 2-rank step spent combining gradients = " << two.combine_share << "\n";
    if (paired_sharded > 0)
      std::cout << "paired in one loop: 2 ranks x 1 thread are " << paired_sharded << " times as fast as 1 rank x 2 "
                << "threads with 2 shards, " << paired_whole << " times as fast as 1 rank x 2 threads unsharded; "
                << "combining takes " << paired_combine << " of the 2-rank step\n";
  } else {
    silent_reporter silent;
    benchmark::RunSpecifiedBenchmarks(&silent);
  }
  benchmark::Shutdown();
  return 0;
}
