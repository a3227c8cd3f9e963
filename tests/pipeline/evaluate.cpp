// gift::pipeline::evaluate: per-sequence losses that are each sequence's own (a one-row forward
// pass gives the same bits), a total that is the batch-by-batch sum of llama_model::evaluate bit
// for bit, the same per-sequence losses and total when the rows are spread over shards, and clear
// errors. Built twice: `pipeline_evaluate` (Eigen) and `pipeline_evaluate_thrust`
// (GIFT_TEST_THRUST: the Thrust OMP and CPP systems).
#include <boost/test/unit_test.hpp>

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/pipeline/evaluate.hpp>
#if defined(GIFT_TEST_THRUST)
#include <gift/backend/thrust.hpp>
#endif

#include <boost/mpl/list.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline_fixtures.hpp"

// Every case of this file belongs to the CTest test pipeline_evaluate(_thrust) (tests/CMakeLists.txt: gift_add_test).
#if defined(GIFT_TEST_THRUST)
BOOST_AUTO_TEST_SUITE(pipeline_evaluate_thrust)
using evaluate_backends = boost::mpl::list<gift::backend::thrust_omp, gift::backend::thrust_cpp>;
#else
BOOST_AUTO_TEST_SUITE(pipeline_evaluate)
using evaluate_backends = boost::mpl::list<gift::backend::eigen>;
#endif

namespace gp = gift::pipeline;
namespace gm = gift::model;
using pipeline_test::tiny_model;
using pipeline_test::tokens;

BOOST_AUTO_TEST_CASE_TEMPLATE(each_sequence_loss_is_its_own_forward_pass, Backend, evaluate_backends) {
  auto model = tiny_model<Backend>(21);
  const auto set = tokens(5, 9, model.config().vocab);
  const auto result = gp::evaluate(model, set, {.batch = 2, .progress = {}});
  BOOST_REQUIRE_EQUAL(result.sequences.size(), 5u);
  for (Eigen::Index s = 0; s < set.rows(); ++s) {
    // The one-row batch of sequence s, evaluated on its own.
    const gm::loss_sum alone = model.evaluate(gm::token_matrix(set.middleRows(s, 1)));
    const gm::loss_sum kept = result.sequences[static_cast<std::size_t>(s)];
    BOOST_TEST(kept.count == 8);  // 9 tokens predict 8
    BOOST_TEST(alone.count == kept.count);
    // Rows of a batch are independent: the same loss to float rounding of the batched GEMMs.
    BOOST_TEST(std::abs(kept.nll - alone.nll) <= 1e-5 * alone.nll, "sequence " << s << ": " << kept.nll << " vs "
                                                                              << alone.nll);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(total_is_the_batch_sum_bit_for_bit, Backend, evaluate_backends) {
  auto model = tiny_model<Backend>(22);
  const auto set = tokens(7, 6, model.config().vocab, 1);
  std::vector<std::int64_t> seen;
  gp::evaluate_options options;
  options.batch = 3;
  options.progress = [&](std::int64_t done, std::int64_t of, const gm::loss_sum&) {
    BOOST_TEST(of == 7);
    seen.push_back(done);
  };
  const auto result = gp::evaluate(model, set, options);
  gm::loss_sum by_hand;
  for (Eigen::Index first = 0; first < set.rows(); first += 3)
    by_hand += model.evaluate(gm::token_matrix(set.middleRows(first, std::min<Eigen::Index>(3, set.rows() - first))));
  BOOST_TEST(result.total.nll == by_hand.nll);  // exactly: the same batches added in the same order
  BOOST_TEST(result.total.count == 7 * 5);
  BOOST_TEST(result.perplexity() == std::exp(by_hand.nll / 35.0));
  BOOST_TEST(seen == (std::vector<std::int64_t>{3, 6, 7}), boost::test_tools::per_element());
  double summed = 0;
  std::int64_t counted = 0;
  for (const auto& s : result.sequences) {
    summed += s.nll;
    counted += s.count;
  }
  BOOST_TEST(counted == result.total.count);
  BOOST_TEST(std::abs(summed - result.total.nll) <= 1e-12 * result.total.nll);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(shards_give_every_rank_the_whole_result, Backend, evaluate_backends) {
  auto model = tiny_model<Backend>(23);
  const auto set = tokens(7, 5, model.config().vocab, 2);
  gift::distributed::single_process one;
  const auto whole = gp::evaluate(model, set, {.batch = 1, .progress = {}});
  for (std::int64_t shards : {1, 2, 3, 7}) {
    const auto sharded = gp::evaluate(model, set, {.batch = 1, .progress = {}}, one,
                                      gift::distributed::shard_plan(shards, 1));
    BOOST_REQUIRE_EQUAL(sharded.sequences.size(), whole.sequences.size());
    for (std::size_t s = 0; s < whole.sequences.size(); ++s) {
      BOOST_TEST(sharded.sequences[s].nll == whole.sequences[s].nll);  // placed exactly, x + 0 = x
      BOOST_TEST(sharded.sequences[s].count == whole.sequences[s].count);
    }
    // The total: each shard's batch sums, then the shards in order.
    double expected = 0;
    for (std::int64_t k = 0; k < shards; ++k) {
      const auto [begin, end] = gift::distributed::shard_plan::items_of(7, shards, k);
      double shard = 0;
      for (std::int64_t s = begin; s < end; ++s) shard += whole.sequences[static_cast<std::size_t>(s)].nll;
      expected = k == 0 ? shard : expected + shard;
    }
    BOOST_TEST(sharded.total.nll == expected, shards << " shards");
    BOOST_TEST(sharded.total.count == whole.total.count);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_sets_and_options_are_refused_by_name, Backend, evaluate_backends) {
  auto model = tiny_model<Backend>(24);
  const auto says = [](const std::string& words) {
    return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
  };
  BOOST_CHECK_EXCEPTION((void)gp::evaluate(model, tokens(2, 4, 50), {.batch = 0, .progress = {}}), gift::error,
                        says("evaluate_options::batch must be at least 1, but is 0"));
  BOOST_CHECK_EXCEPTION((void)gp::evaluate(model, tokens(2, 1, 50)), gift::error, says("at least 2 tokens"));
  BOOST_CHECK_EXCEPTION((void)gp::evaluate(model, gm::token_matrix(0, 4)), gift::error, says("at least one sequence"));
  gift::distributed::single_process one;
  BOOST_CHECK_EXCEPTION((void)gp::evaluate(model, tokens(2, 4, 50), {}, one, gift::distributed::shard_plan(3, 1)),
                        gift::error, says("cannot fill 3 shard(s)"));
  gm::token_matrix outside = tokens(1, 4, 50);
  outside(0, 2) = 50;  // the vocabulary is [0, 50)
  BOOST_CHECK_THROW((void)gp::evaluate(model, outside), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()
