// Incremental decoding with a KV cache: a prompt and then one token at a time give the logits a
// full forward pass over the whole sequence gives (double: to 1e-12; float: to 1e-5), for
// prompts fed whole or in pieces; bad requests are refused.
#include <boost/test/unit_test.hpp>

#include <gift/model/kv_cache.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/synthetic.hpp>

#include <cstdint>
#include <vector>

// Every case of this file belongs to the CTest test model_kv_cache (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_kv_cache)

namespace gm = gift::model;

namespace {
template <class T>
gift::vector<T> full_last(gm::llama_model<T>& model, const std::vector<std::int32_t>& ids) {
  gm::token_matrix tokens(1, static_cast<Eigen::Index>(ids.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) tokens(0, static_cast<Eigen::Index>(i)) = ids[i];
  return model.last_logits(tokens).row(0).transpose();
}

template <class T>
double decode_and_compare(std::uint64_t seed, const std::vector<std::size_t>& pieces) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<T>(config, seed);
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(static_cast<std::int32_t>((7 * i * i + 3 * i + 1) % config.vocab));
  gm::kv_cache<T> cache(config);
  double worst = 0;
  std::size_t fed = 0;
  for (const std::size_t piece : pieces) {
    const std::vector<std::int32_t> chunk(ids.begin() + static_cast<std::ptrdiff_t>(fed),
                                          ids.begin() + static_cast<std::ptrdiff_t>(fed + piece));
    const gift::vector<T> cached = model.extend(cache, chunk);
    fed += piece;
    BOOST_TEST(cache.length() == static_cast<Eigen::Index>(fed));
    const gift::vector<T> full = full_last(model, std::vector<std::int32_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(fed)));
    worst = std::max(worst, static_cast<double>((cached - full).cwiseAbs().maxCoeff() / full.cwiseAbs().maxCoeff()));
  }
  return worst;
}
}  // namespace

BOOST_AUTO_TEST_CASE(cached_decoding_equals_the_full_forward) {
  BOOST_TEST(decode_and_compare<double>(3, {7, 1, 1, 1, 1, 1}) < 1e-12);
  BOOST_TEST(decode_and_compare<double>(4, {1, 1, 1, 5, 2, 10}) < 1e-12);
  BOOST_TEST(decode_and_compare<float>(5, {7, 1, 1, 1, 1}) < 1e-5);
}

BOOST_AUTO_TEST_CASE(greedy_generation_is_the_same_with_and_without_the_cache) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 9);
  std::vector<std::int32_t> slow = {1, 2, 3}, fast = slow;
  gm::kv_cache<float> cache(config);
  gift::vector<float> logits = model.extend(cache, fast);
  for (int step = 0; step < 12; ++step) {
    Eigen::Index best = 0;
    full_last(model, slow).maxCoeff(&best);
    slow.push_back(static_cast<std::int32_t>(best));
    logits.maxCoeff(&best);
    fast.push_back(static_cast<std::int32_t>(best));
    logits = model.extend(cache, std::vector<std::int32_t>{fast.back()});
  }
  BOOST_TEST(slow == fast);
}

BOOST_AUTO_TEST_CASE(bad_requests_are_refused) {
  auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<float>(config, 2);
  gm::kv_cache<float> cache(config, 6);
  BOOST_TEST(cache.capacity() == 6);
  BOOST_CHECK_THROW((void)model.extend(cache, std::vector<std::int32_t>{}), gift::error);
  BOOST_CHECK_THROW((void)model.extend(cache, std::vector<std::int32_t>{config.vocab}), gift::error);
  (void)model.extend(cache, std::vector<std::int32_t>{1, 2, 3, 4, 5});
  BOOST_CHECK_THROW((void)model.extend(cache, std::vector<std::int32_t>{1, 2}), gift::error);  // past 6
  (void)model.extend(cache, std::vector<std::int32_t>{1});
  BOOST_TEST(cache.length() == 6);
  cache.clear();
  BOOST_TEST(cache.length() == 0);
  config.context_length = 0;
  BOOST_CHECK_THROW(gm::kv_cache<float>{config}, gift::error);
}

BOOST_AUTO_TEST_SUITE_END()  // model_kv_cache
