// gift::distributed::merge_shards: the statistics of a calibration's shards — activation
// statistics (with an extra power), Gram matrices, Fisher diagonals — merged over the ranks are
// bit for bit what one process gets by merging every shard's statistics in shard order; and the
// accumulators rebuilt from their sums refuse bad sums.
#include <boost/test/unit_test.hpp>

#include <gift/distributed/merge_shards.hpp>

#include "fixtures.hpp"
#include "test_world.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

// Every case of this file belongs to the CTest test distributed_collectives (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(distributed_collectives)

namespace gd = gift::distributed;

namespace {
constexpr Eigen::Index width = 37;

/// Shard s's activations: two batches of heavy-tailed tokens (their own noise streams).
std::vector<gift::matrix_f> batches_of(std::int64_t shard) {
  const auto layer = static_cast<std::uint32_t>(100 + 2 * shard);
  return {gift_test::heavy_tailed(29, width, layer), gift_test::heavy_tailed(17 + shard, width, layer + 1)};
}

gift::activation_stats stats_of(std::int64_t shard) {
  gift::activation_stats stats(width, {3});
  for (const auto& x : batches_of(shard)) stats.update(x);
  return stats;
}

gift::gram_accumulator gram_of(std::int64_t shard) {
  gift::gram_accumulator gram(width);
  for (const auto& x : batches_of(shard)) gram.update(x);
  return gram;
}

gift::fisher_diagonal fisher_of(std::int64_t shard) {
  gift::fisher_diagonal fisher(5, width);
  for (std::uint32_t k = 0; k < 3; ++k) fisher.add(gift_test::normal(5, width, 300 + 3 * static_cast<std::uint32_t>(shard) + k));
  return fisher;
}

template <class A>
bool same(const A& a, const A& b) {
  return gift_test::bit_identical(a, b);
}

/// This rank's shards of `shards`, built by `make`.
template <class Part, class Make>
std::vector<Part> owned(const gd::shard_plan& plan, int rank, Make make) {
  std::vector<Part> parts;
  for (std::int64_t s = plan.first(rank); s < plan.first(rank) + plan.count(rank); ++s) parts.push_back(make(s));
  return parts;
}
}  // namespace

BOOST_AUTO_TEST_CASE(activation_statistics_merge_in_shard_order_on_any_number_of_ranks) {
  auto& world = gift_test::world();
  for (const std::int64_t shards : {std::int64_t{world.size()}, std::int64_t{world.size()} + 3}) {
    const gd::shard_plan plan(shards, world.size());
    gift::activation_stats expected = stats_of(0);
    for (std::int64_t s = 1; s < shards; ++s) expected.merge(stats_of(s));
    const auto parts = owned<gift::activation_stats>(plan, world.rank(), stats_of);
    const gift::activation_stats merged = gd::merge_shards(world, plan, std::span<const gift::activation_stats>(parts));
    BOOST_TEST(merged.token_count() == expected.token_count());
    BOOST_TEST(same(merged.max_abs(), expected.max_abs()));
    BOOST_TEST(same(merged.sum_squares(), expected.sum_squares()));
    BOOST_TEST(same(merged.sum_abs(), expected.sum_abs()));
    BOOST_TEST(same(merged.sum_powers(3), expected.sum_powers(3)));
    BOOST_TEST(merged.extra_powers() == expected.extra_powers());
  }
}

BOOST_AUTO_TEST_CASE(one_shard_is_returned_unchanged) {
  // With one shard in one process nothing is added: the statistics of an unsharded run. (More
  // ranks than one cannot share one shard.)
  if (gift_test::world().size() != 1) {
    BOOST_CHECK_THROW(gd::shard_plan(1, gift_test::world().size()), gift::error);
    return;
  }
  const gd::shard_plan plan(1, 1);
  const std::vector<gift::activation_stats> parts = {stats_of(4)};
  const auto merged = gd::merge_shards(gift_test::world(), plan, std::span<const gift::activation_stats>(parts));
  BOOST_TEST(same(merged.sum_squares(), parts[0].sum_squares()));
  BOOST_TEST(merged.token_count() == parts[0].token_count());
}

BOOST_AUTO_TEST_CASE(gram_matrices_merge_in_shard_order_on_any_number_of_ranks) {
  auto& world = gift_test::world();
  const std::int64_t shards = world.size() + 1;
  const gd::shard_plan plan(shards, world.size());
  gift::gram_accumulator expected = gram_of(0);
  for (std::int64_t s = 1; s < shards; ++s) expected.merge(gram_of(s));
  const auto parts = owned<gift::gram_accumulator>(plan, world.rank(), gram_of);
  const auto merged = gd::merge_shards(world, plan, std::span<const gift::gram_accumulator>(parts));
  BOOST_TEST(same(merged.gram(), expected.gram()));
  BOOST_TEST(merged.token_count() == expected.token_count());
}

BOOST_AUTO_TEST_CASE(fisher_diagonals_merge_in_shard_order_on_any_number_of_ranks) {
  auto& world = gift_test::world();
  const std::int64_t shards = 2 * world.size() + 1;
  const gd::shard_plan plan(shards, world.size());
  gift::fisher_diagonal expected = fisher_of(0);
  for (std::int64_t s = 1; s < shards; ++s) expected.merge(fisher_of(s));
  const auto parts = owned<gift::fisher_diagonal>(plan, world.rank(), fisher_of);
  const auto merged = gd::merge_shards(world, plan, std::span<const gift::fisher_diagonal>(parts));
  BOOST_TEST(same(merged.sum_squares(), expected.sum_squares()));
  BOOST_TEST(merged.sequences() == expected.sequences());
}

BOOST_AUTO_TEST_CASE(accumulators_rebuilt_from_sums_refuse_bad_sums) {
  const gift::vector<double> ok = gift::vector<double>::Ones(4), short_one = gift::vector<double>::Ones(3);
  gift::vector<double> negative = ok;
  negative(2) = -1;
  BOOST_CHECK_EXCEPTION(gift::activation_stats::from_accumulators(4, {}, 10, ok, short_one, ok), gift::error,
                        gift_test::message_has("'sum_squares' must have 4 values", "has 3"));
  BOOST_CHECK_EXCEPTION(gift::activation_stats::from_accumulators(4, {}, 10, ok, ok, negative), gift::error,
                        gift_test::message_has("'sum_abs' holds -1 for column 2"));
  BOOST_CHECK_EXCEPTION(gift::activation_stats::from_accumulators(4, {3}, 10, ok, ok, ok), gift::error,
                        gift_test::message_has("one vector per extra power (1), but holds 0"));
  const auto rebuilt = gift::activation_stats::from_accumulators(4, {3}, 10, ok, 2 * ok, 3 * ok, {4 * ok});
  BOOST_TEST(rebuilt.token_count() == 10u);
  BOOST_TEST(rebuilt.sum_powers(3)(1) == 4.0);
  gift::matrix<double> gram = gift::matrix<double>::Identity(3, 3);
  gram(2, 0) = std::nan("");
  BOOST_CHECK_EXCEPTION(gift::gram_accumulator::from_gram(gram, 1), gift::error,
                        gift_test::message_has("argument 'gram' must be finite", "(2, 0)"));
  BOOST_CHECK_EXCEPTION(gift::gram_accumulator::from_gram(gift::matrix<double>(2, 3), 1), gift::error,
                        gift_test::message_has("must be square"));
  BOOST_CHECK_EXCEPTION(gift::fisher_diagonal::from_sums(-gift::matrix<double>::Ones(2, 2), 1), gift::error,
                        gift_test::message_has("finite and non-negative"));
}

BOOST_AUTO_TEST_SUITE_END()  // distributed_collectives
