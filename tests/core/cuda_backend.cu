// CUDA backend against the Eigen backend: normal matrices bit-identical (gift's own kernel),
// column norms through the Thrust-on-CUDA fallback bit-identical too. Runs where a GPU exists.
#include <boost/test/unit_test.hpp>

#include <gift/backend/cuda.cuh>
#include <gift/column_norms.hpp>
#include <gift/fill_standard_normal.hpp>

#include <cstring>

// Every case of this file belongs to the CTest test core_cuda (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_cuda)

BOOST_AUTO_TEST_CASE(cuda_normals_match_eigen) {
  const gift::noise_key key{99, 4, 2};
  gift::matrix_f expected(513, 259);
  gift::fill_standard_normal(expected, key);
  gift::cuda_matrix<float> device(513, 259);
  gift::fill_standard_normal(device, key);  // deduces backend thrust<cuda>
  const gift::matrix_f via_thrust = device.to_eigen();
  gift::fill_standard_normal(gift::backend::cuda{}, device, key);  // gift's own kernel
  const gift::matrix_f via_kernel = device.to_eigen();
  BOOST_TEST(std::memcmp(via_thrust.data(), expected.data(), sizeof(float) * expected.size()) == 0);
  BOOST_TEST(std::memcmp(via_kernel.data(), expected.data(), sizeof(float) * expected.size()) == 0);
}

BOOST_AUTO_TEST_CASE(cuda_column_norms_match_eigen) {
  gift::matrix_f host(1000, 300);
  gift::fill_standard_normal(host, gift::noise_key{1, 2, 3});
  const auto device = gift::cuda_matrix<float>::from_eigen(host);
  const gift::vector_f expected = gift::column_norms<gift::l2>(host);
  const gift::vector_f found = gift::to_eigen_vector(gift::column_norms<gift::l2>(gift::backend::cuda{}, device));
  BOOST_TEST(std::memcmp(found.data(), expected.data(), sizeof(float) * expected.size()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()  // core_cuda
