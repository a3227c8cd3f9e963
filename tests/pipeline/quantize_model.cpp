// gift::pipeline::quantize_model / quantize_layer: salient columns come back bit for bit, every
// other weight lies on its row's (or group's) b-bit grid, the steps are named as gift's weight
// files name them, the reported error is the brute-force one, GPTQ beats round-to-nearest on the
// objective it minimises (the calibration inputs' output error), and bad arguments are refused.
// `pipeline_quantize_model_thrust` (GIFT_TEST_THRUST): a model on the Thrust OMP and CPP systems
// selects and quantizes to the bits of its Eigen copy.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/pipeline/calibrate.hpp>
#include <gift/pipeline/quantize_model.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline_fixtures.hpp"

#if defined(GIFT_TEST_THRUST)
#include <gift/backend/thrust.hpp>
#include <gift/metric.hpp>
#include <gift/model/metric_sweep.hpp>

#include <boost/mpl/list.hpp>
BOOST_AUTO_TEST_SUITE(pipeline_quantize_model_thrust)
#else
// Every case of this file belongs to the CTest test pipeline_quantize_model (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(pipeline_quantize_model)
#endif

namespace gp = gift::pipeline;
namespace gm = gift::model;
using pipeline_test::tiny_model;
using pipeline_test::tokens;

namespace {

// Columns {1, 4} of every layer are salient.
[[maybe_unused]] gift::salient_columns two_columns(int, gm::projection, std::size_t columns) {
  return gift::salient_columns::from_indices(std::vector<std::int64_t>{1, 4}, columns);
}

// The weights of every layer, by layer id, on the host.
template <class Backend>
std::vector<gift::matrix<float>> weights_of(gm::llama_model<float, Backend>& model) {
  std::vector<gift::matrix<float>> out;
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : gm::all_projections) out.push_back(model.linear(b, p).effective_weight());
  return out;
}

// Whether w / step is a b-bit two's-complement code, an integer in [-2^(b-1), 2^(b-1) - 1] (to
// float rounding).
[[maybe_unused]] bool on_grid(float w, float step, int bits) {
  const double code = static_cast<double>(w) / static_cast<double>(step);
  const double half = std::ldexp(1.0, bits - 1);
  return std::abs(code - std::round(code)) <= 1e-4 && std::round(code) >= -half && std::round(code) <= half - 1;
}

}  // namespace

#if defined(GIFT_TEST_THRUST)
using thrust_backends = boost::mpl::list<gift::backend::thrust_omp, gift::backend::thrust_cpp>;

// The selection and the quantizers run on the host for every backend (the weights come over by
// effective_weight), so with the same statistics and Gram matrices a Thrust model must end with
// exactly the salient columns, weights and steps of its Eigen copy — for rtn and for gptq.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_thrust_model_selects_and_quantizes_as_its_eigen_copy, Backend, thrust_backends) {
  for (const auto method : {gp::quantize_method::rtn, gp::quantize_method::gptq}) {
    auto on_eigen = tiny_model<gift::backend::eigen>(45);
    auto model = tiny_model<Backend>(45);
    const auto calibration =
        gp::calibrate(on_eigen, tokens(8, 16, on_eigen.config().vocab, 3), {.batch = 4, .gram = true, .progress = {}});
    const auto stats_of = [&](int b, gm::projection p) -> const gift::activation_stats& { return calibration.stats(b, p); };
    const gift::symmetric_options quantizer{3, gift::alpha_search::paper_grid(20), 0};
    const auto salient_eigen = gm::select_model_salient<gift::gift_sw>(on_eigen, stats_of, quantizer, {0, 0.125});
    const auto salient_here = gm::select_model_salient<gift::gift_sw>(model, stats_of, quantizer, {0, 0.125});
    BOOST_REQUIRE_EQUAL(salient_here.size(), salient_eigen.size());
    for (std::size_t i = 0; i < salient_here.size(); ++i)
      BOOST_TEST(salient_here[i].indices() == salient_eigen[i].indices(), boost::test_tools::per_element());
    const auto salient = [&](int b, gm::projection p, std::size_t) {
      return salient_eigen[static_cast<std::size_t>(gm::layer_id(b, p))];
    };
    const auto grams = [&](int b, gm::projection p) { return calibration.gram(b, p).gram(); };
    const gp::quantize_options options{.method = method, .bits = 3, .search = gift::alpha_search::paper_grid(20),
                                       .group_size = 0};
    const auto expected = gp::quantize_model(on_eigen, salient, options, grams);
    const auto result = gp::quantize_model(model, salient, options, grams);
    BOOST_TEST(result.relative_error_non_salient == expected.relative_error_non_salient);
    BOOST_REQUIRE(result.steps.size() == expected.steps.size());
    for (const auto& [name, steps] : expected.steps) BOOST_TEST((result.steps.at(name) == steps), name);
    const auto want = weights_of(on_eigen);
    const auto got = weights_of(model);
    for (std::size_t i = 0; i < want.size(); ++i)
      BOOST_TEST((got[i] == want[i]), "layer " << i << ", " << gp::name_of(method));
  }
}

#else
BOOST_AUTO_TEST_CASE(rtn_keeps_salient_columns_and_puts_the_rest_on_the_grid) {
  auto model = tiny_model<gift::backend::eigen>(41);
  const auto before = weights_of(model);
  int layers_seen = 0;
  const auto result = gp::quantize_model(model, two_columns, {.method = gp::quantize_method::rtn, .bits = 3,
                                                              .search = gift::alpha_search::paper_grid(20), .group_size = 0},
                                         {}, [&] { ++layers_seen; });
  BOOST_TEST(layers_seen == model.config().layers * gm::projections_per_block);
  BOOST_TEST(result.steps.size() == static_cast<std::size_t>(layers_seen));
  double error_squares = 0, weight_squares = 0;
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : gm::all_projections) {
      const gift::matrix<float>& w = before[static_cast<std::size_t>(gm::layer_id(b, p))];
      const gift::matrix<float> q = model.linear(b, p).effective_weight();
      const auto& steps = result.steps.at(gm::layer_name(b, p) + ".delta");
      BOOST_REQUIRE_EQUAL(steps.size(), w.rows());
      for (Eigen::Index r = 0; r < w.rows(); ++r)
        for (Eigen::Index c = 0; c < w.cols(); ++c) {
          if (c == 1 || c == 4) {
            BOOST_TEST(q(r, c) == w(r, c));  // bit for bit
            continue;
          }
          BOOST_TEST(on_grid(q(r, c), steps(r), 3), gm::layer_name(b, p) << " (" << r << ", " << c << ") code " << q(r, c) / steps(r));
          error_squares += std::pow(static_cast<double>(q(r, c)) - w(r, c), 2);
          weight_squares += std::pow(static_cast<double>(w(r, c)), 2);
        }
    }
  BOOST_TEST(std::abs(result.relative_error_non_salient - std::sqrt(error_squares / weight_squares)) <= 1e-12);
  BOOST_TEST(result.relative_error_non_salient > 0.0);
}

BOOST_AUTO_TEST_CASE(groups_get_their_own_steps_and_name) {
  auto model = tiny_model<gift::backend::eigen>(42);
  const auto before = weights_of(model);
  const std::size_t group = 8;
  const auto result =
      gp::quantize_model(model, [](int, gm::projection, std::size_t columns) { return gift::salient_columns::none(columns); },
                         {.method = gp::quantize_method::rtn, .bits = 4, .search = gift::alpha_search::max_abs(), .group_size = group});
  const gift::matrix<float>& w = before[0];
  const gift::matrix<float> q = model.linear(0, gm::projection::q).effective_weight();
  BOOST_REQUIRE(result.steps.count("blk.0.attn_q.group_delta") == 1);
  BOOST_TEST(result.steps.count("blk.0.attn_q.delta") == 0);
  const auto& steps = result.steps.at("blk.0.attn_q.group_delta");
  const Eigen::Index groups = (w.cols() + static_cast<Eigen::Index>(group) - 1) / static_cast<Eigen::Index>(group);
  BOOST_REQUIRE_EQUAL(steps.size(), w.rows() * groups);
  for (Eigen::Index r = 0; r < w.rows(); ++r)
    for (Eigen::Index c = 0; c < w.cols(); ++c)
      BOOST_TEST(on_grid(q(r, c), steps(r * groups + c / static_cast<Eigen::Index>(group)), 4));  // row-major
}

BOOST_AUTO_TEST_CASE(gptq_beats_round_to_nearest_on_the_calibration_objective) {
  auto rtn_model = tiny_model<gift::backend::eigen>(43);
  auto gptq_model = tiny_model<gift::backend::eigen>(43);
  const auto before = weights_of(rtn_model);
  const auto calibration =
      gp::calibrate(gptq_model, tokens(8, 16, gptq_model.config().vocab, 7), {.batch = 4, .gram = true, .progress = {}});
  const auto none = [](int, gm::projection, std::size_t columns) { return gift::salient_columns::none(columns); };
  const auto grams = [&](int b, gm::projection p) { return calibration.gram(b, p).gram(); };
  const gp::quantize_options options{.method = gp::quantize_method::rtn, .bits = 3,
                                     .search = gift::alpha_search::max_abs(), .group_size = 0};
  (void)gp::quantize_model(rtn_model, none, options, grams);
  gp::quantize_options with_gptq = options;
  with_gptq.method = gp::quantize_method::gptq;
  (void)gp::quantize_model(gptq_model, none, with_gptq, grams);
  // tr(E G Eᵀ) with E = Q − W: the squared output error over the calibration inputs.
  double rtn_objective = 0, gptq_objective = 0;
  for (int b = 0; b < rtn_model.config().layers; ++b)
    for (gm::projection p : gm::all_projections) {
      const gift::matrix<double> w = before[static_cast<std::size_t>(gm::layer_id(b, p))].cast<double>();
      const gift::matrix<double> g = calibration.gram(b, p).gram();
      const gift::matrix<double> e_rtn = rtn_model.linear(b, p).effective_weight().cast<double>() - w;
      const gift::matrix<double> e_gptq = gptq_model.linear(b, p).effective_weight().cast<double>() - w;
      rtn_objective += (e_rtn * g * e_rtn.transpose()).trace();
      gptq_objective += (e_gptq * g * e_gptq.transpose()).trace();
    }
  BOOST_TEST(gptq_objective < rtn_objective, "gptq " << gptq_objective << " vs rtn " << rtn_objective);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_by_name) {
  auto model = tiny_model<gift::backend::eigen>(44);
  const auto message = [](auto&& action) {
    try {
      action();
    } catch (const gift::error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  gp::quantize_options gptq_options;
  gptq_options.method = gp::quantize_method::gptq;
  BOOST_TEST(message([&] { (void)gp::quantize_model(model, two_columns, gptq_options); }).find("needs argument 'grams'") !=
             std::string::npos);
  BOOST_TEST(message([&] { (void)gp::quantize_model(model, {}, {}); }).find("argument 'salient' is empty") !=
             std::string::npos);
  gptq_options.group_size = 32;
  const gift::matrix<float> w = model.linear(0, gm::projection::q).effective_weight();
  const gift::matrix<double> g = gift::matrix<double>::Identity(w.cols(), w.cols());
  BOOST_TEST(message([&] { (void)gp::quantize_layer(w, two_columns(0, gm::projection::q, static_cast<std::size_t>(w.cols())), gptq_options, &g); })
                 .find("group_size 32 works with rtn only") != std::string::npos);
  gptq_options.group_size = 0;
  BOOST_TEST(message([&] { (void)gp::quantize_layer(w, two_columns(0, gm::projection::q, static_cast<std::size_t>(w.cols())), gptq_options); })
                 .find("needs the layer's Gram matrix") != std::string::npos);
  gp::quantize_options bad_bits;
  bad_bits.bits = 9;
  BOOST_TEST(message([&] { (void)gp::quantize_layer(w, gift::salient_columns::none(static_cast<std::size_t>(w.cols())), bad_bits); }) !=
             "(no error)");
}

#endif

BOOST_AUTO_TEST_SUITE_END()
