// gift_linear on the Thrust host systems (OMP and CPP), the CUDA layer's code path on the CPU: the
// same noisy weight as add_quantization_noise (bit for bit), clean weights in evaluation mode,
// finite-difference gradients in double, frozen columns bit-identical after training with the
// optimizer of the same backend, and agreement with the Eigen layer.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "module_check.hpp"

#include <gift/backend/thrust.hpp>
#include <gift/nn/gift_linear.hpp>
#include <gift/noise.hpp>
#include <gift/optim/adam.hpp>

#include <cmath>
#include <tuple>
#include <type_traits>

// Every case of this file belongs to the CTest test nn_thrust (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(nn_thrust)

using namespace gift_test;

namespace {
const gift::noise_key base{1234, 17, 0};
using systems = std::tuple<gift::backend::system::omp, gift::backend::system::cpp>;

template <class T, class System>
using device = gift::thrust_matrix<T, System>;

template <class T, class System>
auto make_layer(Eigen::Index out, Eigen::Index in, const std::vector<std::int64_t>& salient, bool bias = false) {
  const auto weight = device<T, System>::from_eigen(normal_matrix(out, in, 5, 0.1f));
  const auto selection = gift::salient_columns::from_indices(salient, static_cast<std::size_t>(in));
  if (bias) {
    return gift::nn::gift_linear(weight, gift::vector<T>(normal_matrix(out, 1, 6).cast<T>()), selection,
                                 row_scales(out), base);
  }
  return gift::nn::gift_linear(weight, selection, row_scales(out), base);
}

template <class T, class System>
gift::matrix<T> host(const device<T, System>& m) {
  return m.to_eigen();
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(backend_follows_the_weight_type, System, systems) {
  auto layer = make_layer<float, System>(6, 9, {2});
  static_assert(std::is_same_v<typename decltype(layer)::backend_type, gift::backend::thrust<System>>);
  static_assert(std::is_same_v<typename decltype(layer.parameters())::value_type,
                               gift::optim::parameter<float, gift::backend::thrust<System>>>);
  BOOST_TEST(layer.out_features() == 6);
  BOOST_TEST(layer.in_features() == 9);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(forward_and_backward_use_the_noisy_weight_of_the_op, System, systems) {
  // x = I gives W̃ᵀ exactly and dy = I gives W̃ exactly (products with 1, sums with 0).
  const Eigen::Index out = 45, in = 70;
  const std::vector<std::int64_t> salient{3, 4, 31, 69};
  auto layer = make_layer<float, System>(out, in, salient);
  layer.set_panel_elements(7 * 70);  // several panels, the last one partial
  auto block = layer.salient_weight().to_eigen();
  block.array() += 0.25f;  // trained values, not the original ones, must show
  layer.salient_weight() = device<float, System>::from_eigen(block);
  const std::uint32_t step = 9;
  gift::matrix_f expected = host(layer.merged_weight());
  gift::add_quantization_noise(expected, layer.delta(), salient, gift::noise_key{base.seed, base.layer, step});

  const gift::matrix_f y = host(layer.forward(device<float, System>::from_eigen(gift::matrix_f::Identity(in, in)), step));
  BOOST_TEST(bit_identical(gift::matrix_f(y.transpose()), expected));
  (void)layer.forward(device<float, System>::from_eigen(gift::matrix_f::Identity(out, in)), step);
  const gift::matrix_f dx = host(layer.backward(device<float, System>::from_eigen(gift::matrix_f::Identity(out, out))));
  BOOST_TEST(bit_identical(dx, expected));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(evaluation_mode_injects_no_noise, System, systems) {
  const Eigen::Index out = 20, in = 33;
  auto layer = make_layer<float, System>(out, in, {0, 32});
  const gift::matrix_f clean = host(layer.merged_weight());
  const auto identity = device<float, System>::from_eigen(gift::matrix_f::Identity(in, in));
  BOOST_TEST(bit_identical(gift::matrix_f(host(layer.forward_eval(identity)).transpose()), clean));
  layer.set_training(false);
  BOOST_TEST(bit_identical(gift::matrix_f(host(layer.forward(identity, 5)).transpose()), clean));
  layer.set_training(true);
  const gift::matrix_f noisy = host(layer.forward(identity, 5)).transpose();
  BOOST_TEST(!bit_identical(noisy, clean));
  for (auto j : {0, 32}) BOOST_TEST(noisy.col(j) == clean.col(j));  // salient columns: no noise
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gradients_match_finite_differences_in_double, System, systems) {
  // L = Σ R ⊙ y, y = x W̃ᵀ + b, dL/dy = R; the noise of a fixed step is a constant.
  const Eigen::Index out = 9, in = 14, tokens = 6;
  const std::vector<std::int64_t> salient{1, 6, 13};
  auto layer = make_layer<double, System>(out, in, salient, true);
  const gift::matrix<double> x = normal_matrix(tokens, in, 10).cast<double>();
  const gift::matrix<double> r = normal_matrix(tokens, out, 11).cast<double>();
  const std::uint32_t step = 4;
  auto loss = [&](const gift::matrix<double>& input) {
    return (host(layer.forward(device<double, System>::from_eigen(input), step)).array() * r.array()).sum();
  };
  (void)layer.forward(device<double, System>::from_eigen(x), step);
  const gift::matrix<double> dx = host(layer.backward(device<double, System>::from_eigen(r)));
  const gift::matrix<double> d_salient = host(layer.salient_gradient());
  gift::matrix<double> probe = x;
  check_entries(span_of(probe), {dx.data(), static_cast<std::size_t>(dx.size())}, [&] { return loss(probe); }, "dx");
  const double h = 1e-5;
  const gift::matrix<double> start = host(layer.salient_weight());
  for (Eigen::Index i = 0; i < out; ++i)
    for (Eigen::Index s = 0; s < 3; ++s) {
      gift::matrix<double> moved = start;
      moved(i, s) += h;
      layer.salient_weight() = device<double, System>::from_eigen(moved);
      const double up = loss(x);
      moved(i, s) -= 2 * h;
      layer.salient_weight() = device<double, System>::from_eigen(moved);
      const double down = loss(x);
      BOOST_TEST(std::abs((up - down) / (2 * h) - d_salient(i, s)) < 1e-7, "dW_S(" << i << "," << s << ")");
    }
  layer.salient_weight() = device<double, System>::from_eigen(start);
  const gift::vector<double> d_bias = gift::to_eigen_vector(layer.bias_gradient());
  for (Eigen::Index i = 0; i < out; ++i) {
    const double saved = layer.bias()[static_cast<std::size_t>(i)];
    layer.bias()[static_cast<std::size_t>(i)] = saved + h;
    const double up = loss(x);
    layer.bias()[static_cast<std::size_t>(i)] = saved - h;
    const double down = loss(x);
    layer.bias()[static_cast<std::size_t>(i)] = saved;
    BOOST_TEST(std::abs((up - down) / (2 * h) - d_bias(i)) < 1e-7, "db(" << i << ")");
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(training_agrees_with_eigen_and_keeps_frozen_columns, System, systems) {
  // 25 AdamW steps on both backends with the optimizer of each: the frozen columns stay
  // bit-identical, the noise is the same bits (so the trajectories agree to rounding of the
  // GEMMs' summation order), and the optimizer holds state for the salient block only.
  const Eigen::Index out = 24, in = 40, tokens = 8;
  const auto salient = every_nth(in, 6, 3);
  auto thrust_layer = make_layer<float, System>(out, in, salient, true);
  const auto selection = gift::salient_columns::from_indices(salient, static_cast<std::size_t>(in));
  gift::nn::gift_linear<float> eigen_layer(normal_matrix(out, in, 5, 0.1f), normal_matrix(out, 1, 6), selection,
                                           row_scales(out), base);
  gift::optim::adamw thrust_optimizer(thrust_layer.parameters(), 0.05, 0.8, 0.95, 1e-6);
  gift::optim::adamw eigen_optimizer(eigen_layer.parameters(), 0.05, 0.8, 0.95, 1e-6);
  for (std::uint32_t step = 1; step <= 25; ++step) {
    const gift::matrix_f x = normal_matrix(tokens, in, 200 + step);
    const gift::matrix_f target = normal_matrix(tokens, out, 300 + step);
    const gift::matrix_f y_eigen = eigen_layer.forward(x, step);
    const gift::matrix_f y_thrust = host(thrust_layer.forward(device<float, System>::from_eigen(x), step));
    BOOST_TEST((y_thrust - y_eigen).cwiseAbs().maxCoeff() <= 1e-5f * (1.0f + y_eigen.cwiseAbs().maxCoeff()));
    const gift::matrix_f dx_eigen = eigen_layer.backward(y_eigen - target);
    const gift::matrix_f dx_thrust =
        host(thrust_layer.backward(device<float, System>::from_eigen(gift::matrix_f(y_thrust - target))));
    BOOST_TEST((dx_thrust - dx_eigen).cwiseAbs().maxCoeff() <= 1e-5f * (1.0f + dx_eigen.cwiseAbs().maxCoeff()));
    eigen_optimizer.step(3e-3);
    thrust_optimizer.step(3e-3);
    eigen_optimizer.zero_grad();
    thrust_optimizer.zero_grad();
  }
  const gift::matrix_f merged_thrust = host(thrust_layer.merged_weight());
  const gift::matrix_f merged_eigen = eigen_layer.merged_weight();
  const gift::matrix_f original = host(thrust_layer.frozen_weight());
  for (Eigen::Index j = 0; j < in; ++j) {
    if (selection.contains(j)) continue;
    BOOST_TEST(bit_identical(gift::matrix_f(merged_thrust.col(j)), gift::matrix_f(original.col(j))), "column " << j);
  }
  BOOST_TEST((merged_thrust - merged_eigen).cwiseAbs().maxCoeff() < 1e-4);
  BOOST_TEST((merged_thrust - original).cwiseAbs().maxCoeff() > 1e-3);  // it did train
  BOOST_TEST(thrust_optimizer.state_elements() ==
             static_cast<std::size_t>(2 * out * static_cast<Eigen::Index>(salient.size()) + 2 * out));
}

BOOST_AUTO_TEST_SUITE_END()  // nn_thrust
