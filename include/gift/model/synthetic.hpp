#pragma once
/// \file gift/model/synthetic.hpp
/// \brief A randomly initialised LLaMA model of any configuration: for tests and benchmarks
/// that must run without a model file. Reproducible: the values come from
/// `gift::standard_normal` keyed by the seed.

#include <gift/model/config.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/stored_linear.hpp>
#include <gift/stored_weight.hpp>
#include <gift/random.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <memory>
#include <vector>

namespace gift::model {

namespace detail {
template <std::floating_point T>
matrix<T> random_matrix(Eigen::Index rows, Eigen::Index cols, double scale, noise_key key) {
  matrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = static_cast<T>(scale * standard_normal(key, static_cast<std::uint64_t>(i)));
  }
  return m;
}
}  // namespace detail

/// A model of shape `config` with N(0, 1/in) linear weights (so activations keep their scale),
/// N(0, 1) embeddings and norm weights near 1. Every linear layer starts frozen, held in `storage`
/// (bf16: each layer generated in `T` and stored at once, so a model too large for fp32 memory can
/// be built; the values are the fp32 model's, rounded).
template <std::floating_point T>
[[nodiscard]] llama_model<T> make_synthetic_llama(const llama_config& config, std::uint64_t seed,
                                                  gift::weight_storage storage = gift::weight_storage::f32) {
  config.validate();
  std::uint32_t stream = 0;
  const auto next = [&] { return noise_key{seed, stream++, 0}; };
  const auto norm_weight = [&](Eigen::Index size) {
    const matrix<T> noise = detail::random_matrix<T>(size, 1, 0.1, next());
    return vector<T>((noise.array() + T(1)).matrix());
  };
  std::vector<block_norms<T>> norms(static_cast<std::size_t>(config.layers));
  std::vector<typename llama_model<T>::block_linears> linears(static_cast<std::size_t>(config.layers));
  for (int b = 0; b < config.layers; ++b) {
    norms[static_cast<std::size_t>(b)] = {norm_weight(config.hidden), norm_weight(config.hidden)};
    for (projection p : all_projections) {
      Eigen::Index in = config.hidden, out = config.hidden;
      if (p == projection::k || p == projection::v) out = config.kv_width();
      if (p == projection::gate || p == projection::up) out = config.ffn;
      if (p == projection::down) in = config.ffn;
      matrix<T> weight = detail::random_matrix<T>(out, in, 1.0 / std::sqrt(static_cast<double>(in)), next());
      auto& slot = linears[static_cast<std::size_t>(b)][static_cast<std::size_t>(p)];
      if (storage == gift::weight_storage::f32) slot = std::make_unique<frozen_linear<T>>(std::move(weight));
      else slot = std::make_unique<stored_linear<T>>(weight, storage);
    }
  }
  matrix<T> embedding = detail::random_matrix<T>(config.vocab, config.hidden, 1.0, next());
  matrix<T> head;
  if (!config.tied_embeddings) head = detail::random_matrix<T>(config.vocab, config.hidden, 1.0, next());
  return llama_model<T>(config, std::move(embedding), norm_weight(config.hidden), std::move(norms), std::move(linears),
                        std::move(head));
}

/// A configuration with SmolLM2-135M's proportions (GQA 3:1, SwiGLU) shrunk to `layers` blocks of
/// width `hidden`, for fast tests.
[[nodiscard]] inline llama_config tiny_llama_config(int layers = 2, int hidden = 24, int heads = 6, int kv_heads = 2,
                                                    int ffn = 40, int vocab = 50) {
  llama_config c;
  c.layers = layers;
  c.hidden = hidden;
  c.heads = heads;
  c.kv_heads = kv_heads;
  c.head_dim = hidden / heads;
  c.ffn = ffn;
  c.vocab = vocab;
  c.rope_dim = c.head_dim;
  c.rope_base = 10000;
  c.rms_epsilon = 1e-5;
  c.tied_embeddings = true;
  c.context_length = 128;
  c.validate();
  return c;
}

}  // namespace gift::model
