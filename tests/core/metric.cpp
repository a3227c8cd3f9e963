// Sensitivity metrics: names, hand-computed presets, agreement with an explicit (unfused)
// computation in double.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/metric.hpp>
#include <gift/select.hpp>
#include <gift/type_list.hpp>

#include <cmath>

// Every case of this file belongs to the CTest test core_saliency (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_saliency)

using gift_test::message_has;

namespace {
// The hand-computed layer (see the comments in presets_hand_computed).
struct small_layer {
  gift::matrix_f w{2, 3};
  gift::activation_stats stats{3};
  small_layer() {
    w << 1.0f, -0.3f, 0.6f, 0.1f, 0.5f, -0.9f;
    gift::matrix_f x(2, 3);
    x << 2.0f, -1.0f, 0.5f, -4.0f, 3.0f, 1.0f;
    stats.update(x);
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(metric_names) {
  BOOST_TEST(gift::gift_sw::name() == "sensitivity<linf,linf,1/1,quant_error<int4>>");
  BOOST_TEST(gift::quik::name() == "sensitivity<linf,linf,1/1,none>");
  BOOST_TEST(gift::owq::name() == "sensitivity<l2,l2,2/1,quant_error<int4>,2/1>");
  BOOST_TEST(gift::wanda_columns::name() == "sensitivity<l1,l2,1/1,weights>");
  BOOST_TEST((gift::sensitivity<gift::lp<3>, gift::l1, std::ratio<1, 2>,
                                gift::quantization_error<gift::symmetric<3, gift::paper_alpha_grid<>>>>::name() ==
              "sensitivity<l3,l1,1/2,quant_error<int3/grid100>>"));
  BOOST_TEST((gift::with_bits_t<gift::gift_sw, 2>::name() == "sensitivity<linf,linf,1/1,quant_error<int2>>"));
  BOOST_TEST((std::is_same_v<gift::with_bits_t<gift::quik, 2>, gift::quik>));
  BOOST_TEST((std::is_same_v<gift::smoothquant, gift::quik>));
}

BOOST_AUTO_TEST_CASE(presets_hand_computed) {
  const small_layer layer;
  // int4 absmax: row 0 has Δ = 1/7, codes (7, −2, 4): errors (0, −0.1/7, 0.2/7);
  // row 1 has Δ = 0.9/7, codes (1, 4, −7): errors (−0.2/7, −0.1/7, 0).
  // Activations: max|x| = (4, 3, 1), Σx² = (20, 10, 1.25).
  const auto tol = boost::test_tools::tolerance(1e-5);
  const gift::vector<double> sw = gift::column_sensitivity<gift::gift_sw>(layer.w, layer.stats);
  BOOST_TEST(sw(0) == 0.2 / 7 * 4, tol);
  BOOST_TEST(sw(1) == 0.1 / 7 * 3, tol);
  BOOST_TEST(sw(2) == 0.2 / 7 * 1, tol);
  const gift::vector<double> quik = gift::column_sensitivity<gift::quik>(layer.w, layer.stats);
  BOOST_TEST(quik(0) == 4.0);
  BOOST_TEST(quik(1) == 3.0);
  BOOST_TEST(quik(2) == 1.0);
  const gift::vector<double> owq = gift::column_sensitivity<gift::owq>(layer.w, layer.stats);
  BOOST_TEST(owq(0) == 0.04 / 49 * 20, tol);
  BOOST_TEST(owq(1) == 0.02 / 49 * 10, tol);
  BOOST_TEST(owq(2) == 0.04 / 49 * 1.25, tol);
  const gift::vector<double> wanda = gift::column_sensitivity<gift::wanda_columns>(layer.w, layer.stats);
  BOOST_TEST(wanda(0) == 1.1 * std::sqrt(20.0), tol);
  BOOST_TEST(wanda(1) == 0.8 * std::sqrt(10.0), tol);
  BOOST_TEST(wanda(2) == 1.5 * std::sqrt(1.25), tol);
  // Selections: gift_sw picks column 0 first, then 1; quik the same; OWQ 0 then 1; Wanda 0, 1.
  BOOST_TEST(gift::select_salient(sw, 1).indices() == std::vector<std::int64_t>{0});
  BOOST_TEST(gift::select_salient(owq, 2).indices() == (std::vector<std::int64_t>{0, 1}));
  // The explicit-tag forms agree.
  BOOST_TEST((gift::column_sensitivity<gift::gift_sw>(gift::backend::eigen{}, layer.w, layer.stats) == sw));
  BOOST_TEST((gift::column_sensitivity<gift::gift_sw>(layer.w, layer.stats, gift::backend::eigen{}) == sw));
}

namespace {
// Reference: the perturbation formed explicitly (with the library's quantizer), norms and
// powers in double.
template <class Metric>
gift::vector<double> explicit_reference(const gift::matrix_f& w, const gift::matrix_f& x) {
  using P = typename Metric::perturbation;
  Eigen::MatrixXd d;
  if constexpr (std::is_same_v<P, gift::weights_perturbation>) {
    d = w.cast<double>();
  } else if constexpr (std::is_same_v<P, gift::no_perturbation>) {
    d = Eigen::MatrixXd::Ones(1, w.cols());
  } else {
    using Q = typename P::quantizer;
    const auto q = gift::quantize_symmetric(w, gift::symmetric_options{Q::bits, Q::search_policy::make(), 0});
    d = (w - q.dequantized).cast<double>();
  }
  auto norm = [](const Eigen::VectorXd& v, double p) {
    if (std::isinf(p)) return v.cwiseAbs().maxCoeff();
    double s = 0;
    for (double e : v) s += std::pow(std::abs(e), p);
    return std::pow(s, 1.0 / p);
  };
  const double gamma = static_cast<double>(Metric::gamma::num) / Metric::gamma::den;
  const double delta = static_cast<double>(Metric::delta::num) / Metric::delta::den;
  gift::vector<double> s(w.cols());
  for (Eigen::Index j = 0; j < w.cols(); ++j) {
    const double dn = std::is_same_v<P, gift::no_perturbation> ? 1.0 : norm(d.col(j), Metric::tau::p);
    const double xn = norm(x.col(j).cast<double>(), Metric::rho::p);
    s(j) = std::pow(dn, delta) * std::pow(xn, gamma);
  }
  return s;
}

using metrics = std::tuple<gift::gift_sw, gift::quik, gift::owq, gift::wanda_columns, gift::gift_sw_at<3>,
                           gift::sensitivity<gift::lp<3>, gift::lp<3>, std::ratio<1, 2>, gift::weights_perturbation>,
                           gift::sensitivity<gift::l1, gift::l1, std::ratio<3, 2>,
                                             gift::quantization_error<gift::symmetric<2, gift::reference_code_alpha>>>>;
}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(fused_metric_equals_explicit_reference, Metric, metrics) {
  const gift::matrix_f w = gift_test::normal(300, 70, 11, 0.02f);
  const gift::matrix_f x = gift_test::heavy_tailed(520, 70, 12);
  gift::activation_stats stats(70, {3});
  stats.update(x);
  const gift::vector<double> found = gift::column_sensitivity<Metric>(w, stats);
  const gift::vector<double> expected = explicit_reference<Metric>(w, x);
  for (Eigen::Index j = 0; j < 70; ++j) BOOST_TEST(found(j) == expected(j), boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(run_time_quantizer_equals_the_compile_time_rebinding) {
  // `gift select --bits B --alpha A` passes the quantizer of D at run time; the scores must be
  // those of the preset rebound to the same quantizer at compile time, bit for bit.
  const gift::matrix_f w = gift_test::normal(24, 40, 11);
  gift::activation_stats stats(40);
  stats.update(gift_test::heavy_tailed(64, 40, 12));
  using gift3_grid = gift::sensitivity<gift::linf, gift::linf, std::ratio<1>,
                                       gift::quantization_error<gift::symmetric<3, gift::paper_alpha_grid<100>>>>;
  using owq2 = gift::with_bits_t<gift::owq, 2>;
  const auto grid = gift::alpha_search::paper_grid(100);
  BOOST_TEST((gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{3, grid, 0}) ==
              gift::column_sensitivity<gift3_grid>(w, stats)));
  BOOST_TEST((gift::column_sensitivity<gift::owq>(w, stats, gift::symmetric_options{2, gift::alpha_search::max_abs(), 0}) ==
              gift::column_sensitivity<owq2>(w, stats)));
  // The default quantizer reproduces the preset; another bit-width changes the scores.
  BOOST_TEST((gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{}) ==
              gift::column_sensitivity<gift::gift_sw>(w, stats)));
  BOOST_TEST((gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{2, grid, 0}) !=
              gift::column_sensitivity<gift::gift_sw>(w, stats)));
  // Metrics without a quantization error ignore it.
  BOOST_TEST((gift::column_sensitivity<gift::quik>(w, stats, gift::symmetric_options{2, grid, 0}) ==
              gift::column_sensitivity<gift::quik>(w, stats)));
  BOOST_CHECK_THROW((void)gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{9, grid, 0}),
                    gift::error);
}

// Group-wise D (gift select --group-size 64 for a model quantized with groups): the error of
// quantize_symmetric with the same options, folded into gift_sw's norms in double; a group as
// wide as the row is the per-row quantizer; groups change the scores.
BOOST_AUTO_TEST_CASE(group_wise_quantization_error) {
  const gift::matrix_f w = gift_test::normal(37, 100, 21, 0.02f);
  const gift::matrix_f x = gift_test::heavy_tailed(64, 100, 22);
  gift::activation_stats stats(100);
  stats.update(x);
  const auto grid = gift::alpha_search::paper_grid(100);
  for (const std::size_t group : {std::size_t{8}, std::size_t{32}, std::size_t{64}}) {  // 32 and 64: a narrow last group
    const gift::symmetric_options options{2, grid, group};
    const auto q = gift::quantize_symmetric(w, options);
    BOOST_TEST(q.delta.cols() == static_cast<Eigen::Index>((100 + group - 1) / group));
    const Eigen::MatrixXd d = (w - q.dequantized).cast<double>();
    const gift::vector<double> found = gift::column_sensitivity<gift::gift_sw>(w, stats, options);
    for (Eigen::Index j = 0; j < 100; ++j) {
      const double expected = d.col(j).cwiseAbs().maxCoeff() * x.col(j).cast<double>().cwiseAbs().maxCoeff();
      BOOST_TEST(found(j) == expected, boost::test_tools::tolerance(1e-12));
    }
  }
  BOOST_TEST((gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{2, grid, 100}) ==
              gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{2, grid, 0})));
  BOOST_TEST((gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{2, grid, 8}) !=
              gift::column_sensitivity<gift::gift_sw>(w, stats, gift::symmetric_options{2, grid, 0})));
}

BOOST_AUTO_TEST_CASE(metric_rejects_bad_input) {
  const small_layer layer;
  gift::activation_stats wider(4);
  wider.update(gift::matrix_f::Ones(2, 4));
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<gift::gift_sw>(layer.w, wider), gift::error,
                        message_has("statistics have 4 columns", "weights have 3"));
  const gift::activation_stats empty(3);
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<gift::quik>(layer.w, empty), gift::error, message_has("no tokens"));
  gift::matrix_f bad = layer.w;
  bad(1, 2) = -std::numeric_limits<float>::infinity();
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<gift::gift_sw>(bad, layer.stats), gift::error,
                        message_has("'weights' must be finite", "(1, 2) is -inf"));
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<gift::wanda_columns>(bad, layer.stats), gift::error,
                        message_has("(1, 2) is -inf"));
  // quik scores activations only, and still refuses weights it does not read (issue 25).
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<gift::quik>(bad, layer.stats), gift::error,
                        message_has("(1, 2) is -inf"));
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<gift::gift_sw>(gift::matrix_f(0, 3), layer.stats), gift::error,
                        message_has("non-empty"));
  using lp3 = gift::sensitivity<gift::linf, gift::lp<3>, std::ratio<1>, gift::no_perturbation>;
  BOOST_CHECK_EXCEPTION((void)gift::column_sensitivity<lp3>(layer.w, layer.stats), gift::error,
                        message_has("not tracked"));
}

BOOST_AUTO_TEST_SUITE_END()  // core_saliency
