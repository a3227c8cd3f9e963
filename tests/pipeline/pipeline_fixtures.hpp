#pragma once
// What the pipeline tests share: the tiny synthetic model on a backend, reproducible token
// batches, and GIFT-SW slots in every linear layer.
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/parameter.hpp>
#include <gift/salient_columns.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace pipeline_test {

namespace gm = gift::model;

/// The synthetic model of `seed` on `Backend`.
template <class Backend>
gm::llama_model<float, Backend> tiny_model(std::uint64_t seed) {
  return gm::to_backend<Backend>(gm::make_synthetic_llama<float>(gm::tiny_llama_config(), seed));
}

/// `rows` sequences of `length` ids, different for every salt.
inline gm::token_matrix tokens(Eigen::Index rows, Eigen::Index length, int vocab, int salt = 0) {
  gm::token_matrix out(rows, length);
  for (Eigen::Index b = 0; b < rows; ++b)
    for (Eigen::Index t = 0; t < length; ++t)
      out(b, t) = static_cast<std::int32_t>((7 * b + 13 * t + 3 * t * t + 5 * salt) % vocab);
  return out;
}

/// Every linear layer of `model` becomes a GIFT-SW slot training columns {1, 4} (Δ = 0.05 per row,
/// noise seed 3); returns the slots' parameter views in layer order.
template <class Backend>
std::vector<gift::optim::parameter<float, Backend>> make_gift_sw(gm::llama_model<float, Backend>& model) {
  std::vector<gift::optim::parameter<float, Backend>> parameters;
  for (int b = 0; b < model.config().layers; ++b) {
    for (gm::projection p : gm::all_projections) {
      const gift::matrix<float> weight = model.linear(b, p).effective_weight();
      const gift::vector<float> delta = gift::vector<float>::Constant(weight.rows(), 0.05f);
      auto slot = std::make_unique<gm::gift_sw_linear<float, Backend>>(
          weight, gift::salient_columns::from_indices(std::vector<std::int64_t>{1, 4}, static_cast<std::size_t>(weight.cols())), delta, 3,
          static_cast<std::uint32_t>(gm::layer_id(b, p)));
      for (auto& view : slot->parameters()) parameters.push_back(view);
      model.replace_linear(b, p, std::move(slot));
    }
  }
  return parameters;
}

}  // namespace pipeline_test
