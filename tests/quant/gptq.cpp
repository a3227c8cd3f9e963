// GPTQ with salient columns in full precision: lower layer-output error than round-to-nearest
// on correlated inputs, the grid property, compensation reaching the salient columns, errors.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/gram.hpp>
#include <gift/metric.hpp>
#include <gift/quant/gptq.hpp>
#include <gift/select.hpp>

#include <cmath>

// Every case of this file belongs to the CTest test quant_eigen (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(quant_eigen)

using gift_test::message_has;

namespace {
struct correlated_layer {
  gift::matrix_f w, x;
  gift::matrix<double> gram;
  gift::activation_stats stats{96};
  correlated_layer() {
    // Inputs mixed through a dense matrix: strongly correlated columns, a few heavy ones.
    const gift::matrix_f z = gift_test::heavy_tailed(2048, 96, 40);
    const gift::matrix_f mix = gift_test::normal(96, 96, 41, 0.3f) + gift::matrix_f::Identity(96, 96);
    x = z * mix;
    w = gift_test::normal(48, 96, 42, 0.05f);
    gift::gram_accumulator h(96);
    h.update(x);
    gram = h.gram();
    stats.update(x);
  }
  // ‖X Wᵀ − X Ŵᵀ‖_F in double.
  [[nodiscard]] double output_error(const gift::matrix_f& quantized) const {
    return (x.cast<double>() * (w - quantized).cast<double>().transpose()).norm();
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(gptq_beats_round_to_nearest_on_correlated_inputs) {
  const correlated_layer layer;
  for (const int bits : {3, 4}) {
    const auto rtn = gift::quantize_symmetric(layer.w, {bits, gift::alpha_search::max_abs(), 0});
    const auto gptq = gift::gptq(layer.w, layer.gram, {}, {bits, gift::alpha_search::max_abs()});
    const auto ordered = gift::gptq(layer.w, layer.gram, {}, {bits, gift::alpha_search::max_abs(), 0.01, 128, true});
    const double e_rtn = layer.output_error(rtn.dequantized), e_gptq = layer.output_error(gptq.weights);
    const double e_ordered = layer.output_error(ordered.weights);
    BOOST_TEST_MESSAGE("bits " << bits << ": RTN " << e_rtn << ", GPTQ " << e_gptq << ", act-order " << e_ordered);
    BOOST_TEST(e_gptq < 0.8 * e_rtn);
    BOOST_TEST(e_ordered < 0.8 * e_rtn);
    // The same steps as RTN, and every weight on the grid.
    BOOST_TEST(gift_test::bit_identical(gptq.delta, gift::vector_f(rtn.delta.col(0))));
    for (Eigen::Index r = 0; r < layer.w.rows(); ++r)
      for (Eigen::Index j = 0; j < layer.w.cols(); ++j)
        BOOST_TEST(gptq.weights(r, j) == static_cast<float>(gptq.codes(r, j)) * gptq.delta(r));
  }
}

BOOST_AUTO_TEST_CASE(gptq_keeps_salient_columns_in_full_precision_and_compensates_them) {
  const correlated_layer layer;
  const auto scores = gift::column_sensitivity<gift::gift_sw_at<3>>(layer.w, layer.stats);
  const auto salient = gift::select_salient(scores, 8);
  const gift::gptq_options options{3, gift::alpha_search::reference_code()};
  const auto mixed = gift::gptq(layer.w, layer.gram, salient, options);
  const auto plain = gift::gptq(layer.w, layer.gram, {}, options);
  auto rtn = gift::quantize_symmetric(layer.w, {3, gift::alpha_search::reference_code(), 0}, salient);
  gift::restore_salient_columns(rtn.dequantized, layer.w, salient);
  const double e_mixed = layer.output_error(mixed.weights), e_plain = layer.output_error(plain.weights);
  const double e_rtn = layer.output_error(rtn.dequantized);
  BOOST_TEST_MESSAGE("3 bits: GPTQ+salient " << e_mixed << ", GPTQ " << e_plain << ", RTN+salient " << e_rtn);
  BOOST_TEST(e_mixed < e_plain);
  BOOST_TEST(e_mixed < 0.8 * e_rtn);
  BOOST_TEST(gift_test::bit_identical(mixed.delta, gift::vector_f(rtn.delta.col(0))));
  for (Eigen::Index j = 0; j < layer.w.cols(); ++j) {
    if (salient.mask()[static_cast<std::size_t>(j)]) {
      BOOST_TEST((mixed.codes.col(j).array() == 0).all());
      BOOST_TEST((mixed.weights.col(j) - layer.w.col(j)).norm() > 0.0f);  // compensated, not frozen
    } else {
      for (Eigen::Index r = 0; r < layer.w.rows(); ++r)
        BOOST_TEST(mixed.weights(r, j) == static_cast<float>(mixed.codes(r, j)) * mixed.delta(r));
    }
  }
}

BOOST_AUTO_TEST_CASE(gptq_lazy_blocks_do_not_change_the_result) {
  const correlated_layer layer;
  const auto reference = gift::gptq(layer.w, layer.gram, {}, {4, gift::alpha_search::max_abs(), 0.01, 128});
  for (const std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{32}}) {
    const auto other = gift::gptq(layer.w, layer.gram, {}, {4, gift::alpha_search::max_abs(), 0.01, block});
    const Eigen::Index differing = (other.codes.array() != reference.codes.array()).count();
    BOOST_TEST(differing <= reference.codes.size() / 200, "block " << block << ": " << differing << " codes differ");
    BOOST_TEST(layer.output_error(other.weights) == layer.output_error(reference.weights),
               boost::test_tools::tolerance(0.02));
  }
}

BOOST_AUTO_TEST_CASE(gptq_zeroes_dead_columns) {
  correlated_layer layer;
  layer.gram.row(5).setZero();
  layer.gram.col(5).setZero();
  const auto q = gift::gptq(layer.w, layer.gram, {}, {4});
  BOOST_TEST((q.weights.col(5).array() == 0.0f).all());
  BOOST_TEST(q.weights.allFinite());
}

BOOST_AUTO_TEST_CASE(gptq_rejects_bad_input) {
  gift::matrix_f w(2, 2);
  w << 1.0f, 0.5f, -0.25f, 0.75f;
  gift::matrix<double> indefinite(2, 2);
  indefinite << 1.0, 2.0, 2.0, 1.0;  // eigenvalues 3 and −1: damping by 0.01 cannot fix it
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, indefinite), gift::error,
                        message_has("not positive definite even after damping", "gptq_options::damping"));
  const gift::matrix<double> identity = gift::matrix<double>::Identity(2, 2);
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, gift::matrix<double>::Identity(3, 3)), gift::error,
                        message_has("'gram' must be 2 x 2", "3 x 3"));
  gift::matrix<double> asymmetric = identity;
  asymmetric(0, 1) = 0.5;
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, asymmetric), gift::error, message_has("symmetric"));
  gift::matrix<double> nan_gram = identity;
  nan_gram(1, 1) = std::nan("");
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, nan_gram), gift::error, message_has("'gram' must be finite", "(1, 1)"));
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, identity, {}, {9}), gift::error, message_has("2..8"));
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, identity, {}, {4, gift::alpha_search::max_abs(), -1.0}), gift::error,
                        message_has("damping"));
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, identity, {}, {4, gift::alpha_search::max_abs(), 0.01, 0}), gift::error,
                        message_has("block_size"));
  gift::matrix_f bad = w;
  bad(1, 0) = std::numeric_limits<float>::infinity();
  BOOST_CHECK_EXCEPTION((void)gift::gptq(bad, identity), gift::error, message_has("(1, 0) is inf"));
  BOOST_CHECK_EXCEPTION((void)gift::gptq(w, identity, gift::salient_columns::from_indices({0}, 3)), gift::error,
                        message_has("layer of 3 input columns"));
  // The identity Gram is fine: GPTQ degenerates to round-to-nearest.
  const auto q = gift::gptq(w, identity);
  const auto rtn = gift::quantize_symmetric(w, {4});
  BOOST_TEST(gift_test::bit_identical(q.weights, rtn.dequantized));
}

BOOST_AUTO_TEST_SUITE_END()  // quant_eigen
