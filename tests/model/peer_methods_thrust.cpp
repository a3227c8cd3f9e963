// The peer-method slots (SVFT, NPFT) and LoRA, which NPFT builds on, on the Thrust host systems
// (the code path of the GPU): gradients by central differences in double on Thrust OMP; the same
// bits as the Eigen slot (forward, dx, every parameter gradient, NPFT's perturbation) and on both
// Thrust systems and any thread count; and a synthetic model whose layers are these slots trains on
// Thrust exactly as on Eigen.
#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"
#include "svft_patterns.hpp"
#include "module_check.hpp"

#include <gift/backend/thrust.hpp>
#include <gift/model/empirical_fisher.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/npft_linear.hpp>
#include <gift/model/svft_linear.hpp>
#include <gift/model/synthetic.hpp>
#include <gift/optim/adam.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

// Every case of this file belongs to the CTest test model_peer_methods_thrust (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(model_peer_methods_thrust)

namespace gm = gift::model;
using gift::backend::eigen;
using gift::backend::thrust_cpp;
using gift::backend::thrust_omp;
using md = gift::matrix<double>;
using position = std::pair<Eigen::Index, Eigen::Index>;

namespace {

md normal_double(Eigen::Index rows, Eigen::Index cols, std::uint32_t stream, double scale = 1.0) {
  return gift_test::normal_matrix(rows, cols, stream, static_cast<float>(scale)).cast<double>();
}

template <class Backend, class T>
auto on(const gift::matrix<T>& m) {
  return gift::backend_storage<Backend, T>::from_host(m);
}
template <class Backend, class M>
auto host(const M& m) {
  return gift::backend_storage<Backend, typename M::value_type>::to_host(m);
}

const Eigen::Index tokens = 5;

gm::svft_options pattern(gm::svft_pattern p, int width, std::int64_t k) {
  return gift_test::svft_pattern_options(p, width, k);
}

std::vector<position> some_outliers() { return {{0, 1}, {0, 4}, {0, 7}, {2, 2}, {2, 3}, {5, 8}, {5, 0}}; }

// What one recorded forward and backward(G) of a slot give, on the host.
struct pass {
  md y, dx;
  std::vector<std::vector<double>> gradients;
};

// The slots under test, built alike on any backend from the same host weight (out 6 × in 9).
template <class Backend>
std::vector<std::unique_ptr<gm::trainable_linear<double, Backend>>> slots(const md& weight) {
  std::vector<std::unique_ptr<gm::trainable_linear<double, Backend>>> result;
  result.push_back(std::make_unique<gm::svft_linear<double, Backend>>(weight, pattern(gm::svft_pattern::banded, 1, 1)));
  result.push_back(std::make_unique<gm::svft_linear<double, Backend>>(weight, pattern(gm::svft_pattern::random, 0, 2)));
  result.push_back(std::make_unique<gm::svft_linear<double, Backend>>(weight, pattern(gm::svft_pattern::top_k, 0, 7)));
  result.push_back(std::make_unique<gm::npft_linear<double, Backend>>(weight, some_outliers(), gm::npft_options{1, 3, 0},
                                                                      gm::lora_options{2, 4.0, 3, 0}));
  result.push_back(std::make_unique<gm::lora_linear<double, Backend>>(weight, gm::lora_options{3, 12.0, 77, 5}));
  // Non-zero trained values, the same on every backend, so every gradient path is exercised.
  for (auto& slot : result)
    for (auto& p : slot->parameters())
      for (std::size_t e = 0; e < p.value.size(); ++e) p.value[e] = 0.05 * static_cast<double>(e % 7) - 0.12;
  return result;
}

const char* slot_name(std::size_t s) {
  static const char* names[] = {"svft banded", "svft random", "svft top_k", "npft", "lora"};
  return names[s];
}

// A noisy training forward (step 2) with recording, then backward(G); everything to the host.
template <class Backend>
pass run_once(gm::trainable_linear<double, Backend>& slot, const md& x, const md& g) {
  using matrix_type = typename gm::linear_module<double, Backend>::matrix_type;
  matrix_type y, dx;
  slot.forward(on<Backend>(x), y, {true, 2, true});
  for (auto& p : slot.parameters()) std::fill(p.gradient.begin(), p.gradient.end(), 0.0);
  slot.backward(on<Backend>(g), dx);
  pass result{host<Backend>(y), host<Backend>(dx), {}};
  for (auto& p : slot.parameters()) result.gradients.emplace_back(p.gradient.begin(), p.gradient.end());
  return result;
}

bool same_bits(const pass& a, const pass& b) {
  bool same = gift_test::bit_identical(a.y, b.y) && gift_test::bit_identical(a.dx, b.dx) &&
              a.gradients.size() == b.gradients.size();
  for (std::size_t p = 0; same && p < a.gradients.size(); ++p) same = a.gradients[p] == b.gradients[p];
  return same;
}

}  // namespace

// Every parameter block and dx of every slot on Thrust OMP against central differences in double
// (the noisy forward for NPFT); the merge reproduces the clean forward.
BOOST_AUTO_TEST_CASE(thrust_slots_gradients_match_central_differences) {
  const md weight = normal_double(6, 9, 21, 0.4);
  const md x0 = normal_double(tokens, 9, 22), g = normal_double(tokens, 6, 23);
  auto modules = slots<thrust_omp>(weight);
  for (std::size_t s = 0; s < modules.size(); ++s) {
    auto& slot = *modules[s];
    const pass once = run_once(slot, x0, g);
    md x = x0;
    const auto loss = [&] {
      gift::thrust_matrix<double, gift::backend::system::omp> y;
      slot.forward(on<thrust_omp>(x), y, {true, 2, false});
      return (host<thrust_omp>(y).array() * g.array()).sum();
    };
    std::size_t p = 0;
    for (auto& view : slot.parameters()) {
      BOOST_TEST(std::abs(once.gradients[p][0]) + std::abs(once.gradients[p].back()) > 0.0);
      gift_test::check_entries(view.value, once.gradients[p++], loss, std::string(slot_name(s)) + " " + view.name);
    }
    gift_test::check_entries({x.data(), static_cast<std::size_t>(x.size())}, std::vector<double>(once.dx.data(), once.dx.data() + once.dx.size()),
                  loss, std::string(slot_name(s)) + " dx");
    gift::thrust_matrix<double, gift::backend::system::omp> clean;
    slot.forward(on<thrust_omp>(x0), clean, {false, 0, false});
    BOOST_TEST((x0 * slot.effective_weight().transpose() - host<thrust_omp>(clean)).cwiseAbs().maxCoeff() < 1e-12,
               slot_name(s));
  }
}

// The same bits on Eigen, Thrust OMP and Thrust CPP: forward, dx, every gradient, in float and
// double; NPFT's perturbation draw by draw.
BOOST_AUTO_TEST_CASE(thrust_slots_give_the_eigen_bits) {
  const md weight = normal_double(6, 9, 31, 0.4);
  const md x = normal_double(tokens, 9, 32), g = normal_double(tokens, 6, 33);
  auto reference = slots<eigen>(weight);
  auto omp = slots<thrust_omp>(weight);
  auto cpp = slots<thrust_cpp>(weight);
  for (std::size_t s = 0; s < reference.size(); ++s) {
    const pass r = run_once(*reference[s], x, g), o = run_once(*omp[s], x, g), c = run_once(*cpp[s], x, g);
    BOOST_TEST(same_bits(o, r), slot_name(s) << ": Thrust OMP == Eigen");
    BOOST_TEST(same_bits(c, r), slot_name(s) << ": Thrust CPP == Eigen");
    BOOST_TEST(gift_test::bit_identical(omp[s]->effective_weight(), reference[s]->effective_weight()), slot_name(s));
  }
  gm::npft_linear<double, eigen> npft_eigen(weight, some_outliers(), {1, 9, 4, 0.5}, std::nullopt);
  gm::npft_linear<double, thrust_omp> npft_omp(weight, some_outliers(), {1, 9, 4, 0.5}, std::nullopt);
  for (std::int64_t d : {0, 1, 7}) {
    const md noisy = host<thrust_omp>(npft_omp.noisy_weight(d));
    BOOST_TEST(gift_test::bit_identical(noisy, npft_eigen.noisy_weight(d)), "draw " << d);
    BOOST_TEST((noisy - weight).cwiseAbs().maxCoeff() > 0.0, "draw " << d);
  }
}

#if defined(_OPENMP)
// Thrust OMP at 1, 2 and 3 threads: the same bits.
BOOST_AUTO_TEST_CASE(thrust_slots_bits_do_not_depend_on_the_thread_count) {
  const md weight = normal_double(40, 70, 41, 0.2);
  const md x = normal_double(33, 70, 42), g = normal_double(33, 40, 43);
  const int saved = omp_get_max_threads();
  std::vector<std::vector<pass>> runs;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    std::vector<pass> per_slot;
    std::vector<std::unique_ptr<gm::trainable_linear<double, thrust_omp>>> modules;
    modules.push_back(std::make_unique<gm::svft_linear<double, thrust_omp>>(weight, pattern(gm::svft_pattern::random, 0, 5)));
    modules.push_back(std::make_unique<gm::npft_linear<double, thrust_omp>>(
        weight, std::vector<position>{{0, 3}, {0, 9}, {7, 1}, {7, 60}, {39, 69}, {39, 2}}, gm::npft_options{1, 5, 1},
        gm::lora_options{4, 8.0, 5, 1}));
    for (auto& slot : modules) {
      for (auto& p : slot->parameters())
        for (std::size_t e = 0; e < p.value.size(); ++e) p.value[e] = 0.01 * static_cast<double>(e % 11) - 0.04;
      per_slot.push_back(run_once(*slot, x, g));
    }
    runs.push_back(std::move(per_slot));
  }
  omp_set_num_threads(saved);
  for (std::size_t t = 1; t < runs.size(); ++t)
    for (std::size_t s = 0; s < runs[0].size(); ++s) BOOST_TEST(same_bits(runs[t][s], runs[0][s]), "slot " << s);
}
#endif

// A synthetic model whose layers cycle through SVFT, NPFT (outliers from the empirical Fisher) and
// LoRA, trained 4 steps with AdamW on Eigen and on Thrust OMP: the same losses, bit for bit, and
// the loss falls.
BOOST_AUTO_TEST_CASE(a_model_of_these_slots_trains_the_same_on_thrust) {
  const auto config = gm::tiny_llama_config();
  gm::token_matrix batch(2, 8);
  for (Eigen::Index i = 0; i < batch.size(); ++i) batch.data()[i] = static_cast<std::int32_t>((5 * i + 1) % config.vocab);
  const auto source = gm::make_synthetic_llama<float>(config, 3);
  auto fisher_model = gm::make_synthetic_llama<float>(config, 3);
  const auto fisher = gm::empirical_fisher(fisher_model, batch);
  const auto train = [&]<class Backend>(Backend) {
    auto model = gm::to_backend<Backend>(source);
    std::vector<gift::optim::parameter<float, Backend>> views;
    for (int b = 0; b < config.layers; ++b) {
      for (gm::projection p : gm::all_projections) {
        const gift::matrix_f w = model.linear(b, p).effective_weight();
        const auto layer = static_cast<std::uint32_t>(gm::layer_id(b, p));
        std::unique_ptr<gm::trainable_linear<float, Backend>> module;
        if (layer % 3 == 0) {
          module = std::make_unique<gm::svft_linear<float, Backend>>(w, pattern(gm::svft_pattern::banded, 1, 1));
        } else if (layer % 3 == 1) {
          module = std::make_unique<gm::npft_linear<float, Backend>>(w, fisher[layer].top_share(0.05),
                                                                     gm::npft_options{2, 1, layer, 0.5},
                                                                     gm::lora_options{2, 4.0, 1, layer});
        } else {
          module = std::make_unique<gm::lora_linear<float, Backend>>(w, gm::lora_options{2, 4.0, 1, layer});
        }
        for (auto& view : module->parameters()) views.push_back(view);
        model.replace_linear(b, p, std::move(module));
      }
    }
    gift::optim::adamw<float, Backend> optimizer(views, 0.0);
    std::vector<double> losses;
    for (int step = 0; step < 4; ++step) {
      optimizer.zero_grad();
      losses.push_back(model.forward_backward(batch, {true, static_cast<std::uint32_t>(step)}).mean());
      optimizer.step(3e-2);
    }
    return losses;
  };
  const std::vector<double> on_eigen = train(eigen{});
  const std::vector<double> on_omp = train(thrust_omp{});
  BOOST_TEST(on_omp == on_eigen, boost::test_tools::per_element());
  BOOST_TEST(on_eigen.back() < on_eigen.front(), "loss " << on_eigen.front() << " -> " << on_eigen.back());
}

BOOST_AUTO_TEST_SUITE_END()  // model_peer_methods_thrust
