// Philox4x32 known answers (Random123's published kat_vectors) and the statistics of the normal
// variates built on it.
#include <boost/test/unit_test.hpp>

#include <gift/random.hpp>
#include <gift/fill_standard_normal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

// Every case of this file belongs to the CTest test core_random (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(core_random)

namespace {
struct known_answer {
  std::uint32_t counter[4];
  std::uint32_t key[2];
  std::uint32_t expected[4];
};

template <int Rounds>
void check(const known_answer& k) {
  const gift::detail::philox4x32_block counter{{k.counter[0], k.counter[1], k.counter[2], k.counter[3]}};
  const gift::detail::philox4x32_key key{{k.key[0], k.key[1]}};
  const auto out = gift::detail::philox4x32<Rounds>(counter, key);
  for (int i = 0; i < 4; ++i) BOOST_TEST(out.word[i] == k.expected[i], "word " << i << " with " << Rounds << " rounds");
}
}  // namespace

BOOST_AUTO_TEST_CASE(philox4x32_10_known_answers) {
  check<10>({{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}});
  check<10>({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
             {0xffffffff, 0xffffffff},
             {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}});
  check<10>({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
             {0xa4093822, 0x299f31d0},
             {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}});
}

BOOST_AUTO_TEST_CASE(philox4x32_7_known_answers) {
  check<7>({{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
            {0xffffffff, 0xffffffff},
            {0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662}});
  check<7>({{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
            {0xa4093822, 0x299f31d0},
            {0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}});
}

BOOST_AUTO_TEST_CASE(reproducible_log_matches_libm) {
  // Over the whole range the generator feeds it: (0, 1] in steps of 2^-24, sampled densely.
  double worst = 0;
  for (std::uint32_t k = 1; k <= (1u << 24); k += 97) {
    const float u = static_cast<float>(k) * 5.9604644775390625e-08f;
    const double exact = std::log(static_cast<double>(u));
    const double error = std::abs(gift::detail::reproducible_log(u) - exact);
    worst = std::max(worst, error / std::max(1.0, std::abs(exact)));
  }
  BOOST_TEST(worst < 3e-7);
}

BOOST_AUTO_TEST_CASE(reproducible_sincos_matches_libm) {
  double worst = 0;
  for (int k = 0; k < (1 << 16); ++k) {
    const float q = static_cast<float>(k) / 65536.0f;
    float s, c;
    gift::detail::reproducible_sincos_quarter(q, s, c);
    const double angle = static_cast<double>(q) * 1.5707963267948966;
    worst = std::max({worst, std::abs(s - std::sin(angle)), std::abs(c - std::cos(angle))});
  }
  BOOST_TEST(worst < 3e-7);
}

BOOST_AUTO_TEST_CASE(single_values_agree_with_blocks) {
  const gift::noise_key key{1234, 5, 6};
  for (std::uint64_t block = 0; block < 100; ++block) {
    float four[4];
    gift::standard_normal4(key, block, four);
    for (int lane = 0; lane < 4; ++lane) BOOST_TEST(four[lane] == gift::standard_normal(key, block * 4 + lane));
  }
}

BOOST_AUTO_TEST_CASE(keys_select_distinct_streams) {
  const gift::noise_key base{42, 3, 7};
  auto differs = [&](gift::noise_key other) {
    int same = 0;
    for (std::uint64_t i = 0; i < 64; ++i) same += gift::standard_normal(base, i) == gift::standard_normal(other, i);
    return same == 0;
  };
  BOOST_TEST(differs({43, 3, 7}));
  BOOST_TEST(differs({42, 4, 7}));
  BOOST_TEST(differs({42, 3, 8}));
  BOOST_TEST(differs({42ull | (1ull << 40), 3, 7}));  // the seed's high word matters too
}

// Moments and a Kolmogorov–Smirnov test, fixed seed. With n = 2^20 the KS statistic of a true
// N(0,1) sample exceeds 1.63/sqrt(n) with probability 1%; the moments' tolerances are > 6 sigma.
BOOST_AUTO_TEST_CASE(normal_statistics) {
  constexpr std::size_t n = 1u << 20;
  gift::matrix_f samples(1024, 1024);
  gift::fill_standard_normal(samples, gift::noise_key{2024, 1, 0});
  std::vector<double> values(samples.data(), samples.data() + n);
  double mean = 0, m2 = 0, m4 = 0;
  for (double v : values) mean += v;
  mean /= n;
  for (double v : values) {
    m2 += (v - mean) * (v - mean);
    m4 += std::pow(v - mean, 4);
  }
  m2 /= n;
  m4 /= n;
  BOOST_TEST(std::abs(mean) < 6.0 / std::sqrt(double(n)));
  BOOST_TEST(std::abs(m2 - 1.0) < 6.0 * std::sqrt(2.0 / n));
  BOOST_TEST(std::abs(m4 - 3.0) < 6.0 * std::sqrt(96.0 / n));
  std::sort(values.begin(), values.end());
  double ks = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double cdf = 0.5 * std::erfc(-values[i] / std::sqrt(2.0));
    ks = std::max({ks, std::abs(cdf - double(i) / n), std::abs(cdf - double(i + 1) / n)});
  }
  BOOST_TEST(ks < 1.63 / std::sqrt(double(n)), "KS statistic " << ks);
  // Tails exist but stay plausible: 24-bit uniforms cap |z| near 5.8.
  BOOST_TEST(values.front() < -4.0);
  BOOST_TEST(values.back() > 4.0);
  BOOST_TEST(values.back() < 6.0);
}

BOOST_AUTO_TEST_SUITE_END()  // core_random
