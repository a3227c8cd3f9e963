// gift::pipeline::make_slot on the Thrust host systems: every method with a Thrust module (gift_sw,
// lora, quik_lora, full, svft, npft) computes what the Eigen slot computes — a noisy training
// forward, the backward's input gradient and every parameter's gradient — on the same weight and
// inputs; the methods without one (dora, ste) and the noisy-weight cache are refused by name.
#include <boost/test/unit_test.hpp>
#include <boost/mpl/list.hpp>

#include <gift/backend/thrust.hpp>
#include <gift/error.hpp>
#include <gift/pipeline/methods.hpp>

#include "expect_error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// Every case of this file belongs to the CTest test pipeline_methods_thrust (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(pipeline_methods_thrust)

namespace gp = gift::pipeline;
namespace gm = gift::model;
using thrust_backends = boost::mpl::list<gift::backend::thrust_omp, gift::backend::thrust_cpp>;

namespace {

const Eigen::Index out = 12, in = 10, tokens = 5;

gift::matrix<float> filled(Eigen::Index rows, Eigen::Index cols, int salt) {
  gift::matrix<float> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>((i * 37 + salt * 11) % 23 - 11) / 16.0f;
  return m;
}

// max |a − b| / max(|b|, 1e-30).
double relative(const gift::matrix<float>& a, const gift::matrix<float>& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-30, static_cast<double>(b.cwiseAbs().maxCoeff()));
}

// One training forward (step 2, noise on), a backward of a fixed dy, and what came out, on the host.
struct pass {
  gift::matrix<float> y, dx;
  std::vector<std::vector<float>> gradients;
};

template <class Backend>
pass run(gm::trainable_linear<float, Backend>& slot, const gift::matrix<float>& x, const gift::matrix<float>& dy) {
  using storage = gift::backend_storage<Backend, float>;
  typename storage::matrix y, dx;
  slot.forward(storage::from_host(x), y, gm::forward_context{true, 2, true});
  slot.backward(storage::from_host(dy), dx);
  pass result{storage::to_host(y), storage::to_host(dx), {}};
  // The host systems keep their views in host memory.
  for (const auto& view : slot.parameters()) result.gradients.emplace_back(view.gradient.begin(), view.gradient.end());
  return result;
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(every_thrust_slot_computes_the_eigen_slot, Backend, thrust_backends) {
  const gift::matrix<float> weight = filled(out, in, 1), x = filled(tokens, in, 2), dy = filled(tokens, out, 3);
  const auto salient = gift::salient_columns::from_indices(std::vector<std::int64_t>{2, 7}, static_cast<std::size_t>(in));
  const gift::vector<float> delta = gift::vector<float>::Constant(out, 0.1f);
  gp::method_settings settings;
  settings.adapter.rank = 3;
  settings.seed = 9;
  settings.svft.pattern = gm::svft_pattern::banded;
  const std::vector<std::pair<Eigen::Index, Eigen::Index>> outliers = {{0, 1}, {3, 4}, {11, 9}};
  for (gp::finetune_method method : {gp::finetune_method::gift_sw, gp::finetune_method::lora, gp::finetune_method::quik_lora,
                                     gp::finetune_method::full, gp::finetune_method::svft, gp::finetune_method::npft}) {
    BOOST_TEST_CONTEXT(gp::name_of(method)) {
      settings.method = method;
      const gp::layer_inputs inputs{&salient, &delta, outliers, gm::projection::q};
      auto on_eigen = gp::make_slot(settings, weight, inputs, 4);
      auto on_thrust = gp::make_slot<Backend>(settings, weight, inputs, 4);
      BOOST_TEST(on_thrust->method() == on_eigen->method());
      BOOST_TEST(on_thrust->trainable_parameters() == on_eigen->trainable_parameters());
      const pass expected = run(*on_eigen, x, dy), got = run(*on_thrust, x, dy);
      // The host systems multiply through Eigen on host memory: agreement to fp32 rounding.
      BOOST_TEST(relative(got.y, expected.y) <= 1e-5);
      BOOST_TEST(relative(got.dx, expected.dx) <= 1e-5);
      BOOST_TEST_REQUIRE(got.gradients.size() == expected.gradients.size());
      for (std::size_t p = 0; p < got.gradients.size(); ++p) {
        const auto& a = got.gradients[p];
        const auto& b = expected.gradients[p];
        BOOST_TEST_REQUIRE(a.size() == b.size());
        double worst = 0, scale = 1e-30;
        for (std::size_t i = 0; i < a.size(); ++i) {
          worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
          scale = std::max(scale, static_cast<double>(std::abs(b[i])));
        }
        BOOST_TEST(worst <= 1e-5 * scale, "parameter block " << p);
      }
      BOOST_TEST(relative(on_thrust->effective_weight(), on_eigen->effective_weight()) <= 1e-6);
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(methods_without_a_thrust_module_are_refused_by_name, Backend, thrust_backends) {
  const gift::matrix<float> weight = filled(out, in, 1);
  const auto salient = gift::salient_columns::from_indices(std::vector<std::int64_t>{2}, static_cast<std::size_t>(in));
  const gift::vector<float> delta = gift::vector<float>::Constant(out, 0.1f);
  gp::method_settings settings;
  for (gp::finetune_method method : {gp::finetune_method::dora, gp::finetune_method::ste}) {
    settings.method = method;
    gift_test::expect_error([&] { (void)gp::make_slot<Backend>(settings, weight, {&salient, &delta, {}, gm::projection::q}, 0); },
                            std::string("method ") + std::string(gp::name_of(method)) + " has no module on backend " +
                                Backend::name());
  }
  settings.method = gp::finetune_method::gift_sw;
  settings.noisy_weight_cache = true;
  gift_test::expect_error([&] { (void)gp::make_slot<Backend>(settings, weight, {&salient, &delta, {}, gm::projection::q}, 0); },
                          "noisy_weight_cache) is implemented on backend::eigen only");
}

BOOST_AUTO_TEST_SUITE_END()
