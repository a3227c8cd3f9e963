// Every optimizer on every backend this build can run: hand-computed updates and clipping, and
// bit-identical trajectories across the backends. Compiled twice: into optim_eigen (the Eigen
// backend) and, where gift::thrust exists, into optim_thrust (the Thrust OMP and CPP systems).
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/optim/optim.hpp>
#include <gift/type_list.hpp>
#if defined(GIFT_HAS_THRUST)
#include <gift/backend/thrust.hpp>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <tuple>
#include <vector>

// Every case of this file belongs to the CTest test optim_thrust / optim_eigen (tests/CMakeLists.txt: gift_add_test).
#if defined(GIFT_HAS_THRUST)
BOOST_AUTO_TEST_SUITE(optim_thrust)
#else
BOOST_AUTO_TEST_SUITE(optim_eigen)
#endif

using namespace gift_test;

namespace {
#if defined(GIFT_HAS_THRUST)
using backends = std::tuple<gift::backend::thrust_omp, gift::backend::thrust_cpp>;
#else
using backends = std::tuple<gift::backend::eigen>;
#endif

template <class Backend, class T>
gift::optim::parameter<T, Backend> view(std::vector<T>& value, std::vector<T>& gradient, bool decay = true) {
  return {std::span<T>(value), std::span<T>(gradient), decay, "test"};
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(sgd_momentum_hand_computed, Backend, backends) {
  std::vector<double> value{1.0, -2.0}, gradient{0.5, 1.0};
  gift::optim::sgd optimizer(std::vector{view<Backend>(value, gradient)}, gift::optim::sgd_options{0.9, 0.0, false});
  optimizer.step(0.1);  // b = g; p -= 0.1 g
  BOOST_TEST(value[0] == 1.0 - 0.05);
  BOOST_TEST(value[1] == -2.0 - 0.1);
  optimizer.step(0.1);  // b = 0.9 g + g = 1.9 g
  BOOST_TEST(std::abs(value[0] - (0.95 - 0.1 * 0.95)) < 1e-15);
  BOOST_TEST(std::abs(value[1] - (-2.1 - 0.19)) < 1e-15);
  BOOST_TEST(optimizer.state_elements() == 2u);
  optimizer.zero_grad();
  BOOST_TEST(gradient[0] == 0.0);
  BOOST_TEST(gradient[1] == 0.0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(adam_first_step_is_learning_rate_times_sign, Backend, backends) {
  // After one step m̂ = g and v̂ = g², so the update is lr · g / (|g| + ε).
  std::vector<double> value{1.0, 1.0, 1.0}, gradient{3.0, -0.25, 0.0};
  gift::optim::adam optimizer(std::vector{view<Backend>(value, gradient)});
  optimizer.step(0.01);
  BOOST_TEST(std::abs(value[0] - (1.0 - 0.01 * 3.0 / (3.0 + 1e-8))) < 1e-15);
  BOOST_TEST(std::abs(value[1] - (1.0 + 0.01 * 0.25 / (0.25 + 1e-8))) < 1e-15);
  BOOST_TEST(value[2] == 1.0);
  BOOST_TEST(optimizer.state_elements() == 6u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(adamw_decays_decoupled_and_skips_biases, Backend, backends) {
  std::vector<double> weight{2.0}, weight_gradient{0.0}, bias{2.0}, bias_gradient{0.0};
  gift::optim::adamw optimizer(std::vector{view<Backend>(weight, weight_gradient), view<Backend>(bias, bias_gradient, false)},
                               0.5);
  optimizer.step(0.1);  // zero gradient: only the decay p ← p (1 − lr λ) acts, on the weight
  BOOST_TEST(std::abs(weight[0] - 2.0 * (1 - 0.05)) < 1e-15);
  BOOST_TEST(bias[0] == 2.0);
  // Coupled L2 (plain Adam) instead feeds λ p into the moments: the first step moves by ≈ lr.
  std::vector<double> coupled{2.0}, coupled_gradient{0.0};
  gift::optim::adam l2(std::vector{view<Backend>(coupled, coupled_gradient)},
                       gift::optim::adam_options{0.9, 0.999, 1e-8, 0.5, false});
  l2.step(0.1);
  BOOST_TEST(std::abs(coupled[0] - (2.0 - 0.1 * 1.0 / (1.0 + 1e-8))) < 1e-12);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(global_clipping_over_blocks, Backend, backends) {
  std::vector<double> a{0, 0}, ga{3, 0}, b{0}, gb{4};
  const std::vector blocks{view<Backend>(a, ga), view<Backend>(b, gb)};
  const double norm = gift::optim::clip_gradient_norm(blocks, 1.0);
  BOOST_TEST(norm == 5.0);
  BOOST_TEST(std::abs(gift::optim::gradient_norm(blocks) - 1.0) < 1e-6);
  BOOST_TEST(std::abs(ga[0] / gb[0] - 0.75) < 1e-15);  // direction kept
  // Below the threshold nothing changes.
  const double small = gift::optim::clip_gradient_norm(blocks, 10.0);
  BOOST_TEST(std::abs(small - 1.0) < 1e-6);
  BOOST_TEST(std::abs(ga[0] - 3.0 / (5.0 + 1e-6)) < 1e-15);
  gb[0] = std::nan("");
  const std::string message = message_of([&] { (void)gift::optim::clip_gradient_norm(blocks, 1.0); });
  BOOST_TEST(message.find("not finite") != std::string::npos, message);
}

namespace {
// 25 steps of AdamW (with a clipped gradient) and of Nesterov SGD on two blocks; returns the bits.
template <class Backend>
std::vector<float> trajectory() {
  std::vector<float> w(777), gw(777), bias(13), gb(13), u(300), gu(300);
  const gift::matrix_f start = normal_matrix(1, 777 + 13 + 300, 41);
  std::memcpy(w.data(), start.data(), 777 * sizeof(float));
  std::memcpy(bias.data(), start.data() + 777, 13 * sizeof(float));
  std::memcpy(u.data(), start.data() + 790, 300 * sizeof(float));
  const std::vector adam_views{view<Backend>(w, gw), view<Backend>(bias, gb, false)};
  gift::optim::adamw adam(adam_views, 0.1, 0.8, 0.95, 1e-6);
  gift::optim::sgd sgd(std::vector{view<Backend>(u, gu)}, gift::optim::sgd_options{0.9, 0.01, true});
  for (std::uint32_t step = 0; step < 25; ++step) {
    const gift::matrix_f g = normal_matrix(1, 777 + 13 + 300, 100 + step, 3.0f);
    std::memcpy(gw.data(), g.data(), 777 * sizeof(float));
    std::memcpy(gb.data(), g.data() + 777, 13 * sizeof(float));
    std::memcpy(gu.data(), g.data() + 790, 300 * sizeof(float));
    (void)gift::optim::clip_gradient_norm(adam_views, 10.0);
    adam.step(1e-2);
    sgd.step(1e-3);
  }
  std::vector<float> all = w;
  all.insert(all.end(), bias.begin(), bias.end());
  all.insert(all.end(), u.begin(), u.end());
  return all;
}

std::vector<float> reference_trajectory() {
  static const std::vector<float> reference = trajectory<gift::backend::eigen>();
  return reference;
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(same_bits_as_the_eigen_backend, Backend, backends) {
  const std::vector<float> expected = reference_trajectory(), got = trajectory<Backend>();
  BOOST_TEST(std::memcmp(expected.data(), got.data(), expected.size() * sizeof(float)) == 0);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(adam_restored_from_a_checkpoint_continues_bit_identically, Backend, backends) {
  // 10 steps in one go == 5 steps, a checkpoint (values, moments, step count) into a fresh
  // optimizer, 5 more: the property `gift finetune --resume` relies on.
  const auto gradient_at = [](std::size_t step, std::size_t e) {
    return std::sin(0.7 * static_cast<double>(step) + 1.3 * static_cast<double>(e)) * 0.1;
  };
  std::vector<float> straight{0.5f, -1.0f, 2.0f}, straight_gradient(3);
  gift::optim::adamw straight_optimizer(std::vector{view<Backend>(straight, straight_gradient)}, 0.01);
  for (std::size_t step = 0; step < 10; ++step) {
    for (std::size_t e = 0; e < 3; ++e) straight_gradient[e] = static_cast<float>(gradient_at(step, e));
    straight_optimizer.step(1e-2);
  }
  std::vector<float> first_half{0.5f, -1.0f, 2.0f}, first_gradient(3);
  gift::optim::adamw first_optimizer(std::vector{view<Backend>(first_half, first_gradient)}, 0.01);
  for (std::size_t step = 0; step < 5; ++step) {
    for (std::size_t e = 0; e < 3; ++e) first_gradient[e] = static_cast<float>(gradient_at(step, e));
    first_optimizer.step(1e-2);
  }
  std::vector<float> resumed = first_half, resumed_gradient(3);
  gift::optim::adamw resumed_optimizer(std::vector{view<Backend>(resumed, resumed_gradient)}, 0.01);
  resumed_optimizer.restore(first_optimizer.steps(), {first_optimizer.first_moment(0)},
                            {first_optimizer.second_moment(0)});
  BOOST_TEST(resumed_optimizer.steps() == 5u);
  for (std::size_t step = 5; step < 10; ++step) {
    for (std::size_t e = 0; e < 3; ++e) resumed_gradient[e] = static_cast<float>(gradient_at(step, e));
    resumed_optimizer.step(1e-2);
  }
  BOOST_TEST(std::memcmp(resumed.data(), straight.data(), 3 * sizeof(float)) == 0);
  BOOST_TEST((resumed_optimizer.first_moment(0) == straight_optimizer.first_moment(0)));
  // A checkpoint of another shape, or an invalid state, is refused and changes nothing.
  BOOST_CHECK_THROW(resumed_optimizer.restore(1, {{0.f, 0.f}}, {{0.f, 0.f}}), gift::error);
  BOOST_CHECK_THROW(resumed_optimizer.restore(1, {{0.f, 0.f, 0.f}}, {{0.f, -1.f, 0.f}}), gift::error);
  BOOST_CHECK_THROW((void)resumed_optimizer.first_moment(1), gift::error);
  BOOST_TEST(resumed_optimizer.steps() == 10u);
}

BOOST_AUTO_TEST_SUITE_END()  // optim_thrust / optim_eigen
