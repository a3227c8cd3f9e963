// gift::pipeline::train, the one training loop: GIFT-SW on the tiny synthetic model learns (the
// loss of a repeated batch falls) while the frozen columns stay bit-identical; an invocation
// stopped after step k and continued from k gives the uninterrupted run's weights bit for bit; the
// callbacks see every step and the checkpoints; divergence stops the run naming the step; bad
// options are refused. Built twice: `pipeline_trainer` (Eigen, and data-parallel shards through a
// single-process communicator) and `pipeline_trainer_thrust` (GIFT_TEST_THRUST: the Thrust OMP and
// CPP systems, which must follow the Eigen run's losses).
#include <boost/test/unit_test.hpp>

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/optim/adam.hpp>
#include <gift/optim/schedule.hpp>
#include <gift/pipeline/trainer.hpp>
#if defined(GIFT_TEST_THRUST)
#include <gift/backend/thrust.hpp>
#endif

#include <boost/mpl/list.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline_fixtures.hpp"

// Every case of this file belongs to the CTest test pipeline_trainer(_thrust) (tests/CMakeLists.txt: gift_add_test).
#if defined(GIFT_TEST_THRUST)
BOOST_AUTO_TEST_SUITE(pipeline_trainer_thrust)
using train_backends = boost::mpl::list<gift::backend::thrust_omp, gift::backend::thrust_cpp>;
#else
BOOST_AUTO_TEST_SUITE(pipeline_trainer)
using train_backends = boost::mpl::list<gift::backend::eigen>;
#endif

namespace gp = gift::pipeline;
namespace gm = gift::model;
using pipeline_test::make_gift_sw;
using pipeline_test::tiny_model;
using pipeline_test::tokens;

namespace {

gp::train_options options_for(std::int64_t steps, double lr) {
  gp::train_options options;
  options.steps = steps;
  options.schedule = gift::optim::constant_schedule(lr);
  options.clip = 1.0;
  return options;
}

// Every layer's effective weight, in layer order.
template <class Backend>
std::vector<gift::matrix<float>> weights_of(const gm::llama_model<float, Backend>& model) {
  std::vector<gift::matrix<float>> out;
  for (int b = 0; b < model.config().layers; ++b)
    for (gm::projection p : gm::all_projections) out.push_back(model.linear(b, p).effective_weight());
  return out;
}

// The training run every backend repeats: 6 steps of GIFT-SW at lr 1e-2 on two alternating batches.
template <class Backend>
gp::train_result reference_run(gm::llama_model<float, Backend>& model) {
  auto parameters = make_gift_sw(model);
  gift::optim::adamw<float, Backend> optimizer(parameters, 0.0);
  const auto batches = [&](std::int64_t step) { return tokens(2, 8, model.config().vocab, static_cast<int>(step % 2)); };
  return gp::train(model, parameters, optimizer, batches, options_for(6, 1e-2));
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(gift_sw_learns_and_frozen_columns_stay, Backend, train_backends) {
  auto model = tiny_model<Backend>(31);
  const auto before = weights_of(model);
  auto parameters = make_gift_sw(model);
  gift::optim::adamw<float, Backend> optimizer(parameters, 0.0);
  const auto batch = tokens(2, 8, model.config().vocab);
  const auto result = gp::train(model, parameters, optimizer, [&](std::int64_t) { return batch; },
                                options_for(30, 1e-2));
  BOOST_REQUIRE_EQUAL(result.losses.size(), 30u);
  BOOST_TEST(result.last_loss() < result.first_loss() - 0.05, "loss " << result.first_loss() << " -> "
                                                                      << result.last_loss());
  const auto after = weights_of(model);
  for (std::size_t l = 0; l < after.size(); ++l) {
    for (Eigen::Index c = 0; c < after[l].cols(); ++c) {
      const bool salient = c == 1 || c == 4;
      const bool same = (after[l].col(c).array() == before[l].col(c).array()).all();
      BOOST_TEST(same != salient, "layer " << l << " column " << c << (salient ? " (salient) did not move" :
                                                                                  " (frozen) changed"));
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(stopped_and_continued_equals_uninterrupted, Backend, train_backends) {
  auto straight = tiny_model<Backend>(32);
  const auto uninterrupted = reference_run(straight);

  auto model = tiny_model<Backend>(32);
  auto parameters = make_gift_sw(model);
  gift::optim::adamw<float, Backend> optimizer(parameters, 0.0);
  const auto batches = [&](std::int64_t step) { return tokens(2, 8, model.config().vocab, static_cast<int>(step % 2)); };
  auto options = options_for(6, 1e-2);
  options.stop_after = 2;
  const auto first = gp::train(model, parameters, optimizer, batches, options);
  BOOST_TEST(first.last_step == 2);
  options.first_step = first.last_step;
  options.stop_after = 0;
  const auto second = gp::train(model, parameters, optimizer, batches, options);
  BOOST_TEST(second.first_step == 2);
  BOOST_TEST(second.last_step == 6);
  std::vector<double> losses = first.losses;
  losses.insert(losses.end(), second.losses.begin(), second.losses.end());
  BOOST_TEST(losses == uninterrupted.losses, boost::test_tools::per_element());
  const auto a = weights_of(straight), b = weights_of(model);
  for (std::size_t l = 0; l < a.size(); ++l) BOOST_TEST((a[l].array() == b[l].array()).all(), "layer " << l);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(callbacks_see_every_step_and_checkpoint, Backend, train_backends) {
  auto model = tiny_model<Backend>(33);
  auto parameters = make_gift_sw(model);
  gift::optim::adamw<float, Backend> optimizer(parameters, 0.0);
  auto options = options_for(7, 1e-3);
  options.schedule = gift::optim::linear_schedule(1e-3, 7, 0.0);
  options.checkpoint_every = 3;
  std::vector<std::int64_t> steps, checkpoints;
  std::vector<double> rates;
  options.on_step = [&](const gp::train_step& s) {
    steps.push_back(s.step);
    rates.push_back(s.learning_rate);
    BOOST_TEST(s.steps == 7);
    BOOST_TEST(std::isfinite(s.loss));
    BOOST_TEST(s.gradient_norm > 0.0);
  };
  options.on_checkpoint = [&](std::int64_t step) { checkpoints.push_back(step); };
  const auto result = gp::train(model, parameters, optimizer,
                                [&](std::int64_t) { return tokens(1, 6, model.config().vocab); }, options);
  BOOST_TEST(steps == (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}), boost::test_tools::per_element());
  BOOST_TEST(checkpoints == (std::vector<std::int64_t>{3, 6}), boost::test_tools::per_element());  // not after the last
  for (std::size_t s = 0; s < rates.size(); ++s) BOOST_TEST(rates[s] == options.schedule(s));
  BOOST_TEST(result.losses.size() == 7u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(divergence_stops_the_run_naming_the_step, Backend, train_backends) {
  auto model = tiny_model<Backend>(34);
  auto parameters = make_gift_sw(model);
  gift::optim::adamw<float, Backend> optimizer(parameters, 0.0);
  auto options = options_for(5, 1e30);  // Adam moves each weight by about lr: the weights overflow
  options.clip = 0.0;
  options.label = "my run";
  try {
    (void)gp::train(model, parameters, optimizer, [&](std::int64_t) { return tokens(1, 6, model.config().vocab); },
                    options);
    BOOST_FAIL("a learning rate of 1e30 trained without an error");
  } catch (const gift::error& e) {
    const std::string what = e.what();
    BOOST_TEST_MESSAGE(what);
    BOOST_TEST(what.find("my run: step ") == 0u, what);
    BOOST_TEST((what.find("non-finite") != std::string::npos || what.find("not finite") != std::string::npos ||
                what.find("diverged") != std::string::npos),
               what);
    BOOST_TEST(what.find("learning rate") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_options_are_refused_by_name, Backend, train_backends) {
  auto model = tiny_model<Backend>(35);
  auto parameters = make_gift_sw(model);
  gift::optim::adamw<float, Backend> optimizer(parameters, 0.0);
  const gp::batch_source batches = [&](std::int64_t) { return tokens(1, 6, model.config().vocab); };
  const auto says = [](const std::string& words) {
    return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
  };
  auto options = options_for(0, 1e-3);
  BOOST_CHECK_EXCEPTION((void)gp::train(model, parameters, optimizer, batches, options), gift::error,
                        says("train_options::steps must be at least 1, but is 0"));
  options = options_for(4, 1e-3);
  options.first_step = 5;
  BOOST_CHECK_EXCEPTION((void)gp::train(model, parameters, optimizer, batches, options), gift::error,
                        says("first_step must be in [0, steps = 4], but is 5"));
  options = options_for(4, 1e-3);
  options.schedule = nullptr;
  BOOST_CHECK_EXCEPTION((void)gp::train(model, parameters, optimizer, batches, options), gift::error,
                        says("train_options::schedule is empty"));
  options = options_for(4, 1e-3);
  options.clip = -1;
  BOOST_CHECK_EXCEPTION((void)gp::train(model, parameters, optimizer, batches, options), gift::error,
                        says("train_options::clip must be finite and >= 0"));
  gift::distributed::single_process one;
  const gift::distributed::shard_plan two(2, 1);
#if defined(GIFT_TEST_THRUST)
  BOOST_CHECK_EXCEPTION((void)gp::train(model, parameters, optimizer, batches, options_for(2, 1e-3), &one, &two),
                        gift::error, says("data-parallel training (several shards or ranks) runs on the Eigen"));
#else
  BOOST_CHECK_EXCEPTION((void)gp::train(model, parameters, optimizer, batches, options_for(2, 1e-3), &one, nullptr),
                        gift::error, says("give both a communicator and a shard plan"));
#endif
}

#if defined(GIFT_TEST_THRUST)
BOOST_AUTO_TEST_CASE_TEMPLATE(thrust_follows_the_eigen_run, Backend, train_backends) {
  auto eigen_model = tiny_model<gift::backend::eigen>(36);
  const auto on_eigen = reference_run(eigen_model);
  auto model = tiny_model<Backend>(36);
  const auto here = reference_run(model);
  BOOST_REQUIRE_EQUAL(here.losses.size(), on_eigen.losses.size());
  for (std::size_t s = 0; s < here.losses.size(); ++s)
    BOOST_TEST(std::abs(here.losses[s] - on_eigen.losses[s]) <= 1e-4 * on_eigen.losses[s], "step " << s + 1);
}
#else
BOOST_AUTO_TEST_CASE(data_parallel_shards_follow_the_single_shard_run) {
  // Two shards of a 4-sequence batch in one process: the gradient is the token-weighted sum of the
  // shards' gradients, so the run follows the one-shard run to float rounding.
  gift::distributed::single_process one;
  const gift::distributed::shard_plan two(2, 1);
  std::vector<double> runs[2];
  for (int sharded = 0; sharded < 2; ++sharded) {
    auto model = tiny_model<gift::backend::eigen>(37);
    auto parameters = make_gift_sw(model);
    gift::optim::adamw<float> optimizer(parameters, 0.0);
    const auto batches = [&](std::int64_t step) { return tokens(4, 6, model.config().vocab, static_cast<int>(step)); };
    const auto result = sharded != 0 ? gp::train(model, parameters, optimizer, batches, options_for(4, 1e-2), &one, &two)
                                     : gp::train(model, parameters, optimizer, batches, options_for(4, 1e-2));
    BOOST_TEST((sharded == 0 || result.combined_values > 0u));
    runs[sharded] = result.losses;
  }
  for (std::size_t s = 0; s < runs[0].size(); ++s)
    BOOST_TEST(std::abs(runs[1][s] - runs[0][s]) <= 1e-5 * runs[0][s], "step " << s + 1);
}
#endif

BOOST_AUTO_TEST_SUITE_END()
