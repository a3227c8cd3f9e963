// The Thrust backend (host OMP and CPP systems) injects exactly the noise of the Eigen backend
// and of gift_linear's panels, for any thread count.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/backend/thrust.hpp>
#include <gift/nn/gift_linear.hpp>
#include <gift/noise.hpp>

#include <omp.h>

// Every case of this file belongs to the CTest test core_thrust (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_thrust)

using namespace gift_test;

namespace {
using omp_matrix = gift::thrust_matrix<float, gift::backend::system::omp>;
using cpp_matrix = gift::thrust_matrix<float, gift::backend::system::cpp>;
}  // namespace

BOOST_AUTO_TEST_CASE(thrust_noise_is_bit_identical_to_eigen) {
  const Eigen::Index rows = 67, cols = 131;  // odd sizes: Philox blocks straddle rows
  const gift::matrix_f original = normal_matrix(rows, cols, 40);
  const gift::vector_f delta = row_scales(rows);
  const std::vector<std::int64_t> salient{130, 0, 17, 64};
  const gift::noise_key key{42, 7, 1000};
  gift::matrix_f expected = original;
  gift::add_quantization_noise(expected, delta, salient, key);
  for (int threads : {1, 2, 5}) {
    omp_set_num_threads(threads);
    auto omp = omp_matrix::from_eigen(original);
    gift::add_quantization_noise(omp, delta, salient, key);  // deduces thrust<omp>
    BOOST_TEST(bit_identical(omp.to_eigen(), expected), threads << " threads");
    auto cpp = cpp_matrix::from_eigen(original);
    const gift::backend::thrust_vector_t<gift::backend::system::cpp, float> device_delta(delta.data(),
                                                                                         delta.data() + rows);
    gift::add_quantization_noise(gift::backend::thrust_cpp{}, cpp, device_delta, salient, key);
    BOOST_TEST(bit_identical(cpp.to_eigen(), expected));
  }
  // The training layer's panels carry the same noise: x = I gives W̃ᵀ exactly.
  gift::nn::gift_linear<float> layer(original, salient, delta, gift::noise_key{42, 7, 0});
  layer.set_panel_elements(cols * 5);
  const gift::matrix_f from_layer = layer.forward(gift::matrix_f::Identity(cols, cols), 1000).transpose();
  BOOST_TEST(bit_identical(from_layer, expected));
}

BOOST_AUTO_TEST_CASE(thrust_noise_checks_its_input) {
  auto m = omp_matrix::from_eigen(normal_matrix(3, 4, 1));
  const std::string duplicate = message_of([&] {
    gift::add_quantization_noise(m, row_scales(3), std::vector<std::int64_t>{1, 1}, gift::noise_key{});
  });
  BOOST_TEST(duplicate.find("more than once") != std::string::npos, duplicate);
  gift::vector_f delta = row_scales(3);
  delta(1) = -0.5f;
  const std::string negative =
      message_of([&] { gift::add_quantization_noise(m, delta, std::vector<std::int64_t>{}, gift::noise_key{}); });
  BOOST_TEST(negative.find("row 1 is -0.5") != std::string::npos, negative);
}

BOOST_AUTO_TEST_SUITE_END()  // core_thrust
