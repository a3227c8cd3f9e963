// gift::pipeline methods: names round-trip; each method's slot trains the count its definition
// gives (GIFT-SW out·k, LoRA r·(in + out), DoRA that + out, full out·in) and, where its trainable
// part starts at zero, computes the layer's own output at first; matching_rank equals a brute-force
// search over every rank; layer_totals_of adds up the layers by hand; missing inputs are refused;
// the noisy-weight cache setting reaches the GIFT-SW layer.
#include <boost/test/unit_test.hpp>

#include <gift/error.hpp>
#include <gift/pipeline/methods.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "pipeline_fixtures.hpp"

// Every case of this file belongs to the CTest test pipeline_methods (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(pipeline_methods)

namespace gp = gift::pipeline;
namespace gm = gift::model;
using pipeline_test::tiny_model;

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (gp::finetune_method m : gp::all_finetune_methods) BOOST_TEST((gp::finetune_method_named(gp::name_of(m)) == m));
  BOOST_TEST(!gp::finetune_method_named("qlora").has_value());
  BOOST_TEST(!gp::finetune_method_named("").has_value());
  BOOST_TEST(gp::uses_salient(gp::finetune_method::ste));
  BOOST_TEST(!gp::uses_salient(gp::finetune_method::lora));
  BOOST_TEST(gp::trains_adapter(gp::finetune_method::npft));
  BOOST_TEST(!gp::uses_adapter(gp::finetune_method::npft));
}

BOOST_AUTO_TEST_CASE(each_slot_trains_its_defined_count) {
  const Eigen::Index out = 12, in = 10;
  gift::matrix<float> weight(out, in);
  for (Eigen::Index i = 0; i < weight.size(); ++i) weight.data()[i] = static_cast<float>((i * 37) % 23 - 11) / 16.0f;
  const auto salient = gift::salient_columns::from_indices(std::vector<std::int64_t>{2, 7}, static_cast<std::size_t>(in));
  const gift::vector<float> delta = gift::vector<float>::Constant(out, 0.1f);
  gp::method_settings settings;
  settings.adapter.rank = 3;
  const std::int64_t rank = 3;
  const std::vector<std::pair<gp::finetune_method, std::int64_t>> expected = {
      {gp::finetune_method::gift_sw, out * 2},
      {gp::finetune_method::lora, rank * (in + out)},
      {gp::finetune_method::quik_lora, rank * (in + out)},
      {gp::finetune_method::dora, rank * (in + out) + out},
      {gp::finetune_method::full, out * in}};
  gift::matrix<float> x(4, in);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 13) % 7 - 3) / 4.0f;
  const gift::matrix<float> reference = x * weight.transpose();
  for (const auto& [method, count] : expected) {
    settings.method = method;
    auto slot = gp::make_slot(settings, weight, {&salient, &delta, {}, gm::projection::q}, 5);
    BOOST_TEST(slot->trainable_parameters() == count, gp::name_of(method));
    // LoRA's B starts at zero, DoRA's magnitude at the column norms, GIFT-SW and full at the weight:
    // before any step each computes the layer's own output (evaluation: no noise).
    gift::matrix<float> y(x.rows(), out);
    slot->forward(x, y, gm::forward_context{});
    BOOST_TEST((y - reference).cwiseAbs().maxCoeff() <= 1e-5f * reference.cwiseAbs().maxCoeff(), gp::name_of(method));
  }
}

BOOST_AUTO_TEST_CASE(the_noisy_weight_cache_reaches_the_gift_sw_layer) {
  const Eigen::Index out = 6, in = 8;
  const gift::matrix<float> weight = gift::matrix<float>::Constant(out, in, 0.25f);
  const auto salient = gift::salient_columns::from_indices(std::vector<std::int64_t>{1}, static_cast<std::size_t>(in));
  const gift::vector<float> delta = gift::vector<float>::Constant(out, 0.1f);
  for (const bool cache : {false, true}) {
    gp::method_settings settings;
    settings.noisy_weight_cache = cache;
    auto slot = gp::make_slot(settings, weight, {&salient, &delta, {}, gm::projection::q}, 0);
    auto* gift_sw = dynamic_cast<gm::gift_sw_linear<float>*>(slot.get());
    BOOST_TEST_REQUIRE(gift_sw != nullptr);
    BOOST_TEST(gift_sw->layer().noisy_weight_cache() == cache);
  }
}

BOOST_AUTO_TEST_CASE(matching_rank_is_the_brute_force_nearest) {
  auto model = tiny_model<gift::backend::eigen>(51);
  for (const std::int64_t k : {1, 2, 5}) {
    const gp::layer_totals totals = gp::layer_totals_of(model, [&](int, gm::projection) { return k; });
    // By hand: the tiny model's layers.
    gp::layer_totals by_hand;
    by_hand.max_rank = 1 << 30;
    for (int b = 0; b < model.config().layers; ++b)
      for (gm::projection p : gm::all_projections) {
        const std::int64_t o = model.linear(b, p).out_features(), i = model.linear(b, p).in_features();
        by_hand.salient_weights += o * k;
        by_hand.in_plus_out += i + o;
        by_hand.outs += o;
        by_hand.max_rank = std::min(by_hand.max_rank, std::min(i, o));
      }
    BOOST_TEST(totals.salient_weights == by_hand.salient_weights);
    BOOST_TEST(totals.in_plus_out == by_hand.in_plus_out);
    BOOST_TEST(totals.outs == by_hand.outs);
    BOOST_TEST(totals.max_rank == by_hand.max_rank);
    for (gp::finetune_method m : {gp::finetune_method::lora, gp::finetune_method::dora}) {
      const std::int64_t fixed = m == gp::finetune_method::dora ? totals.outs : 0;
      std::int64_t best = 1;
      for (std::int64_t r = 1; r <= totals.max_rank; ++r)
        if (std::llabs(r * totals.in_plus_out + fixed - totals.salient_weights) <
            std::llabs(best * totals.in_plus_out + fixed - totals.salient_weights))
          best = r;
      BOOST_TEST(gp::matching_rank(m, totals) == best, gp::name_of(m) << " k=" << k);
    }
  }
  const gp::layer_totals none = gp::layer_totals_of(model, {});
  BOOST_TEST(none.salient_weights == 0);
  BOOST_CHECK_THROW((void)gp::matching_rank(gp::finetune_method::lora, none), gift::error);
}

BOOST_AUTO_TEST_CASE(missing_inputs_are_named) {
  const gift::matrix<float> weight = gift::matrix<float>::Ones(4, 6);
  gp::method_settings settings;
  settings.method = gp::finetune_method::ste;
  try {
    (void)gp::make_slot(settings, weight, {}, 0);
    BOOST_FAIL("make_slot accepted STE without salient columns");
  } catch (const gift::error& e) {
    BOOST_TEST(std::string(e.what()).find("method ste needs the layer's salient (layer_inputs::salient)") !=
               std::string::npos, e.what());
  }
  settings.method = gp::finetune_method::gift_sw;
  const auto salient = gift::salient_columns::from_indices(std::vector<std::int64_t>{1}, 6);
  try {
    (void)gp::make_slot(settings, weight, {&salient, nullptr, {}, gm::projection::q}, 0);
    BOOST_FAIL("make_slot accepted GIFT-SW without the rows' steps");
  } catch (const gift::error& e) {
    BOOST_TEST(std::string(e.what()).find("method gift_sw needs the layer's delta (layer_inputs::delta)") !=
               std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
