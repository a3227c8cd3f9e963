#pragma once
/// \file gift/model/empirical_fisher.hpp
/// \brief `gift::model::empirical_fisher`: the empirical Fisher diagonal of every linear layer of
/// a model over calibration sequences, one backward pass per sequence — and the salient columns it
/// selects when it is the sensitivity source instead of Eq. 4.

#include <gift/error.hpp>
#include <gift/fisher_diagonal.hpp>
#include <gift/model/full_linear.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/model/tokens.hpp>
#include <gift/select.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace gift::model {

/// For every linear layer (index `layer_id(block, p)`), `Σ_s (∂L_s/∂W)²` where `L_s` is the mean
/// next-token loss of row `s` of `sequences` alone (evaluation mode: no noise). The layers'
/// current weights are used (`effective_weight()`), and the model's modules are put back as they
/// were when this returns or throws. `progress`, when given, is called after each sequence.
/// \throws gift::error when `sequences` is empty or a gradient is not finite.
template <std::floating_point T>
[[nodiscard]] std::vector<fisher_diagonal> empirical_fisher(llama_model<T>& model, const token_matrix& sequences,
                                                            const std::function<void()>& progress = {}) {
  gift::detail::require(sequences.rows() > 0 && sequences.cols() >= 2, "gift::model::empirical_fisher: argument ",
                        "'sequences' must hold at least one sequence of at least 2 tokens, but is ", sequences.rows(),
                        " x ", sequences.cols());
  const int blocks = model.config().layers;
  // Every slot becomes a dense trainable copy for the gradients; the originals wait here.
  std::vector<std::unique_ptr<linear_module<T>>> originals;
  std::vector<full_linear<T>*> dense;
  std::vector<fisher_diagonal> fisher;
  const auto restore = [&] {
    for (int b = 0, n = 0; b < blocks; ++b)
      for (projection p : all_projections) {
        if (static_cast<std::size_t>(n) >= originals.size()) return;
        (void)model.replace_linear(b, p, std::move(originals[static_cast<std::size_t>(n++)]));
      }
  };
  try {
    for (int b = 0; b < blocks; ++b)
      for (projection p : all_projections) {
        auto copy = std::make_unique<full_linear<T>>(model.linear(b, p).effective_weight());
        dense.push_back(copy.get());
        fisher.emplace_back(copy->out_features(), copy->in_features());
        originals.push_back(model.replace_linear(b, p, std::move(copy)));
      }
    for (Eigen::Index s = 0; s < sequences.rows(); ++s) {
      for (auto* layer : dense) layer->zero_gradient();
      const token_matrix one = sequences.row(s);
      (void)model.forward_backward(one, forward_context{});
      for (std::size_t l = 0; l < dense.size(); ++l) fisher[l].add(dense[l]->gradient());
      if (progress) progress();
    }
  } catch (...) {
    restore();
    throw;
  }
  restore();
  return fisher;
}

/// Salient columns chosen by the Fisher diagonal instead of Eq. 4: per layer the `size` columns with
/// the largest Fisher mass `Σ_i F_ij` (`fisher_diagonal::column_scores`; ties to the lower index,
/// as every selection). Indexed like `fisher` (by layer id).
/// \throws gift::error when `size` is invalid for a layer.
[[nodiscard]] inline model_selection select_by_fisher(const std::vector<fisher_diagonal>& fisher,
                                                      const selection_size& size) {
  gift::detail::require(size.k > 0 || (size.fraction > 0 && size.fraction <= 1), "gift::model::select_by_fisher: ",
                        "argument 'size' must have k > 0 or a fraction in (0, 1], but has k = ", size.k,
                        " and fraction = ", size.fraction);
  model_selection selection;
  selection.reserve(fisher.size());
  for (const auto& layer : fisher) {
    const vector<double> scores = layer.column_scores();
    selection.push_back(size.k > 0 ? select_salient(scores, size.k) : select_salient(scores, fraction{size.fraction}));
  }
  return selection;
}

}  // namespace gift::model
