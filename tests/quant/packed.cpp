// The packed mixed-precision layout: bit fields against a bit-by-bit reference for every width,
// exact packing of quantizer output (dequantize gives the same bits back), refusal of weights off
// the grid and of corrupt parts, and packed_matmul equal bit for bit to the dense product the
// model's frozen layers compute, for any thread count, and to a double-precision product.
#include <boost/test/unit_test.hpp>

#include <gift/detail/product.hpp>
#include <gift/quant/alpha_search.hpp>
#include <gift/quant/packed.hpp>
#include <gift/quant/symmetric.hpp>

#include "expect_error.hpp"
#include "fixtures.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

// Every case of this file belongs to the CTest test quant_packed (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(quant_packed)

namespace {

using gift_test::expect_error;

struct mixed_layer {
  gift::matrix<float> weights;
  gift::vector<float> delta;
  gift::salient_columns salient;
};

// A quantized layer with salient columns restored: what gift quantize writes.
mixed_layer quantized_layer(Eigen::Index rows, Eigen::Index cols, int bits, std::uint32_t seed) {
  const gift::matrix<float> w = gift_test::normal(rows, cols, seed, 0.05f);
  const auto salient = gift::salient_columns::from_indices(gift_test::every_nth(cols, 7, 2), static_cast<std::size_t>(cols));
  auto q = gift::quantize_symmetric(w, gift::symmetric_options{bits, gift::alpha_search::paper_grid(20), 0}, salient);
  gift::matrix<float> mixed = q.dequantized;
  gift::restore_salient_columns(mixed, w, salient);
  return {mixed, q.delta.col(0), salient};
}

}  // namespace

BOOST_AUTO_TEST_CASE(bit_fields_match_a_bit_by_bit_reference) {
  std::mt19937 random(7);
  for (int bits = 2; bits <= 8; ++bits) {
    for (const std::int64_t count : {1, 5, 10, 11, 31, 32, 33, 64, 70}) {
      std::uniform_int_distribution<int> pick(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
      std::vector<int> codes(static_cast<std::size_t>(count));
      for (auto& c : codes) c = pick(random);
      const std::int64_t words = gift::detail::packed_words_per_row(count, bits);
      BOOST_TEST(words == (count * bits + 31) / 32);
      std::vector<std::uint32_t> row(static_cast<std::size_t>(words), 0u);
      for (std::int64_t t = 0; t < count; ++t) gift::detail::store_packed_code(row.data(), t, bits, codes[static_cast<std::size_t>(t)]);
      // Reference: bit i of the stream is bit (i % 32) of word i / 32; field t holds code + 2^(b-1), LSB first.
      for (std::int64_t t = 0; t < count; ++t) {
        unsigned field = 0;
        for (int k = 0; k < bits; ++k) {
          const std::int64_t bit = t * bits + k;
          field |= ((row[static_cast<std::size_t>(bit / 32)] >> (bit % 32)) & 1u) << k;
        }
        BOOST_TEST(static_cast<int>(field) - (1 << (bits - 1)) == codes[static_cast<std::size_t>(t)]);
        BOOST_TEST(gift::detail::packed_code(row.data(), t, bits) == codes[static_cast<std::size_t>(t)]);
      }
      // Nothing beyond the last field is set.
      for (std::int64_t bit = count * bits; bit < words * 32; ++bit)
        BOOST_TEST(((row[static_cast<std::size_t>(bit / 32)] >> (bit % 32)) & 1u) == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(packing_quantizer_output_is_exact) {
  for (const int bits : {2, 3, 4, 5, 8}) {
    const mixed_layer layer = quantized_layer(37, 45, bits, static_cast<std::uint32_t>(bits));
    const auto packed = gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, bits);
    BOOST_TEST(packed.bits() == bits);
    BOOST_TEST(packed.salient_count() == static_cast<std::int64_t>(layer.salient.size()));
    BOOST_TEST(packed.kept() + packed.salient_count() == 45);
    BOOST_TEST(packed.words_per_row() == (packed.kept() * bits + 31) / 32);
    BOOST_TEST(gift_test::bit_identical(packed.dequantize(), layer.weights));
    // Every code times its step is the weight; codes lie in the b-bit range.
    for (std::int64_t r = 0; r < packed.rows(); ++r) {
      for (const std::int32_t j : packed.kept_columns()) {
        const int c = packed.code(r, j);
        BOOST_TEST((c >= -(1 << (bits - 1)) && c < (1 << (bits - 1))));
        BOOST_TEST(static_cast<float>(c) * layer.delta(r) == layer.weights(r, j));
      }
    }
    // The same matrix from the codes.
    gift::matrix<std::int8_t> codes = gift::matrix<std::int8_t>::Zero(37, 45);
    gift::matrix<float> salient_values(37, packed.salient_count());
    for (std::int64_t r = 0; r < 37; ++r) {
      for (const std::int32_t j : packed.kept_columns()) codes(r, j) = static_cast<std::int8_t>(packed.code(r, j));
      for (std::int64_t s = 0; s < packed.salient_count(); ++s)
        salient_values(r, s) = layer.weights(r, packed.salient_columns()[static_cast<std::size_t>(s)]);
    }
    const auto again = gift::packed_matrix::from_codes(codes, layer.delta, layer.salient, salient_values, bits);
    BOOST_TEST((std::vector<std::uint32_t>(again.words().begin(), again.words().end()) ==
                std::vector<std::uint32_t>(packed.words().begin(), packed.words().end())));
  }
}

BOOST_AUTO_TEST_CASE(storage_is_the_bits_plus_scales_plus_salient_columns) {
  const mixed_layer layer = quantized_layer(64, 70, 4, 3);  // 10 salient (every 7th from 2), 60 kept
  const auto packed = gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, 4);
  BOOST_TEST(packed.kept() == 60);
  BOOST_TEST(packed.words_per_row() == 8);  // 240 bits
  BOOST_TEST(packed.storage_bytes(2) == 64u * 8 * 4 + 64 * 4 + 10 * 4 + 64 * 10 * 2);
  BOOST_TEST(packed.storage_bytes(4) == 64u * 8 * 4 + 64 * 4 + 10 * 4 + 64 * 10 * 4);
}

BOOST_AUTO_TEST_CASE(weights_off_the_grid_and_bad_arguments_are_refused) {
  mixed_layer layer = quantized_layer(5, 9, 4, 11);
  const Eigen::Index j = 3;  // not salient (every 7th from 2: 2, 9)
  layer.weights(1, j) = std::nextafter(layer.weights(1, j), 1.0f);
  expect_error([&] { (void)gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, 4); },
               "weight (1, 3)");
  layer = quantized_layer(5, 9, 4, 11);
  expect_error([&] { (void)gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, 3); }, "not a 3-bit code");
  expect_error([&] { (void)gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, 9); }, "'bits' must be in [2, 8]");
  gift::vector<float> bad = layer.delta;
  bad(2) = 0.0f;
  expect_error([&] { (void)gift::packed_matrix::pack(layer.weights, bad, layer.salient, 4); }, "row 2 has 0");
  expect_error([&] { (void)gift::packed_matrix::pack(layer.weights, layer.delta.head(4).eval(), layer.salient, 4); },
               "one step per row (5)");
  layer.weights(0, 2) = std::numeric_limits<float>::infinity();  // salient column
  expect_error([&] { (void)gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, 4); }, "salient (0, 2)");
  const auto wrong_width = gift::salient_columns::from_indices(std::vector<std::int64_t>{1}, 8);
  expect_error([&] { (void)gift::packed_matrix::pack(layer.weights, layer.delta, wrong_width, 4); },
               "selection is for a layer of 8 input columns");
}

BOOST_AUTO_TEST_CASE(corrupt_parts_are_refused) {
  const mixed_layer layer = quantized_layer(4, 40, 3, 5);  // salient 2, 9, 16, 23, 30, 37: 34 kept, 102 bits, 4 words
  const auto packed = gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, 3);
  const std::vector<std::uint32_t> words(packed.words().begin(), packed.words().end());
  const std::vector<float> delta(packed.delta().begin(), packed.delta().end());
  const std::vector<std::int32_t> salient(packed.salient_columns().begin(), packed.salient_columns().end());
  const std::vector<float> values(packed.salient_values().begin(), packed.salient_values().end());
  const auto build = [&](auto w, auto d, auto s, auto v, int bits = 3) {
    return gift::packed_matrix::from_parts(bits, 4, 40, std::move(w), std::move(d), std::move(s), std::move(v), "test");
  };
  BOOST_TEST(gift_test::bit_identical(build(words, delta, salient, values).dequantize(), layer.weights));
  auto short_words = words;
  short_words.pop_back();
  expect_error([&] { (void)build(short_words, delta, salient, values); }, "15 code words, but 4 rows");
  auto padded = words;
  padded[3] |= 0x80000000u;  // row 0's last word, above its 6 used bits
  expect_error([&] { (void)build(padded, delta, salient, values); }, "row 0 has non-zero padding bits");
  auto unsorted = salient;
  std::swap(unsorted[0], unsorted[1]);
  expect_error([&] { (void)build(words, delta, unsorted, values); }, "strictly ascending");
  auto outside = salient;
  outside.back() = 40;
  expect_error([&] { (void)build(words, delta, outside, values); }, "strictly ascending in [0, 40)");
  auto nan_values = values;
  nan_values[7] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { (void)build(words, delta, salient, nan_values); }, "salient value (1, 1) is nan");
  auto negative = delta;
  negative[3] = -1.0f;
  expect_error([&] { (void)build(words, negative, salient, values); }, "row 3 has -1");
  expect_error([&] { (void)build(words, delta, salient, values, 1); }, "bits must be in [2, 8]");
  expect_error([&] { (void)build(words, delta, salient, std::vector<float>(3)); }, "3 salient values");
}

BOOST_AUTO_TEST_CASE(packed_matmul_equals_the_dense_product_bit_for_bit) {
  // 300 rows: two output blocks of product_any_threads, the second partial.
  for (const int bits : {2, 4, 8}) {
    const mixed_layer layer = quantized_layer(300, 96, bits, static_cast<std::uint32_t>(20 + bits));
    const auto packed = gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, bits);
    for (const Eigen::Index tokens : {1, 17}) {
      const gift::matrix<float> x = gift_test::normal(tokens, 96, 99);
      gift::matrix<float> dense, ours;
      gift::detail::product_any_threads(dense, x, layer.weights.transpose());
      gift::packed_matmul(packed, x, ours);
      BOOST_TEST(gift_test::bit_identical(ours, dense), "bits " << bits << " tokens " << tokens);
      const Eigen::MatrixXd reference = x.cast<double>() * layer.weights.cast<double>().transpose();
      BOOST_TEST((ours.cast<double>() - reference).cwiseAbs().maxCoeff() <= 1e-5 * reference.cwiseAbs().maxCoeff());
    }
  }
  const auto packed = gift::packed_matrix::pack(quantized_layer(3, 8, 4, 1).weights, quantized_layer(3, 8, 4, 1).delta,
                                                quantized_layer(3, 8, 4, 1).salient, 4);
  gift::matrix<float> y;
  expect_error([&] { gift::packed_matmul(packed, gift::matrix<float>(2, 7), y); }, "must have 8 columns (in), but has 7");
}

BOOST_AUTO_TEST_CASE(packed_matmul_bits_do_not_depend_on_the_thread_count) {
#if defined(_OPENMP)
  const mixed_layer layer = quantized_layer(600, 130, 4, 42);
  const auto packed = gift::packed_matrix::pack(layer.weights, layer.delta, layer.salient, 4);
  const gift::matrix<float> x = gift_test::normal(33, 130, 5);
  const int saved = omp_get_max_threads();
  gift::matrix<float> one, three;
  omp_set_num_threads(1);
  gift::packed_matmul(packed, x, one);
  omp_set_num_threads(3);
  gift::packed_matmul(packed, x, three);
  omp_set_num_threads(saved);
  BOOST_TEST(gift_test::bit_identical(one, three));
#else
  BOOST_TEST_MESSAGE("built without OpenMP: one thread only");
#endif
}

BOOST_AUTO_TEST_SUITE_END()  // quant_packed
