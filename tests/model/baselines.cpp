// The baseline fine-tuning modules (full, LoRA, DoRA, STE) and the GIFT-SW slot through one
// interface: central finite differences in double for every trained block and for the input
// gradient, the merged weight reproducing the module's own forward, parameter counts against
// the closed forms, peft's initialisation, STE's Q(W) equal to gift::quantize_symmetric bit for
// bit, and a short AdamW run in a synthetic model that lowers the loss for every method.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "module_check.hpp"

#include <gift/model/dora_linear.hpp>
#include <gift/model/full_linear.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/ste_linear.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>
#include <gift/quant/symmetric.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

// Every case of this file belongs to the CTest test model_baselines (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_baselines)

namespace gm = gift::model;
using gift_test::normal_matrix;

namespace {
using gift_test::check_entries;
using gift_test::check_module;
using gift_test::md;
using gift_test::normal_double;
using gift_test::span_of;
using gift_test::weighted_output;

const Eigen::Index out = 6, in = 9, tokens = 5;
}  // namespace

BOOST_AUTO_TEST_CASE(full_fine_tuning_gradients_match_finite_differences) {
  gm::full_linear<double> module(normal_double(out, in, 1, 0.3));
  check_module(module, normal_double(tokens, in, 2), normal_double(tokens, out, 3));
  BOOST_TEST(module.trainable_parameters() == out * in);
  BOOST_TEST(module.method() == "full");
}

BOOST_AUTO_TEST_CASE(lora_starts_as_peft_does_and_its_gradients_match) {
  const md base = normal_double(out, in, 4, 0.3);
  gm::lora_linear<double> module(base, {3, 12.0, 77, 5});
  // peft: A ~ U(-1/sqrt(in), 1/sqrt(in)) (Kaiming uniform, a = sqrt 5), B = 0, s = alpha / r.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  BOOST_TEST(module.adapter().a().cwiseAbs().maxCoeff() <= bound);
  BOOST_TEST(module.adapter().a().cwiseAbs().maxCoeff() > 0.5 * bound);
  BOOST_TEST(module.adapter().b().cwiseAbs().maxCoeff() == 0.0);
  BOOST_TEST(module.adapter().scale() == 4.0);
  BOOST_TEST((module.effective_weight() - base).cwiseAbs().maxCoeff() == 0.0);
  // Another layer id gives another A; the same one the same A.
  BOOST_TEST((gm::lora_linear<double>(base, {3, 12.0, 77, 6}).adapter().a() - module.adapter().a()).cwiseAbs().maxCoeff() > 0);
  BOOST_TEST((gm::lora_linear<double>(base, {3, 12.0, 77, 5}).adapter().a() - module.adapter().a()).cwiseAbs().maxCoeff() == 0);
  // Away from B = 0, so that dA is not zero.
  module.adapter().b() = normal_double(out, 3, 6, 0.5);
  check_module(module, normal_double(tokens, in, 7), normal_double(tokens, out, 8));
  BOOST_TEST(module.trainable_parameters() == gm::lora_parameters(out, in, 3));
  BOOST_TEST(gm::lora_parameters(out, in, 3) == 3 * (6 + 9));
}

BOOST_AUTO_TEST_CASE(lora_rejects_bad_options) {
  const md base = normal_double(out, in, 4);
  BOOST_CHECK_THROW(gm::lora_linear<double>(base, {0, 8.0, 0, 0}), gift::error);
  BOOST_CHECK_THROW(gm::lora_linear<double>(base, {7, 8.0, 0, 0}), gift::error);  // > min(out, in)
  BOOST_CHECK_THROW(gm::lora_linear<double>(base, {2, 0.0, 0, 0}), gift::error);
  BOOST_CHECK_THROW(gm::lora_linear<double>(base, {2, std::nan(""), 0, 0}), gift::error);
}

// DoRA's backward treats the row norm n as a constant (peft detaches it). Its gradient in the
// magnitude and in x is therefore the exact one (n does not depend on them); in A and B it is
// the gradient of the same output with n held at the forward's value, which is what is
// differenced here.
BOOST_AUTO_TEST_CASE(dora_gradients_match_with_the_norm_held_constant) {
  const md base = normal_double(out, in, 9, 0.3);
  gm::dora_linear<double> module(base, {2, 4.0, 3, 1});
  BOOST_TEST((module.magnitude() - base.rowwise().norm()).cwiseAbs().maxCoeff() < 1e-15);
  BOOST_TEST((module.effective_weight() - base).cwiseAbs().maxCoeff() < 1e-15);
  module.adapter().b() = normal_double(out, 2, 10, 0.5);
  module.magnitude().array() *= 1.3;
  const md x0 = normal_double(tokens, in, 11), g = normal_double(tokens, out, 12);
  md y, dx;
  module.forward(x0, y, {true, 0, true});
  module.backward(g, dx);
  const gift::vector<double> held = module.row_norm();
  auto& adapter = module.adapter();
  md x = x0;
  const auto held_loss = [&] {
    const md z = x * base.transpose() + adapter.scale() * (x * adapter.a().transpose()) * adapter.b().transpose();
    return ((z * module.magnitude().cwiseQuotient(held).asDiagonal()).array() * g.array()).sum();
  };
  const auto true_loss = [&] { return weighted_output(module, x, g); };
  check_entries(span_of(adapter.a()), {adapter.grad_a().data(), static_cast<std::size_t>(adapter.grad_a().size())},
                held_loss, "lora_a (norm held)");
  check_entries(span_of(adapter.b()), {adapter.grad_b().data(), static_cast<std::size_t>(adapter.grad_b().size())},
                held_loss, "lora_b (norm held)");
  check_entries({module.magnitude().data(), static_cast<std::size_t>(out)},
                {module.magnitude_gradient().data(), static_cast<std::size_t>(out)}, true_loss, "magnitude");
  check_entries(span_of(x), {dx.data(), static_cast<std::size_t>(dx.size())}, true_loss, "dx");
  BOOST_TEST((x0 * module.effective_weight().transpose() - y).cwiseAbs().maxCoeff() < 1e-12);
  BOOST_TEST(module.trainable_parameters() == gm::dora_parameters(out, in, 2));
  BOOST_TEST(gm::dora_parameters(out, in, 2) == 2 * (6 + 9) + 6);
  md zero_row = base;
  zero_row.row(2).setZero();
  BOOST_CHECK_THROW(gm::dora_linear<double>(zero_row, {2, 4.0, 3, 1}), gift::error);
}

// STE: dW is the straight-through gradient, i.e. full fine-tuning's gradient at the weight Q(W);
// dx is exact. Q(W) is gift::quantize_symmetric with the same steps, bit for bit.
BOOST_AUTO_TEST_CASE(ste_is_straight_through_and_quantizes_like_the_quantizer) {
  const gift::matrix_f weight = normal_matrix(out, in, 13, 0.2f);
  const auto salient = gift::salient_columns::from_indices({1, 6}, static_cast<std::size_t>(in));
  const gift::symmetric_options options{3, gift::alpha_search::paper_grid(100), 0};
  const gift::vector<float> delta = gift::row_deltas(weight, 3, options.search, salient);
  gm::ste_linear<float> quantizing(weight, salient, delta, 3);
  auto reference = gift::quantize_symmetric(weight, options, salient);
  gift::restore_salient_columns(reference.dequantized, weight, salient);
  BOOST_TEST((quantizing.quantized_weight() - reference.dequantized).cwiseAbs().maxCoeff() == 0.0f);

  gm::ste_linear<double> module(weight.cast<double>(), salient, delta, 3);
  const md x0 = normal_double(tokens, in, 14), g = normal_double(tokens, out, 15);
  md y, dx;
  module.forward(x0, y, {true, 0, true});
  module.backward(g, dx);
  gm::full_linear<double> surrogate(module.quantized_weight());
  md ys, dxs;
  surrogate.forward(x0, ys, {true, 0, true});
  surrogate.backward(g, dxs);
  BOOST_TEST((module.gradient() - surrogate.gradient()).cwiseAbs().maxCoeff() < 1e-14);
  BOOST_TEST((dx - dxs).cwiseAbs().maxCoeff() < 1e-14);
  md x = x0;
  check_entries(span_of(x), {dx.data(), static_cast<std::size_t>(dx.size())},
                [&] { return weighted_output(module, x, g); }, "dx");
  // Salient columns train in full precision: nudging one moves the output by exactly that.
  const md before = module.quantized_weight();
  module.weight()(0, 1) += 0.01;
  BOOST_TEST(std::abs(module.quantized_weight()(0, 1) - before(0, 1) - 0.01) < 1e-12);
  BOOST_TEST(module.trainable_parameters() == out * in);
  BOOST_CHECK_THROW(gm::ste_linear<double>(weight.cast<double>(), salient, delta.head(3), 3), gift::error);
  BOOST_CHECK_THROW(gm::ste_linear<double>(weight.cast<double>(), salient, delta, 1), gift::error);
  gift::vector<float> bad = delta;
  bad(2) = 0.0f;
  BOOST_CHECK_THROW(gm::ste_linear<double>(weight.cast<double>(), salient, bad, 3), gift::error);
}

// Every method in a synthetic model, trained by one AdamW over the modules' views for 12 steps on
// one batch: the loss falls, and with learning rate 0 the merged weights stay the initial ones
// (STE: their quantization).
BOOST_AUTO_TEST_CASE(every_method_trains_in_the_model) {
  const auto config = gm::tiny_llama_config();
  const char* methods[] = {"gift_sw", "lora", "dora", "full", "ste"};
  for (const std::string method : methods) {
    BOOST_TEST_CONTEXT("method " << method) {
      auto model = gm::make_synthetic_llama<float>(config, 3);
      std::vector<gift::optim::parameter<float>> views;
      for (int b = 0; b < config.layers; ++b) {
        for (gm::projection p : gm::all_projections) {
          const gift::matrix_f w = model.linear(b, p).effective_weight();
          const auto layer = static_cast<std::uint32_t>(gm::layer_id(b, p));
          const auto salient = gift::salient_columns::from_indices({0, 3}, static_cast<std::size_t>(w.cols()));
          std::unique_ptr<gm::trainable_linear<float>> module;
          if (method == "gift_sw") {
            module = std::make_unique<gm::gift_sw_linear<float>>(w, salient, gift::vector<float>::Constant(w.rows(), 0.01f), 1, layer);
          } else if (method == "lora") {
            module = std::make_unique<gm::lora_linear<float>>(w, gm::lora_options{2, 4.0, 1, layer});
          } else if (method == "dora") {
            module = std::make_unique<gm::dora_linear<float>>(w, gm::lora_options{2, 4.0, 1, layer});
          } else if (method == "full") {
            module = std::make_unique<gm::full_linear<float>>(w);
          } else {
            module = std::make_unique<gm::ste_linear<float>>(w, salient, gift::row_deltas(w, 4, gift::alpha_search::max_abs(), salient), 4);
          }
          BOOST_TEST(module->method() == method);
          for (auto& view : module->parameters()) views.push_back(view);
          model.replace_linear(b, p, std::move(module));
        }
      }
      gift::model::token_matrix tokens(2, 8);
      for (Eigen::Index i = 0; i < tokens.size(); ++i) tokens.data()[i] = static_cast<std::int32_t>((5 * i + 1) % config.vocab);
      gift::optim::adamw<float> optimizer(views, 0.0);
      double first = 0, last = 0;
      for (int step = 0; step < 12; ++step) {
        optimizer.zero_grad();
        last = model.forward_backward(tokens, {false, static_cast<std::uint32_t>(step)}).mean();
        if (step == 0) first = last;
        optimizer.step(method == "full" || method == "ste" ? 3e-3 : 3e-2);
      }
      BOOST_TEST(last < first - 0.05, "loss " << first << " -> " << last);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()  // model_baselines
