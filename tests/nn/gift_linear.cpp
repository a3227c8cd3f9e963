// gift_linear on the CPU: the same W̃ in forward and backward and equal to
// add_quantization_noise, clean weights in evaluation mode, finite-difference gradients in
// double, frozen columns bit-identical after training, panel size irrelevant to the result, the
// noisy-weight cache irrelevant to every bit, and a frozen weight stored in bf16 computing exactly
// what the fp32 layer computes on the rounded weight.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "module_check.hpp"

#include <gift/nn/gift_linear.hpp>
#include <gift/noise.hpp>
#include <gift/io/half.hpp>
#include <gift/optim/adam.hpp>
#include <gift/stored_weight.hpp>

#include <cmath>

#if defined(__linux__)
#include <sys/resource.h>
#endif

// Every case of this file belongs to the CTest test nn_eigen (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(nn_eigen)

using namespace gift_test;
using gift::weight_storage;

namespace {
const gift::noise_key base{1234, 17, 0};

template <class T = float>
gift::nn::gift_linear<T> make_layer(Eigen::Index out, Eigen::Index in, const std::vector<std::int64_t>& salient,
                                    bool bias = false) {
  const gift::matrix_f weight = normal_matrix(out, in, 5, 0.1f);
  if (bias) return gift::nn::gift_linear<T>(weight, normal_matrix(out, 1, 6), salient, row_scales(out), base);
  return gift::nn::gift_linear<T>(weight, salient, row_scales(out), base);
}
}  // namespace

BOOST_AUTO_TEST_CASE(forward_and_backward_use_the_noisy_weight_of_the_op) {
  // With x = I the forward returns W̃ᵀ exactly, with dy = I the backward returns W̃ exactly
  // (products with 1 and sums with 0 are exact), so both can be compared bit for bit with the
  // materialised noisy weight.
  const Eigen::Index out = 45, in = 70;
  const auto salient = std::vector<std::int64_t>{3, 4, 31, 69};
  auto layer = make_layer(out, in, salient);
  layer.set_panel_elements(7 * 70);  // several panels, some partial
  // Train the salient block a little so that the current values, not the original ones, show.
  layer.salient_weight().array() += 0.25f;
  const std::uint32_t step = 9;
  gift::matrix_f expected = layer.merged_weight();
  gift::add_quantization_noise(expected, layer.delta(), salient, gift::noise_key{base.seed, base.layer, step});

  const gift::matrix_f y = layer.forward(gift::matrix_f::Identity(in, in), step);
  BOOST_TEST(bit_identical(gift::matrix_f(y.transpose()), expected));
  layer.zero_grad();
  (void)layer.forward(gift::matrix_f::Identity(out, in), step);
  const gift::matrix_f dx = layer.backward(gift::matrix_f::Identity(out, out));
  BOOST_TEST(bit_identical(dx, expected));
}

BOOST_AUTO_TEST_CASE(evaluation_mode_injects_no_noise) {
  const Eigen::Index out = 20, in = 33;
  auto layer = make_layer(out, in, {0, 32});
  layer.salient_weight().array() -= 1.0f;
  const gift::matrix_f clean = layer.merged_weight();
  BOOST_TEST(bit_identical(gift::matrix_f(layer.forward_eval(gift::matrix_f::Identity(in, in)).transpose()), clean));
  layer.set_training(false);
  BOOST_TEST(bit_identical(gift::matrix_f(layer.forward(gift::matrix_f::Identity(in, in), 5).transpose()), clean));
  BOOST_TEST(bit_identical(layer.backward(gift::matrix_f::Identity(in, out)).topRows(out), clean));
  layer.set_training(true);
  const gift::matrix_f noisy = layer.forward(gift::matrix_f::Identity(in, in), 5).transpose();
  BOOST_TEST(!bit_identical(noisy, clean));
  // Salient columns carry no noise even in training mode.
  for (auto j : {0, 32}) BOOST_TEST(noisy.col(j) == clean.col(j));
}

BOOST_AUTO_TEST_CASE(panel_size_does_not_change_the_result) {
  const Eigen::Index out = 64, in = 96, tokens = 10;
  const auto salient = every_nth(in, 7, 2);
  const gift::matrix_f x = normal_matrix(tokens, in, 8);
  const gift::matrix_f dy = normal_matrix(tokens, out, 9);
  auto reference = make_layer(out, in, salient, true);
  const gift::matrix_f y_ref = reference.forward(x, 3);
  const gift::matrix_f dx_ref = reference.backward(dy);
  for (std::size_t panel : {1u, 96u * 8u, 96u * 13u, 1u << 22}) {
    auto layer = make_layer(out, in, salient, true);
    layer.set_panel_elements(panel);
    const gift::matrix_f y = layer.forward(x, 3);
    const gift::matrix_f dx = layer.backward(dy);
    BOOST_TEST((y - y_ref).cwiseAbs().maxCoeff() <= 1e-5f * y_ref.cwiseAbs().maxCoeff());
    BOOST_TEST((dx - dx_ref).cwiseAbs().maxCoeff() <= 1e-5f * dx_ref.cwiseAbs().maxCoeff());
    BOOST_TEST(bit_identical(layer.salient_gradient(), reference.salient_gradient()));
  }
}

BOOST_AUTO_TEST_CASE(the_noisy_weight_cache_changes_no_bit) {
  // The same layer with and without the cache, several panels per pass, trained over steps (the
  // salient block changes between them, so a stale W̃ would show), then an evaluation forward
  // with its backward (the cache holds an older step's W̃ there and must not be read).
  const Eigen::Index out = 40, in = 96, tokens = 6;
  const auto salient = every_nth(in, 7, 2);
  auto plain = make_layer(out, in, salient, true);
  auto cached = make_layer(out, in, salient, true);
  static_assert(decltype(cached)::noisy_weight_cache_supported);
  cached.set_noisy_weight_cache(true);
  BOOST_TEST(cached.noisy_weight_cache());
  BOOST_TEST(!plain.noisy_weight_cache());
  for (auto* layer : {&plain, &cached}) layer->set_panel_elements(96 * 8);  // 5 row panels, several column panels
  gift::optim::adamw<float> plain_optimizer(plain.parameters(), 0.1), cached_optimizer(cached.parameters(), 0.1);
  for (std::uint32_t step = 0; step < 4; ++step) {
    const bool training = step < 3;
    plain.set_training(training);
    cached.set_training(training);
    const gift::matrix_f x = normal_matrix(tokens, in, 200 + step);
    const gift::matrix_f dy = normal_matrix(tokens, out, 300 + step);
    const gift::matrix_f y_plain = plain.forward(x, step), y_cached = cached.forward(x, step);
    const gift::matrix_f dx_plain = plain.backward(dy), dx_cached = cached.backward(dy);
    BOOST_TEST(bit_identical(y_cached, y_plain), "forward, step " << step);
    BOOST_TEST(bit_identical(dx_cached, dx_plain), "backward, step " << step);
    BOOST_TEST(bit_identical(cached.salient_gradient(), plain.salient_gradient()), "salient gradient, step " << step);
    plain_optimizer.step(1e-2);
    cached_optimizer.step(1e-2);
    plain_optimizer.zero_grad();
    cached_optimizer.zero_grad();
  }
  BOOST_TEST(bit_identical(cached.merged_weight(), plain.merged_weight()));
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences_in_double) {
  // L = Σ R ⊙ y with y = x W̃ᵀ + b; dL/dy = R. The noise of a fixed step is a constant, so L is
  // smooth in x, W_S and b and central differences are exact up to rounding.
  const Eigen::Index out = 9, in = 14, tokens = 6;
  const std::vector<std::int64_t> salient{1, 6, 13};
  auto layer = make_layer<double>(out, in, salient, true);
  const gift::matrix<double> x = normal_matrix(tokens, in, 10).cast<double>();
  const gift::matrix<double> weights_r = normal_matrix(tokens, out, 11).cast<double>();
  const std::uint32_t step = 4;
  auto loss = [&](const gift::matrix<double>& input) {
    return (layer.forward(input, step).array() * weights_r.array()).sum();
  };
  (void)layer.forward(x, step);
  const gift::matrix<double> dx = layer.backward(weights_r);
  const gift::matrix<double> d_salient = layer.salient_gradient();
  const gift::vector<double> d_bias = layer.bias_gradient();
  gift::matrix<double> probe = x;
  check_entries(span_of(probe), {dx.data(), static_cast<std::size_t>(dx.size())}, [&] { return loss(probe); }, "dx");
  check_entries({layer.salient_weight().data(), static_cast<std::size_t>(layer.salient_weight().size())},
                {d_salient.data(), static_cast<std::size_t>(d_salient.size())}, [&] { return loss(x); }, "dW_S");
  check_entries({layer.bias().data(), static_cast<std::size_t>(layer.bias().size())},
                {d_bias.data(), static_cast<std::size_t>(d_bias.size())}, [&] { return loss(x); }, "db");
  // And the gradient really flows through the noisy weight: dx = dy W̃ with W̃ from the op.
  gift::matrix<double> noisy = layer.merged_weight();
  gift::add_quantization_noise(noisy, layer.delta(), salient, gift::noise_key{base.seed, base.layer, step});
  BOOST_TEST((dx - weights_r * noisy).cwiseAbs().maxCoeff() < 1e-12);
  BOOST_TEST((dx - weights_r * layer.merged_weight()).cwiseAbs().maxCoeff() > 1e-4);  // noise is visible
}

BOOST_AUTO_TEST_CASE(frozen_columns_are_bit_identical_after_training) {
  const Eigen::Index out = 32, in = 48, tokens = 16;
  const auto salient = every_nth(in, 5, 1);
  auto layer = make_layer(out, in, salient, true);
  const gift::matrix_f original = layer.merged_weight();
  gift::optim::adamw<float> optimizer(layer.parameters(), 0.1);
  for (std::uint32_t step = 0; step < 25; ++step) {
    const gift::matrix_f x = normal_matrix(tokens, in, 100 + step);
    const gift::matrix_f y = layer.forward(x, step);
    (void)layer.backward(y);  // gradient of ½‖y‖²
    optimizer.step(1e-2);
    optimizer.zero_grad();
  }
  const gift::matrix_f trained = layer.merged_weight();
  std::vector<char> is_salient(in, 0);
  for (auto j : salient) is_salient[static_cast<std::size_t>(j)] = 1;
  for (Eigen::Index j = 0; j < in; ++j) {
    if (is_salient[static_cast<std::size_t>(j)]) {
      BOOST_TEST((trained.col(j) - original.col(j)).cwiseAbs().maxCoeff() > 1e-3, "salient column " << j << " trained");
    } else {
      BOOST_TEST(bit_identical(gift::matrix_f(trained.col(j)), gift::matrix_f(original.col(j))), "frozen column " << j);
    }
  }
  BOOST_TEST(optimizer.state_elements() == static_cast<std::size_t>(2 * out * (salient.size() + 1)));
}

// Resident-size accounting is meaningless under AddressSanitizer (quarantine, shadow memory and
// its own allocator), so this check runs in the normal builds only (GIFT_TEST_UNDER_ASAN: fixtures.hpp).

#if defined(__linux__) && !defined(GIFT_TEST_UNDER_ASAN)

namespace {
long peak_resident_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_training_step_allocates_no_out_by_in_temporary) {
  // W is 3072 x 3072 (36 MiB). Everything is built and touched first, so the process's peak
  // resident size equals its current size; a forward + backward that materialised W̃ (or its
  // noise) would raise the peak by 36 MiB, the panel scheme by about one panel (4 MiB) each.
  const Eigen::Index out = 3072, in = 3072, tokens = 8;
  const gift::matrix_f weight = normal_matrix(out, in, 90, 0.01f);
  gift::nn::gift_linear<float> layer(weight, every_nth(in, 24, 0), row_scales(out), base);
  layer.set_panel_elements(std::size_t{1} << 18);  // 1 MiB panels: a few per thread, even if never reused
  const gift::matrix_f x = normal_matrix(tokens, in, 91);
  const gift::matrix_f dy = normal_matrix(tokens, out, 92);
  const long before = peak_resident_kib();
  const gift::matrix_f y = layer.forward(x, 1);
  const gift::matrix_f dx = layer.backward(dy);
  const long growth_kib = peak_resident_kib() - before;
  BOOST_TEST(growth_kib < 16 * 1024, "peak grew by " << growth_kib << " KiB");
  BOOST_TEST(y.allFinite());
  BOOST_TEST(dx.allFinite());
}
#endif

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

BOOST_AUTO_TEST_SUITE_END()  // nn_eigen
