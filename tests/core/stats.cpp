// Activation statistics and the Gram accumulator: hand-computed values, agreement with
// column_norms, merging, persistence.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/column_norms.hpp>
#include <gift/gram.hpp>
#include <gift/stats.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

// Every case of this file belongs to the CTest test core_saliency (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_saliency)

using gift_test::message_has;

BOOST_AUTO_TEST_CASE(stats_hand_computed) {
  gift::matrix_f x(2, 3);
  x << 1.0f, -2.0f, 0.0f, 3.0f, 0.5f, -0.25f;
  gift::activation_stats stats(3, {3});
  stats.update(x);
  BOOST_TEST(stats.token_count() == 2u);
  BOOST_TEST(stats.max_abs()(0) == 3.0);
  BOOST_TEST(stats.max_abs()(1) == 2.0);
  BOOST_TEST(stats.max_abs()(2) == 0.25);
  BOOST_TEST(stats.sum_squares()(0) == 10.0);
  BOOST_TEST(stats.sum_squares()(1) == 4.25);
  BOOST_TEST(stats.sum_abs()(1) == 2.5);
  BOOST_TEST(stats.sum_powers(3)(0) == 28.0);
  BOOST_TEST(stats.norm<gift::l2>()(0) == std::sqrt(10.0));
  BOOST_TEST(stats.norm<gift::lp<3>>()(1) == std::pow(8.125, 1.0 / 3.0));
  BOOST_TEST(stats.norm<gift::linf>()(2) == 0.25);
  BOOST_TEST(stats.norm<gift::lp<1>>()(0) == 4.0);
}

using stat_norms = std::tuple<gift::l1, gift::l2, gift::linf, gift::lp<3>, gift::lp<2>>;
BOOST_AUTO_TEST_CASE_TEMPLATE(stats_of_one_batch_match_column_norms_bitwise, Norm, stat_norms) {
  const gift::matrix_f x = gift_test::heavy_tailed(700, 37, 1);  // 3 row blocks, last partial
  gift::activation_stats stats(37, {3});
  stats.update(x);
  const gift::vector_f expected = gift::column_norms<Norm>(x);
  const gift::vector_f found = stats.norm<Norm>().template cast<float>();
  BOOST_TEST(gift_test::bit_identical(found, expected));
}

BOOST_AUTO_TEST_CASE(stats_merge_equals_one_pass) {
  const gift::matrix_f x = gift_test::heavy_tailed(900, 20, 2);
  gift::activation_stats all(20, {4}), first(20, {4}), second(20, {4}), streamed(20, {4});
  all.update(x);
  first.update(x.topRows(333));
  second.update(x.bottomRows(567));
  streamed.update(x.topRows(333));
  streamed.update(x.bottomRows(567));
  first.merge(second);
  BOOST_TEST(first.token_count() == 900u);
  BOOST_TEST((first.max_abs() == all.max_abs()));  // max is exact in any order
  BOOST_TEST((first.max_abs() == streamed.max_abs()));
  for (Eigen::Index j = 0; j < 20; ++j) {
    BOOST_TEST(first.sum_squares()(j) == all.sum_squares()(j), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(first.sum_abs()(j) == all.sum_abs()(j), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(first.sum_powers(4)(j) == all.sum_powers(4)(j), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(streamed.sum_squares()(j) == first.sum_squares()(j));
  }
  gift::activation_stats other_powers(20, {3});
  BOOST_CHECK_EXCEPTION(first.merge(other_powers), gift::error, message_has("same extra powers"));
  gift::activation_stats narrower(19);
  BOOST_CHECK_EXCEPTION(first.merge(narrower), gift::error, message_has("19 columns"));
}

BOOST_AUTO_TEST_CASE(stats_reject_bad_batches_and_stay_unchanged) {
  gift::activation_stats stats(4);
  stats.update(gift_test::normal(10, 4, 3));
  const gift::vector<double> before = stats.sum_squares();
  gift::matrix_f bad = gift_test::normal(10, 4, 4);
  bad(7, 2) = std::nanf("");
  BOOST_CHECK_EXCEPTION(stats.update(bad), gift::error, message_has("'x' must be finite", "(7, 2) is nan"));
  BOOST_CHECK_EXCEPTION(stats.update(gift_test::normal(3, 5, 5)), gift::error, message_has("has 5 columns", "4 input columns"));
  BOOST_TEST((stats.sum_squares() == before));
  BOOST_TEST(stats.token_count() == 10u);
  BOOST_CHECK_EXCEPTION((void)stats.norm<gift::lp<3>>(), gift::error, message_has("activation_stats(columns, {3})"));
  BOOST_CHECK_THROW(gift::activation_stats(0), gift::error);
  BOOST_CHECK_THROW(gift::activation_stats(3, {2}), gift::error);
  BOOST_CHECK_THROW(gift::activation_stats(3, {3, 3}), gift::error);
}

BOOST_AUTO_TEST_CASE(stats_save_load_round_trip) {
  const auto folder = std::filesystem::temp_directory_path() / ("gift_stats_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  const auto path = folder / "layer0.stats";
  gift::activation_stats stats(33, {3, 5});
  stats.update(gift_test::heavy_tailed(300, 33, 6));
  stats.save(path);
  const gift::activation_stats loaded = gift::activation_stats::load(path);
  BOOST_TEST(loaded.columns() == 33u);
  BOOST_TEST(loaded.token_count() == 300u);
  BOOST_TEST(loaded.extra_powers() == stats.extra_powers());
  BOOST_TEST((loaded.max_abs() == stats.max_abs()));
  BOOST_TEST((loaded.sum_squares() == stats.sum_squares()));
  BOOST_TEST((loaded.sum_abs() == stats.sum_abs()));
  BOOST_TEST((loaded.sum_powers(5) == stats.sum_powers(5)));
  // Only the final file remains: the temporary was renamed.
  BOOST_TEST(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator{}) == 1);
  // A header that claims more columns than the file holds is refused before anything is
  // allocated (2^31 columns would ask for 48 GiB).
  {
    std::fstream patch(path, std::ios::binary | std::ios::in | std::ios::out);
    const std::uint64_t huge = std::uint64_t{1} << 31;
    patch.seekp(8);
    patch.write(reinterpret_cast<const char*>(&huge), sizeof huge);
  }
  BOOST_CHECK_EXCEPTION((void)gift::activation_stats::load(path), gift::error,
                        message_has("2147483648 columns", "truncated or corrupt"));
  stats.save(path);
  // Truncated and foreign files are refused.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 8);
  BOOST_CHECK_EXCEPTION((void)gift::activation_stats::load(path), gift::error, message_has("truncated"));
  {
    std::ofstream junk(path, std::ios::binary | std::ios::trunc);
    junk << "not a statistics file at all";
  }
  BOOST_CHECK_EXCEPTION((void)gift::activation_stats::load(path), gift::error, message_has("bad magic"));
  BOOST_CHECK_EXCEPTION((void)gift::activation_stats::load(folder / "missing"), gift::error, message_has("cannot open"));
  BOOST_CHECK_EXCEPTION(stats.save(folder / "no_such_dir" / "x.stats"), gift::error, message_has("no_such_dir", "does not exist"));
  std::filesystem::remove_all(folder);
}

BOOST_AUTO_TEST_CASE(gram_matches_brute_force_and_merges) {
  const gift::matrix_f x = gift_test::normal(150, 12, 7);
  gift::gram_accumulator all(12), a(12), b(12);
  all.update(x);
  a.update(x.topRows(60));
  b.update(x.bottomRows(90));
  a.merge(b);
  const Eigen::MatrixXd xd = x.cast<double>();
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(12, 12);
  for (Eigen::Index t = 0; t < 150; ++t)
    for (Eigen::Index i = 0; i < 12; ++i)
      for (Eigen::Index j = 0; j < 12; ++j) expected(i, j) += xd(t, i) * xd(t, j);
  BOOST_TEST((all.gram() - expected).cwiseAbs().maxCoeff() <= 1e-12 * expected.cwiseAbs().maxCoeff());
  BOOST_TEST((a.gram() - expected).cwiseAbs().maxCoeff() <= 1e-12 * expected.cwiseAbs().maxCoeff());
  BOOST_TEST((all.gram() == all.gram().transpose()));
  BOOST_TEST(a.token_count() == 150u);
  gift::matrix_f bad = x;
  bad(3, 4) = std::numeric_limits<float>::infinity();
  BOOST_CHECK_EXCEPTION(all.update(bad), gift::error, message_has("gram_accumulator", "(3, 4) is inf"));
  BOOST_CHECK_THROW(all.update(gift_test::normal(5, 11, 8)), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()  // core_saliency
