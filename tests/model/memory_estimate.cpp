// Activation memory estimates (gift/model/memory_estimate.hpp): hand-computed values for a tiny
// configuration, saturation instead of overflow, and require_memory refusing work above what a
// process limited by RLIMIT_DATA may allocate (in a forked child, so the limit stays there).
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/error.hpp>
#include <gift/model/memory_estimate.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

// AddressSanitizer reserves terabytes of shadow memory, which the kernel counts against
// RLIMIT_DATA: under it no data limit can be tested (the sanitizer build skips that part;
// GIFT_TEST_UNDER_ASAN comes from fixtures.hpp).

// Every case of this file belongs to the CTest test model_memory_estimate (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_memory_estimate)

namespace {
gift::model::llama_config tiny() {
  gift::model::llama_config c;
  c.layers = 2;
  c.hidden = 8;
  c.heads = 2;
  c.kv_heads = 2;
  c.head_dim = 4;
  c.ffn = 16;
  c.vocab = 10;
  return c;
}
}  // namespace

BOOST_AUTO_TEST_CASE(estimates_equal_hand_values) {
  // Per token: working set 5·8 + 2·(2·4) + 3·16 = 104 values; saved per block 5·8 + 2·8 + 2·16 = 88.
  // Head chunk: 2 · 128 rows · 10 logits. 3 sequences × 5 tokens, 4 bytes per value.
  BOOST_TEST(gift::model::evaluation_bytes(tiny(), 3, 5) == 4u * (15u * 104u + 2560u));
  BOOST_TEST(gift::model::training_bytes(tiny(), 3, 5) == 4u * (15u * (2u * 88u + 104u) + 2560u));
  // Linear in the tokens beyond the fixed head chunk.
  const auto one = gift::model::evaluation_bytes(tiny(), 1, 5), two = gift::model::evaluation_bytes(tiny(), 2, 5);
  BOOST_TEST(two - one == 4u * 5u * 104u);
  // Absurd sizes saturate instead of wrapping around to a small number.
  const std::int64_t huge = std::int64_t{1} << 62;
  BOOST_TEST(gift::model::training_bytes(tiny(), huge, huge) == std::numeric_limits<std::uint64_t>::max());
}

BOOST_AUTO_TEST_CASE(calibration_and_generation_estimates_equal_hand_values) {
  const auto c = tiny();
  // Without Gram matrices calibration is an evaluation pass.
  BOOST_TEST(gift::model::calibration_bytes(c, 3, 5, false, 4) == gift::model::evaluation_bytes(c, 3, 5));
  // Gram: per block 2·8² + (2·4)² + 16² = 128 + 64 + 256 = 448 doubles; 2 blocks, 3 shards, 8 bytes each.
  BOOST_TEST(gift::model::calibration_bytes(c, 3, 5, true, 3) == gift::model::evaluation_bytes(c, 3, 5) + 8u * 3u * 2u * 448u);
  // Generation: the prompt's pass (1 × 7 tokens); a cache of min(3 · max(10, 64), 100) = 100 rows of
  // keys and values (kv width 8) in 2 blocks; the RoPE table 100 positions × rope_dim 4.
  auto r = c;
  r.rope_dim = 4;
  BOOST_TEST(gift::model::generation_bytes(r, 7, 10, 100) ==
             gift::model::evaluation_bytes(r, 1, 7) + 4u * (2u * 2u * 100u * 8u + 100u * 4u));
  // With room to grow: 3 · 200 rows of a 1000-position context.
  BOOST_TEST(gift::model::generation_bytes(r, 7, 200, 1000) ==
             gift::model::evaluation_bytes(r, 1, 7) + 4u * (2u * 2u * 600u * 8u + 1000u * 4u));
  const std::int64_t huge = std::int64_t{1} << 62;
  BOOST_TEST(gift::model::calibration_bytes(c, 1, 5, true, huge) == std::numeric_limits<std::uint64_t>::max());
  BOOST_TEST(gift::model::generation_bytes(r, 7, huge, huge) == std::numeric_limits<std::uint64_t>::max());
}

BOOST_AUTO_TEST_CASE(require_memory_refuses_above_the_limit_and_names_the_option) {
  BOOST_CHECK_NO_THROW(gift::model::require_memory(1, "a test", "--batch"));
  BOOST_CHECK_EXCEPTION(gift::model::require_memory(std::numeric_limits<std::uint64_t>::max(), "gift eval: a batch",
                                                    "--batch (or --seq)"),
                        gift::error, [](const gift::error& e) {
                          const std::string m = e.what();
                          return m.find("gift eval: a batch needs about") != std::string::npos &&
                                 m.find("lower --batch (or --seq)") != std::string::npos;
                        });
  // Under a 1 GiB data limit, 2 GiB of activations are refused; 1 MiB fit.
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
#if defined(GIFT_TEST_UNDER_ASAN)
    ::_exit(77);
#endif
    const rlimit limit{1ul << 30, 1ul << 30};
    if (::setrlimit(RLIMIT_DATA, &limit) != 0) ::_exit(77);
    int code = 0;
    try {
      gift::model::require_memory(std::uint64_t{2} << 30, "two GiB", "--batch");
      code = 1;  // not refused
    } catch (const gift::error&) {
    }
    try {
      gift::model::require_memory(std::uint64_t{1} << 20, "one MiB", "--batch");
    } catch (const gift::error&) {
      code = 2;  // refused although it fits
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) BOOST_TEST_MESSAGE("RLIMIT_DATA part skipped (AddressSanitizer, or no setrlimit)");
  else BOOST_TEST(WEXITSTATUS(status) == 0, "child exit " << WEXITSTATUS(status));
  BOOST_TEST(gift::model::allocatable_bytes() > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
