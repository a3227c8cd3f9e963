// The README's tour, compiled: calibration statistics → gift_sw sensitivity → salient columns →
// per-row 4-bit scale Δ → one GIFT-SW training step of a layer.
#include <gift/gift.hpp>

#include <cstdio>

int main() {
  constexpr Eigen::Index out = 64, in = 256, tokens = 512;
  gift::matrix_f weights(out, in);
  gift::fill_standard_normal(weights, gift::noise_key{1, 0, 0});
  gift::matrix_f activations(tokens, in);
  gift::fill_standard_normal(activations, gift::noise_key{2, 0, 0});
  activations.col(17) *= 30.0f;  // a loud input feature, as in real LLM activations

  const gift::matrix_f dy = gift::matrix_f::Ones(tokens, out);  // a gradient from the layers above

  // README tour begins (README.md shows these lines as they are; tests/core/check_layout.py checks it)
  gift::activation_stats stats(static_cast<std::size_t>(in));  // calibration: streaming, mergeable
  stats.update(activations);                                     // activations: tokens × in
  const gift::vector<double> scores = gift::column_sensitivity<gift::gift_sw>(weights, stats);  // ‖D_j‖_∞·‖X_j‖_∞
  const gift::salient_columns salient = gift::select_salient(scores, 8);  // sorted indices + mask
  const gift::vector_f delta = gift::row_deltas(weights, 4, gift::alpha_search::paper_grid(), salient);  // per-row Δ

  gift::nn::gift_linear<float> layer(weights, salient, delta, gift::noise_key{42, /*layer=*/0, 0});
  const gift::matrix_f y = layer.forward(activations, /*step=*/0);  // W_N + ½·Δ_i·Ω_ij, fresh per step
  const gift::matrix_f dx = layer.backward(dy);                      // same noise, regenerated
  gift::optim::adamw<float> optimizer(layer.parameters());
  optimizer.step(1e-3);  // state for the out × k salient block only
  // README tour ends

  // Before the step the salient block was W's salient columns.
  gift::matrix_f before(out, static_cast<Eigen::Index>(salient.size()));
  for (Eigen::Index k = 0; k < before.cols(); ++k) before.col(k) = weights.col(salient.indices()[static_cast<std::size_t>(k)]);
  std::printf("salient columns:");
  for (const auto j : salient.indices()) std::printf(" %lld", static_cast<long long>(j));
  std::printf("\nloud column 17 selected: %s\n", salient.mask()[17] ? "yes" : "no");
  std::printf("y: %ld x %ld, dx: %ld x %ld, |dW_salient| = %.3f\n", static_cast<long>(y.rows()),
              static_cast<long>(y.cols()), static_cast<long>(dx.rows()), static_cast<long>(dx.cols()),
              static_cast<double>(layer.salient_gradient().norm()));
  std::printf("salient block moved by %.4f after one AdamW step\n",
              static_cast<double>((layer.salient_weight() - before).norm()));
  return salient.mask()[17] ? 0 : 1;
}
