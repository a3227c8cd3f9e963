// gift::pipeline::calibrate: the statistics equal the older, independent collection
// (model::collect_activation_stats) bit for bit on Eigen and to float rounding on Thrust; the
// Gram matrix is the double-precision XᵀX of the inputs the layer saw, recomputed here by brute
// force; shards merge to the unsharded result; q/k/v and gate/up share one set; the folder that
// save_calibration writes is one the readers accept; bad arguments give gift::error. Built twice:
// `pipeline_calibrate` (Eigen) and `pipeline_calibrate_thrust` (GIFT_TEST_THRUST: the Thrust OMP
// and CPP systems).
#include <boost/test/unit_test.hpp>

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/io/calibration_set.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/pipeline/calibrate.hpp>
#if defined(GIFT_TEST_THRUST)
#include <gift/backend/thrust.hpp>
#endif

#include <boost/mpl/list.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline_fixtures.hpp"

// Every case of this file belongs to the CTest test pipeline_calibrate(_thrust) (tests/CMakeLists.txt: gift_add_test).
#if defined(GIFT_TEST_THRUST)
BOOST_AUTO_TEST_SUITE(pipeline_calibrate_thrust)
using calibrate_backends = boost::mpl::list<gift::backend::thrust_omp, gift::backend::thrust_cpp>;
constexpr bool exact_backend = false;
#else
BOOST_AUTO_TEST_SUITE(pipeline_calibrate)
using calibrate_backends = boost::mpl::list<gift::backend::eigen>;
constexpr bool exact_backend = true;
#endif

namespace gp = gift::pipeline;
namespace gm = gift::model;
using pipeline_test::tiny_model;
using pipeline_test::tokens;

namespace {

// |a - b| within `relative` of |b| (or of 1e-30), element by element.
bool near(const gift::vector<double>& a, const gift::vector<double>& b, double relative) {
  if (a.size() != b.size()) return false;
  for (Eigen::Index i = 0; i < a.size(); ++i)
    if (!(std::abs(a(i) - b(i)) <= relative * std::max(std::abs(b(i)), 1e-30))) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(statistics_equal_the_independent_collection, Backend, calibrate_backends) {
  auto model = tiny_model<Backend>(31);
  auto reference_model = tiny_model<gift::backend::eigen>(31);
  const auto set = tokens(6, 9, model.config().vocab, 2);
  // The reference: the hook-and-logits collection of model/metric_sweep.hpp, batch by batch as
  // calibrate runs them (two rows per pass).
  std::vector<gm::token_matrix> batches;
  for (Eigen::Index first = 0; first < set.rows(); first += 2) batches.emplace_back(set.middleRows(first, 2));
  const auto reference = gm::collect_activation_stats(reference_model, batches);
  const gp::calibration calibration = gp::calibrate(model, set, {.batch = 2, .gram = false, .progress = {}});
  BOOST_TEST(calibration.tokens == 6 * 9);
  BOOST_TEST(!calibration.has_gram());
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : gm::all_projections) {
      const auto& got = calibration.stats(b, p);
      const auto& want = reference[static_cast<std::size_t>(gm::layer_id(b, p))];
      BOOST_TEST(got.token_count() == want.token_count());
      if (exact_backend) {
        BOOST_TEST((got.max_abs().array() == want.max_abs().array()).all(), "block " << b);
        BOOST_TEST((got.sum_squares().array() == want.sum_squares().array()).all(), "block " << b);
        BOOST_TEST((got.sum_abs().array() == want.sum_abs().array()).all(), "block " << b);
      } else {
        BOOST_TEST(near(got.max_abs(), want.max_abs(), 1e-5), "block " << b);
        BOOST_TEST(near(got.sum_squares(), want.sum_squares(), 1e-5), "block " << b);
        BOOST_TEST(near(got.sum_abs(), want.sum_abs(), 1e-5), "block " << b);
      }
    }
  // The calibration loss is the model's own loss on the set.
  const gm::loss_sum direct = reference_model.evaluate(set);
  BOOST_TEST(calibration.loss.count == direct.count);
  BOOST_TEST(std::abs(calibration.loss.nll - direct.nll) <= 1e-5 * direct.nll);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(inputs_read_together_share_one_set, Backend, calibrate_backends) {
  auto model = tiny_model<Backend>(32);
  const auto calibration = gp::calibrate(model, tokens(2, 7, model.config().vocab), {.batch = 4, .gram = true, .progress = {}});
  for (int b = 0; b < model.config().layers; ++b) {
    BOOST_TEST(&calibration.stats(b, gm::projection::k) == &calibration.stats(b, gm::projection::q));
    BOOST_TEST(&calibration.stats(b, gm::projection::v) == &calibration.stats(b, gm::projection::q));
    BOOST_TEST(&calibration.stats(b, gm::projection::up) == &calibration.stats(b, gm::projection::gate));
    BOOST_TEST(&calibration.gram(b, gm::projection::v) == &calibration.gram(b, gm::projection::q));
    BOOST_TEST(&calibration.stats(b, gm::projection::o) != &calibration.stats(b, gm::projection::q));
    BOOST_TEST(&calibration.stats(b, gm::projection::down) != &calibration.stats(b, gm::projection::gate));
  }
  const auto by_layer = calibration.stats_by_layer();
  BOOST_REQUIRE_EQUAL(by_layer.size(), static_cast<std::size_t>(model.config().layers * gm::projections_per_block));
  BOOST_TEST((by_layer[1].sum_squares().array() == by_layer[0].sum_squares().array()).all());  // k equals q
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gram_is_the_brute_force_product_of_the_inputs, Backend, calibrate_backends) {
  auto model = tiny_model<Backend>(33);
  const auto set = tokens(5, 8, model.config().vocab, 4);
  const auto calibration = gp::calibrate(model, set, {.batch = 2, .gram = true, .progress = {}});
  // The inputs of block 1's down projection and of its gate/up group, captured on an Eigen copy.
  auto eigen_model = tiny_model<gift::backend::eigen>(33);
  std::vector<gift::matrix<float>> down_inputs, gate_inputs;
  eigen_model.set_calibration_hook([&](int block, gm::projection p, const gift::matrix<float>& x) {
    if (block == 1 && p == gm::projection::down) down_inputs.push_back(x);
    if (block == 1 && p == gm::projection::gate) gate_inputs.push_back(x);
  });
  (void)eigen_model.logits(set);
  eigen_model.set_calibration_hook({});
  const auto brute_force = [](const std::vector<gift::matrix<float>>& inputs) {
    const Eigen::Index n = inputs.front().cols();
    gift::matrix<double> g = gift::matrix<double>::Zero(n, n);
    for (const auto& x : inputs)
      for (Eigen::Index t = 0; t < x.rows(); ++t)
        for (Eigen::Index i = 0; i < n; ++i)
          for (Eigen::Index j = 0; j < n; ++j) g(i, j) += static_cast<double>(x(t, i)) * static_cast<double>(x(t, j));
    return g;
  };
  // Inputs computed in float on another backend differ by float rounding: 1e-5 there.
  const double tolerance = exact_backend ? 1e-12 : 1e-5;
  for (const auto& [p, inputs] : {std::pair{gm::projection::down, &down_inputs}, std::pair{gm::projection::up, &gate_inputs}}) {
    BOOST_REQUIRE(!inputs->empty());
    const gift::matrix<double> want = brute_force(*inputs), got = calibration.gram(1, p).gram();
    BOOST_REQUIRE_EQUAL(got.rows(), want.rows());
    const double scale = want.cwiseAbs().maxCoeff();
    BOOST_TEST((got - want).cwiseAbs().maxCoeff() <= tolerance * scale, gm::short_name(p));
    BOOST_TEST(calibration.gram(1, p).token_count() == static_cast<std::uint64_t>(set.size()));
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(shards_merge_to_the_unsharded_result, Backend, calibrate_backends) {
  auto model = tiny_model<Backend>(34);
  const auto set = tokens(7, 6, model.config().vocab, 5);
  const auto whole = gp::calibrate(model, set, {.batch = 3, .gram = true, .progress = {}});
  gift::distributed::single_process one;
  std::vector<std::int64_t> progress;
  gp::calibrate_options options{.batch = 3, .gram = true, .progress = {}};
  options.progress = [&](std::int64_t done, std::int64_t of, const gm::loss_sum&) {
    BOOST_TEST(of == 7);
    progress.push_back(done);
  };
  const auto sharded = gp::calibrate(model, set, options, one, gift::distributed::shard_plan(3, 1));
  // Shards of 2, 2 and 3 rows (shard_plan::items_of gives the remainder to the last), each one pass.
  BOOST_TEST(progress == (std::vector<std::int64_t>{2, 4, 7}), boost::test_tools::per_element());
  BOOST_TEST(sharded.tokens == whole.tokens);
  BOOST_TEST(sharded.loss.count == whole.loss.count);
  BOOST_TEST(std::abs(sharded.loss.nll - whole.loss.nll) <= 1e-5 * whole.loss.nll);
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : {gm::projection::q, gm::projection::o, gm::projection::gate, gm::projection::down}) {
      const auto &a = sharded.stats(b, p), &w = whole.stats(b, p);
      BOOST_TEST(a.token_count() == w.token_count());
      BOOST_TEST(near(a.max_abs(), w.max_abs(), 1e-6));  // a max of maxima: rounding of the batched forward only
      BOOST_TEST(near(a.sum_squares(), w.sum_squares(), 1e-5));
      const gift::matrix<double> ga = sharded.gram(b, p).gram(), gw = whole.gram(b, p).gram();
      BOOST_TEST((ga - gw).cwiseAbs().maxCoeff() <= 1e-5 * gw.cwiseAbs().maxCoeff());
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(save_calibration_writes_a_folder_the_readers_accept, Backend, calibrate_backends) {
  auto model = tiny_model<Backend>(35);
  const auto calibration = gp::calibrate(model, tokens(3, 5, model.config().vocab), {.batch = 4, .gram = true, .progress = {}});
  const auto folder = std::filesystem::temp_directory_path() / ("gift_pipeline_calibrate_" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  gp::save_calibration(calibration, folder);
  const auto set = gift::io::calibration_set::open(folder);
  BOOST_TEST(set.tokens() == 15u);
  BOOST_TEST(set.files().size() == static_cast<std::size_t>(model.config().layers * gm::projections_per_block + 1));
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : gm::all_projections) {
      const auto loaded = set.load_stats(gm::layer_name(b, p));
      BOOST_TEST((loaded.sum_squares().array() == calibration.stats(b, p).sum_squares().array()).all());
      BOOST_TEST((loaded.max_abs().array() == calibration.stats(b, p).max_abs().array()).all());
    }
  BOOST_TEST(std::filesystem::exists(set.verified("gram.safetensors")));
  std::filesystem::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_by_name) {
  auto model = tiny_model<gift::backend::eigen>(36);
  const int vocab = model.config().vocab;
  const auto message = [](auto&& action) {
    try {
      action();
    } catch (const gift::error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  BOOST_TEST(message([&] { (void)gp::calibrate(model, tokens(2, 5, vocab), {.batch = 0, .gram = false, .progress = {}}); })
                 .find("calibrate_options::batch must be at least 1, but is 0") != std::string::npos);
  BOOST_TEST(message([&] { (void)gp::calibrate(model, tokens(2, 1, vocab)); }).find("at least 2 tokens") !=
             std::string::npos);
  gift::distributed::single_process one;
  BOOST_TEST(message([&] { (void)gp::calibrate(model, tokens(2, 5, vocab), {}, one, gift::distributed::shard_plan(3, 1)); }) !=
             "(no error)");
  BOOST_TEST(message([&] { (void)gp::calibrate(model, tokens(2, 5, vocab), {}, one, gift::distributed::shard_plan(2, 2)); })
                 .find("but the communicator has 1") != std::string::npos);
  const auto calibration = gp::calibrate(model, tokens(2, 5, vocab));
  BOOST_TEST(message([&] { (void)calibration.gram(0, gm::projection::q); }).find("calibrate_options::gram = true") !=
             std::string::npos);
  BOOST_TEST(message([&] { (void)calibration.stats(model.config().layers, gm::projection::q); }).find("outside the model") !=
             std::string::npos);
  // An id outside the vocabulary stops the run; the hook is gone afterwards, so the next run works.
  gm::token_matrix bad = tokens(2, 5, vocab);
  bad(1, 2) = vocab + 3;
  BOOST_CHECK_THROW((void)gp::calibrate(model, bad), gift::error);
  BOOST_TEST(gp::calibrate(model, tokens(2, 5, vocab)).tokens == 10);
}

BOOST_AUTO_TEST_SUITE_END()
