// A model whose linear weights are held in bf16: its loss is the fp32 model's on the rounded
// weights (the only change bf16 storage may make), different from the unrounded model's by about
// what that rounding implies; a stored frozen layer of several panels matches a double product.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/io/half.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/stored_linear.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/stored_weight.hpp>

#include <cmath>
#include <cstdint>
#include <memory>

// Every case of this file belongs to the CTest test model_stored_linear (tests/model/CMakeLists.txt).
BOOST_AUTO_TEST_SUITE(model_stored_linear)

namespace gm = gift::model;
using namespace gift_test;
using gift::weight_storage;

namespace {
gm::token_matrix stored_tokens(int vocab) {
  gm::token_matrix tokens(3, 9);
  for (Eigen::Index b = 0; b < tokens.rows(); ++b)
    for (Eigen::Index t = 0; t < tokens.cols(); ++t) tokens(b, t) = static_cast<std::int32_t>((5 * b + 11 * t + t * t) % vocab);
  return tokens;
}

/// `weight` rounded to bf16, held in fp32.
gift::matrix<float> rounded_bf16(gift::matrix<float> weight) {
  for (Eigen::Index i = 0; i < weight.size(); ++i)
    weight.data()[i] = gift::io::bfloat16_to_float(gift::io::float_to_bfloat16(weight.data()[i]));
  return weight;
}

/// The fp32 model of `seed` with every linear weight rounded to bf16 and held in fp32.
gm::llama_model<float> rounded_model(const gm::llama_config& config, std::uint64_t seed) {
  auto model = gm::make_synthetic_llama<float>(config, seed);
  for (int b = 0; b < config.layers; ++b)
    for (gm::projection p : gm::all_projections) {
      gift::matrix<float> w = model.linear(b, p).effective_weight();
      for (Eigen::Index i = 0; i < w.size(); ++i)
        w.data()[i] = gift::io::bfloat16_to_float(gift::io::float_to_bfloat16(w.data()[i]));
      model.replace_linear(b, p, std::make_unique<gm::frozen_linear<float>>(std::move(w)));
    }
  return model;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_bf16_model_computes_the_fp32_model_on_rounded_weights) {
  const auto config = gm::tiny_llama_config(2, 48, 6, 2, 80, 64);
  const auto tokens = stored_tokens(config.vocab);
  auto exact = gm::make_synthetic_llama<float>(config, 5);
  auto stored = gm::make_synthetic_llama<float>(config, 5, weight_storage::bf16);
  auto rounded = rounded_model(config, 5);
  const double loss_exact = exact.evaluate(tokens).mean();
  const double loss_stored = stored.evaluate(tokens).mean();
  const double loss_rounded = rounded.evaluate(tokens).mean();
  // The same function up to the order of fp32 sums (the stored layers multiply in panels).
  BOOST_TEST(std::abs(loss_stored - loss_rounded) <= 1e-5 * loss_rounded);
  // Rounding to bf16 changes each weight by at most 2^-9 relative: a visible but small change.
  BOOST_TEST(loss_stored != loss_exact);
  BOOST_TEST(std::abs(loss_stored - loss_exact) <= 1e-2 * loss_exact);
  // Moving a loaded model into bf16 gives the same layers as building it there.
  BOOST_TEST(gm::store_frozen_weights(exact, weight_storage::bf16) == config.layers * gm::projections_per_block);
  BOOST_TEST(exact.evaluate(tokens).mean() == loss_stored);
  // The training pass through frozen stored layers gives the same loss as evaluation.
  BOOST_TEST(std::abs(stored.forward_backward(tokens, {true, 1}).mean() - loss_stored) <= 1e-6 * loss_stored);
}

BOOST_AUTO_TEST_CASE(a_stored_frozen_layer_matches_the_dense_product_on_its_weight) {
  // More rows than one panel holds (panel_rows(in) = 2^22 / in), so forward and backward add
  // several panels; checked against a double-precision product on the rounded weight.
  const Eigen::Index in = 1 << 15, out = 2 * (gift::model::stored_linear<float>::panel_rows(in)) + 3, tokens = 2;
  const gift::matrix_f weight = normal_matrix(out, in, 70, 0.01f);
  gift::model::stored_linear<float> layer(weight, weight_storage::bf16);
  const gift::matrix_f rounded = layer.effective_weight();
  BOOST_TEST(bit_identical(rounded, rounded_bf16(weight)));
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

BOOST_AUTO_TEST_SUITE_END()  // model_stored_linear
