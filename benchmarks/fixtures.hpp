// Inputs shared by the CPU benchmarks: reproducible N(0, scale²) weight matrices, generated once
// per shape and seed and kept for the whole run (generation is not what the benchmarks measure);
// the SmolLM2-135M model or a random one of its shape; and the memory-copy baseline that speeds
// are reported against.
#pragma once

#include <benchmark/benchmark.h>

#include <gift/fill_standard_normal.hpp>
#include <gift/fwd.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/salient_columns.hpp>

#include "model_shapes.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace bench {

/// The `rows × cols` matrix with element (i, j) = scale · standard_normal({seed, rows, 0}, i·cols + j).
inline const gift::matrix_f& normal_weights(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed, float scale = 1.0f) {
  static std::map<std::tuple<Eigen::Index, Eigen::Index, std::uint64_t, float>, gift::matrix_f> cache;
  const auto key = std::make_tuple(rows, cols, seed, scale);
  auto found = cache.find(key);
  if (found == cache.end()) {
    gift::matrix_f w(rows, cols);
    gift::fill_standard_normal(w, gift::noise_key{seed, static_cast<std::uint32_t>(rows), 0});
    found = cache.emplace(key, w * scale).first;
  }
  return found->second;
}

/// Copies `w` once per iteration: the memory-bound baseline a kernel's bytes per second are
/// compared with (the same bytes read once and written once).
inline void copy_once_per_iteration(benchmark::State& state, const gift::matrix_f& w) {
  std::vector<float> destination(static_cast<std::size_t>(w.size()));
  for (auto _ : state) {
    std::memcpy(destination.data(), w.data(), sizeof(float) * static_cast<std::size_t>(w.size()));
    benchmark::DoNotOptimize(destination.data());
    benchmark::ClobberMemory();
  }
}

/// `count` of `cols` input columns (at least one), evenly spread from column 0: the benchmarks'
/// salient columns (where they sit does not change a timing).
inline gift::salient_columns spread_columns(Eigen::Index cols, Eigen::Index count) {
  count = std::max<Eigen::Index>(1, count);
  std::vector<std::int64_t> indices;
  for (Eigen::Index j = 0; j < count; ++j) indices.push_back(j * (cols / count));
  return gift::salient_columns::from_indices(indices, static_cast<std::size_t>(cols));
}

/// A benchmark's model, loaded once: the real SmolLM2-135M when GIFT_MODEL names its GGUF file,
/// otherwise random weights of its shape (seed 1; the timings depend on the shape only), and
/// where it came from (the benchmarks' label).
struct smollm2_fixture {
  std::optional<gift::model::llama_model<float>> model;
  std::string source;

  smollm2_fixture() {
    if (const char* path = std::getenv("GIFT_MODEL"); path != nullptr && *path != '\0') {
      model.emplace(gift::model::load_llama(std::filesystem::path(path)));
      source = path;
    } else {
      model.emplace(gift::model::make_synthetic_llama<float>(smollm2_135m_shape(), 1));
      source = "synthetic SmolLM2-135M shape (set GIFT_MODEL=<gguf> for the real model)";
    }
  }

  /// Calls `visit(block, projection, weight)` for every linear layer, in layer-id order.
  template <class Visit>
  void each_linear(Visit&& visit) const {
    for (int b = 0; b < model->config().layers; ++b)
      for (const gift::model::projection p : gift::model::all_projections)
        visit(b, p, gift::matrix<float>(model->linear(b, p).effective_weight()));
  }
};

}  // namespace bench
