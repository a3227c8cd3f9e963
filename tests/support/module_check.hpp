// Finite-difference checks of a model slot (gift::model::trainable_linear) in double, shared by
// the tests of the fine-tuning methods: every trained block and the input gradient against central
// differences of L = Σ G ⊙ y, and the merged weight against the module's own forward.
#pragma once

#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

#include <gift/model/trainable_linear.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace gift_test {
namespace gm = gift::model;

using md = gift::matrix<double>;

inline md normal_double(Eigen::Index rows, Eigen::Index cols, std::uint32_t stream, double scale = 1.0) {
  return normal_matrix(rows, cols, stream, static_cast<float>(scale)).cast<double>();
}

// L(module) = Σ G ⊙ y for a fixed G: dL/dy = G, so one backward(G) gives every gradient.
inline double weighted_output(gm::linear_module<double>& module, const md& x, const md& g) {
  md y;
  module.forward(x, y, {false, 0, false});
  return (y.array() * g.array()).sum();
}

// Central differences of `loss` in every entry of `values` against `analytic`.
inline void check_entries(std::span<double> values, std::span<const double> analytic, const std::function<double()>& loss,
                          const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    BOOST_TEST(values.size() == analytic.size());
    for (std::size_t e = 0; e < values.size(); ++e) {
      const double saved = values[e], h = 1e-6;
      values[e] = saved + h;
      const double plus = loss();
      values[e] = saved - h;
      const double minus = loss();
      values[e] = saved;
      const double numeric = (plus - minus) / (2 * h);
      BOOST_TEST(std::abs(numeric - analytic[e]) <= 1e-7 * std::max(1.0, std::abs(numeric)), "entry " << e << ": numeric "
                                                                                                 << numeric << " analytic "
                                                                                                 << analytic[e]);
    }
  }
}

inline std::span<double> span_of(md& m) { return {m.data(), static_cast<std::size_t>(m.size())}; }

// Runs forward (recording) and backward(G); checks every parameter block and dx by central
// differences of L, and that x · effective_weightᵀ reproduces the forward.
inline void check_module(gm::trainable_linear<double>& module, const md& x0, const md& g) {
  md y, dx;
  module.forward(x0, y, {true, 0, true});
  for (auto& p : module.parameters()) std::fill(p.gradient.begin(), p.gradient.end(), 0.0);
  module.backward(g, dx);
  md x = x0;
  const auto loss = [&] { return weighted_output(module, x, g); };
  for (auto& p : module.parameters()) {
    const std::vector<double> analytic(p.gradient.begin(), p.gradient.end());
    BOOST_TEST(*std::max_element(analytic.begin(), analytic.end(), [](double a, double b) { return std::abs(a) < std::abs(b); }) != 0.0);
    check_entries(p.value, analytic, loss, p.name.c_str());
  }
  const std::vector<double> dx_values(dx.data(), dx.data() + dx.size());
  check_entries(span_of(x), dx_values, loss, "dx");
  const md merged = x0 * module.effective_weight().transpose();
  BOOST_TEST((merged - y).cwiseAbs().maxCoeff() < 1e-12);
}

}  // namespace gift_test
