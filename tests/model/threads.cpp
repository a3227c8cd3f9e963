// The same bits for any OpenMP thread count: logits, the loss and every trained block's
// gradient of a synthetic model large enough that every parallel path runs (several product
// blocks in the head, several noise panels per layer), for every fine-tuning method, at 1, 2 and
// 3 threads (3 on a 2-core machine also checks an oversubscribed, uneven split).
#include <boost/test/unit_test.hpp>

#include <gift/model/dora_linear.hpp>
#include <gift/model/full_linear.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/ste_linear.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/quant/symmetric.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

// Every case of this file belongs to the CTest test model_threads (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_threads)

namespace gm = gift::model;

namespace {
struct outcome {
  double loss = 0;
  std::vector<float> logits, gradients;
};

outcome run(const std::string& method, int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
  // hidden 96, ffn 320, vocab 700: products of 1–3 column blocks, many noise panels.
  const auto config = gm::tiny_llama_config(2, 96, 6, 2, 320, 700);
  auto model = gm::make_synthetic_llama<float>(config, 12);
  std::vector<gm::trainable_linear<float>*> modules;
  if (method != "frozen") {
    for (int b = 0; b < config.layers; ++b) {
      for (gm::projection p : gm::all_projections) {
        const gift::matrix_f w = model.linear(b, p).effective_weight();
        const auto layer = static_cast<std::uint32_t>(gm::layer_id(b, p));
        std::vector<std::int64_t> columns;
        for (std::int64_t j = 1; j < w.cols(); j += 9) columns.push_back(j);
        const auto salient = gift::salient_columns::from_indices(columns, static_cast<std::size_t>(w.cols()));
        std::unique_ptr<gm::trainable_linear<float>> module;
        if (method == "gift_sw") {
          auto layer_module = std::make_unique<gm::gift_sw_linear<float>>(
              w, salient, gift::row_deltas(w, 4, gift::alpha_search::max_abs(), salient), 5, layer);
          layer_module->layer().set_panel_elements(16 * 96);  // many panels per layer
          module = std::move(layer_module);
        } else if (method == "lora") {
          module = std::make_unique<gm::lora_linear<float>>(w, gm::lora_options{4, 8.0, 5, layer});
        } else if (method == "dora") {
          module = std::make_unique<gm::dora_linear<float>>(w, gm::lora_options{4, 8.0, 5, layer});
        } else if (method == "full") {
          module = std::make_unique<gm::full_linear<float>>(w);
        } else {
          module = std::make_unique<gm::ste_linear<float>>(w, salient, gift::row_deltas(w, 3, gift::alpha_search::max_abs(), salient), 3);
        }
        modules.push_back(module.get());
        model.replace_linear(b, p, std::move(module));
      }
    }
  }
  gm::token_matrix tokens(3, 40);
  for (Eigen::Index i = 0; i < tokens.size(); ++i) tokens.data()[i] = static_cast<std::int32_t>((37 * i + 11) % config.vocab);
  outcome result;
  const gift::matrix_f logits = model.logits(tokens);
  result.logits.assign(logits.data(), logits.data() + logits.size());
  result.loss = model.forward_backward(tokens, {true, 3}).nll;
  for (auto* module : modules)
    for (const auto& p : module->parameters()) result.gradients.insert(result.gradients.end(), p.gradient.begin(), p.gradient.end());
  return result;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  // memcmp on an empty vector would receive a null pointer (UB, flagged by UBSan for "frozen").
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
}  // namespace

BOOST_AUTO_TEST_CASE(every_method_gives_the_same_bits_on_1_2_and_3_threads) {
  for (const std::string method : {"frozen", "gift_sw", "lora", "dora", "full", "ste"}) {
    BOOST_TEST_CONTEXT("method " << method) {
      const outcome one = run(method, 1);
      BOOST_TEST(one.logits.size() == 3u * 40u * 700u);
      BOOST_TEST(std::isfinite(one.loss));
      if (method != "frozen") BOOST_TEST(!one.gradients.empty());
      for (const int threads : {2, 3}) {
        const outcome other = run(method, threads);
        BOOST_TEST(std::memcmp(&one.loss, &other.loss, sizeof(double)) == 0, threads << " threads: loss " << other.loss
                                                                                    << " vs " << one.loss);
        BOOST_TEST(same_bits(one.logits, other.logits), threads << " threads: logits differ");
        BOOST_TEST(same_bits(one.gradients, other.gradients), threads << " threads: gradients differ");
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()  // model_threads
