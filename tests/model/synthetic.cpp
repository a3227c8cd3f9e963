// The LLaMA model on tiny random configurations, on every backend it runs on: invariants
// (causality, batch independence), float against double, the loss against the logits, and a
// finite-difference check of the gradient that reaches trainable salient weights in every kind of
// linear layer. Built twice: `model_synthetic` runs the Eigen model; `model_synthetic_thrust`
// (GIFT_TEST_THRUST) runs the same cases on the Thrust OMP and CPP systems.
#include <boost/test/unit_test.hpp>

#include <gift/backend/traits.hpp>
#include <gift/error.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/type_list.hpp>
#if defined(GIFT_TEST_THRUST)
#include <gift/backend/thrust.hpp>
#endif

#include <boost/mpl/list.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

// Every case of this file belongs to the CTest test model_synthetic_thrust / model_synthetic (tests/CMakeLists.txt: gift_add_test).
#if defined(GIFT_TEST_THRUST)
BOOST_AUTO_TEST_SUITE(model_synthetic_thrust)
#else
BOOST_AUTO_TEST_SUITE(model_synthetic)
#endif

namespace gm = gift::model;

namespace {

#if defined(GIFT_TEST_THRUST)
using backends = boost::mpl::list<gift::backend::thrust_omp, gift::backend::thrust_cpp>;
#else
using backends = boost::mpl::list<gift::backend::eigen>;
#endif

gm::token_matrix sample_tokens(Eigen::Index batch, Eigen::Index sequence, int vocab, int salt = 0) {
  gm::token_matrix tokens(batch, sequence);
  for (Eigen::Index b = 0; b < batch; ++b)
    for (Eigen::Index t = 0; t < sequence; ++t)
      tokens(b, t) = static_cast<std::int32_t>((7 * b + 13 * t + 3 * t * t + salt) % vocab);
  return tokens;
}

double max_abs(const gift::matrix<double>& m) { return m.cwiseAbs().maxCoeff(); }

// The synthetic model of `seed` on `Backend`.
template <class T, class Backend>
gm::llama_model<T, Backend> synthetic(const gm::llama_config& config, std::uint64_t seed) {
  return gm::to_backend<Backend>(gm::make_synthetic_llama<T>(config, seed));
}

// A host copy of a backend matrix.
template <class Backend, class M>
auto host(const M& m) {
  if constexpr (requires { m.to_eigen(); }) {
    return m.to_eigen();
  } else {
    return gift::matrix<typename M::Scalar>(m);
  }
}

// Element (row, col) of a backend matrix, readable and writable.
template <class M>
decltype(auto) element(M& m, Eigen::Index row, Eigen::Index col) {
  if constexpr (requires { m.storage(); }) {
    return m.storage()[static_cast<std::size_t>(row) * m.cols() + static_cast<std::size_t>(col)];
  } else {
    return m(row, col);
  }
}

// Replaces layer p of block b with a GIFT-SW layer over `salient` columns, Δ = 0.05 per row.
template <class T, class Backend>
gm::gift_sw_linear<T, Backend>& make_trainable(gm::llama_model<T, Backend>& model, int block, gm::projection p,
                                               const std::vector<std::int64_t>& salient, std::uint64_t seed) {
  const gift::matrix<T> weight = model.linear(block, p).effective_weight();
  const gift::vector<float> delta = gift::vector<float>::Constant(weight.rows(), 0.05f);
  auto module = std::make_unique<gm::gift_sw_linear<T, Backend>>(
      weight, gift::salient_columns::from_indices(salient, static_cast<std::size_t>(weight.cols())), delta, seed,
      static_cast<std::uint32_t>(gm::layer_id(block, p)));
  auto& ref = *module;
  model.replace_linear(block, p, std::move(module));
  return ref;
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(float_matches_double, Backend, backends) {
  const auto config = gm::tiny_llama_config();
  auto model_f = synthetic<float, Backend>(config, 11);
  auto model_d = synthetic<double, Backend>(config, 11);
  const auto tokens = sample_tokens(2, 9, config.vocab);
  const gift::matrix<double> lf = host<Backend>(model_f.logits(tokens)).template cast<double>();
  const gift::matrix<double> ld = host<Backend>(model_d.logits(tokens));
  BOOST_TEST(lf.rows() == 18);
  BOOST_TEST(lf.cols() == config.vocab);
  BOOST_TEST(max_abs(lf - ld) / max_abs(ld) < 1e-5);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(causal_and_batch_independent, Backend, backends) {
  const auto config = gm::tiny_llama_config();
  auto model = synthetic<double, Backend>(config, 5);
  const auto tokens = sample_tokens(3, 10, config.vocab);
  const gift::matrix<double> all = host<Backend>(model.logits(tokens));
  // Changing token 6 of sequence 1 must leave positions 0..5 of it and every other sequence alone.
  auto changed = tokens;
  changed(1, 6) = (changed(1, 6) + 1) % config.vocab;
  const gift::matrix<double> after = host<Backend>(model.logits(changed));
  BOOST_TEST(max_abs(after.topRows(10) - all.topRows(10)) == 0.0);
  BOOST_TEST(max_abs(after.middleRows(10, 6) - all.middleRows(10, 6)) < 1e-12);
  BOOST_TEST(max_abs(after.middleRows(16, 4) - all.middleRows(16, 4)) > 1e-6);
  BOOST_TEST(max_abs(after.bottomRows(10) - all.bottomRows(10)) == 0.0);
  // A sequence alone gives the logits it gets inside the batch.
  const gm::token_matrix single = tokens.row(2);
  BOOST_TEST(max_abs(host<Backend>(model.logits(single)) - all.bottomRows(10)) < 1e-12);
  // last_logits picks the last position of every sequence.
  const gift::matrix<double> last = host<Backend>(model.last_logits(tokens));
  for (Eigen::Index b = 0; b < 3; ++b) BOOST_TEST(max_abs(last.row(b) - all.row(b * 10 + 9)) < 1e-12);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(loss_matches_logits, Backend, backends) {
  const auto config = gm::tiny_llama_config();
  auto model = synthetic<double, Backend>(config, 8);
  const auto tokens = sample_tokens(2, 7, config.vocab);
  const gift::matrix<double> logits = host<Backend>(model.logits(tokens));
  double nll = 0;
  for (Eigen::Index b = 0; b < 2; ++b) {
    for (Eigen::Index t = 0; t + 1 < 7; ++t) {
      const auto row = logits.row(b * 7 + t);
      const double lse = std::log((row.array() - row.maxCoeff()).exp().sum()) + row.maxCoeff();
      nll += lse - row(tokens(b, t + 1));
    }
  }
  const gm::loss_sum loss = model.evaluate(tokens);
  BOOST_TEST(loss.count == 12);
  BOOST_TEST(std::abs(loss.nll - nll) < 1e-10 * nll);
  // A frozen model's training pass computes the same loss.
  const gm::loss_sum trained = model.forward_backward(tokens, {true, 1});
  BOOST_TEST(std::abs(trained.nll - nll) < 1e-10 * nll);
}

// Central differences on salient weights of every projection kind, in double, noise on and off:
// the noise of a fixed step is a fixed function of the key, so the loss stays differentiable.
BOOST_AUTO_TEST_CASE_TEMPLATE(gradient_matches_finite_differences, Backend, backends) {
  for (const bool noisy : {false, true}) {
    const auto config = gm::tiny_llama_config();
    auto model = synthetic<double, Backend>(config, 21);
    const std::vector<std::int64_t> salient_hidden = {1, 5, 17};
    const std::vector<std::int64_t> salient_ffn = {0, 22, 39};
    struct probe {
      gm::gift_sw_linear<double, Backend>* layer;
      const char* name;
    };
    std::vector<probe> probes;
    for (int b = 0; b < config.layers; ++b) {
      for (gm::projection p : gm::all_projections) {
        auto& layer = make_trainable(model, b, p, p == gm::projection::down ? salient_ffn : salient_hidden, 99);
        probes.push_back({&layer, gm::gguf_name(p).data()});
      }
    }
    const auto tokens = sample_tokens(2, 6, config.vocab);
    const gm::forward_context context{noisy, 4};
    model.forward_backward(tokens, context);
    // The same pass as the gradient's (recording, same step), so the same noise.
    const auto loss_at = [&] { return model.forward_backward(tokens, context).mean(); };
    // Gradients first: every later pass accumulates into them again.
    std::vector<gift::matrix<double>> gradients;
    for (auto& probe : probes) gradients.push_back(host<Backend>(probe.layer->layer().salient_gradient()));
    for (std::size_t i = 0; i < probes.size(); ++i) {
      auto& [layer, name] = probes[i];
      const gift::matrix<double>& gradient = gradients[i];
      BOOST_TEST_CONTEXT("layer " << name << " noisy " << noisy) {
        BOOST_TEST(gradient.cwiseAbs().maxCoeff() > 0.0);
        for (const auto& [row, col] : {std::pair<int, int>{0, 0}, {3, 1}, {7, 2}}) {
          auto&& w = element(layer->layer().salient_weight(), row, col);
          const double saved = w, h = 1e-5;
          w = saved + h;
          const double plus = loss_at();
          w = saved - h;
          const double minus = loss_at();
          w = saved;
          const double numeric = (plus - minus) / (2 * h);
          BOOST_TEST(std::abs(numeric - gradient(row, col)) <= 1e-6 * std::max(1e-3, std::abs(numeric)) + 1e-9,
                     "d loss / d w(" << row << ", " << col << "): analytic " << gradient(row, col) << ", numeric "
                                     << numeric);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(calibration_hook_sees_every_linear_input, Backend, backends) {
  const auto config = gm::tiny_llama_config(3);
  auto model = synthetic<float, Backend>(config, 2);
  const auto tokens = sample_tokens(2, 5, config.vocab);
  std::vector<int> calls(static_cast<std::size_t>(config.layers * gm::projections_per_block), 0);
  std::vector<gift::matrix<float>> inputs(calls.size());
  model.set_calibration_hook([&](int block, gm::projection p, const gift::backend_matrix_t<Backend, float>& x) {
    const auto id = static_cast<std::size_t>(gm::layer_id(block, p));
    ++calls[id];
    inputs[id] = host<Backend>(x);
  });
  (void)model.evaluate(tokens);
  for (int b = 0; b < config.layers; ++b) {
    for (gm::projection p : gm::all_projections) {
      const auto id = static_cast<std::size_t>(gm::layer_id(b, p));
      BOOST_TEST(calls[id] == 1);
      BOOST_TEST(inputs[id].rows() == 10);
      BOOST_TEST(inputs[id].cols() == model.linear(b, p).in_features());
    }
    // q, k and v read the same normalised input; so do gate and up.
    const auto q = static_cast<std::size_t>(gm::layer_id(b, gm::projection::q));
    BOOST_TEST((inputs[q] == inputs[q + 1] && inputs[q] == inputs[q + 2]));
    BOOST_TEST((inputs[q + 4] == inputs[q + 5]));
  }
  model.set_calibration_hook({});
  (void)model.evaluate(tokens);
  BOOST_TEST(calls[0] == 1);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(training_noise_changes_the_loss_evaluation_does_not, Backend, backends) {
  const auto config = gm::tiny_llama_config();
  auto model = synthetic<float, Backend>(config, 3);
  const auto tokens = sample_tokens(1, 8, config.vocab);
  const double clean = model.evaluate(tokens).mean();
  for (int b = 0; b < config.layers; ++b)
    for (gm::projection p : gm::all_projections) make_trainable(model, b, p, {0, 2}, 7);
  BOOST_TEST(model.evaluate(tokens).mean() == clean);
  const double noisy1 = model.forward_backward(tokens, {true, 1}).mean();
  const double noisy1_again = model.forward_backward(tokens, {true, 1}).mean();
  const double noisy2 = model.forward_backward(tokens, {true, 2}).mean();
  BOOST_TEST(noisy1 == noisy1_again);
  BOOST_TEST(noisy1 != clean);
  BOOST_TEST(noisy1 != noisy2);
  BOOST_TEST(std::abs(model.forward_backward(tokens, {false, 1}).mean() - clean) < 1e-6);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_input_throws, Backend, backends) {
  const auto config = gm::tiny_llama_config();
  auto model = synthetic<float, Backend>(config, 1);
  gm::token_matrix tokens = sample_tokens(1, 4, config.vocab);
  tokens(0, 2) = config.vocab;
  BOOST_CHECK_THROW((void)model.logits(tokens), gift::error);
  tokens(0, 2) = -1;
  BOOST_CHECK_THROW((void)model.evaluate(tokens), gift::error);
  BOOST_CHECK_THROW((void)model.forward_backward(sample_tokens(2, 1, config.vocab), {true, 0}), gift::error);
  using storage = gift::backend_storage<Backend, float>;
  BOOST_CHECK_THROW(model.replace_linear(0, gm::projection::k,
                                         std::make_unique<gm::frozen_linear<float, Backend>>(
                                             storage::from_host(gift::matrix<float>(gift::matrix<float>::Ones(3, 24))))),
                    gift::error);
  BOOST_CHECK_THROW((void)model.linear(config.layers, gm::projection::q), gift::error);
  auto bad = config;
  bad.kv_heads = 4;  // 6 query heads are not a multiple of 4
  BOOST_CHECK_THROW(bad.validate(), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()  // model_synthetic_thrust / model_synthetic
