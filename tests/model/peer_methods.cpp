// The peer methods of the source papers as model slots: SVFT (W = U (Σ + M) Vᵀ with a sparse M)
// and NPFT (Fisher-selected outliers perturbed by per-row uniform noise, LoRA on top), and the
// empirical Fisher diagonal they start from. Gradients by central differences in double, SVFT's
// merge against U (Σ + M) Vᵀ, each pattern's positions against a brute-force construction, the
// Fisher statistic's merge and its entries against finite differences of the per-sequence loss.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "svft_patterns.hpp"
#include "module_check.hpp"

#include <gift/fisher_diagonal.hpp>
#include <gift/model/empirical_fisher.hpp>
#include <gift/model/npft_linear.hpp>
#include <gift/model/svft_linear.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test model_peer_methods (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_peer_methods)

namespace gm = gift::model;
using gift_test::check_entries;
using gift_test::check_module;
using gift_test::md;
using gift_test::normal_double;
using gift_test::span_of;

namespace {
const Eigen::Index tokens = 5;
using position = std::pair<Eigen::Index, Eigen::Index>;

gm::svft_options pattern(gm::svft_pattern p, int width, std::int64_t k) {
  return gift_test::svft_pattern_options(p, width, k);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(svft)

// For a tall and a wide weight and every pattern: the slot starts equal to W, its gradients in M
// and x match central differences, and the merge is U (Σ + M) Vᵀ: Uᵀ merged V gives back Σ + M.
BOOST_AUTO_TEST_CASE(every_pattern_starts_at_w_and_its_gradients_match) {
  for (const auto& [out, in] : {position{6, 9}, position{9, 5}}) {
    const md weight = normal_double(out, in, 21, 0.4);
    for (const auto& options : {pattern(gm::svft_pattern::plain, 0, 1), pattern(gm::svft_pattern::banded, 1, 1),
                                pattern(gm::svft_pattern::random, 0, 2), pattern(gm::svft_pattern::top_k, 0, 7)}) {
      BOOST_TEST_CONTEXT(out << " x " << in << ", pattern " << static_cast<int>(options.pattern)) {
        gm::svft_linear<double> module(weight, options);
        BOOST_TEST(module.reconstruction_error() < 1e-14);
        BOOST_TEST((module.effective_weight() - weight).cwiseAbs().maxCoeff() < 1e-13);
        BOOST_TEST(module.trainable_parameters() == gm::svft_parameters(out, in, options));
        BOOST_TEST(module.method() == "svft");
        // Away from M = 0, so that a wrong dh term would show in dx.
        for (std::size_t e = 0; e < module.values().size(); ++e) module.values()[e] = 0.1 * static_cast<double>(e % 5) - 0.2;
        check_module(module, normal_double(tokens, in, 22), normal_double(tokens, out, 23));
        const md coefficients = module.u().transpose() * module.effective_weight() * module.v();
        BOOST_TEST((coefficients - module.coefficients()).cwiseAbs().maxCoeff() < 1e-13);
      }
    }
  }
}

// In fp32 the merge equals U (Σ + M) Vᵀ formed in double from the same fp32 factors to fp32
// rounding, and a real-size layer reconstructs W to the SVD's double precision.
BOOST_AUTO_TEST_CASE(the_fp32_merge_is_u_sigma_plus_m_vt_to_fp32_rounding) {
  const gift::matrix_f weight = gift_test::normal_matrix(64, 96, 24, 0.05f);
  gm::svft_linear<float> module(weight, pattern(gm::svft_pattern::banded, 2, 1));
  BOOST_TEST(module.reconstruction_error() < 1e-13);
  for (std::size_t e = 0; e < module.values().size(); ++e) module.values()[e] = 0.01f * static_cast<float>(e % 7);
  const md reference = module.u().cast<double>() * module.coefficients().cast<double>() * module.v().cast<double>().transpose();
  const double scale = reference.cwiseAbs().maxCoeff();
  BOOST_TEST((module.effective_weight().cast<double>() - reference).cwiseAbs().maxCoeff() < 64 * 1.2e-7 * scale);
  BOOST_TEST((module.effective_weight() - weight).cwiseAbs().maxCoeff() > 1e-4f);  // M moved it
}

BOOST_AUTO_TEST_CASE(patterns_place_the_entries_they_name) {
  const std::vector<double> sigma = {5, 4, 3, 2, 1.5, 1};
  const auto m = static_cast<Eigen::Index>(sigma.size());
  const auto positions = [&](const gm::svft_options& o) { return gm::svft_positions(sigma, o); };
  const auto plain = positions(pattern(gm::svft_pattern::plain, 0, 1));
  BOOST_TEST(plain.size() == sigma.size());
  for (const auto& [i, j] : plain) BOOST_TEST(i == j);
  const auto band = positions(pattern(gm::svft_pattern::banded, 2, 1));
  std::size_t expected = 0;
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < m; ++j) expected += std::abs(i - j) <= 2 ? 1 : 0;
  BOOST_TEST(band.size() == expected);
  BOOST_TEST(static_cast<std::int64_t>(expected) == gm::svft_parameters(m, m + 3, pattern(gm::svft_pattern::banded, 2, 1)));
  for (const auto& [i, j] : band) BOOST_TEST(std::abs(i - j) <= 2);
  // Random: k distinct columns per row, the same for the same seed and layer, another for another layer.
  auto options = pattern(gm::svft_pattern::random, 0, 3);
  const auto random = positions(options);
  BOOST_TEST(random.size() == 3u * sigma.size());
  for (Eigen::Index i = 0; i < m; ++i) {
    std::set<Eigen::Index> columns;
    for (const auto& [r, c] : random)
      if (r == i) columns.insert(c);
    BOOST_TEST(columns.size() == 3u);
  }
  BOOST_TEST((positions(options) == random));
  options.layer = 4;
  BOOST_TEST((positions(options) != random));
  // Top-k: brute force over all (i, j) by σ_i σ_j, ties to the lower row-major index.
  const auto top = positions(pattern(gm::svft_pattern::top_k, 0, 5));
  std::multimap<double, position, std::greater<>> by_score;
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < m; ++j) by_score.emplace(sigma[static_cast<std::size_t>(i)] * sigma[static_cast<std::size_t>(j)], position{i, j});
  std::vector<position> best;
  for (auto it = by_score.begin(); best.size() < 5; ++it) best.push_back(it->second);
  std::sort(best.begin(), best.end());
  BOOST_TEST((top == best));
  BOOST_CHECK_THROW((void)positions(pattern(gm::svft_pattern::banded, 6, 1)), gift::error);
  BOOST_CHECK_THROW((void)positions(pattern(gm::svft_pattern::random, 0, 7)), gift::error);
  BOOST_CHECK_THROW((void)positions(pattern(gm::svft_pattern::top_k, 0, 37)), gift::error);
  BOOST_CHECK_THROW((void)gm::parse_svft_pattern("diagonal"), gift::error);
  BOOST_TEST((gm::parse_svft_pattern("top_k") == gm::svft_pattern::top_k));
  md bad = normal_double(4, 4, 25);
  bad(1, 2) = std::nan("");
  BOOST_CHECK_THROW(gm::svft_linear<double>(bad, pattern(gm::svft_pattern::plain, 0, 1)), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fisher)

// Two batches merged give the statistics of one pass over both (to double rounding: only the
// order of the additions differs), merging commutes bit for bit, and a shape mismatch or a
// non-finite gradient is refused without changing anything.
BOOST_AUTO_TEST_CASE(batches_merge_into_the_whole_stream) {
  std::vector<md> gradients;
  for (std::uint32_t s = 0; s < 6; ++s) gradients.push_back(normal_double(4, 7, 30 + s, 1e-2 * (s + 1)));
  gift::fisher_diagonal whole(4, 7), first(4, 7), second(4, 7);
  for (std::size_t s = 0; s < gradients.size(); ++s) {
    whole.add(gradients[s]);
    (s < 2 ? first : second).add(gradients[s]);
  }
  gift::fisher_diagonal a = first, b = second;
  a.merge(second);
  b.merge(first);
  BOOST_TEST(a.sequences() == 6);
  BOOST_TEST(std::memcmp(a.sum_squares().data(), b.sum_squares().data(), sizeof(double) * 28) == 0);
  BOOST_TEST(((a.sum_squares() - whole.sum_squares()).cwiseAbs().array() <= 4e-16 * whole.sum_squares().array()).all());
  md brute = md::Zero(4, 7);
  for (const auto& g : gradients) brute += g.cwiseProduct(g);
  BOOST_TEST((whole.sum_squares() - brute).cwiseAbs().maxCoeff() <= 1e-15 * brute.maxCoeff());
  BOOST_TEST((whole.column_scores() - brute.colwise().sum().transpose()).cwiseAbs().maxCoeff() < 1e-15);
  BOOST_CHECK_THROW(a.merge(gift::fisher_diagonal(7, 4)), gift::error);
  BOOST_CHECK_THROW(a.add(normal_double(4, 6, 1)), gift::error);
  md bad = gradients[0];
  bad(3, 3) = INFINITY;
  BOOST_CHECK_THROW(a.add(bad), gift::error);
  BOOST_TEST(a.sequences() == 6);
  BOOST_CHECK_THROW(gift::fisher_diagonal(0, 3), gift::error);
}

BOOST_AUTO_TEST_CASE(top_share_takes_the_largest_entries_with_ties_to_the_lower_index) {
  gift::fisher_diagonal fisher(3, 4);
  md g(3, 4);
  g << 1, 5, 2, 5,  //
      0, 3, 5, 1,   //
      4, 2, 0, 3;
  fisher.add(g);
  // 25 % of 12 = 3 entries: the three 5s (all tied: row-major order decides nothing here).
  BOOST_TEST((fisher.top_share(0.25) == std::vector<position>{{0, 1}, {0, 3}, {1, 2}}));
  // 2 entries: two of the three tied 5s, the lower row-major indices.
  BOOST_TEST((fisher.top_share(0.16) == std::vector<position>{{0, 1}, {0, 3}}));
  BOOST_TEST(fisher.top_share(1.0).size() == 12u);
  // Column masses 17, 38, 29, 35: selection by Fisher keeps columns 1 and 3.
  const auto chosen = gm::select_by_fisher({fisher}, gm::selection_size{2, 0});
  BOOST_TEST(chosen.size() == 1u);
  BOOST_TEST((chosen[0].indices() == std::vector<std::int64_t>{1, 3}));
  BOOST_TEST(gm::select_by_fisher({fisher}, gm::selection_size{0, 0.25})[0].size() == 1u);
  BOOST_CHECK_THROW((void)gm::select_by_fisher({fisher}, gm::selection_size{0, 0}), gift::error);
  BOOST_CHECK_THROW((void)fisher.top_share(0.0), gift::error);
  BOOST_CHECK_THROW((void)fisher.top_share(1.5), gift::error);
}

// In a double synthetic model: each Fisher entry is the sum over sequences of the square of the
// finite-difference derivative of that sequence's mean loss; the model's modules come back.
BOOST_AUTO_TEST_CASE(empirical_fisher_squares_per_sequence_gradients) {
  const auto config = gm::tiny_llama_config();
  auto model = gm::make_synthetic_llama<double>(config, 5);
  gm::token_matrix sequences(3, 6);
  for (Eigen::Index i = 0; i < sequences.size(); ++i) sequences.data()[i] = static_cast<std::int32_t>((7 * i + 2) % config.vocab);
  const auto* before = &model.linear(1, gm::projection::v);
  int calls = 0;
  const auto fisher = gm::empirical_fisher(model, sequences, [&] { ++calls; });
  BOOST_TEST(calls == 3);
  BOOST_TEST(fisher.size() == static_cast<std::size_t>(config.layers * gm::projections_per_block));
  BOOST_TEST(&model.linear(1, gm::projection::v) == before);
  BOOST_TEST(!model.linear(1, gm::projection::v).trainable());
  const int layer = gm::layer_id(1, gm::projection::v);
  BOOST_TEST(fisher[static_cast<std::size_t>(layer)].sequences() == 3);
  const md original = model.linear(1, gm::projection::v).effective_weight();
  for (const position& entry : {position{0, 0}, position{3, 5}, position{7, 20}}) {
    // Named copies, not a structured binding: the lambda below captures them (clang 14 builds the
    // sanitizer run and cannot capture structured bindings).
    const Eigen::Index i = entry.first, j = entry.second;
    double expected = 0;
    for (Eigen::Index s = 0; s < sequences.rows(); ++s) {
      const gm::token_matrix one = sequences.row(s);
      const auto loss_at = [&](double shift) {
        md w = original;
        w(i, j) += shift;
        auto previous = model.replace_linear(1, gm::projection::v, std::make_unique<gm::frozen_linear<double>>(w));
        const double loss = model.evaluate(one).mean();
        model.replace_linear(1, gm::projection::v, std::move(previous));
        return loss;
      };
      const double h = 1e-5, derivative = (loss_at(h) - loss_at(-h)) / (2 * h);
      expected += derivative * derivative;
    }
    const double got = fisher[static_cast<std::size_t>(layer)].sum_squares()(i, j);
    BOOST_TEST(std::abs(got - expected) <= 1e-7 * std::max(expected, 1e-12), "(" << i << ", " << j << "): " << got << " vs " << expected);
  }
  BOOST_CHECK_THROW((void)gm::empirical_fisher(model, gm::token_matrix(0, 6)), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(npft)

namespace {
std::vector<position> some_outliers() { return {{0, 1}, {0, 4}, {0, 7}, {2, 2}, {2, 3}, {5, 8}, {5, 0}}; }
}  // namespace

// The perturbation: only outliers move; per row the noise sums to zero and the noise plus its
// mean lies in [min, max] of the row's outlier values; one draw per steps_per_draw steps, the same
// bits for the same draw; evaluation and the merge use the clean weight.
BOOST_AUTO_TEST_CASE(noise_moves_only_outliers_within_their_row_range) {
  const md base = normal_double(6, 9, 40, 0.3);
  gm::npft_linear<double> module(base, some_outliers(), {4, 9, 2}, gm::lora_options{2, 4.0, 9, 2});
  const md first = module.noisy_weight(0);
  const std::vector<position> listed = some_outliers();
  const std::set<position> outliers(listed.begin(), listed.end());
  for (Eigen::Index i = 0; i < 6; ++i)
    for (Eigen::Index j = 0; j < 9; ++j)
      if (!outliers.count({i, j})) BOOST_TEST(first(i, j) == base(i, j));
  for (const Eigen::Index row : {0, 2, 5}) {
    double sum = 0, low = INFINITY, high = -INFINITY;
    std::vector<double> noise;
    for (const auto& [i, j] : outliers)
      if (i == row) {
        noise.push_back(first(i, j) - base(i, j));
        sum += noise.back();
        low = std::min(low, base(i, j));
        high = std::max(high, base(i, j));
      }
    BOOST_TEST(std::abs(sum) < 1e-14);
    BOOST_TEST(*std::max_element(noise.begin(), noise.end()) - *std::min_element(noise.begin(), noise.end()) <= high - low);
    BOOST_TEST(*std::max_element(noise.begin(), noise.end()) > 0);
  }
  gm::npft_linear<double> half(base, some_outliers(), {4, 9, 2, 0.5}, std::nullopt);
  BOOST_TEST(((half.noisy_weight(0) - base) - 0.5 * (first - base)).cwiseAbs().maxCoeff() < 1e-15);
  BOOST_CHECK_THROW(gm::npft_linear<double>(base, some_outliers(), {4, 9, 2, -1.0}, std::nullopt), gift::error);
  const md again = module.noisy_weight(0);
  BOOST_TEST(std::memcmp(again.data(), first.data(), sizeof(double) * 54) == 0);
  BOOST_TEST((module.noisy_weight(1) - first).cwiseAbs().maxCoeff() > 0);
  // Steps 0..3 are draw 0, step 4 is draw 1: a training forward shows it.
  const md x = normal_double(tokens, 9, 41);
  md y0, y3, y4, eval;
  module.forward(x, y0, {true, 0, false});
  module.forward(x, y3, {true, 3, false});
  module.forward(x, y4, {true, 4, false});
  module.forward(x, eval, {false, 0, false});
  BOOST_TEST((y0 - y3).cwiseAbs().maxCoeff() == 0.0);
  BOOST_TEST((y0 - y4).cwiseAbs().maxCoeff() > 0);
  BOOST_TEST((eval - x * base.transpose()).cwiseAbs().maxCoeff() < 1e-14);  // B = 0: the clean weight
  BOOST_TEST((module.effective_weight() - base).cwiseAbs().maxCoeff() == 0.0);
}

// With the noise on (training forward at a fixed step) the adapter's gradients and dx match central
// differences of the noisy output; the merge is W₀ + s·B·A.
BOOST_AUTO_TEST_CASE(gradients_match_at_the_noisy_weight) {
  const md base = normal_double(6, 9, 42, 0.3);
  gm::npft_linear<double> module(base, some_outliers(), {1, 3, 0}, gm::lora_options{2, 4.0, 3, 0});
  auto& adapter = *module.adapter();
  adapter.b() = normal_double(6, 2, 43, 0.5);
  const md x0 = normal_double(tokens, 9, 44), g = normal_double(tokens, 6, 45);
  md y, dx;
  module.forward(x0, y, {true, 2, true});
  for (auto& p : module.parameters()) std::fill(p.gradient.begin(), p.gradient.end(), 0.0);
  module.backward(g, dx);
  md x = x0;
  const auto noisy_loss = [&] {
    md out;
    module.forward(x, out, {true, 2, false});
    return (out.array() * g.array()).sum();
  };
  for (auto& p : module.parameters()) {
    const std::vector<double> analytic(p.gradient.begin(), p.gradient.end());
    check_entries(p.value, analytic, noisy_loss, p.name.c_str());
  }
  check_entries(span_of(x), {dx.data(), static_cast<std::size_t>(dx.size())}, noisy_loss, "dx");
  BOOST_TEST((module.effective_weight() - (base + adapter.delta_weight())).cwiseAbs().maxCoeff() == 0.0);
  BOOST_TEST(module.trainable_parameters() == gm::lora_parameters(6, 9, 2));
  // Without an adapter the slot only perturbs.
  gm::npft_linear<double> gate(base, some_outliers(), {1, 3, 0}, std::nullopt);
  BOOST_TEST(gate.trainable_parameters() == 0);
  BOOST_TEST(gate.method() == "npft");
  BOOST_CHECK_THROW(gm::npft_linear<double>(base, {{6, 0}}, {1, 0, 0}, std::nullopt), gift::error);
  BOOST_CHECK_THROW(gm::npft_linear<double>(base, {{1, 1}, {1, 1}}, {1, 0, 0}, std::nullopt), gift::error);
  BOOST_CHECK_THROW(gm::npft_linear<double>(base, {{1, 1}}, {0, 0, 0}, std::nullopt), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()

// Both methods in a synthetic model under one AdamW: the loss falls in 12 steps (NPFT with its
// outliers from the empirical Fisher of the batch, noise re-drawn every 4 steps).
BOOST_AUTO_TEST_CASE(svft_and_npft_train_in_the_model) {
  const auto config = gm::tiny_llama_config();
  gift::model::token_matrix batch(2, 8);
  for (Eigen::Index i = 0; i < batch.size(); ++i) batch.data()[i] = static_cast<std::int32_t>((5 * i + 1) % config.vocab);
  for (const std::string method : {"svft", "npft"}) {
    BOOST_TEST_CONTEXT("method " << method) {
      auto model = gm::make_synthetic_llama<float>(config, 3);
      const auto fisher = gm::empirical_fisher(model, batch);
      std::vector<gift::optim::parameter<float>> views;
      for (int b = 0; b < config.layers; ++b) {
        for (gm::projection p : gm::all_projections) {
          const gift::matrix_f w = model.linear(b, p).effective_weight();
          const auto layer = static_cast<std::uint32_t>(gm::layer_id(b, p));
          std::unique_ptr<gm::trainable_linear<float>> module;
          if (method == "svft") {
            module = std::make_unique<gm::svft_linear<float>>(w, pattern(gm::svft_pattern::banded, 1, 1));
          } else {
            module = std::make_unique<gm::npft_linear<float>>(w, fisher[layer].top_share(0.05), gm::npft_options{4, 1, layer},
                                                              gm::lora_options{2, 4.0, 1, layer});
          }
          for (auto& view : module->parameters()) views.push_back(view);
          model.replace_linear(b, p, std::move(module));
        }
      }
      gift::optim::adamw<float> optimizer(views, 0.0);
      double first = 0, last = 0;
      for (int step = 0; step < 12; ++step) {
        optimizer.zero_grad();
        last = model.forward_backward(batch, {true, static_cast<std::uint32_t>(step)}).mean();
        if (step == 0) first = last;
        optimizer.step(3e-2);
      }
      BOOST_TEST(last < first - 0.05, "loss " << first << " -> " << last);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()  // model_peer_methods
