// Frozen weights in bf16 storage: the rounding computed by hand, the layer bit-identical to the
// fp32 layer on the rounded weight (noise, products, gradients), frozen columns unchanged by
// training, half the bytes, and clear errors for values bf16 cannot hold.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/io/half.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/stored_linear.hpp>
#include <gift/nn/gift_linear.hpp>
#include <gift/nn/stored_weight.hpp>
#include <gift/optim/adam.hpp>

#include <cmath>
#include <limits>

// Part of the CTest test nn_eigen (tests/nn/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(nn_eigen)

using namespace gift_test;
using gift::nn::weight_storage;

namespace {
const gift::noise_key stored_base{99, 4, 0};

/// `weight` with every column except the salient ones rounded to bf16 (what the bf16 layer reads).
gift::matrix_f rounded_except(const gift::matrix_f& weight, const std::vector<std::int64_t>& salient) {
  gift::matrix_f rounded = weight;
  for (Eigen::Index i = 0; i < weight.rows(); ++i)
    for (Eigen::Index j = 0; j < weight.cols(); ++j)
      rounded(i, j) = gift::io::bfloat16_to_float(gift::io::float_to_bfloat16(weight(i, j)));
  for (auto j : salient) rounded.col(j) = weight.col(j);
  return rounded;
}
}  // namespace

BOOST_AUTO_TEST_CASE(bf16_storage_rounds_to_nearest_even_as_computed_by_hand) {
  // bf16 keeps 7 fraction bits: near 1 the spacing is 2^-7. 1 + 2^-8 is halfway between 1 and
  // 1 + 2^-7 and goes to the even one (1); 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6
  // and goes to 1 + 2^-6; 1 + 2^-8 + 2^-20 is past halfway and goes up; -3 and 0.5 are exact.
  gift::matrix_f w(1, 5);
  w << 1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8), 1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20),
      -3.0f, 0.5f;
  const gift::nn::stored_weight<float> stored(w, weight_storage::bf16);
  BOOST_TEST(stored(0, 0) == 1.0f);
  BOOST_TEST(stored(0, 1) == 1.0f + std::ldexp(1.0f, -6));
  BOOST_TEST(stored(0, 2) == 1.0f + std::ldexp(1.0f, -7));
  BOOST_TEST(stored(0, 3) == -3.0f);
  BOOST_TEST(stored(0, 4) == 0.5f);
  BOOST_TEST(stored.bytes() == 10u);
  const gift::nn::stored_weight<float> native(w, weight_storage::f32);
  BOOST_TEST(native.bytes() == 20u);
  BOOST_TEST(bit_identical(native.to_matrix(), w));
  BOOST_TEST((gift::nn::weight_storage_named("bf16") == weight_storage::bf16));
  BOOST_TEST(!gift::nn::weight_storage_named("fp16").has_value());
}

BOOST_AUTO_TEST_CASE(bf16_storage_refuses_values_it_cannot_hold) {
  gift::matrix_f w = gift::matrix_f::Ones(2, 3);
  w(1, 2) = std::numeric_limits<float>::max();  // finite in fp32, infinity in bf16
  const std::string beyond = message_of([&] { gift::nn::stored_weight<float>(w, weight_storage::bf16); });
  BOOST_TEST(beyond.find("entry (1, 2)") != std::string::npos, beyond);
  BOOST_TEST(beyond.find("store this weight as f32") != std::string::npos, beyond);
  BOOST_TEST(message_of([&] { gift::nn::stored_weight<float>(w, weight_storage::f32); }) == "<no exception>");
  w(0, 1) = std::numeric_limits<float>::quiet_NaN();
  const std::string nan = message_of([&] { gift::nn::stored_weight<float>(w, weight_storage::f32); });
  BOOST_TEST(nan.find("argument 'weight' must be finite") != std::string::npos, nan);
}

BOOST_AUTO_TEST_CASE(a_bf16_layer_computes_exactly_what_the_fp32_layer_computes_on_the_rounded_weight) {
  // Several panels per pass, a bias, the salient block trained over steps: every output of the
  // bf16-stored layer equals, bit for bit, the fp32 layer built on the weight with its frozen
  // columns rounded (widening is exact, the noise is added in fp32 to the widened value).
  const Eigen::Index out = 40, in = 96, tokens = 6;
  const auto salient = every_nth(in, 7, 2);
  const gift::matrix_f weight = normal_matrix(out, in, 31, 0.1f);
  const gift::matrix_f bias = normal_matrix(out, 1, 32);
  gift::nn::gift_linear<float> stored(weight, bias, salient, row_scales(out), stored_base, weight_storage::bf16);
  gift::nn::gift_linear<float> reference(rounded_except(weight, salient), bias, salient, row_scales(out), stored_base);
  BOOST_TEST(stored.storage() == weight_storage::bf16);
  BOOST_TEST(stored.frozen_weight_bytes() == static_cast<std::size_t>(out * in * 2));
  BOOST_TEST(reference.frozen_weight_bytes() == static_cast<std::size_t>(out * in * 4));
  // The trained block starts from the exact values, not the rounded ones.
  BOOST_TEST(bit_identical(stored.salient_weight(), reference.salient_weight()));
  for (auto* layer : {&stored, &reference}) layer->set_panel_elements(96 * 8);
  gift::optim::adamw<float> stored_optimizer(stored.parameters(), 0.1), reference_optimizer(reference.parameters(), 0.1);
  for (std::uint32_t step = 0; step < 3; ++step) {
    const gift::matrix_f x = normal_matrix(tokens, in, 40 + step);
    const gift::matrix_f dy = normal_matrix(tokens, out, 50 + step);
    BOOST_TEST(bit_identical(stored.forward(x, step), reference.forward(x, step)), "forward, step " << step);
    BOOST_TEST(bit_identical(stored.backward(dy), reference.backward(dy)), "backward, step " << step);
    BOOST_TEST(bit_identical(stored.salient_gradient(), reference.salient_gradient()), "gradient, step " << step);
    stored_optimizer.step(1e-2);
    reference_optimizer.step(1e-2);
    stored_optimizer.zero_grad();
    reference_optimizer.zero_grad();
  }
  const gift::matrix_f x = normal_matrix(tokens, in, 60);
  BOOST_TEST(bit_identical(stored.forward_eval(x), reference.forward_eval(x)));
  BOOST_TEST(bit_identical(stored.merged_weight(), reference.merged_weight()));
  // Frozen columns are the rounded originals, untouched by three steps of training.
  const gift::matrix_f frozen = stored.frozen_weight();
  std::vector<char> is_salient(in, 0);
  for (auto j : salient) is_salient[static_cast<std::size_t>(j)] = 1;
  for (Eigen::Index j = 0; j < in; ++j)
    if (!is_salient[static_cast<std::size_t>(j)])
      BOOST_TEST(bit_identical(gift::matrix_f(stored.merged_weight().col(j)), gift::matrix_f(frozen.col(j))), "column " << j);
}

BOOST_AUTO_TEST_CASE(a_stored_frozen_layer_matches_the_dense_product_on_its_weight) {
  // More rows than one panel holds (panel_rows(in) = 2^22 / in), so forward and backward add
  // several panels; checked against a double-precision product on the rounded weight.
  const Eigen::Index in = 1 << 15, out = 2 * (gift::model::stored_linear<float>::panel_rows(in)) + 3, tokens = 2;
  const gift::matrix_f weight = normal_matrix(out, in, 70, 0.01f);
  gift::model::stored_linear<float> layer(weight, weight_storage::bf16);
  const gift::matrix_f rounded = layer.effective_weight();
  BOOST_TEST(bit_identical(rounded, rounded_except(weight, {})));
  const gift::matrix_f x = normal_matrix(tokens, in, 71);
  const gift::matrix_f dy = normal_matrix(tokens, out, 72);
  gift::matrix_f y, dx;
  layer.forward(x, y, {});
  layer.backward(dy, dx);
  const Eigen::MatrixXd y_ref = x.cast<double>() * rounded.cast<double>().transpose();
  const Eigen::MatrixXd dx_ref = dy.cast<double>() * rounded.cast<double>();
  BOOST_TEST((y.cast<double>() - y_ref).cwiseAbs().maxCoeff() <= 1e-4 * y_ref.cwiseAbs().maxCoeff());
  BOOST_TEST((dx.cast<double>() - dx_ref).cwiseAbs().maxCoeff() <= 1e-4 * dx_ref.cwiseAbs().maxCoeff());
  BOOST_TEST(layer.weight().bytes() == static_cast<std::size_t>(out * in * 2));
  const std::string wrong = message_of([&] { layer.forward(gift::matrix_f::Ones(1, 3), y, {}); });
  BOOST_TEST(wrong.find("argument 'x' must have 32768 columns") != std::string::npos, wrong);
}

BOOST_AUTO_TEST_SUITE_END()  // nn_eigen
