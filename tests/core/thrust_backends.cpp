// The Thrust backend on the host OMP and CPP systems agrees bit for bit with the Eigen backend,
// for any thread count.
#include <boost/test/unit_test.hpp>

#include <gift/backend/thrust.hpp>
#include <gift/column_norms.hpp>
#include <gift/fill_standard_normal.hpp>
#include <gift/type_list.hpp>

#include <omp.h>

#include <tuple>

// Every case of this file belongs to the CTest test core_thrust (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_thrust)

namespace {
using omp_matrix = gift::thrust_matrix<float, gift::backend::system::omp>;
using cpp_matrix = gift::thrust_matrix<float, gift::backend::system::cpp>;
using norms = std::tuple<gift::l1, gift::l2, gift::linf, gift::lp<3>>;

gift::matrix_f sample_matrix() {
  gift::matrix_f m(777, 45);  // 4 row blocks, the last partial
  gift::fill_standard_normal(m, gift::noise_key{7, 0, 0});
  return m;
}

bool bit_identical(const gift::vector_f& a, const gift::vector_f& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}
bool bit_identical(const gift::matrix_f& a, const gift::matrix_f& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(column_norms_bit_identical_across_backends, Norm, norms) {
  const gift::matrix_f host = sample_matrix();
  const gift::vector_f expected = gift::column_norms<Norm>(host);
  const auto omp = omp_matrix::from_eigen(host);
  const auto cpp = cpp_matrix::from_eigen(host);
  for (int threads : {1, 2, 3, 7}) {
    omp_set_num_threads(threads);
    BOOST_TEST(bit_identical(gift::to_eigen_vector(gift::column_norms<Norm>(omp)), expected), threads << " threads");
    BOOST_TEST(bit_identical(gift::column_norms<Norm>(host), expected), threads << " threads, eigen");
  }
  BOOST_TEST(bit_identical(gift::to_eigen_vector(gift::column_norms<Norm>(cpp)), expected));
  // An explicit tag overrides the deduced one: OMP memory is host memory, CPP may run on it.
  BOOST_TEST(bit_identical(gift::to_eigen_vector(gift::column_norms<Norm>(gift::backend::thrust_cpp{}, omp)), expected));
}

BOOST_AUTO_TEST_CASE(normal_matrices_bit_identical_across_backends) {
  const gift::noise_key key{0xdeadbeefcafef00dull, 17, 3};
  gift::matrix_f expected(123, 77);  // size not a multiple of 4: the last Philox block is partial
  gift::fill_standard_normal(expected, key);
  for (int threads : {1, 2, 5}) {
    omp_set_num_threads(threads);
    omp_matrix omp(123, 77);
    gift::fill_standard_normal(omp, key);
    BOOST_TEST(bit_identical(omp.to_eigen(), expected), threads << " threads");
    gift::matrix_f again(123, 77);
    gift::fill_standard_normal(again, key);
    BOOST_TEST(bit_identical(again, expected), threads << " threads, eigen");
  }
  cpp_matrix cpp(123, 77);
  gift::fill_standard_normal(cpp, key);
  BOOST_TEST(bit_identical(cpp.to_eigen(), expected));
  // Column-major Eigen storage gets the same value at the same (i, j).
  Eigen::MatrixXf column_major(123, 77);
  gift::fill_standard_normal(column_major, key);
  BOOST_TEST(bit_identical(gift::matrix_f(column_major), expected));
}

BOOST_AUTO_TEST_CASE(thrust_detects_non_finite_input) {
  gift::matrix_f host = gift::matrix_f::Ones(10, 3);
  host(9, 2) = std::numeric_limits<float>::infinity();
  const auto omp = omp_matrix::from_eigen(host);
  BOOST_CHECK_EXCEPTION((void)gift::column_norms<gift::l2>(omp), gift::error, [](const gift::error& e) {
    return std::string(e.what()).find("(9, 2) is inf") != std::string::npos;
  });
  const omp_matrix empty(0, 3);
  BOOST_CHECK_THROW((void)gift::column_norms<gift::l1>(empty), gift::error);
}

BOOST_AUTO_TEST_CASE(thrust_matrices_deduce_their_system) {
  static_assert(std::is_same_v<gift::backend_for_t<omp_matrix>, gift::backend::thrust_omp>);
  static_assert(std::is_same_v<gift::backend_for_t<cpp_matrix>, gift::backend::thrust_cpp>);
  BOOST_TEST(true);
}

BOOST_AUTO_TEST_SUITE_END()  // core_thrust
