// An ablation sweep on one synthetic layer (no model file needed): metric policies × bit-widths with heavy-tailed
// activation columns. For each pair it selects 3% salient columns, compares them with the
// paper's metric (gift_sw) at the same bit-width, quantizes the rest (4-bit grid search of the
// authors' code, scale over non-salient columns) and reports the layer-output error
// ‖XWᵀ − XŴᵀ‖ / ‖XWᵀ‖ on the calibration activations. The whole-model version on SmolLM2 is
// examples/ablation_sweep.cpp.
#include <gift/metric.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/select.hpp>
#include <gift/fill_standard_normal.hpp>
#include <gift/stats.hpp>
#include <gift/type_list.hpp>

#include <algorithm>
#include <cstdio>
#include <type_traits>

namespace {
using metrics = gift::type_list<gift::gift_sw, gift::quik, gift::owq, gift::wanda_columns,
                                gift::sensitivity<gift::l2, gift::linf, std::ratio<1, 2>, gift::quantization_error<gift::int4>>,
                                gift::sensitivity<gift::linf, gift::l2, std::ratio<1>, gift::weights_perturbation>>;
using bit_widths = gift::type_list<std::integral_constant<int, 2>, std::integral_constant<int, 3>,
                                   std::integral_constant<int, 4>>;

std::size_t overlap(const gift::salient_columns& a, const gift::salient_columns& b) {
  std::size_t common = 0;
  for (std::size_t j = 0; j < a.mask().size(); ++j) common += a.mask()[j] && b.mask()[j];
  return common;
}
}  // namespace

int main() {
  constexpr Eigen::Index out = 512, in = 1024, tokens = 2048;
  // Weights: Gaussian with a few large columns; activations: Gaussian with heavy-tailed columns
  // (Student-t-like: a Gaussian scaled by 1/|Gaussian|, capped) in a fixed 4% of the columns.
  gift::matrix_f w(out, in), x(tokens, in), scale(tokens, in);
  gift::fill_standard_normal(w, gift::noise_key{10, 0, 0});
  gift::fill_standard_normal(x, gift::noise_key{10, 1, 0});
  gift::fill_standard_normal(scale, gift::noise_key{10, 2, 0});
  w *= 0.02f;
  for (Eigen::Index j = 0; j < in; ++j) {
    if (j % 25 == 11) {
      x.col(j) = x.col(j).cwiseQuotient(scale.col(j).cwiseAbs().cwiseMax(0.05f)) * 4.0f;
    }
    if (j % 97 == 5) w.col(j) *= 6.0f;
  }
  gift::activation_stats stats(in);
  stats.update(x);
  const Eigen::MatrixXd reference = x.cast<double>() * w.cast<double>().transpose();
  const gift::fraction share{0.03};

  std::printf("%-58s %4s %9s %12s\n", "metric", "bits", "overlap", "output error");
  gift::for_each_type<bit_widths>([&]<class Bits>() {
    constexpr int bits = Bits::value;
    const auto paper = gift::select_salient(gift::column_sensitivity<gift::gift_sw_at<bits>>(w, stats), share);
    gift::for_each_type<metrics>([&]<class Metric>() {
      using metric = gift::with_bits_t<Metric, bits>;
      const auto salient = gift::select_salient(gift::column_sensitivity<metric>(w, stats), share);
      auto quantized = gift::quantize_symmetric(w, {bits, gift::alpha_search::reference_code(), 0}, salient);
      gift::restore_salient_columns(quantized.dequantized, w, salient);
      const double error =
          (x.cast<double>() * quantized.dequantized.template cast<double>().transpose() - reference).norm() / reference.norm();
      std::printf("%-58s %4d %4zu/%-4zu %12.5f\n", metric::name().c_str(), bits, overlap(salient, paper), paper.size(),
                  error);
    });
  });
  return 0;
}
