// The packed mixed-precision model against its dense fp32 form, in one run: evaluation forward
// passes (1 x 128 and 1 x 512 tokens) and incremental decoding (one token at a time after a
// 64-token prompt), each iteration timing both forms back to back so the `ratio` counter
// (packed time / fp32 time) compares them under the same machine load. The two forms compute the
// same bits (checked here: the benchmark stops with an error otherwise).
//
// Every linear layer is quantized to 4 bits (round to nearest, absmax scale) with 3% of its
// columns kept in fp32, as GIFT-SW's quantized model; the dense form holds the dequantized fp32
// weights (`frozen_linear`), the packed form the codes (`packed_linear`).
//
// With GIFT_MODEL naming the SmolLM2 GGUF, the program first writes the model in every format
// gift exports to a temporary folder and prints the file sizes (packed 4-bit with F16 or F32
// dense tensors; Hugging Face F32/F16; GGUF F32/F16/Q8_0; and the original Q4_1 file). Without
// it, a random model of SmolLM2's shape is timed and no sizes are printed.
#include <benchmark/benchmark.h>

#include "fixtures.hpp"

#include <gift/model/hf_checkpoint.hpp>
#include <gift/model/kv_cache.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/model_card.hpp>
#include <gift/model/packed_linear.hpp>
#include <gift/model/save_gguf.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/quant/symmetric.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gm = gift::model;

namespace {

constexpr int bits = 4;

struct fixture : bench::smollm2_fixture {
  std::vector<std::unique_ptr<gm::linear_module<float>>> dense, packed;  // by layer id; empty where installed
  bool packed_installed = false;
  std::uint64_t dense_bytes = 0, packed_bytes = 0;

  fixture() {
    each_linear([&](int b, gm::projection p, const gift::matrix<float>& w) {
      const auto salient = bench::spread_columns(w.cols(), w.cols() * 3 / 100);
      auto q = gift::quantize_symmetric(w, gift::symmetric_options{bits, gift::alpha_search::max_abs(), 0}, salient);
      gift::matrix<float> mixed = std::move(q.dequantized);
      gift::restore_salient_columns(mixed, w, salient);
      auto layer = gift::packed_matrix::pack(mixed, q.delta.col(0), salient, bits);
      dense_bytes += static_cast<std::uint64_t>(mixed.size()) * 4;
      packed_bytes += layer.storage_bytes(4);
      model->replace_linear(b, p, std::make_unique<gm::frozen_linear<float>>(std::move(mixed)));
      dense.emplace_back();
      packed.push_back(std::make_unique<gm::packed_linear>(std::move(layer)));
    });
  }

  void install(bool want_packed) {
    if (want_packed == packed_installed) return;
    auto& incoming = want_packed ? packed : dense;
    auto& outgoing = want_packed ? dense : packed;
    const auto& c = model->config();
    for (int b = 0; b < c.layers; ++b)
      for (const gm::projection p : gm::all_projections) {
        const auto id = static_cast<std::size_t>(gm::layer_id(b, p));
        outgoing[id] = model->replace_linear(b, p, std::move(incoming[id]));
      }
    packed_installed = want_packed;
  }

  gm::token_matrix tokens(Eigen::Index length) const {
    gm::token_matrix t(1, length);
    for (Eigen::Index i = 0; i < length; ++i) t(0, i) = static_cast<std::int32_t>((i * 7919 + 13) % model->config().vocab);
    return t;
  }
};

fixture& shared() {
  static fixture f;
  return f;
}

using clock_type = std::chrono::steady_clock;

void BM_eval_ratio(benchmark::State& state) {
  auto& f = shared();
  const gm::token_matrix tokens = f.tokens(state.range(0));
  double dense_seconds = 0, packed_seconds = 0;
  for (auto _ : state) {
    f.install(false);
    const auto t0 = clock_type::now();
    const auto dense = f.model->evaluate(tokens);
    const auto t1 = clock_type::now();
    f.install(true);
    const auto t2 = clock_type::now();
    const auto packed = f.model->evaluate(tokens);
    const auto t3 = clock_type::now();
    if (packed.nll != dense.nll) state.SkipWithError("the packed model's loss differs from the dense model's");
    dense_seconds += std::chrono::duration<double>(t1 - t0).count();
    packed_seconds += std::chrono::duration<double>(t3 - t2).count();
    state.SetIterationTime(std::chrono::duration<double>((t1 - t0) + (t3 - t2)).count());
  }
  state.counters["ratio"] = dense_seconds > 0 ? packed_seconds / dense_seconds : 0.0;
  state.counters["fp32_tok/s"] = static_cast<double>(state.iterations() * state.range(0)) / dense_seconds;
  state.counters["packed_tok/s"] = static_cast<double>(state.iterations() * state.range(0)) / packed_seconds;
}

// Decoding: a 64-token prompt, then `range(0)` single tokens through the KV cache; only the
// single-token steps are timed (they read every weight once per token: the memory-bound case).
void BM_decode_ratio(benchmark::State& state) {
  auto& f = shared();
  const gm::token_matrix prompt = f.tokens(64);
  const std::vector<std::int32_t> ids(prompt.data(), prompt.data() + prompt.size());
  double dense_seconds = 0, packed_seconds = 0;
  const auto decode = [&](bool packed, double& seconds) {
    f.install(packed);
    gm::kv_cache<float> cache(f.model->config(), 64 + state.range(0));
    gift::vector<float> logits = f.model->extend(cache, ids);
    const auto t0 = clock_type::now();
    for (std::int64_t n = 0; n < state.range(0); ++n) {
      Eigen::Index next = 0;
      logits.maxCoeff(&next);
      const std::int32_t token = static_cast<std::int32_t>(next);
      logits = f.model->extend(cache, std::span<const std::int32_t>(&token, 1));
    }
    seconds += std::chrono::duration<double>(clock_type::now() - t0).count();
    return logits;
  };
  for (auto _ : state) {
    const double before = dense_seconds + packed_seconds;
    const gift::vector<float> a = decode(false, dense_seconds);
    const gift::vector<float> b = decode(true, packed_seconds);
    if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(float)) != 0)
      state.SkipWithError("the packed model's logits differ from the dense model's");
    state.SetIterationTime(dense_seconds + packed_seconds - before);
  }
  state.counters["ratio"] = dense_seconds > 0 ? packed_seconds / dense_seconds : 0.0;
  state.counters["fp32_tok/s"] = static_cast<double>(state.iterations() * state.range(0)) / dense_seconds;
  state.counters["packed_tok/s"] = static_cast<double>(state.iterations() * state.range(0)) / packed_seconds;
}

BENCHMARK(BM_eval_ratio)->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
BENCHMARK(BM_decode_ratio)->Arg(16)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);

std::uint64_t bytes_of(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(path)) return fs::file_size(path);
  std::uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(path))
    if (e.path().extension() == ".safetensors") total += e.file_size();
  return total;
}

// Writes the model in every export format and prints the weight files' sizes.
void print_sizes(fixture& f) {
  namespace fs = std::filesystem;
  if (f.source.rfind("synthetic", 0) == 0) return;
  const fs::path folder = fs::temp_directory_path() / "gift_bench_packed_sizes";
  fs::remove_all(folder);
  fs::create_directories(folder);
  const gift::io::gguf_file source = gift::io::gguf_file::open(f.source);
  const gift::io::tokenizer tok = gift::io::tokenizer::from_gguf(source);
  const gm::model_card card = gm::model_card::from_gguf(source);
  using dtype = gift::io::safetensors_dtype;
  std::vector<std::pair<std::string, std::uint64_t>> sizes;
  f.install(false);
  gm::save_hf(*f.model, tok, card, folder / "hf_f32", {dtype::f32, dtype::f16, 0});
  sizes.emplace_back("Hugging Face F32 (model.safetensors)", bytes_of(folder / "hf_f32"));
  fs::remove_all(folder / "hf_f32");
  gm::save_hf(*f.model, tok, card, folder / "hf_f16", {dtype::f16, dtype::f16, 0});
  sizes.emplace_back("Hugging Face F16", bytes_of(folder / "hf_f16"));
  fs::remove_all(folder / "hf_f16");
  for (const auto type : {gift::io::ggml_type::f32, gift::io::ggml_type::f16, gift::io::ggml_type::q8_0}) {
    gm::save_gguf(*f.model, tok, card, folder / "model.gguf", type);
    sizes.emplace_back("GGUF " + std::string(gift::io::name_of(type)), bytes_of(folder / "model.gguf"));
  }
  fs::remove_all(folder / "model.gguf");
  f.install(true);
  gm::save_packed(*f.model, tok, card, folder / "packed_f16", {dtype::f16, dtype::f16, 0});
  sizes.emplace_back("packed 4-bit, F16 salient columns and dense tensors", bytes_of(folder / "packed_f16"));
  gm::save_packed(*f.model, tok, card, folder / "packed_f32", {dtype::f32, dtype::f16, 0});
  sizes.emplace_back("packed 4-bit, F16 salient columns, F32 dense tensors", bytes_of(folder / "packed_f32"));
  sizes.emplace_back("original GGUF (" + fs::path(f.source).filename().string() + ")", fs::file_size(f.source));
  fs::remove_all(folder);
  const double fp32 = static_cast<double>(sizes.front().second), fp16 = static_cast<double>(sizes[1].second);
  std::cout << "\nFile sizes of " << f.source << " (weights files; 4-bit with 3% salient columns):\n";
  for (const auto& [name, size] : sizes)
    std::cout << "  " << std::left << std::setw(56) << name << std::right << std::setw(12) << size << " bytes  "
              << std::fixed << std::setprecision(3) << static_cast<double>(size) / fp32 << " x F32, "
              << static_cast<double>(size) / fp16 << " x F16\n";
  std::cout << "Linear layers alone: dense fp32 " << f.dense_bytes << " bytes, packed (fp32 salient) " << f.packed_bytes
            << " bytes (" << static_cast<double>(f.packed_bytes) / static_cast<double>(f.dense_bytes) << " x)\n\n";
}

// Prints the paired ratios after the usual console output.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs)
      if (const auto ratio = run.counters.find("ratio"); ratio != run.counters.end())
        ratios_[run.benchmark_name()] = ratio->second;
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::cout << "\nModel: " << shared().source << "\n";
    for (const auto& [name, ratio] : ratios_)
      std::cout << "packed / fp32 time (" << name << ") = " << std::setprecision(3) << ratio << "\n";
  }

private:
  std::map<std::string, double> ratios_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (std::getenv("GIFT_BENCH_NO_SIZES") == nullptr) print_sizes(shared());
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
