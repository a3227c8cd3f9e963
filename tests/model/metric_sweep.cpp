// The research harness on a synthetic model: collect_activation_stats equals statistics taken
// by hand through the calibration hook; select_model_salient equals column_sensitivity +
// select_salient layer by layer; metric_sweep visits every metric of the list in order with
// its own selection; bad sizes and statistics are refused.
#include <boost/test/unit_test.hpp>

#include <gift/model/metric_sweep.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/quant/alpha_search.hpp>

#include <string>
#include <vector>

// Every case of this file belongs to the CTest test model_metric_sweep (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_metric_sweep)

namespace gm = gift::model;

namespace {
std::vector<gm::token_matrix> batches(int vocab) {
  std::vector<gm::token_matrix> out;
  for (int s = 0; s < 2; ++s) {
    gm::token_matrix tokens(2, 9);
    for (Eigen::Index i = 0; i < tokens.size(); ++i) tokens.data()[i] = static_cast<std::int32_t>((11 * i + 3 * s + 1) % vocab);
    out.push_back(tokens);
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(statistics_and_selection_equal_the_hand_written_loop) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 4);
  const auto data = batches(config.vocab);
  const auto stats = gm::collect_activation_stats(model, data);
  BOOST_TEST(stats.size() == static_cast<std::size_t>(config.layers * gm::projections_per_block));
  // By hand: the hook sees every layer input.
  std::vector<gift::activation_stats> manual;
  for (int b = 0; b < config.layers; ++b)
    for (gm::projection p : gm::all_projections) manual.emplace_back(static_cast<std::size_t>(model.linear(b, p).in_features()));
  model.set_calibration_hook([&](int block, gm::projection p, const gift::matrix<float>& x) {
    manual[static_cast<std::size_t>(gm::layer_id(block, p))].update(x);
  });
  for (const auto& batch : data) (void)model.logits(batch);
  model.set_calibration_hook({});
  for (std::size_t l = 0; l < stats.size(); ++l) {
    BOOST_TEST(stats[l].token_count() == manual[l].token_count());
    BOOST_TEST((stats[l].sum_squares() - manual[l].sum_squares()).cwiseAbs().maxCoeff() == 0.0);
    BOOST_TEST((stats[l].max_abs() - manual[l].max_abs()).cwiseAbs().maxCoeff() == 0.0);
  }
  const gift::symmetric_options d{3, gift::alpha_search::paper_grid(20), 0};
  const auto selection = gm::select_model_salient<gift::gift_sw>(model, stats, d, {3, 0});
  for (int b = 0; b < config.layers; ++b) {
    for (gm::projection p : gm::all_projections) {
      const auto l = static_cast<std::size_t>(gm::layer_id(b, p));
      const gift::matrix_f w = model.linear(b, p).effective_weight();
      const auto expected = gift::select_salient(gift::column_sensitivity<gift::gift_sw>(w, stats[l], d), 3);
      BOOST_TEST(selection[l].indices() == expected.indices());
      BOOST_TEST(selection[l].size() == 3u);
    }
  }
  // A fraction rounds as select_salient does.
  const auto by_fraction = gm::select_model_salient<gift::quik>(model, stats, d, {0, 0.25});
  BOOST_TEST(by_fraction[0].size() == gift::select_salient(gift::vector<double>::Ones(config.hidden), gift::fraction{0.25}).size());
}

BOOST_AUTO_TEST_CASE(metric_sweep_visits_every_metric_in_order) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 6);
  const auto stats = gm::collect_activation_stats(model, batches(config.vocab));
  using metrics = gift::type_list<gift::gift_sw, gift::quik, gift::wanda_columns>;
  std::vector<std::string> seen;
  std::vector<gm::model_selection> selections;
  gm::metric_sweep<metrics>(model, stats, {4, gift::alpha_search::max_abs(), 0}, {2, 0},
                            [&]<class Metric>(const gm::model_selection& salient) {
                              seen.push_back(Metric::name());
                              selections.push_back(salient);
                            });
  BOOST_TEST(seen == (std::vector<std::string>{gift::gift_sw::name(), gift::quik::name(), gift::wanda_columns::name()}));
  const auto quik_direct = gm::select_model_salient<gift::quik>(model, stats, {4, gift::alpha_search::max_abs(), 0}, {2, 0});
  for (std::size_t l = 0; l < quik_direct.size(); ++l) BOOST_TEST(selections[1][l].indices() == quik_direct[l].indices());
  // Different metrics choose differently somewhere (else the sweep would measure nothing).
  bool differ = false;
  for (std::size_t l = 0; l < quik_direct.size(); ++l) differ = differ || selections[0][l].indices() != selections[2][l].indices();
  BOOST_TEST(differ);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 6);
  BOOST_CHECK_THROW((void)gm::collect_activation_stats(model, {}), gift::error);
  const auto stats = gm::collect_activation_stats(model, batches(config.vocab));
  BOOST_CHECK_THROW((void)gm::select_model_salient<gift::quik>(model, stats, {}, {0, 0.0}), gift::error);
  std::vector<gift::activation_stats> short_stats(stats.begin(), stats.begin() + 3);
  BOOST_CHECK_THROW((void)gm::select_model_salient<gift::quik>(model, short_stats, {}, {2, 0}), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()  // model_metric_sweep
