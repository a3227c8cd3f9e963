// Quantizers: the α search against an exhaustive double-precision search, the grid property,
// salient columns excluded from the scale, groups, the asymmetric variant.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/quant/asymmetric.hpp>
#include <gift/quant/symmetric.hpp>

#include <cmath>
#include <limits>

// Every case of this file belongs to the CTest test quant_eigen (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(quant_eigen)

using gift_test::message_has;

namespace {
// Weights with outliers in the salient columns (multiples of 20 plus column 7).
struct layer_with_outliers {
  gift::matrix_f w;
  gift::salient_columns salient;
  layer_with_outliers(Eigen::Index rows, Eigen::Index cols, std::uint32_t seed) : w(gift_test::normal(rows, cols, seed)) {
    std::vector<std::int64_t> idx{7};
    for (std::int64_t j = 0; j < cols; j += 20) idx.push_back(j);
    salient = gift::salient_columns::from_indices(idx, static_cast<std::size_t>(cols));
    for (const auto j : salient.indices()) w.col(j) *= 40.0f;
  }
};

// Exhaustive search in double over the same candidates: Δ_c as the library forms it (float),
// the error of every kept weight in double, the first minimum.
std::vector<double> reference_errors(const Eigen::Ref<const gift::vector_f>& row, const std::vector<bool>& salient,
                                     const gift::alpha_search& search, int bits, float& max_kept) {
  const double qmax = (1 << (bits - 1)) - 1, qmin = -(1 << (bits - 1));
  max_kept = 0.0f;
  for (Eigen::Index j = 0; j < row.size(); ++j)
    if (salient.empty() || !salient[static_cast<std::size_t>(j)]) max_kept = std::max(max_kept, std::abs(row(j)));
  std::vector<double> errors;
  for (const float ratio : search.ratios) {
    const float alpha = ratio * max_kept;
    const double delta = static_cast<double>(alpha / static_cast<float>(qmax));
    double error = 0.0;
    for (Eigen::Index j = 0; j < row.size(); ++j) {
      if (!salient.empty() && salient[static_cast<std::size_t>(j)]) continue;
      const double q = std::clamp(std::nearbyint(row(j) / delta), qmin, qmax);
      error += std::pow(std::abs(row(j) - q * delta), search.error_exponent);
    }
    errors.push_back(error);
  }
  return errors;
}
}  // namespace

BOOST_AUTO_TEST_CASE(alpha_search_equals_exhaustive_double_search) {
  const layer_with_outliers layer(48, 300, 30);
  int exact = 0, total = 0;
  for (const auto& search : {gift::alpha_search::paper_grid(), gift::alpha_search::reference_code(),
                             gift::alpha_search::paper_grid(37, 2.4), gift::alpha_search::reference_code(2.4)}) {
    for (const int bits : {2, 3, 4, 8}) {
      for (const bool use_salient : {true, false}) {
        const gift::salient_columns none;
        const auto& salient = use_salient ? layer.salient : none;
        const auto q = gift::search_scales(layer.w, gift::symmetric_options{bits, search, 0}, salient);
        BOOST_TEST(q.codes.size() == 0);
        for (Eigen::Index r = 0; r < layer.w.rows(); ++r) {
          float max_kept = 0;
          const auto errors = reference_errors(layer.w.row(r).transpose(), salient.mask(), search, bits, max_kept);
          const auto best = static_cast<std::size_t>(std::min_element(errors.begin(), errors.end()) - errors.begin());
          std::size_t chosen = errors.size();
          for (std::size_t c = 0; c < search.ratios.size() && chosen == errors.size(); ++c)
            if (search.ratios[c] * max_kept == q.alpha(r, 0)) chosen = c;
          BOOST_REQUIRE(chosen < errors.size());
          BOOST_TEST(q.delta(r, 0) == q.alpha(r, 0) / static_cast<float>((1 << (bits - 1)) - 1));
          // The same candidate, or one whose error is equal to float accumulation accuracy.
          BOOST_TEST(errors[chosen] <= errors[best] * (1 + 2e-6), search.name() << " bits " << bits << " row " << r);
          exact += chosen == best;
          ++total;
        }
      }
    }
  }
  BOOST_TEST(exact >= total * 98 / 100, exact << " of " << total << " rows chose the exact minimum");
}

BOOST_AUTO_TEST_CASE(quantized_values_lie_on_the_grid) {
  const layer_with_outliers layer(40, 333, 31);
  for (const int bits : {2, 3, 4, 5, 8}) {
    const auto q = gift::quantize_symmetric(layer.w, {bits, gift::alpha_search::paper_grid(), 0}, layer.salient);
    const int qmax = (1 << (bits - 1)) - 1, qmin = -(1 << (bits - 1));
    for (Eigen::Index r = 0; r < layer.w.rows(); ++r) {
      const float delta = q.delta(r, 0);
      BOOST_TEST(delta > 0.0f);
      for (Eigen::Index j = 0; j < layer.w.cols(); ++j) {
        const int code = q.codes(r, j);
        BOOST_TEST((code >= qmin && code <= qmax));
        BOOST_TEST(q.dequantized(r, j) == static_cast<float>(code) * delta);
        const float w = layer.w(r, j);
        if (w <= qmax * delta && w >= qmin * delta)  // inside the clip range
          BOOST_TEST(std::abs(w - q.dequantized(r, j)) <= 0.5f * delta * (1 + 1e-5f), "bits " << bits);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(hand_computed_absmax_rounding) {
  gift::matrix_f w(1, 4);
  w << 1.0f, -0.3f, 0.6f, -1.2f;
  // Salient column 3 is excluded: α = 1, Δ = 1/7; its code saturates at −8.
  const auto q = gift::quantize_symmetric(w, {4, gift::alpha_search::max_abs(), 0},
                                          gift::salient_columns::from_indices({3}, 4));
  BOOST_TEST(q.alpha(0, 0) == 1.0f);
  BOOST_TEST(q.delta(0, 0) == 1.0f / 7.0f);
  BOOST_TEST(q.codes(0, 0) == 7);
  BOOST_TEST(q.codes(0, 1) == -2);
  BOOST_TEST(q.codes(0, 2) == 4);
  BOOST_TEST(q.codes(0, 3) == -8);
  gift::matrix_f mixed = q.dequantized;
  gift::restore_salient_columns(mixed, w, gift::salient_columns::from_indices({3}, 4));
  BOOST_TEST(mixed(0, 3) == -1.2f);
  BOOST_TEST(mixed(0, 1) == q.dequantized(0, 1));
  // α search on the row [1, 0.6] at 2 bits (codes −2..1, Δ = α): for every candidate both
  // weights round to code 1, so the squared error is (1 − Δ)² + (0.6 − Δ)², least at Δ = 0.8
  // (0.08; the neighbours 0.79 and 0.81 give 0.0802).
  gift::matrix_f two(1, 2);
  two << 1.0f, 0.6f;
  for (const auto& search : {gift::alpha_search::reference_code(), gift::alpha_search::paper_grid()}) {
    const auto r = gift::search_scales(two, {2, search, 0});
    BOOST_TEST(r.alpha(0, 0) == 0.8f, search.name());
  }
  BOOST_TEST(gift::search_scales(two, {2, gift::alpha_search::max_abs(), 0}).alpha(0, 0) == 1.0f);
}

BOOST_AUTO_TEST_CASE(salient_columns_do_not_influence_the_scale) {
  const layer_with_outliers layer(30, 200, 32);
  gift::matrix_f zeroed = layer.w;
  for (const auto j : layer.salient.indices()) zeroed.col(j).setZero();
  for (const auto& search : {gift::alpha_search::paper_grid(), gift::alpha_search::reference_code(2.4)}) {
    const auto masked = gift::search_scales(layer.w, {4, search, 0}, layer.salient);
    const auto plain = gift::search_scales(zeroed, {4, search, 0});
    BOOST_TEST(gift_test::bit_identical(masked.alpha, plain.alpha));
    const auto unmasked = gift::search_scales(layer.w, {4, search, 0});
    BOOST_TEST((unmasked.alpha.array() > masked.alpha.array()).all());  // outliers would inflate α
  }
  const gift::vector_f deltas = gift::row_deltas(layer.w, 4, gift::alpha_search::paper_grid(), layer.salient);
  BOOST_TEST(gift_test::bit_identical(deltas, gift::vector_f(
      gift::search_scales(zeroed, {4, gift::alpha_search::paper_grid(), 0}).delta.col(0))));
}

BOOST_AUTO_TEST_CASE(groups_quantize_like_separate_rows) {
  const gift::matrix_f w = gift_test::normal(5, 70, 33);
  const std::size_t group = 32;  // groups of 32, 32, 6
  const auto grouped = gift::quantize_symmetric(w, {3, gift::alpha_search::reference_code(), group});
  BOOST_TEST(grouped.delta.cols() == 3);
  for (Eigen::Index g = 0; g < 3; ++g) {
    const Eigen::Index first = g * 32, width = std::min<Eigen::Index>(32, 70 - first);
    const gift::matrix_f slice = w.middleCols(first, width);
    const auto alone = gift::quantize_symmetric(slice, {3, gift::alpha_search::reference_code(), 0});
    BOOST_TEST(gift_test::bit_identical(gift::vector_f(grouped.delta.col(g)), gift::vector_f(alone.delta.col(0))));
    BOOST_TEST((grouped.codes.middleCols(first, width) == alone.codes));
  }
  // Reusing the steps reproduces the codes.
  const auto again = gift::quantize_with_deltas(w, grouped.delta, 3, group);
  BOOST_TEST((again.codes == grouped.codes));
  BOOST_TEST(gift_test::bit_identical(again.dequantized, grouped.dequantized));
}

BOOST_AUTO_TEST_CASE(asymmetric_hand_computed_and_bounds) {
  gift::matrix_f w(1, 3);
  w << -1.0f, 0.0f, 2.0f;
  const auto q = gift::quantize_asymmetric(w, {2, 0});
  BOOST_TEST(q.scale(0, 0) == 1.0f);
  BOOST_TEST(q.zero(0, 0) == 1.0f);
  BOOST_TEST(q.codes(0, 0) == 0);
  BOOST_TEST(q.codes(0, 1) == 1);
  BOOST_TEST(q.codes(0, 2) == 3);
  BOOST_TEST(q.dequantized(0, 0) == -1.0f);
  BOOST_TEST(q.dequantized(0, 2) == 2.0f);
  const layer_with_outliers layer(20, 150, 34);
  for (const int bits : {2, 4, 8}) {
    for (const std::size_t group : {std::size_t{0}, std::size_t{16}}) {
      const auto a = gift::quantize_asymmetric(layer.w, {bits, group}, layer.salient);
      for (Eigen::Index r = 0; r < layer.w.rows(); ++r)
        for (Eigen::Index j = 0; j < layer.w.cols(); ++j) {
          if (layer.salient.mask()[static_cast<std::size_t>(j)]) continue;
          const Eigen::Index g = group == 0 ? 0 : j / static_cast<Eigen::Index>(group);
          BOOST_TEST(a.codes(r, j) <= (1 << bits) - 1);
          BOOST_TEST(std::abs(layer.w(r, j) - a.dequantized(r, j)) <= 0.5f * a.scale(r, g) * (1 + 1e-5f));
        }
    }
  }
}

BOOST_AUTO_TEST_CASE(all_zero_rows_get_a_positive_step) {
  gift::matrix_f w = gift::matrix_f::Zero(2, 8);
  w(1, 3) = 5.0f;  // row 1: only a salient weight is non-zero
  const auto q = gift::quantize_symmetric(w, {4, gift::alpha_search::paper_grid(), 0},
                                          gift::salient_columns::from_indices({3}, 8));
  BOOST_TEST(q.delta(0, 0) > 0.0f);
  BOOST_TEST(q.delta(1, 0) > 0.0f);
  BOOST_TEST(q.alpha(0, 0) == 0.0f);
  BOOST_TEST((q.dequantized.row(0).array() == 0.0f).all());
  BOOST_TEST(q.codes(1, 3) == 7);  // the salient outlier saturates
}

BOOST_AUTO_TEST_CASE(quantizers_reject_bad_input) {
  const gift::matrix_f w = gift_test::normal(4, 6, 35);
  for (const int bits : {1, 9, 0, -4})
    BOOST_CHECK_EXCEPTION((void)gift::quantize_symmetric(w, {bits}), gift::error,
                          message_has("'bits' must be in 2..8", "is " + std::to_string(bits)));
  BOOST_CHECK_EXCEPTION((void)gift::quantize_asymmetric(w, {9, 0}), gift::error, message_has("'bits' must be in 2..8"));
  BOOST_CHECK_EXCEPTION((void)gift::quantize_symmetric(gift::matrix_f(0, 6), {4}), gift::error, message_has("non-empty"));
  gift::matrix_f bad = w;
  bad(2, 5) = std::nanf("");
  BOOST_CHECK_EXCEPTION((void)gift::quantize_symmetric(bad, {4, gift::alpha_search::paper_grid(), 0}), gift::error,
                        message_has("gift::quantize_symmetric: argument 'weights' must be finite", "(2, 5) is nan"));
  BOOST_CHECK_EXCEPTION((void)gift::quantize_asymmetric(bad, {4, 0}), gift::error, message_has("(2, 5) is nan"));
  BOOST_CHECK_EXCEPTION((void)gift::quantize_symmetric(w, {4}, gift::salient_columns::from_indices({1}, 7)), gift::error,
                        message_has("layer of 7 input columns", "this layer has 6"));
  BOOST_CHECK_EXCEPTION((void)gift::alpha_search::paper_grid(0), gift::error, message_has("'points'"));
  gift::alpha_search odd;
  odd.ratios = {1.0f, 1.5f};
  BOOST_CHECK_EXCEPTION((void)gift::quantize_symmetric(w, {4, odd, 0}), gift::error, message_has("(0, 1]"));
  BOOST_CHECK_EXCEPTION((void)gift::quantize_with_deltas(w, gift::matrix_f::Zero(4, 1), 4), gift::error,
                        message_has("finite and positive"));
  BOOST_CHECK_EXCEPTION((void)gift::quantize_with_deltas(w, gift::matrix_f::Ones(3, 1), 4), gift::error,
                        message_has("must be 4 x 1"));
}

BOOST_AUTO_TEST_SUITE_END()  // quant_eigen
