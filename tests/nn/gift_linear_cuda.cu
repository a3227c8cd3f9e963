// The GPU layer against the CPU layer (runs only where a CUDA device exists): fp32 noisy panels
// bit-identical to the CPU's (x = I, no TF32), forward/backward/dW_S/db close on random data,
// bf16 within bf16 rounding, and the CUDA noise op bit-identical to the Eigen one.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/backend/cuda.cuh>
#include <gift/backend/cuda/nn/gift_linear.cuh>
#include <gift/nn/gift_linear.hpp>
#include <gift/optim/adam.hpp>
#include <gift/noise.hpp>

#include <cuda_bf16.h>

// Every case of this file belongs to the CTest test nn_cuda (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(nn_cuda)

using namespace gift_test;

namespace {
const gift::noise_key base{2024, 3, 0};

double relative_error(const gift::matrix_f& a, const gift::matrix_f& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-30f, b.cwiseAbs().maxCoeff());
}

template <class T>
gift::thrust_matrix<T, gift::backend::system::cuda> to_device(const gift::matrix_f& host) {
  if constexpr (std::is_same_v<T, float>) {
    return gift::cuda_matrix<float>::from_eigen(host);
  } else {
    std::vector<T> rounded(static_cast<std::size_t>(host.size()));
    for (std::size_t e = 0; e < rounded.size(); ++e) rounded[e] = __float2bfloat16_rn(host.data()[e]);
    gift::thrust_matrix<T, gift::backend::system::cuda> device(static_cast<std::size_t>(host.rows()),
                                                              static_cast<std::size_t>(host.cols()));
    thrust::copy(rounded.begin(), rounded.end(), device.storage().begin());
    return device;
  }
}

template <class T>
gift::matrix_f to_host(const gift::thrust_matrix<T, gift::backend::system::cuda>& device) {
  std::vector<T> host(device.size());
  thrust::copy(device.storage().begin(), device.storage().end(), host.begin());
  gift::matrix_f result(static_cast<Eigen::Index>(device.rows()), static_cast<Eigen::Index>(device.cols()));
  for (std::size_t e = 0; e < host.size(); ++e) result.data()[e] = static_cast<float>(host[e]);
  return result;
}
}  // namespace

BOOST_AUTO_TEST_CASE(cuda_noise_op_matches_eigen) {
  const gift::matrix_f original = normal_matrix(129, 67, 50);
  const gift::vector_f delta = row_scales(129);
  const std::vector<std::int64_t> salient{66, 3, 0};
  gift::matrix_f expected = original;
  gift::add_quantization_noise(expected, delta, salient, gift::noise_key{1, 2, 3});
  auto device = gift::cuda_matrix<float>::from_eigen(original);
  gift::add_quantization_noise(gift::backend::cuda{}, device, delta, salient, gift::noise_key{1, 2, 3});
  BOOST_TEST(bit_identical(device.to_eigen(), expected));
}

BOOST_AUTO_TEST_CASE(fp32_gpu_layer_matches_cpu_layer) {
  const Eigen::Index out = 96, in = 150, tokens = 40;
  const auto salient = every_nth(in, 9, 4);
  const gift::matrix_f weight = normal_matrix(out, in, 51, 0.1f);
  const gift::matrix_f bias = normal_matrix(out, 1, 52);
  gift::nn::gift_linear<float> cpu(weight, bias, salient, row_scales(out), base);
  gift::nn::gift_linear<float, gift::backend::cuda> gpu(weight, gift::vector_f(bias), salient, row_scales(out), base);
  cpu.set_panel_elements(150 * 16);
  gpu.set_panel_elements(150 * 24);
  // x = I: both return W̃ᵀ + b exactly; without bias the panels must agree bit for bit.
  gift::nn::gift_linear<float> cpu_plain(weight, salient, row_scales(out), base);
  gift::nn::gift_linear<float, gift::backend::cuda> gpu_plain(weight, gift::vector_f(), salient, row_scales(out), base);
  const gift::matrix_f identity = gift::matrix_f::Identity(in, in);
  const gift::matrix_f cpu_identity = cpu_plain.forward(identity, 77);
  const gift::matrix_f gpu_identity = gpu_plain.forward(to_device<float>(identity), 77).to_eigen();
  BOOST_TEST(bit_identical(gpu_identity, cpu_identity));
  // Random data: forward, backward, dW_S, db close.
  const gift::matrix_f x = normal_matrix(tokens, in, 53);
  const gift::matrix_f dy = normal_matrix(tokens, out, 54);
  const gift::matrix_f y_cpu = cpu.forward(x, 5);
  const gift::matrix_f y_gpu = gpu.forward(to_device<float>(x), 5).to_eigen();
  BOOST_TEST(relative_error(y_gpu, y_cpu) < 1e-5);
  const gift::matrix_f dx_cpu = cpu.backward(dy);
  const gift::matrix_f dx_gpu = gpu.backward(to_device<float>(dy)).to_eigen();
  BOOST_TEST(relative_error(dx_gpu, dx_cpu) < 1e-5);
  BOOST_TEST(relative_error(gpu.salient_gradient().to_eigen(), cpu.salient_gradient()) < 1e-5);
  const gift::vector_f db_gpu = gift::to_eigen_vector(gpu.bias_gradient());
  BOOST_TEST(relative_error(gift::matrix_f(db_gpu), gift::matrix_f(cpu.bias_gradient())) < 1e-5);
  BOOST_TEST(bit_identical(gpu.merged_weight(), cpu.merged_weight()));
  // Evaluation mode: clean weights.
  gpu_plain.set_training(false);
  const gift::matrix_f clean = gpu_plain.forward(to_device<float>(identity), 77).to_eigen();
  BOOST_TEST(bit_identical(gift::matrix_f(clean.transpose()), cpu_plain.merged_weight()));
}

BOOST_AUTO_TEST_CASE(bf16_gpu_layer_is_close_to_cpu_layer) {
  const Eigen::Index out = 64, in = 128, tokens = 32;
  const auto salient = every_nth(in, 8, 1);
  const gift::matrix_f weight = normal_matrix(out, in, 61, 0.1f);
  gift::nn::gift_linear<float> cpu(weight, salient, row_scales(out), base);
  gift::nn::gift_linear<__nv_bfloat16, gift::backend::cuda> gpu(weight, gift::vector_f(), salient, row_scales(out), base);
  const gift::matrix_f x = normal_matrix(tokens, in, 62);
  const gift::matrix_f dy = normal_matrix(tokens, out, 63);
  const gift::matrix_f y_cpu = cpu.forward(x, 11);
  const gift::matrix_f y_gpu = to_host(gpu.forward(to_device<__nv_bfloat16>(x), 11));
  // bf16 keeps 8 significant bits: inputs, weights and outputs each round by ≤ 2^-9 relative.
  BOOST_TEST(relative_error(y_gpu, y_cpu) < 3e-2);
  const gift::matrix_f dx_cpu = cpu.backward(dy);
  const gift::matrix_f dx_gpu = to_host(gpu.backward(to_device<__nv_bfloat16>(dy)));
  BOOST_TEST(relative_error(dx_gpu, dx_cpu) < 3e-2);
  BOOST_TEST(relative_error(gpu.salient_gradient().to_eigen(), cpu.salient_gradient()) < 3e-2);
}

BOOST_AUTO_TEST_CASE(gpu_adamw_matches_cpu_adamw) {
  const Eigen::Index out = 48, in = 80, tokens = 16;
  const auto salient = every_nth(in, 5, 2);
  const gift::matrix_f weight = normal_matrix(out, in, 71, 0.1f);
  gift::nn::gift_linear<float> cpu(weight, salient, row_scales(out), base);
  gift::nn::gift_linear<float, gift::backend::cuda> gpu(weight, gift::vector_f(), salient, row_scales(out), base);
  gift::optim::adamw<float> cpu_optimizer(cpu.parameters(), 0.1);
  gift::optim::adam gpu_optimizer(gpu.parameters(), gift::optim::adam_options{0.9, 0.999, 1e-8, 0.1, true});
  BOOST_TEST(gpu_optimizer.state_elements() == static_cast<std::size_t>(2 * out * static_cast<Eigen::Index>(salient.size())));
  for (std::uint32_t step = 0; step < 5; ++step) {
    const gift::matrix_f x = normal_matrix(tokens, in, 400 + step);
    (void)cpu.backward(cpu.forward(x, step));
    (void)gpu.backward(gpu.forward(to_device<float>(x), step));
    cpu_optimizer.step(1e-2);
    gpu_optimizer.step(1e-2);
    cpu_optimizer.zero_grad();
    gpu_optimizer.zero_grad();
  }
  const gift::matrix_f cpu_weight = cpu.merged_weight(), gpu_weight = gpu.merged_weight();
  BOOST_TEST(relative_error(gpu_weight, cpu_weight) < 1e-5);
  // Frozen columns untouched on the GPU too.
  for (Eigen::Index j = 0; j < in; ++j)
    if (j % 5 != 2) BOOST_TEST(bit_identical(gift::matrix_f(gpu_weight.col(j)), gift::matrix_f(weight.col(j))));
}

BOOST_AUTO_TEST_SUITE_END()  // nn_cuda
