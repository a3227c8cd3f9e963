// gift::model::sharded_forward_backward and sharded_empirical_fisher on a synthetic model with
// GIFT-SW slots (noise on) and LoRA slots: one shard is exactly the plain forward/backward; S
// shards are exactly the shards' gradients, each weighted by its token share, added left to right
// (a reference written out here) and close to the unsharded gradient; the result is the same bits
// on any number of ranks (this program also runs under mpirun -np 2 and compares with the
// single-process computation of the same shards); the Fisher diagonal likewise.
#include <boost/test/unit_test.hpp>

#include <gift/model/data_parallel.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/quant/symmetric.hpp>

#include "fixtures.hpp"
#include "test_world.hpp"

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

// Every case of this file belongs to the CTest test model_data_parallel (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_data_parallel)

using gift_test::world_fixture;
BOOST_TEST_GLOBAL_FIXTURE(world_fixture);

namespace gm = gift::model;
namespace gd = gift::distributed;

namespace {
/// A 2-block model whose q/k/v/o train GIFT-SW blocks and whose feed-forward layers train LoRA.
struct trained_model {
  gm::llama_model<float> model;
  std::vector<gift::optim::parameter<float>> parameters;

  trained_model() : model(gm::make_synthetic_llama<float>(gm::tiny_llama_config(2, 48, 6, 2, 96, 300), 21)) {
    for (int b = 0; b < model.config().layers; ++b) {
      for (gm::projection p : gm::all_projections) {
        const gift::matrix_f w = model.linear(b, p).effective_weight();
        const auto layer = static_cast<std::uint32_t>(gm::layer_id(b, p));
        std::unique_ptr<gm::trainable_linear<float>> module;
        if (static_cast<int>(p) <= static_cast<int>(gm::projection::o)) {
          const auto salient =
              gift::salient_columns::from_indices(gift_test::every_nth(w.cols(), 5, 2), static_cast<std::size_t>(w.cols()));
          module = std::make_unique<gm::gift_sw_linear<float>>(
              w, salient, gift::row_deltas(w, 4, gift::alpha_search::max_abs(), salient), 9, layer);
        } else {
          module = std::make_unique<gm::lora_linear<float>>(w, gm::lora_options{3, 6.0, 9, layer});
        }
        for (auto& view : module->parameters()) parameters.push_back(view);
        model.replace_linear(b, p, std::move(module));
      }
    }
  }
  [[nodiscard]] std::vector<float> gradients() const {
    std::vector<float> all;
    for (const auto& p : parameters) all.insert(all.end(), p.gradient.begin(), p.gradient.end());
    return all;
  }
  void zero() {
    for (const auto& p : parameters) std::fill(p.gradient.begin(), p.gradient.end(), 0.0f);
  }
};

gm::token_matrix batch_of(Eigen::Index rows, Eigen::Index length, int vocab) {
  gm::token_matrix tokens(rows, length);
  for (Eigen::Index i = 0; i < tokens.size(); ++i) tokens.data()[i] = static_cast<std::int32_t>((53 * i + 7) % vocab);
  return tokens;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && !a.empty() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

constexpr Eigen::Index rows = 5, length = 12;
const gm::forward_context training{true, 4};
}  // namespace

BOOST_AUTO_TEST_CASE(one_shard_is_the_plain_forward_backward) {
  auto& world = gift_test::world();
  if (world.size() != 1) {
    BOOST_CHECK_THROW(gd::shard_plan(1, world.size()), gift::error);  // several ranks need several shards
    return;
  }
  trained_model a, b;
  const auto tokens = batch_of(rows, length, a.model.config().vocab);
  a.zero();
  const gm::loss_sum plain = a.model.forward_backward(tokens, training);
  const auto sharded = gm::sharded_forward_backward(b.model, std::span<const gift::optim::parameter<float>>(b.parameters),
                                                    tokens, training, world, gd::shard_plan(1, 1));
  BOOST_TEST(std::memcmp(&plain.nll, &sharded.loss.nll, sizeof(double)) == 0);
  BOOST_TEST(plain.count == sharded.loss.count);
  BOOST_TEST(same_bits(a.gradients(), b.gradients()));
}

BOOST_AUTO_TEST_CASE(shards_are_weighted_by_their_tokens_and_added_in_shard_order) {
  auto& world = gift_test::world();
  for (std::int64_t shards = world.size(); shards <= rows; shards += 2) {
    BOOST_TEST_CONTEXT(shards << " shards on " << world.size() << " rank(s)") {
      // The reference, in this process: each shard's gradient from zero, times its row share,
      // added to the running sum in shard order.
      trained_model reference;
      const auto tokens = batch_of(rows, length, reference.model.config().vocab);
      std::vector<float> expected;
      double nll = 0;
      for (std::int64_t s = 0; s < shards; ++s) {
        const auto [begin, end] = gd::shard_plan::items_of(rows, shards, s);
        reference.zero();
        nll += reference.model.forward_backward(tokens.middleRows(begin, end - begin), training).nll;
        const auto weight = static_cast<float>(static_cast<double>(end - begin) / static_cast<double>(rows));
        const auto g = reference.gradients();
        if (expected.empty()) expected.assign(g.size(), 0.0f);
        for (std::size_t i = 0; i < g.size(); ++i) expected[i] = s == 0 ? g[i] * weight : expected[i] + g[i] * weight;
      }
      trained_model run;
      const auto step = gm::sharded_forward_backward(run.model, std::span<const gift::optim::parameter<float>>(run.parameters),
                                                     tokens, training, world, gd::shard_plan(shards, world.size()));
      BOOST_TEST(same_bits(run.gradients(), expected));
      BOOST_TEST(step.loss.count == rows * (length - 1));
      BOOST_TEST(std::memcmp(&step.loss.nll, &nll, sizeof(double)) == 0);
      BOOST_TEST(step.combined_values == (shards > 1 ? expected.size() : 0u));

      // Mathematically the same gradient as the unsharded batch: close, not equal.
      trained_model whole;
      whole.zero();
      const gm::loss_sum loss = whole.model.forward_backward(tokens, training);
      const auto g = whole.gradients();
      double difference = 0, norm = 0;
      for (std::size_t i = 0; i < g.size(); ++i) {
        difference += std::pow(static_cast<double>(g[i]) - expected[i], 2);
        norm += std::pow(static_cast<double>(g[i]), 2);
      }
      BOOST_TEST(std::sqrt(difference) <= 1e-5 * std::sqrt(norm));
      BOOST_TEST(std::abs(loss.nll - step.loss.nll) <= 1e-9 * loss.nll);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_fisher_diagonal_of_shards_is_merged_in_shard_order) {
  auto& world = gift_test::world();
  const std::int64_t shards = world.size() + 1;
  trained_model reference, run;
  const auto sequences = batch_of(rows, length, reference.model.config().vocab);
  std::vector<gift::fisher_diagonal> expected;
  for (std::int64_t s = 0; s < shards; ++s) {
    const auto [begin, end] = gd::shard_plan::items_of(rows, shards, s);
    auto part = gm::empirical_fisher(reference.model, gm::token_matrix(sequences.middleRows(begin, end - begin)));
    if (expected.empty()) {
      expected = std::move(part);
    } else {
      for (std::size_t l = 0; l < part.size(); ++l) expected[l].merge(part[l]);
    }
  }
  const auto merged = gm::sharded_empirical_fisher(run.model, sequences, world, gd::shard_plan(shards, world.size()));
  BOOST_REQUIRE(merged.size() == expected.size());
  for (std::size_t l = 0; l < merged.size(); ++l) {
    BOOST_TEST(gift_test::bit_identical(merged[l].sum_squares(), expected[l].sum_squares()), "layer " << l);
    BOOST_TEST(merged[l].sequences() == rows);
  }
}

BOOST_AUTO_TEST_CASE(more_shards_than_sequences_are_refused) {
  auto& world = gift_test::world();
  trained_model run;
  const auto tokens = batch_of(2, length, run.model.config().vocab);
  BOOST_CHECK_EXCEPTION(gm::sharded_forward_backward(run.model, std::span<const gift::optim::parameter<float>>(run.parameters),
                                                     tokens, training, world, gd::shard_plan(world.size() + 2, world.size())),
                        gift::error, gift_test::message_has("2 item(s) cannot fill"));
}

BOOST_AUTO_TEST_SUITE_END()  // model_data_parallel
