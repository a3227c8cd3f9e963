// gift::pipeline::compare_paired / compare_replicates: the paired difference of two evaluations and its percentile
// bootstrap interval — exact on a constant shift, the hand-enumerated bounds of a two-sequence
// case, the normal approximation's width on many sequences, the same interval for the same seed,
// and refusals that name what is wrong.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/pipeline/compare.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test pipeline_compare (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(pipeline_compare)

namespace gp = gift::pipeline;
using losses = std::vector<gift::model::loss_sum>;

BOOST_AUTO_TEST_CASE(a_constant_shift_has_a_zero_width_interval) {
  losses a, b;
  for (int i = 0; i < 50; ++i) {
    const std::int64_t count = 10 + i % 7;
    a.push_back({2.0 * static_cast<double>(count) + 0.1 * i, count});
    b.push_back({a.back().nll - 0.25 * static_cast<double>(count), count});  // 0.25 nats/token better
  }
  const auto d = gp::compare_paired(a, b);
  BOOST_TEST(std::abs(d.difference + 0.25) <= 1e-12);
  BOOST_TEST(std::abs(d.low + 0.25) <= 1e-12);
  BOOST_TEST(std::abs(d.high + 0.25) <= 1e-12);
  BOOST_TEST(d.excludes_zero());
  BOOST_TEST(std::abs(d.perplexity_ratio() - std::exp(-0.25)) <= 1e-12);
  BOOST_TEST(d.sequences == 50);
}

BOOST_AUTO_TEST_CASE(two_sequences_match_the_enumerated_bootstrap) {
  // Gaps 1 and 0 over one token each: a resample's difference is 1 (both draws the first), 0.5 or
  // 0 (both the second), with probabilities 1/4, 1/2, 1/4. Over 4000 resamples the 2.5 % and
  // 97.5 % quantiles are 0 and 1 (each extreme has far more than 2.5 % of the mass).
  const losses a{{1.0, 1}, {3.0, 1}}, b{{2.0, 1}, {3.0, 1}};
  const auto d = gp::compare_paired(a, b, {.resamples = 4000, .level = 0.95, .seed = 7});
  BOOST_TEST(d.difference == 0.5);
  BOOST_TEST(d.low == 0.0);
  BOOST_TEST(d.high == 1.0);
  BOOST_TEST(!d.excludes_zero());
}

BOOST_AUTO_TEST_CASE(the_interval_width_follows_the_normal_approximation) {
  // 400 sequences of 20 tokens, gaps with mean 0.05 and a known spread: the 95 % interval of the
  // mean gap per token is about ±1.96 · sd / (20 · √400).
  losses a, b;
  double sum = 0, squares = 0;
  for (int i = 0; i < 400; ++i) {
    const double gap = 1.0 + 3.0 * std::sin(0.7 * i) + 0.5 * std::cos(2.3 * i);  // per sequence, 20 tokens
    a.push_back({40.0, 20});
    b.push_back({40.0 + gap, 20});
    sum += gap;
    squares += gap * gap;
  }
  const double mean = sum / 400, sd = std::sqrt((squares - 400 * mean * mean) / 399);
  const double expected_half = 1.959964 * sd / std::sqrt(400.0) / 20.0;
  const auto d = gp::compare_paired(a, b, {.resamples = 4000, .level = 0.95, .seed = 1});
  BOOST_TEST(std::abs(d.difference - mean / 20.0) <= 1e-12);
  const double half = (d.high - d.low) / 2;
  BOOST_TEST(std::abs(half - expected_half) <= 0.1 * expected_half, "half-width " << half << " vs " << expected_half);
  BOOST_TEST(d.low < d.difference);
  BOOST_TEST(d.difference < d.high);
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_interval) {
  losses a, b;
  for (int i = 0; i < 30; ++i) {
    a.push_back({10.0 + i, 5});
    b.push_back({10.0 + i + std::sin(i), 5});
  }
  const auto first = gp::compare_paired(a, b, {.resamples = 500, .level = 0.9, .seed = 3});
  const auto again = gp::compare_paired(a, b, {.resamples = 500, .level = 0.9, .seed = 3});
  const auto other = gp::compare_paired(a, b, {.resamples = 500, .level = 0.9, .seed = 4});
  BOOST_TEST(first.low == again.low);
  BOOST_TEST(first.high == again.high);
  BOOST_TEST((first.low != other.low || first.high != other.high));
  BOOST_TEST(first.level == 0.9);
}

BOOST_AUTO_TEST_CASE(replicates_average_the_seeds_and_widen_with_their_spread) {
  // Three seeds whose gains are 0.1, 0.2 and 0.3 nats/token on every sequence (no spread between
  // sequences): the difference is the mean, −0.2; a resample of the seeds takes values among the
  // 27 means of three draws, so the interval spans from near −0.3 to near −0.1 and has width.
  std::vector<losses> a(1), b(3);
  for (int i = 0; i < 40; ++i) a[0].push_back({3.0 * 8, 8});
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 40; ++i) b[r].push_back({(3.0 - 0.1 * (r + 1)) * 8, 8});
  const auto d = gp::compare_replicates(a, b);
  BOOST_TEST(std::abs(d.difference + 0.2) <= 1e-12);
  BOOST_TEST(d.replicates == 3);
  BOOST_TEST(d.low >= -0.3 - 1e-12);
  BOOST_TEST(d.low <= -0.2);
  BOOST_TEST(d.high >= -0.2);
  BOOST_TEST(d.high <= -0.1 + 1e-12);
  BOOST_TEST(d.high - d.low > 0.05);
  // One replicate on each side: the same as compare_paired.
  std::vector<losses> one_b(1, b[1]);
  const auto single = gp::compare_replicates(a, one_b);
  const auto paired = gp::compare_paired(a[0], b[1]);
  BOOST_TEST(single.difference == paired.difference);
  BOOST_TEST(single.low == paired.low);
  BOOST_TEST(single.high == paired.high);
  // Identical replicates: the seed draw changes nothing, so the interval is the paired one.
  std::vector<losses> same_a(3, a[0]), same_b(3, b[1]);
  const auto repeated = gp::compare_replicates(same_a, same_b);
  BOOST_TEST(std::abs(repeated.difference - paired.difference) <= 1e-12);
  BOOST_TEST(std::abs(repeated.low - paired.low) <= 1e-12);
  // Unpairable replicate counts, and a replicate over another evaluation set, are refused by name.
  std::vector<losses> two(2, a[0]);
  BOOST_CHECK_EXCEPTION((void)gp::compare_replicates(two, b), gift::error, [](const gift::error& e) {
    return std::string(e.what()).find("same number of replicates") != std::string::npos;
  });
  std::vector<losses> short_b = b;
  short_b[2].pop_back();
  BOOST_CHECK_EXCEPTION((void)gp::compare_replicates(a, short_b), gift::error, [](const gift::error& e) {
    return std::string(e.what()).find("replicate 2") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_refused_by_name) {
  const auto says = [](const std::string& words) {
    return [words](const gift::error& e) { return std::string(e.what()).find(words) != std::string::npos; };
  };
  const losses one{{1.0, 4}}, two{{1.0, 4}, {2.0, 4}}, other_count{{1.0, 5}};
  BOOST_CHECK_EXCEPTION((void)gp::compare_paired(one, two), gift::error, says("but got 1 and 2"));
  BOOST_CHECK_EXCEPTION((void)gp::compare_paired(losses{}, losses{}), gift::error, says("but got 0 and 0"));
  BOOST_CHECK_EXCEPTION((void)gp::compare_paired(one, other_count), gift::error,
                        says("sequence 0 predicts 4 token(s) in a and 5 in b"));
  BOOST_CHECK_EXCEPTION((void)gp::compare_paired(one, one, {.resamples = 10, .level = 0.95, .seed = 0}), gift::error,
                        says("resamples must be at least 100, but is 10"));
  BOOST_CHECK_EXCEPTION((void)gp::compare_paired(one, one, {.resamples = 100, .level = 1.0, .seed = 0}), gift::error,
                        says("level must be in (0, 1), but is 1"));
}

BOOST_AUTO_TEST_SUITE_END()
