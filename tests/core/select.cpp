// Salient-column selection: hand cases, ties, fractions, a brute-force reference.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/select.hpp>

#include <algorithm>
#include <numeric>

// Every case of this file belongs to the CTest test core_saliency (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_saliency)

using gift_test::message_has;

BOOST_AUTO_TEST_CASE(select_hand_computed) {
  gift::vector<double> scores(5);
  scores << 1.0, 5.0, 3.0, 5.0, 2.0;
  const gift::salient_columns two = gift::select_salient(scores, 2);
  BOOST_TEST(two.indices() == (std::vector<std::int64_t>{1, 3}));
  BOOST_TEST(two.mask() == (std::vector<bool>{false, true, false, true, false}));
  BOOST_TEST(two.size() == 2u);
  BOOST_TEST(two.columns() == 5u);
  BOOST_TEST(gift::select_salient(scores, 3).indices() == (std::vector<std::int64_t>{1, 2, 3}));
  BOOST_TEST(gift::select_salient(scores, 5).indices() == (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  // Ties go to the lower index.
  gift::vector<double> flat = gift::vector<double>::Constant(6, 0.5);
  BOOST_TEST(gift::select_salient(flat, 2).indices() == (std::vector<std::int64_t>{0, 1}));
  gift::vector<float> tie(4);
  tie << 2.0f, 7.0f, 2.0f, 2.0f;
  BOOST_TEST(gift::select_salient(tie, 2).indices() == (std::vector<std::int64_t>{0, 1}));
}

BOOST_AUTO_TEST_CASE(select_fraction) {
  gift::vector<double> scores = gift_test::normal(4096, 1, 20).cast<double>();
  const gift::salient_columns by_fraction = gift::select_salient(scores, gift::fraction{0.03});
  BOOST_TEST(by_fraction.size() == 123u);  // round(0.03 · 4096) = round(122.88)
  BOOST_TEST((by_fraction == gift::select_salient(scores, 123)));
  BOOST_TEST(gift::select_salient(scores, gift::fraction{1e-6}).size() == 1u);  // at least one
  BOOST_TEST(gift::select_salient(scores, gift::fraction{1.0}).size() == 4096u);
}

BOOST_AUTO_TEST_CASE(select_matches_full_sort_with_many_ties) {
  // Scores rounded to a few levels, so ties are everywhere.
  gift::vector<double> scores = (gift_test::normal(1000, 1, 21).cast<double>() * 3.0).array().round();
  std::vector<std::int64_t> order(1000);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return scores(a) > scores(b); });
  for (std::int64_t k : {1, 7, 64, 500, 999, 1000}) {
    std::vector<std::int64_t> expected(order.begin(), order.begin() + k);
    std::sort(expected.begin(), expected.end());
    const auto found = gift::select_salient(scores, k);
    BOOST_TEST(found.indices() == expected, "k = " << k);
    BOOST_TEST(std::count(found.mask().begin(), found.mask().end(), true) == k);
    BOOST_TEST(std::is_sorted(found.indices().begin(), found.indices().end()));
  }
}

BOOST_AUTO_TEST_CASE(select_rejects_bad_input) {
  gift::vector<double> scores = gift::vector<double>::LinSpaced(10, 0.0, 1.0);
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(scores, 0), gift::error, message_has("'k' must be at least 1", "is 0"));
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(scores, 11), gift::error, message_has("'k' (11)", "(10)"));
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(scores, -3), gift::error, message_has("is -3"));
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(scores, gift::fraction{0.0}), gift::error, message_has("(0, 1]"));
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(scores, gift::fraction{1.5}), gift::error, message_has("(0, 1]"));
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(gift::vector<double>(0), 1), gift::error, message_has("empty"));
  scores(4) = std::nan("");
  BOOST_CHECK_EXCEPTION((void)gift::select_salient(scores, 2), gift::error, message_has("score 4 is nan"));
}

BOOST_AUTO_TEST_SUITE_END()  // core_saliency
