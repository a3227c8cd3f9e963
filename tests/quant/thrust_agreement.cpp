// The Thrust backend (host OMP and CPP systems) against the Eigen backend: statistics, scores,
// selection and quantizers bit-identical, the Gram matrix within 1e-12, for any thread count.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/backend/thrust.hpp>
#include <gift/gram.hpp>
#include <gift/metric.hpp>
#include <gift/quant/asymmetric.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/select.hpp>
#include <gift/stats.hpp>

#include <omp.h>

// Every case of this file belongs to the CTest test quant_thrust (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(quant_thrust)

using gift_test::message_has;
using gift_test::bit_identical;

namespace {
template <class System>
using host_matrix = gift::thrust_matrix<float, System>;
using systems = std::tuple<gift::backend::system::omp, gift::backend::system::cpp>;

struct sample {
  gift::matrix_f w = gift_test::normal(301, 140, 50, 0.02f);  // 2 row blocks, the last partial
  gift::matrix_f x = gift_test::heavy_tailed(530, 140, 51);
  gift::salient_columns salient;
  sample() {
    w.col(3) *= 30.0f;
    w.col(77) *= 30.0f;
    salient = gift::salient_columns::from_indices({3, 77, 100}, 140);
  }
};

template <class A, class B>
bool same_stats(const A& a, const B& b) {
  return a.max_abs() == b.max_abs() && a.sum_squares() == b.sum_squares() && a.sum_abs() == b.sum_abs() &&
         a.sum_powers(3) == b.sum_powers(3) && a.token_count() == b.token_count();
}
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(statistics_bit_identical, System, systems) {
  const sample s;
  gift::activation_stats eigen(140, {3}), thrust(140, {3});
  eigen.update(s.x);
  for (int threads : {1, 3}) {
    omp_set_num_threads(threads);
    gift::activation_stats fresh(140, {3});
    fresh.update(host_matrix<System>::from_eigen(s.x));
    BOOST_TEST(same_stats(fresh, eigen), threads << " threads");
  }
  gift::gram_accumulator g_eigen(140), g_thrust(140);
  g_eigen.update(s.x);
  g_thrust.update(host_matrix<System>::from_eigen(s.x));
  const auto a = g_eigen.gram(), b = g_thrust.gram();
  BOOST_TEST((a - b).cwiseAbs().maxCoeff() <= 1e-12 * a.cwiseAbs().maxCoeff());
  gift::matrix_f bad = s.x;
  bad(500, 9) = std::nanf("");
  BOOST_CHECK_EXCEPTION(thrust.update(host_matrix<System>::from_eigen(bad)), gift::error, message_has("(500, 9) is nan"));
}

using metrics = std::tuple<gift::gift_sw, gift::owq, gift::wanda_columns, gift::quik,
                           gift::sensitivity<gift::l1, gift::lp<3>, std::ratio<1, 2>,
                                             gift::quantization_error<gift::symmetric<3, gift::paper_alpha_grid<>>>>>;
BOOST_AUTO_TEST_CASE_TEMPLATE(scores_and_selection_bit_identical, Metric, metrics) {
  const sample s;
  gift::activation_stats stats(140, {3});
  stats.update(s.x);
  const gift::vector<double> expected = gift::column_sensitivity<Metric>(s.w, stats);
  const auto expected_columns = gift::select_salient(expected, 9);
  for (int threads : {1, 2, 5}) {
    omp_set_num_threads(threads);
    const auto omp = host_matrix<gift::backend::system::omp>::from_eigen(s.w);
    BOOST_TEST(bit_identical(gift::column_sensitivity<Metric>(omp, stats), expected), threads << " threads");
  }
  const auto cpp = host_matrix<gift::backend::system::cpp>::from_eigen(s.w);
  BOOST_TEST(bit_identical(gift::column_sensitivity<Metric>(cpp, stats), expected));
  // Selection on scores held in Thrust memory.
  const gift::backend::thrust_vector_t<gift::backend::system::omp, double> device(expected.data(),
                                                                                   expected.data() + expected.size());
  BOOST_TEST((gift::select_salient(gift::backend::thrust_omp{}, device, 9) == expected_columns));
  BOOST_TEST((gift::select_salient(gift::backend::thrust_cpp{}, device, gift::fraction{0.1}) ==
              gift::select_salient(expected, gift::fraction{0.1})));
}

// Group-wise D (gift select --group-size): the Thrust scores equal Eigen's bit for bit, for
// groups that divide the row and one that leaves a narrow last group (140 = 2 x 64 + 12).
BOOST_AUTO_TEST_CASE_TEMPLATE(group_wise_scores_bit_identical, System, systems) {
  const sample s;
  gift::activation_stats stats(140);
  stats.update(s.x);
  const auto w = host_matrix<System>::from_eigen(s.w);
  for (const std::size_t group : {std::size_t{0}, std::size_t{35}, std::size_t{64}}) {
    const gift::symmetric_options options{2, gift::alpha_search::paper_grid(), group};
    const gift::vector<double> expected = gift::column_sensitivity<gift::gift_sw>(s.w, stats, options);
    BOOST_TEST(bit_identical(gift::column_sensitivity<gift::gift_sw>(w, stats, options), expected), group);
    using owq = gift::owq;
    BOOST_TEST(bit_identical(gift::column_sensitivity<owq>(w, stats, options),
                             gift::column_sensitivity<owq>(s.w, stats, options)), group);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(quantizers_bit_identical, System, systems) {
  const sample s;
  const auto w = host_matrix<System>::from_eigen(s.w);
  for (const auto& search : {gift::alpha_search::paper_grid(), gift::alpha_search::reference_code(2.4)}) {
    for (const std::size_t group : {std::size_t{0}, std::size_t{64}}) {
      const gift::symmetric_options options{3, search, group};
      const auto expected = gift::quantize_symmetric(s.w, options, s.salient);
      const auto found = gift::quantize_symmetric(w, options, s.salient);
      BOOST_TEST(bit_identical(found.alpha.to_eigen(), expected.alpha));
      BOOST_TEST(bit_identical(found.delta.to_eigen(), expected.delta));
      BOOST_TEST((found.codes.to_eigen() == expected.codes));
      BOOST_TEST(bit_identical(found.dequantized.to_eigen(), expected.dequantized));
      const auto scales = gift::search_scales(w, options, s.salient);
      BOOST_TEST(bit_identical(scales.delta.to_eigen(), expected.delta));
      BOOST_TEST(scales.codes.size() == 0u);
    }
  }
  const auto expected = gift::quantize_asymmetric(s.w, {4, 32}, s.salient);
  const auto found = gift::quantize_asymmetric(w, {4, 32}, s.salient);
  BOOST_TEST(bit_identical(found.scale.to_eigen(), expected.scale));
  BOOST_TEST(bit_identical(found.zero.to_eigen(), expected.zero));
  BOOST_TEST((found.codes.to_eigen() == expected.codes));
  BOOST_TEST(bit_identical(found.dequantized.to_eigen(), expected.dequantized));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(row_deltas_follow_the_weight_type, System, systems) {
  // The noise scale of GIFT-SW training from a Thrust weight: the same Δ, bit for bit.
  const sample s;
  const auto w = host_matrix<System>::from_eigen(s.w);
  for (const int bits : {2, 4}) {
    const auto search = gift::alpha_search::paper_grid();
    const gift::vector_f expected = gift::row_deltas(s.w, bits, search, s.salient);
    BOOST_TEST(expected.size() == s.w.rows());
    BOOST_TEST(bit_identical(gift::row_deltas(w, bits, search, s.salient), expected));
    BOOST_TEST(bit_identical(gift::row_deltas(gift::backend::thrust_cpp{}, w, bits, search, s.salient), expected));
  }
}

BOOST_AUTO_TEST_CASE(thrust_quantizers_detect_non_finite_weights) {
  gift::matrix_f host = gift_test::normal(6, 9, 52);
  host(4, 8) = std::numeric_limits<float>::infinity();
  const auto w = host_matrix<gift::backend::system::omp>::from_eigen(host);
  BOOST_CHECK_EXCEPTION((void)gift::quantize_symmetric(w, {4}), gift::error, message_has("(4, 8) is inf"));
  BOOST_CHECK_EXCEPTION((void)gift::quantize_asymmetric(w, {4, 0}), gift::error, message_has("(4, 8) is inf"));
  gift::activation_stats stats(9);
  stats.update(gift::matrix_f::Ones(3, 9));
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<gift::wanda_columns>(w, stats), gift::error,
                        message_has("(4, 8) is inf"));
  std::vector<double> host_scores(9, 1.0);
  host_scores[2] = std::nan("");  // filled on the host: Thrust's element references trip UBSan
  const gift::backend::thrust_vector_t<gift::backend::system::omp, double> scores(host_scores.begin(), host_scores.end());
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(gift::backend::thrust_omp{}, scores, 2), gift::error,
                        message_has("score 2 is nan"));
}

BOOST_AUTO_TEST_SUITE_END()  // quant_thrust
