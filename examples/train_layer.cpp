// Fine-tunes one linear layer GIFT-SW style: only 16 of 256 input columns train, the other 240
// see fresh quantization noise ½ Δ_i Ω_ij every step, and AdamW with a cosine schedule (3 %
// warmup) and global gradient clipping fits a target layer that differs from the start only in
// the salient columns. Prints the clean (evaluation) loss as it falls.
//
//   example_train_layer
#include <gift/nn/gift_linear.hpp>
#include <gift/optim/optim.hpp>
#include <gift/fill_standard_normal.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  const Eigen::Index out = 64, in = 256, tokens = 128;
  const std::int64_t steps = 300;
  std::vector<std::int64_t> salient;
  for (std::int64_t j = 5; j < in; j += 16) salient.push_back(j);  // 16 salient columns

  gift::matrix_f start(out, in);
  gift::fill_standard_normal(start, gift::noise_key{1, 0, 0});
  start *= 0.05f;
  // The target moves only the salient columns: the layer can reach it exactly.
  gift::matrix_f target = start;
  gift::matrix_f shift(out, static_cast<Eigen::Index>(salient.size()));
  gift::fill_standard_normal(shift, gift::noise_key{2, 0, 0});
  for (std::size_t s = 0; s < salient.size(); ++s) target.col(salient[s]) += 0.2f * shift.col(static_cast<Eigen::Index>(s));

  // Δ_i as a 4-bit symmetric quantizer of the row would give: max|W_i| / 7.
  gift::vector_f delta(out);
  for (Eigen::Index i = 0; i < out; ++i) delta(i) = start.row(i).cwiseAbs().maxCoeff() / 7.0f;

  gift::nn::gift_linear<float> layer(start, salient, delta, gift::noise_key{2024, 0, 0});
  gift::optim::adamw<float> optimizer(layer.parameters(), 0.0);
  const gift::optim::cosine_schedule schedule(2e-2, steps, 0.03);
  const auto parameters = layer.parameters();

  for (std::int64_t step = 0; step < steps; ++step) {
    gift::matrix_f x(tokens, in);
    gift::fill_standard_normal(x, gift::noise_key{3, 0, static_cast<std::uint32_t>(step)});
    const gift::matrix_f wanted = x * target.transpose();
    const gift::matrix_f y = layer.forward(x, static_cast<std::uint64_t>(step));
    const gift::matrix_f dy = (y - wanted) / static_cast<float>(tokens);  // d(½ mean ‖y − t‖²)/dy
    (void)layer.backward(dy);
    const double norm = gift::optim::clip_gradient_norm<float>(parameters, 1.0);
    optimizer.step(schedule(static_cast<std::uint64_t>(step)));
    optimizer.zero_grad();
    if (step % 50 == 0 || step == steps - 1) {
      const gift::matrix_f clean = layer.forward_eval(x);
      const double loss = 0.5 * (clean - wanted).squaredNorm() / static_cast<double>(tokens);
      std::printf("step %4lld  lr %.5f  grad-norm %.4f  clean loss %.6f\n", static_cast<long long>(step),
                  schedule(static_cast<std::uint64_t>(step)), norm, loss);
    }
  }
  // Salient columns reached the target; every frozen column is bit-identical to the start.
  const gift::matrix_f merged = layer.merged_weight();
  std::vector<bool> is_salient(static_cast<std::size_t>(in), false);
  for (const auto j : salient) is_salient[static_cast<std::size_t>(j)] = true;
  float worst_salient = 0;
  Eigen::Index frozen_changed = 0;
  for (Eigen::Index j = 0; j < in; ++j) {
    if (is_salient[static_cast<std::size_t>(j)]) {
      worst_salient = std::max(worst_salient, (merged.col(j) - target.col(j)).cwiseAbs().maxCoeff());
    } else if (merged.col(j) != start.col(j)) {
      ++frozen_changed;
    }
  }
  std::printf("max |W - W_target| on salient columns: %.5f; frozen columns changed: %lld of %lld\n",
              static_cast<double>(worst_salient), static_cast<long long>(frozen_changed),
              static_cast<long long>(in - static_cast<Eigen::Index>(salient.size())));
  return frozen_changed == 0 ? 0 : 1;
}
