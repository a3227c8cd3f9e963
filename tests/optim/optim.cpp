// Masked Adam/AdamW on the salient block equal to dense Adam/AdamW with a column mask, and the
// schedules' values. The hand-computed updates of every optimizer, on every backend, are in
// backends.cpp.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/nn/gift_linear.hpp>
#include <gift/optim/optim.hpp>

#include <cmath>
#include <string>

// Every case of this file belongs to the CTest test optim_eigen (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(optim_eigen)

using namespace gift_test;

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

BOOST_AUTO_TEST_CASE(schedules_by_name_equal_the_schedules) {
  const auto constant = gift::optim::named_schedule("constant", 0.5, 100, 0.04);  // ceil(0.04 · 100) = 4 warmup steps
  const auto linear = gift::optim::named_schedule("linear", 1.0, 100, 0.1);
  const auto cosine = gift::optim::named_schedule("cosine", 2.0, 1000, 0.03);
  for (std::uint64_t s = 0; s < 1001; s += 7) {
    BOOST_TEST(constant(s) == gift::optim::constant_schedule(0.5, 4)(s));
    BOOST_TEST(linear(s) == gift::optim::linear_schedule(1.0, 100, 0.1)(s));
    BOOST_TEST(cosine(s) == gift::optim::cosine_schedule(2.0, 1000, 0.03)(s));
  }
  BOOST_CHECK_EXCEPTION((void)gift::optim::named_schedule("exponential", 1.0, 10, 0.0), gift::error,
                        [](const gift::error& e) {
                          return std::string(e.what()).find("constant, linear or cosine, but is 'exponential'") !=
                                 std::string::npos;
                        });
  BOOST_CHECK_THROW((void)gift::optim::named_schedule("cosine", 1.0, 10, 1.5), gift::error);  // the schedule's own check
}

BOOST_AUTO_TEST_SUITE_END()  // optim_eigen
