// The model on every backend gives the same numbers: the Thrust host systems (OMP and CPP, the
// code path of the CUDA model) against the Eigen model on the same weights — logits, loss and the
// GIFT-SW gradients of a noisy training pass — and the Thrust model's bits do not depend on the
// system or the thread count.
#include <boost/test/unit_test.hpp>

#include <gift/backend/thrust.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/synthetic.hpp>

#include "backend_agreement.hpp"

#include "fixtures.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

// Every case of this file belongs to the CTest test model_backends (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_backends)

namespace gm = gift::model;
using gift::backend::eigen;
using gift::backend::thrust_cpp;
using gift::backend::thrust_omp;

using gift_test::relative_difference;
using gift_test::sample_tokens;
using gift_test::trainable;

namespace {

template <class M>
gift::matrix<float> host(const M& m) {
  if constexpr (requires { m.to_eigen(); }) {
    return m.to_eigen();
  } else {
    return m;
  }
}

gm::llama_config config() { return gift_test::agreement_config(); }

// The loss of one noisy training pass and every layer's salient gradient, on the host.
struct training_pass {
  double loss = 0;
  std::vector<gift::matrix<float>> gradients;
};

template <class Backend>
training_pass train_once(gm::llama_model<float, Backend>& model, const gm::token_matrix& tokens) {
  training_pass result;
  result.loss = model.forward_backward(tokens, {true, 3}).mean();
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : gm::all_projections)
      result.gradients.push_back(
          host(dynamic_cast<gm::gift_sw_linear<float, Backend>&>(model.linear(b, p)).layer().salient_gradient()));
  return result;
}

}  // namespace

BOOST_AUTO_TEST_CASE(logits_agree_with_the_eigen_model) {
  auto source = gm::make_synthetic_llama<float>(config(), 31);
  const auto tokens = sample_tokens(2, 24, config().vocab);
  const gift::matrix<float> reference = source.logits(tokens);
  auto on_omp = gm::to_backend<thrust_omp>(source);
  auto on_cpp = gm::to_backend<thrust_cpp>(source);
  const gift::matrix<float> omp = host(on_omp.logits(tokens)), cpp = host(on_cpp.logits(tokens));
  // Same functors, same host GEMMs: the two Thrust systems agree bit for bit.
  BOOST_TEST(gift_test::bit_identical(omp, cpp));
  // The Thrust kernels share the Eigen kernels' row arithmetic (detail/model/) and their GEMMs run
  // through Eigen on host memory; stated tolerance: 1e-6 relative (fp32), observed 0.
  const double difference = relative_difference(omp, reference);
  BOOST_TEST_MESSAGE("thrust vs eigen logits, max relative difference " << difference);
  BOOST_TEST(difference <= 1e-6);
  BOOST_TEST(std::abs(on_omp.evaluate(tokens).nll - source.evaluate(tokens).nll) <= 1e-6 * source.evaluate(tokens).nll);
}

BOOST_AUTO_TEST_CASE(noisy_training_pass_agrees_with_the_eigen_model) {
  const auto source = gm::make_synthetic_llama<float>(config(), 32);
  const auto tokens = sample_tokens(2, 20, config().vocab);
  auto reference_model = trainable<eigen>(source);
  auto omp_model = trainable<thrust_omp>(source);
  auto cpp_model = trainable<thrust_cpp>(source);
  const training_pass reference = train_once(reference_model, tokens);
  const training_pass omp = train_once(omp_model, tokens);
  const training_pass cpp = train_once(cpp_model, tokens);
  BOOST_TEST(omp.loss == cpp.loss);
  BOOST_TEST(std::abs(omp.loss - reference.loss) <= 1e-6 * reference.loss);
  double worst = 0;
  for (std::size_t i = 0; i < reference.gradients.size(); ++i) {
    BOOST_TEST(gift_test::bit_identical(omp.gradients[i], cpp.gradients[i]), "layer " << i);
    BOOST_TEST(reference.gradients[i].cwiseAbs().maxCoeff() > 0.0f, "layer " << i);
    worst = std::max(worst, relative_difference(omp.gradients[i], reference.gradients[i]));
  }
  // Stated tolerance 1e-5 relative (fp32 gradients through 3 blocks); the noise is bit-identical.
  BOOST_TEST_MESSAGE("thrust vs eigen salient gradients, max relative difference " << worst);
  BOOST_TEST(worst <= 1e-5);
}

#if defined(_OPENMP)
BOOST_AUTO_TEST_CASE(thrust_model_bits_do_not_depend_on_the_thread_count) {
  const auto source = gm::make_synthetic_llama<float>(config(), 33);
  const auto tokens = sample_tokens(3, 16, config().vocab);
  std::vector<training_pass> passes;
  std::vector<gift::matrix<float>> logits;
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    auto model = trainable<thrust_omp>(source);
    logits.push_back(host(model.logits(tokens)));
    passes.push_back(train_once(model, tokens));
  }
  omp_set_num_threads(saved);
  for (std::size_t t = 1; t < passes.size(); ++t) {
    BOOST_TEST(gift_test::bit_identical(logits[t], logits[0]));
    BOOST_TEST(passes[t].loss == passes[0].loss);
    for (std::size_t i = 0; i < passes[0].gradients.size(); ++i)
      BOOST_TEST(gift_test::bit_identical(passes[t].gradients[i], passes[0].gradients[i]), "layer " << i);
  }
}
#endif

BOOST_AUTO_TEST_SUITE_END()  // model_backends
