// The model on the GPU (llama_model<float, backend::cuda>: the Thrust backend's kernels on the CUDA
// system, cuBLAS GEMMs, the CUDA GIFT-SW layer) against the Eigen model on the same weights.
// cuBLAS sums in its own order, so agreement is to a stated tolerance; the noise itself is
// bit-identical (tests/nn/gift_linear_cuda.cu). Skipped (exit 77) without a CUDA device.
#include <boost/test/unit_test.hpp>

#include <gift/backend/cuda.cuh>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/synthetic.hpp>

#include "backend_agreement.hpp"

#include <cstdint>
#include <memory>
#include <vector>

// Every case of this file belongs to the CTest test model_cuda (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_cuda)

namespace gm = gift::model;
using cuda_backend = gift::backend::cuda;
using gift::backend::eigen;

using gift_test::relative_difference;
using gift_test::sample_tokens;
using gift_test::trainable;

namespace {

gm::llama_config config() { return gift_test::agreement_config(); }

}  // namespace

BOOST_AUTO_TEST_CASE(gpu_logits_agree_with_the_eigen_model) {
  auto source = gm::make_synthetic_llama<float>(config(), 31);
  const auto tokens = sample_tokens(2, 24, config().vocab);
  auto on_gpu = gm::to_backend<cuda_backend>(source);
  const gift::matrix<float> gpu = on_gpu.logits(tokens).to_eigen();
  // Stated tolerance: 1e-4 relative (fp32, cuBLAS's summation order).
  BOOST_TEST(relative_difference(gpu, source.logits(tokens)) <= 1e-4);
  BOOST_TEST(std::abs(on_gpu.evaluate(tokens).nll - source.evaluate(tokens).nll) <= 1e-5 * source.evaluate(tokens).nll);
}

BOOST_AUTO_TEST_CASE(gpu_noisy_training_pass_agrees_with_the_eigen_model) {
  const auto source = gm::make_synthetic_llama<float>(config(), 32);
  const auto tokens = sample_tokens(2, 20, config().vocab);
  auto cpu = trainable<eigen>(source);
  auto gpu = trainable<cuda_backend>(source);
  const double cpu_loss = cpu.forward_backward(tokens, {true, 3}).mean();
  const double gpu_loss = gpu.forward_backward(tokens, {true, 3}).mean();
  BOOST_TEST(std::abs(gpu_loss - cpu_loss) <= 1e-5 * cpu_loss);
  for (int b = 0; b < config().layers; ++b) {
    for (gm::projection p : gm::all_projections) {
      const gift::matrix<float> expected =
          dynamic_cast<gm::gift_sw_linear<float, eigen>&>(cpu.linear(b, p)).layer().salient_gradient();
      const gift::matrix<float> got =
          dynamic_cast<gm::gift_sw_linear<float, cuda_backend>&>(gpu.linear(b, p)).layer().salient_gradient().to_eigen();
      // Stated tolerance: 1e-3 relative to the block's largest entry (fp32 through 3 blocks).
      BOOST_TEST(relative_difference(got, expected) <= 1e-3, "block " << b << " " << gm::short_name(p));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()  // model_cuda
