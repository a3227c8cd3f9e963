// The CUDA path (gift's own α-search kernel and the Thrust-on-CUDA fallback) against the Eigen
// backend. Runs where a GPU exists; skipped (exit 77) elsewhere.
#include <boost/test/unit_test.hpp>

#include <gift/backend/cuda.cuh>
#include <gift/metric.hpp>
#include <gift/quant/asymmetric.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/select.hpp>
#include <gift/fill_standard_normal.hpp>
#include <gift/stats.hpp>

#include <cstring>

// Every case of this file belongs to the CTest test quant_cuda (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(quant_cuda)

namespace {
gift::matrix_f normal(Eigen::Index rows, Eigen::Index cols, std::uint32_t layer, float scale) {
  gift::matrix_f m(rows, cols);
  gift::fill_standard_normal(m, gift::noise_key{2024, layer, 0});
  return m * scale;
}
template <class A, class B>
bool bit_identical(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(typename A::Scalar) * static_cast<std::size_t>(a.size())) == 0;
}
}  // namespace

BOOST_AUTO_TEST_CASE(cuda_statistics_scores_and_selection_match_eigen) {
  const gift::matrix_f w = normal(513, 300, 60, 0.02f);
  const gift::matrix_f x = normal(700, 300, 61, 1.0f);
  gift::activation_stats eigen(300, {3}), device(300, {3});
  eigen.update(x);
  device.update(gift::cuda_matrix<float>::from_eigen(x));
  BOOST_TEST((eigen.max_abs() == device.max_abs()));
  BOOST_TEST((eigen.sum_squares() == device.sum_squares()));
  BOOST_TEST((eigen.sum_powers(3) == device.sum_powers(3)));
  const auto dw = gift::cuda_matrix<float>::from_eigen(w);
  const gift::vector<double> expected = gift::column_sensitivity<gift::gift_sw>(w, eigen);
  const gift::vector<double> found = gift::column_sensitivity<gift::gift_sw>(gift::backend::cuda{}, dw, eigen);
  BOOST_TEST(bit_identical(found, expected));
  const gift::backend::thrust_vector_t<gift::backend::system::cuda, double> scores(expected.data(),
                                                                                   expected.data() + expected.size());
  BOOST_TEST((gift::select_salient(gift::backend::cuda{}, scores, 17) == gift::select_salient(expected, 17)));
}

BOOST_AUTO_TEST_CASE(cuda_quantizers_match_eigen) {
  const gift::matrix_f w = normal(257, 1000, 62, 0.02f);
  const auto salient = gift::salient_columns::from_indices({0, 17, 999}, 1000);
  const auto dw = gift::cuda_matrix<float>::from_eigen(w);
  for (const auto& search : {gift::alpha_search::paper_grid(), gift::alpha_search::reference_code()}) {
    const gift::symmetric_options options{4, search, 0};
    const auto expected = gift::quantize_symmetric(w, options, salient);
    // gift's kernel (one block per row) and the Thrust fallback (one thread per row).
    const auto kernel = gift::quantize_symmetric(gift::backend::cuda{}, dw, options, salient);
    const auto fallback = gift::quantize_symmetric(gift::backend::thrust_cuda{}, dw, options, salient);
    BOOST_TEST(bit_identical(fallback.delta.to_eigen(), expected.delta));
    BOOST_TEST((fallback.codes.to_eigen() == expected.codes));
    // The kernel sums the error in another order: the chosen α may differ only where two
    // candidates' errors agree to float accuracy; Δ is then within one candidate step.
    const gift::matrix_f delta = kernel.delta.to_eigen();
    const Eigen::Index same = (delta.array() == expected.delta.array()).count();
    BOOST_TEST(same >= expected.delta.size() * 95 / 100);
    BOOST_TEST(((delta - expected.delta).cwiseAbs().array() <= 0.02f * expected.delta.array()).all());
  }
  const auto expected = gift::quantize_asymmetric(w, {4, 128});
  const auto found = gift::quantize_asymmetric(dw, {4, 128});
  BOOST_TEST(bit_identical(found.scale.to_eigen(), expected.scale));
  BOOST_TEST((found.codes.to_eigen() == expected.codes));
}

BOOST_AUTO_TEST_SUITE_END()  // quant_cuda
