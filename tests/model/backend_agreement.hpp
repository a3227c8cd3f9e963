// What the tests of the model on other backends (the Thrust host systems in backends.cpp, the GPU
// in backends_cuda.cu) share: the model they compare, its tokens, its GIFT-SW layers and the
// measure of agreement with the Eigen model.
#pragma once

#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/synthetic.hpp>

#include "fixtures.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>

namespace gift_test {

/// A deterministic batch of token ids below `vocab` (no two rows alike).
inline gift::model::token_matrix sample_tokens(Eigen::Index batch, Eigen::Index sequence, int vocab) {
  gift::model::token_matrix tokens(batch, sequence);
  for (Eigen::Index b = 0; b < batch; ++b)
    for (Eigen::Index t = 0; t < sequence; ++t) tokens(b, t) = static_cast<std::int32_t>((5 * b + 11 * t + t * t) % vocab);
  return tokens;
}

/// A model of SmolLM2's proportions (GQA 3:1, SwiGLU), small enough for a test.
inline gift::model::llama_config agreement_config() {
  return gift::model::tiny_llama_config(/*layers=*/3, /*hidden=*/48, /*heads=*/6, /*kv_heads=*/2, /*ffn=*/80, /*vocab=*/97);
}

/// `source` on `Backend` with every linear layer GIFT-SW over every 5th input column (Δ = 0.02),
/// noise seed 7.
template <class Backend>
gift::model::llama_model<float, Backend> trainable(const gift::model::llama_model<float, gift::backend::eigen>& source) {
  namespace gm = gift::model;
  auto model = gm::to_backend<Backend>(source);
  for (int b = 0; b < model.config().layers; ++b) {
    for (gm::projection p : gm::all_projections) {
      const gift::matrix<float> w = model.linear(b, p).effective_weight();
      const auto salient = gift::salient_columns::from_indices(every_nth(w.cols(), 5, 1), static_cast<std::size_t>(w.cols()));
      model.replace_linear(b, p, std::make_unique<gm::gift_sw_linear<float, Backend>>(
                                     w, salient, gift::vector<float>::Constant(w.rows(), 0.02f), 7,
                                     static_cast<std::uint32_t>(gm::layer_id(b, p))));
    }
  }
  return model;
}

/// max |a − b| / max |b|: the agreement of `a` with the reference `b`.
inline double relative_difference(const gift::matrix<float>& a, const gift::matrix<float>& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-30f, b.cwiseAbs().maxCoeff());
}

}  // namespace gift_test
