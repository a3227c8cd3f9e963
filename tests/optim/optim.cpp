// Optimizers, schedules and clipping: hand-computed updates, masked Adam/AdamW on the salient
// block equal to dense Adam/AdamW with a column mask, schedule values, global clipping.
#include <boost/test/unit_test.hpp>

#include "training_fixtures.hpp"

#include <gift/nn/gift_linear.hpp>
#include <gift/optim/optim.hpp>

#include <cmath>

using namespace training_test;

namespace {
gift::optim::parameter<double> view(std::vector<double>& value, std::vector<double>& gradient, bool decay = true) {
  return {std::span<double>(value), std::span<double>(gradient), decay, "test"};
}
}  // namespace

BOOST_AUTO_TEST_CASE(sgd_momentum_hand_computed) {
  std::vector<double> value{1.0, -2.0}, gradient{0.5, 1.0};
  gift::optim::sgd<double> optimizer({view(value, gradient)}, {0.9, 0.0, false});
  optimizer.step(0.1);  // b = g; p -= 0.1 g
  BOOST_TEST(value[0] == 1.0 - 0.05);
  BOOST_TEST(value[1] == -2.0 - 0.1);
  optimizer.step(0.1);  // b = 0.9 g + g = 1.9 g
  BOOST_TEST(std::abs(value[0] - (0.95 - 0.1 * 0.95)) < 1e-15);
  BOOST_TEST(std::abs(value[1] - (-2.1 - 0.19)) < 1e-15);
  BOOST_TEST(optimizer.state_elements() == 2u);
}

BOOST_AUTO_TEST_CASE(adam_first_step_is_learning_rate_times_sign) {
  // After one step m̂ = g and v̂ = g², so the update is lr · g / (|g| + ε).
  std::vector<double> value{1.0, 1.0, 1.0}, gradient{3.0, -0.25, 0.0};
  gift::optim::adam<double> optimizer({view(value, gradient)});
  optimizer.step(0.01);
  BOOST_TEST(std::abs(value[0] - (1.0 - 0.01 * 3.0 / (3.0 + 1e-8))) < 1e-15);
  BOOST_TEST(std::abs(value[1] - (1.0 + 0.01 * 0.25 / (0.25 + 1e-8))) < 1e-15);
  BOOST_TEST(value[2] == 1.0);
  BOOST_TEST(optimizer.state_elements() == 6u);
}

BOOST_AUTO_TEST_CASE(adamw_decays_decoupled_and_skips_biases) {
  std::vector<double> weight{2.0}, weight_gradient{0.0}, bias{2.0}, bias_gradient{0.0};
  gift::optim::adamw<double> optimizer({view(weight, weight_gradient), view(bias, bias_gradient, false)}, 0.5);
  optimizer.step(0.1);  // zero gradient: only the decay p ← p (1 − lr λ) acts, on the weight
  BOOST_TEST(std::abs(weight[0] - 2.0 * (1 - 0.05)) < 1e-15);
  BOOST_TEST(bias[0] == 2.0);
  // Coupled L2 (plain Adam) instead feeds λ p into the moments: the first step moves by ≈ lr.
  std::vector<double> coupled{2.0}, coupled_gradient{0.0};
  gift::optim::adam<double> l2({view(coupled, coupled_gradient)}, {0.9, 0.999, 1e-8, 0.5, false});
  l2.step(0.1);
  BOOST_TEST(std::abs(coupled[0] - (2.0 - 0.1 * 1.0 / (1.0 + 1e-8))) < 1e-12);
}

BOOST_AUTO_TEST_CASE(masked_adamw_equals_dense_adamw_with_a_column_mask) {
  // The layer's optimizer holds state for the out × k salient block only. A dense AdamW over all
  // of W (state out × in), fed the same gradients in the salient columns and with the update
  // masked to them, must end at the same weights — in double, against an independent loop.
  const Eigen::Index out = 12, in = 40, tokens = 8;
  const auto salient = every_nth(in, 6, 3);
  gift::nn::gift_linear<float> layer(normal_matrix(out, in, 30, 0.2f), salient, row_scales(out),
                                     gift::noise_key{5, 6, 0});
  gift::optim::adamw<float> masked(layer.parameters(), 0.05, 0.8, 0.95, 1e-6);
  gift::matrix<double> dense = layer.merged_weight().cast<double>();
  gift::matrix<double> m = gift::matrix<double>::Zero(out, in), v = m;
  gift::matrix<double> mask = gift::matrix<double>::Zero(out, in);
  for (auto j : salient) mask.col(j).setOnes();
  const double lr = 3e-3, beta1 = 0.8, beta2 = 0.95, eps = 1e-6, lambda = 0.05;
  for (std::uint32_t step = 1; step <= 20; ++step) {
    const gift::matrix_f x = normal_matrix(tokens, in, 200 + step);
    (void)layer.backward(layer.forward(x, step) - normal_matrix(tokens, out, 300 + step));
    gift::matrix<double> gradient = gift::matrix<double>::Zero(out, in);
    for (std::size_t s = 0; s < salient.size(); ++s)
      gradient.col(salient[s]) = layer.salient_gradient().col(static_cast<Eigen::Index>(s)).cast<double>();
    masked.step(lr);
    masked.zero_grad();
    // Dense AdamW, every element, then the mask decides which elements take the update.
    const gift::matrix<double> decayed = dense * (1 - lr * lambda);
    m = beta1 * m + (1 - beta1) * gradient;
    v = beta2 * v + (1 - beta2) * gradient.cwiseProduct(gradient);
    const double c1 = 1 - std::pow(beta1, step), c2 = 1 - std::pow(beta2, step);
    const gift::matrix<double> update =
        (m / c1).array() / ((v / c2).array().sqrt() + eps);
    const gift::matrix<double> candidate = decayed - lr * update;
    dense = mask.cwiseProduct(candidate) + (gift::matrix<double>::Ones(out, in) - mask).cwiseProduct(dense);
  }
  const gift::matrix<double> trained = layer.merged_weight().cast<double>();
  BOOST_TEST((trained - dense).cwiseAbs().maxCoeff() < 2e-6);
  BOOST_TEST((trained - layer.frozen_weight().cast<double>()).cwiseAbs().maxCoeff() > 1e-2);  // it did train
  BOOST_TEST(masked.state_elements() == static_cast<std::size_t>(2 * out * static_cast<Eigen::Index>(salient.size())));
}

BOOST_AUTO_TEST_CASE(schedules_hand_computed) {
  const gift::optim::constant_schedule constant(0.5, 4);
  BOOST_TEST(constant(0) == 0.0);
  BOOST_TEST(constant(2) == 0.25);
  BOOST_TEST(constant(4) == 0.5);
  BOOST_TEST(constant(1000) == 0.5);
  const gift::optim::linear_schedule linear(1.0, 100, 0.1);  // 10 warmup steps
  BOOST_TEST(linear.warmup_steps == 10u);
  BOOST_TEST(linear(5) == 0.5);
  BOOST_TEST(linear(10) == 1.0);
  BOOST_TEST(std::abs(linear(55) - 0.5) < 1e-15);
  BOOST_TEST(linear(100) == 0.0);
  const gift::optim::cosine_schedule cosine(2.0, 1000);  // warmup ratio 0.03: 30 steps
  BOOST_TEST(cosine.warmup_steps == 30u);
  BOOST_TEST(std::abs(cosine(15) - 1.0) < 1e-15);
  BOOST_TEST(cosine(30) == 2.0);
  BOOST_TEST(std::abs(cosine(30 + 485) - 1.0) < 1e-12);  // halfway through the decay
  BOOST_TEST(cosine(1000) == 0.0);
  for (std::uint64_t s = 31; s < 1000; ++s) BOOST_TEST(cosine(s) <= cosine(s - 1));
  static_assert(gift::optim::learning_rate_schedule<gift::optim::cosine_schedule>);
}

BOOST_AUTO_TEST_CASE(global_clipping_over_blocks) {
  std::vector<double> a{0, 0}, ga{3, 0}, b{0}, gb{4};
  const std::vector<gift::optim::parameter<double>> blocks{view(a, ga), view(b, gb)};
  const double norm = gift::optim::clip_gradient_norm<double>(blocks, 1.0);
  BOOST_TEST(norm == 5.0);
  BOOST_TEST(std::abs(gift::optim::gradient_norm<double>(blocks) - 1.0) < 1e-6);
  BOOST_TEST(std::abs(ga[0] / gb[0] - 0.75) < 1e-15);  // direction kept
  // Below the threshold nothing changes.
  const double small = gift::optim::clip_gradient_norm<double>(blocks, 10.0);
  BOOST_TEST(std::abs(small - 1.0) < 1e-6);
  BOOST_TEST(std::abs(ga[0] - 3.0 / (5.0 + 1e-6)) < 1e-15);
  gb[0] = std::nan("");
  const std::string message = message_of([&] { (void)gift::optim::clip_gradient_norm<double>(blocks, 1.0); });
  BOOST_TEST(message.find("not finite") != std::string::npos, message);
}
