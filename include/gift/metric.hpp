#pragma once
/// \file gift/metric.hpp
/// \brief Column sensitivity metrics as compile-time policies:
/// `s_j = ‖D_j‖_τ^δ · ‖X_j‖_ρ^γ`, and `gift::column_sensitivity<Metric>(weights, stats)`.
///
/// `D` is the perturbation: the quantization error `W − Q(W)` (`quantization_error<Quantizer>`,
/// the paper's choice), the weights themselves (`weights_perturbation`, pruning as in Wanda) or
/// nothing (`no_perturbation`: activations only). τ and ρ are norm policies (`l1`, `l2`, `linf`,
/// `lp<P>`); γ and δ are `std::ratio` exponents (δ defaults to 1 and is printed only when it is
/// not). Presets:
///
/// | preset          | τ    | ρ    | γ | δ | D                  | score                      |
/// |-----------------|------|------|---|---|--------------------|----------------------------|
/// | `gift_sw`       | ∞    | ∞    | 1 | 1 | W − Q₄(W)          | ‖D_j‖_∞ · ‖X_j‖_∞          |
/// | `quik`          | –    | ∞    | 1 | – | none               | ‖X_j‖_∞                    |
/// | `owq`           | 2    | 2    | 2 | 2 | W − Q₄(W)          | ‖D_j‖₂² · ‖X_j‖₂²          |
/// | `wanda_columns` | 1    | 2    | 1 | 1 | W                  | ‖W_j‖₁ · ‖X_j‖₂            |
///
/// `smoothquant` is `quik`. `gift_sw_at<B>` and `owq_at<B>` take the bit-width, and
/// `with_bits_t<Metric, B>` rebinds any metric's quantizer (for sweeps over bit-widths).
///
/// The quantization error uses the quantizer's own scales over all columns (the salient columns
/// are what is being decided): one per row, or one per group of columns when the run-time
/// quantizer has a `group_size` (the group-wise quantizer a model is then quantized with),
/// computed first; a second pass folds the error into per-column norms. Neither pass forms an `out × in` temporary.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/metric.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/norm.hpp>
#include <gift/detail/metric.hpp>
#include <gift/quant/quantizer.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/stats.hpp>

#include <cmath>
#include <cstdint>
#include <ratio>
#include <string>
#include <type_traits>
#include <vector>

namespace gift {

/// A positive `std::ratio`, used as an exponent.
template <class R>
concept exponent_ratio = requires {
  { R::num } -> std::convertible_to<std::intmax_t>;
  { R::den } -> std::convertible_to<std::intmax_t>;
} && std::is_same_v<R, std::ratio<R::num, R::den>> && (R::num > 0);

/// Perturbation `D = W − Q(W)` for the quantizer policy `Quantizer`.
template <quantizer_policy Quantizer>
struct quantization_error {
  /// The quantizer policy whose error `W − Q(W)` is the perturbation.
  using quantizer = Quantizer;
  /// Printable name for sweep logs, e.g. `quant_error<int4>`.
  static std::string name() { return gift::detail::concat("quant_error<", Quantizer::name(), ">"); }
};

/// Perturbation `D = W` (removing the column, as pruning metrics do).
struct weights_perturbation {
  /// Printable name for sweep logs: `weights`.
  static std::string name() { return "weights"; }
};

/// No perturbation: the score depends on the activations only.
struct no_perturbation {
  /// Printable name for sweep logs: `none`.
  static std::string name() { return "none"; }
};

/// Short names for the perturbations: `perturbation::weights`, `perturbation::none`.
namespace perturbation {
/// Short name for `gift::weights_perturbation`.
using weights = weights_perturbation;
/// Short name for `gift::no_perturbation`.
using none = no_perturbation;
/// Short name for `gift::quantization_error<Quantizer>`.
template <quantizer_policy Quantizer>
using quantization_error = gift::quantization_error<Quantizer>;
}  // namespace perturbation

namespace detail {
template <class P>
struct is_quantization_error : std::false_type {};
template <class Q>
struct is_quantization_error<quantization_error<Q>> : std::true_type {};
}  // namespace detail

/// A perturbation policy: one of the three above.
template <class P>
concept perturbation_policy = std::is_same_v<P, weights_perturbation> || std::is_same_v<P, no_perturbation> ||
                              detail::is_quantization_error<P>::value;

namespace detail {
template <exponent_ratio R>
std::string ratio_name() {
  return gift::detail::concat(R::num, "/", R::den);
}

/// `x^(num/den)`, with the common exponents exact or single-rounded.
template <exponent_ratio R>
double ratio_power(double x) {
  if constexpr (R::num == 1 && R::den == 1) {
    return x;
  } else if constexpr (R::num == 2 && R::den == 1) {
    return x * x;
  } else if constexpr (R::num == 1 && R::den == 2) {
    return std::sqrt(x);
  } else {
    return std::pow(x, static_cast<double>(R::num) / static_cast<double>(R::den));
  }
}
}  // namespace detail

/// The sensitivity `s_j = ‖D_j‖_Tau^Delta · ‖X_j‖_Rho^Gamma` of column j.
template <norm_policy Tau, norm_policy Rho, exponent_ratio Gamma, perturbation_policy Perturbation,
          exponent_ratio Delta = std::ratio<1>>
struct sensitivity {
  using tau = Tau;                    ///< Norm τ of the perturbation column `D_j`.
  using rho = Rho;                    ///< Norm ρ of the activation column `X_j`.
  using gamma = Gamma;                ///< Exponent γ of the activation norm.
  using perturbation = Perturbation;  ///< The perturbation `D`.
  using delta = Delta;                ///< Exponent δ of the perturbation norm.
  /// Printable name for sweep logs, e.g. `sensitivity<linf,linf,1/1,quant_error<int4>>`.
  static std::string name() {
    // Built with concat: chains of std::string + trip GCC 12's false -Wrestrict (bug 105329).
    std::string delta;
    if constexpr (!(Delta::num == 1 && Delta::den == 1)) delta = gift::detail::concat(",", detail::ratio_name<Delta>());
    return gift::detail::concat("sensitivity<", Tau::name(), ",", Rho::name(), ",", detail::ratio_name<Gamma>(), ",",
                                Perturbation::name(), delta, ">");
  }
};

namespace detail {
template <class M>
struct is_sensitivity : std::false_type {};
template <class Tau, class Rho, class Gamma, class P, class Delta>
struct is_sensitivity<sensitivity<Tau, Rho, Gamma, P, Delta>> : std::true_type {};
}  // namespace detail

/// A metric policy: an instantiation of `gift::sensitivity`.
template <class M>
concept sensitivity_metric = detail::is_sensitivity<M>::value;

/// The paper's metric at `Bits` bits: ‖W_j − Q(W_j)‖_∞ · ‖X_j‖_∞.
template <int Bits>
using gift_sw_at = sensitivity<linf, linf, std::ratio<1>, quantization_error<symmetric<Bits>>>;
/// The paper's metric at the default 4 bits.
using gift_sw = gift_sw_at<default_bits>;
/// QUIK: activation maximum only, ‖X_j‖_∞.
using quik = sensitivity<linf, linf, std::ratio<1>, no_perturbation>;
/// SmoothQuant's outlier criterion, the same as QUIK's.
using smoothquant = quik;
/// OWQ at `Bits` bits: ‖X_j‖₂² · ‖W_j − Q(W_j)‖₂² (H_jj times the column's squared error).
template <int Bits>
using owq_at = sensitivity<l2, l2, std::ratio<2>, quantization_error<symmetric<Bits>>, std::ratio<2>>;
/// OWQ at the default 4 bits.
using owq = owq_at<default_bits>;
/// Wanda's score summed over a column: ‖W_j‖₁ · ‖X_j‖₂.
using wanda_columns = sensitivity<l1, l2, std::ratio<1>, weights_perturbation>;

namespace detail {
template <class Metric, int Bits>
struct with_bits {
  using type = Metric;
};
template <class Tau, class Rho, class Gamma, int B, class Search, class Delta, int Bits>
struct with_bits<sensitivity<Tau, Rho, Gamma, quantization_error<symmetric<B, Search>>, Delta>, Bits> {
  using type = sensitivity<Tau, Rho, Gamma, quantization_error<symmetric<Bits, Search>>, Delta>;
};
}  // namespace detail

/// `Metric` with its quantizer at `Bits` bits; metrics without a quantizer are unchanged.
template <sensitivity_metric Metric, int Bits>
using with_bits_t = typename detail::with_bits<Metric, Bits>::type;

template <sensitivity_metric Metric, backend_tag Backend, matrix_shaped Weights>
gift::vector<double> column_sensitivity(Backend tag, const Weights& weights, const activation_stats& stats,
                                        const symmetric_options& quantizer);

/// The sensitivity `s_j` of every input column of a layer with weights `weights` (out × in) and
/// calibration statistics `stats` (in columns), computed on `tag`'s backend. Returns the scores
/// on the host, in double; equal inputs give the same bits on every backend.
/// \throws gift::error for empty or non-finite weights, statistics of another width or without
/// tokens, or `lp<P>` activation norms not tracked by `stats`.
template <sensitivity_metric Metric, backend_tag Backend, matrix_shaped Weights>
gift::vector<double> column_sensitivity(Backend tag, const Weights& weights, const activation_stats& stats) {
  if constexpr (requires { typename Metric::perturbation::quantizer; }) {
    using quantizer = typename Metric::perturbation::quantizer;
    return column_sensitivity<Metric>(tag, weights, stats,
                                      symmetric_options{quantizer::bits, quantizer::search_policy::make(), 0});
  } else {
    return column_sensitivity<Metric>(tag, weights, stats, symmetric_options{});
  }
}

/// As above, with the quantizer behind a quantization-error `D` given at run time — bit-width and
/// α search, group size — in place of the metric's compile-time one: for a command line or a
/// sweep that picks the quantizer when it runs (`gift select --bits 2 --group-size 64`). With
/// group size 0 the result equals that of the metric rebound to the same quantizer at compile
/// time; with groups, D is the error of `quantize_symmetric` with the same options. Metrics whose
/// `D` is not a quantization error ignore `quantizer`.
/// \throws gift::error as above, and for bits outside 2..8.
template <sensitivity_metric Metric, backend_tag Backend, matrix_shaped Weights>
gift::vector<double> column_sensitivity(Backend tag, const Weights& weights, const activation_stats& stats,
                                        const symmetric_options& quantizer) {
  constexpr const char* where = "gift::column_sensitivity";
  const auto rows = static_cast<std::size_t>(weights.rows()), cols = static_cast<std::size_t>(weights.cols());
  detail::require_weights_shape(rows, cols, where);
  detail::require(stats.columns() == cols, where, ": the activation statistics have ", stats.columns(),
                  " columns, but the weights have ", cols,
                  " input columns; pass the statistics collected at this layer's input");
  detail::require(stats.token_count() > 0, where,
                  ": the activation statistics hold no tokens; run calibration batches through update() first");
  using P = typename Metric::perturbation;
  const gift::vector<double> activation = stats.norm<typename Metric::rho>();
  gift::vector<double> scores(static_cast<Eigen::Index>(cols));
  if constexpr (std::is_same_v<P, no_perturbation>) {
    // The scores ignore the weights, but a layer with NaN or Inf weights is broken whatever its
    // salient columns: refuse it as the metrics that read the weights do (one pass, any backend).
    (void)backend::dispatch<ops::weight_column_norms<l1>>(tag, weights);
    for (std::size_t j = 0; j < cols; ++j) {
      const auto i = static_cast<Eigen::Index>(j);
      scores(i) = detail::ratio_power<typename Metric::gamma>(activation(i));
    }
    return scores;
  } else {
    std::vector<double> perturbation(cols);
    if constexpr (std::is_same_v<P, weights_perturbation>) {
      perturbation = backend::dispatch<ops::weight_column_norms<typename Metric::tau>>(tag, weights);
    } else {
      const detail::symmetric_plan plan = detail::symmetric_plan_of(quantizer, "gift::column_sensitivity");
      perturbation = backend::dispatch<ops::quantization_error_norms<typename Metric::tau>>(
          tag, std::type_identity<symmetric_quantized_t<Weights>>{}, weights, plan);
    }
    for (std::size_t j = 0; j < cols; ++j) {
      const auto i = static_cast<Eigen::Index>(j);
      scores(i) = detail::ratio_power<typename Metric::delta>(perturbation[j]) *
                  detail::ratio_power<typename Metric::gamma>(activation(i));
    }
    return scores;
  }
}

/// As above, on the backend the weights' type implies.
template <sensitivity_metric Metric, matrix_shaped Weights>
  requires(!backend_tag<Weights>)
gift::vector<double> column_sensitivity(const Weights& weights, const activation_stats& stats) {
  return column_sensitivity<Metric>(backend_for_t<Weights>{}, weights, stats);
}

/// As above, with the backend tag last.
template <sensitivity_metric Metric, matrix_shaped Weights, backend_tag Backend>
  requires(!backend_tag<Weights>)
gift::vector<double> column_sensitivity(const Weights& weights, const activation_stats& stats, Backend tag) {
  return column_sensitivity<Metric>(tag, weights, stats);
}

/// The run-time quantizer overload on the backend the weights' type implies.
template <sensitivity_metric Metric, matrix_shaped Weights>
  requires(!backend_tag<Weights>)
gift::vector<double> column_sensitivity(const Weights& weights, const activation_stats& stats,
                                        const symmetric_options& quantizer) {
  return column_sensitivity<Metric>(backend_for_t<Weights>{}, weights, stats, quantizer);
}

}  // namespace gift
