// Quantization-noise injection on the Eigen backend: the statistics of ½ Δ_i Ω_ij, salient
// columns untouched, fresh noise per step and layer, the same noise for the same key.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/noise.hpp>
#include <gift/backend/eigen/noise_rows.hpp>

#include <cmath>

// Every case of this file belongs to the CTest test core_noise (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_noise)

using namespace gift_test;

BOOST_AUTO_TEST_CASE(per_row_standard_deviation_is_half_delta) {
  const Eigen::Index rows = 12, cols = 24000;
  const gift::matrix_f original = normal_matrix(rows, cols, 1);
  const gift::vector_f delta = row_scales(rows);
  const auto salient = every_nth(cols, 37, 5);
  gift::matrix_f noisy = original;
  gift::add_quantization_noise(noisy, delta, salient, gift::noise_key{3, 9, 41});
  const gift::matrix_f noise = noisy - original;
  std::vector<char> is_salient(cols, 0);
  for (auto j : salient) is_salient[static_cast<std::size_t>(j)] = 1;
  for (Eigen::Index i = 0; i < rows; ++i) {
    double sum = 0, sum_sq = 0;
    long count = 0;
    for (Eigen::Index j = 0; j < cols; ++j) {
      if (is_salient[static_cast<std::size_t>(j)]) {
        // Salient columns must be untouched, bit for bit.
        BOOST_TEST(noisy(i, j) == original(i, j));
        continue;
      }
      sum += noise(i, j);
      sum_sq += static_cast<double>(noise(i, j)) * noise(i, j);
      ++count;
    }
    const double mean = sum / count;
    const double std_dev = std::sqrt(sum_sq / count - mean * mean);
    const double expected = 0.5 * delta(i);
    // The sample std of n normals has relative error ~ 1/sqrt(2n) ≈ 0.46 %: 3 % is > 6 sigma.
    BOOST_TEST(std::abs(std_dev / expected - 1.0) < 0.03, "row " << i << ": std " << std_dev << " vs " << expected);
    BOOST_TEST(std::abs(mean) < 6.0 * expected / std::sqrt(static_cast<double>(count)), "row " << i << " mean " << mean);
  }
}

BOOST_AUTO_TEST_CASE(noise_depends_on_step_and_layer_but_not_on_call) {
  const gift::matrix_f original = normal_matrix(33, 71, 2);
  const gift::vector_f delta = row_scales(33);
  const std::vector<std::int64_t> salient{0, 10, 70};
  auto noisy = [&](gift::noise_key key) {
    gift::matrix_f m = original;
    gift::add_quantization_noise(m, delta, salient, key);
    return m;
  };
  const gift::matrix_f a = noisy({5, 1, 7});
  BOOST_TEST(bit_identical(a, noisy({5, 1, 7})));
  const gift::matrix_f next_step = noisy({5, 1, 8});
  const gift::matrix_f other_layer = noisy({5, 2, 7});
  const gift::matrix_f other_seed = noisy({6, 1, 7});
  // Every frozen element differs (a coincidence has probability ~2^-24 per element).
  long same_step = 0, same_layer = 0, same_seed = 0;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      if (j == 0 || j == 10 || j == 70) {
        BOOST_TEST(a(i, j) == original(i, j));
        BOOST_TEST(next_step(i, j) == original(i, j));
        continue;
      }
      same_step += a(i, j) == next_step(i, j);
      same_layer += a(i, j) == other_layer(i, j);
      same_seed += a(i, j) == other_seed(i, j);
    }
  BOOST_TEST(same_step < 5);
  BOOST_TEST(same_layer < 5);
  BOOST_TEST(same_seed < 5);
}

BOOST_AUTO_TEST_CASE(noise_is_indexed_by_the_original_position) {
  // The noise at (i, j) is ½ Δ_i · standard_normal(key, i * in + j), whatever else is salient.
  const Eigen::Index rows = 5, cols = 19;
  const gift::matrix_f zero = gift::matrix_f::Zero(rows, cols);
  const gift::vector_f delta = row_scales(rows);
  const gift::noise_key key{77, 3, 12};
  gift::matrix_f few = zero, many = zero;
  gift::add_quantization_noise(few, delta, std::vector<std::int64_t>{4}, key);
  gift::add_quantization_noise(many, delta, std::vector<std::int64_t>{18, 1, 4, 9}, key);  // any order
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) {
      const float expected = (0.5f * delta(i)) * gift::standard_normal(key, static_cast<std::uint64_t>(i * cols + j));
      BOOST_TEST(few(i, j) == (j == 4 ? 0.0f : expected));
      const bool salient = j == 1 || j == 4 || j == 9 || j == 18;
      BOOST_TEST(many(i, j) == (salient ? 0.0f : expected));
    }
}

BOOST_AUTO_TEST_CASE(double_weights_get_the_same_variates) {
  const gift::matrix_f original = normal_matrix(7, 13, 4);
  const gift::vector_f delta = row_scales(7);
  const gift::noise_key key{1, 1, 1};
  gift::matrix_f single = original;
  gift::matrix<double> twice = original.cast<double>();
  gift::add_quantization_noise(single, delta, std::vector<std::int64_t>{2}, key);
  gift::add_quantization_noise(twice, delta, std::vector<std::int64_t>{2}, key);
  BOOST_TEST((twice - single.cast<double>()).cwiseAbs().maxCoeff() < 1e-6);
}

BOOST_AUTO_TEST_CASE(every_vectorised_path_matches_the_scalar_generator_bit_for_bit) {
  // The CPU panels use the batched (SIMD) generator on the widest instruction set the CPU has;
  // every path this CPU runs must reproduce standard_normal exactly, whatever the alignment and
  // length of the range (leading partial block, whole 64- and 16-block batches, a tail batch
  // into scratch) and across the 32-bit boundary of the block counter.
  namespace d = gift::backend::detail;
  const gift::noise_key key{0xfedcba9876543210ull, 0xffffffffu, 123456};
  int paths_run = 0;
  for (d::noise_simd simd : {d::noise_simd::portable, d::noise_simd::sse2, d::noise_simd::avx2, d::noise_simd::avx512}) {
    if (!d::noise_simd_available(simd)) continue;
    ++paths_run;
    for (std::uint64_t first : {0ull, 1ull, 3ull, 65ull, (1ull << 34) - 130, (1ull << 34) - 1030}) {
      for (std::uint64_t count : {0ull, 1ull, 5ull, 64ull, 67ull, 255ull, 256ull, 257ull, 576ull, 1000ull, 1536ull}) {
        std::vector<float> values(count + 1, -7.0f);
        d::standard_normal_range_on(simd, key, first, count, values.data());
        std::size_t mismatches = 0;
        for (std::uint64_t t = 0; t < count; ++t) {
          const float expected = gift::standard_normal(key, first + t);
          mismatches += std::memcmp(&expected, &values[t], sizeof(float)) != 0;
        }
        BOOST_TEST(mismatches == 0u, "path " << static_cast<int>(simd) << " first " << first << " count " << count);
        BOOST_TEST(values[count] == -7.0f);  // nothing written past the range
      }
    }
  }
  // The portable path and the compiled baseline run everywhere; on x86 that is at least two.
  BOOST_TEST(paths_run >= (d::compiled_noise_simd == d::noise_simd::portable ? 1 : 2));
  BOOST_TEST(d::noise_simd_available(d::fastest_noise_simd()));
}

BOOST_AUTO_TEST_SUITE_END()  // core_noise
