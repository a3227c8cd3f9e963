#pragma once
/// \file gift/model/metric_sweep.hpp
/// \brief The library-level research harness: activation statistics of every linear layer of a
/// model, salient columns of the whole model under a metric policy, and `metric_sweep` — one
/// selection per metric of a `gift::type_list`, handed to the caller's cell.
///
/// \code
/// using metrics = gift::type_list<gift::gift_sw, gift::quik, gift::owq>;
/// auto stats = gift::model::collect_activation_stats(model, calibration_batches);
/// gift::model::metric_sweep<metrics>(model, stats, {3, gift::alpha_search::paper_grid()}, {.k = 16},
///     [&]<class Metric>(const gift::model::model_selection& salient) {
///       // quantize with `salient` kept, evaluate, print Metric::name() ...
///     });
/// \endcode
/// The metric is a template parameter all the way down: each metric of the list is its own
/// instantiation of `gift::column_sensitivity`, as in a hand-written loop. The quantizer behind
/// a quantization-error `D` is passed at run time (bit-width and α search), so one list serves
/// every bit-width.

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/metric.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/quant/options.hpp>
#include <gift/salient_columns.hpp>
#include <gift/select.hpp>
#include <gift/stats.hpp>
#include <gift/type_list.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

namespace gift::model {

/// Salient columns of every linear layer, indexed by `layer_id(block, p)`.
using model_selection = std::vector<salient_columns>;

/// How many columns of each layer are salient: `k` when positive, else `fraction` of the layer's
/// inputs (rounded as `gift::select_salient` rounds it).
struct selection_size {
  std::int64_t k = 0;         ///< columns per layer (0: use `fraction`)
  double fraction = 0.03125;  ///< share of the inputs (the paper's 128 of 4096)
};

/// Activation statistics of every linear layer (indexed by layer id) over `batches` of tokens run
/// through `model` in evaluation mode. Layers that share an input (q/k/v, gate/up) get equal
/// statistics. The model's calibration hook is restored afterwards.
/// \throws gift::error when `batches` is empty (or what the model throws for bad tokens).
template <std::floating_point T>
[[nodiscard]] std::vector<activation_stats> collect_activation_stats(llama_model<T>& model,
                                                                     const std::vector<token_matrix>& batches) {
  gift::detail::require(!batches.empty(), "gift::model::collect_activation_stats: argument 'batches' is empty; ",
                        "pass at least one token batch");
  std::vector<activation_stats> stats;
  const int layers = model.config().layers;
  stats.reserve(static_cast<std::size_t>(layers * projections_per_block));
  for (int b = 0; b < layers; ++b)
    for (projection p : all_projections) stats.emplace_back(static_cast<std::size_t>(model.linear(b, p).in_features()));
  model.set_calibration_hook([&](int block, projection p, const matrix<T>& input) {
    const matrix<float> x = input.template cast<float>();
    stats[static_cast<std::size_t>(layer_id(block, p))].update(x);
  });
  try {
    for (const auto& batch : batches) (void)model.logits(batch);
  } catch (...) {
    model.set_calibration_hook({});
    throw;
  }
  model.set_calibration_hook({});
  return stats;
}

/// The salient columns of every linear layer of `model` under `Metric`:
/// `select_salient(column_sensitivity<Metric>(W, stats_of(block, p), d_quantizer), size)`.
/// `stats_of(block, p)` returns the layer's `activation_stats` (a `std::vector` from
/// `collect_activation_stats` works too: see the overload below); `on_layer()` runs after each
/// layer (a progress bar). Any backend: the scores are computed on the host from each layer's
/// `effective_weight()`, so a Thrust or CUDA model selects exactly the columns its Eigen copy would.
template <sensitivity_metric Metric, std::floating_point T, backend_tag Backend, class StatsOf>
  requires std::invocable<StatsOf&, int, projection>
[[nodiscard]] model_selection select_model_salient(const llama_model<T, Backend>& model, StatsOf&& stats_of,
                                                   const symmetric_options& d_quantizer, const selection_size& size,
                                                   const std::function<void()>& on_layer = {}) {
  gift::detail::require(size.k > 0 || (size.fraction > 0 && size.fraction <= 1), "gift::model::select_model_salient: ",
                        "argument 'size' must have k > 0 or a fraction in (0, 1], but has k = ", size.k,
                        " and fraction = ", size.fraction);
  model_selection selection;
  for (int b = 0; b < model.config().layers; ++b) {
    for (projection p : all_projections) {
      const matrix<float> weight = model.linear(b, p).effective_weight().template cast<float>();
      const auto& stats = stats_of(b, p);
      const gift::vector<double> scores = column_sensitivity<Metric>(weight, stats, d_quantizer);
      selection.push_back(size.k > 0 ? select_salient(scores, size.k) : select_salient(scores, fraction{size.fraction}));
      if (on_layer) on_layer();
    }
  }
  return selection;
}

/// As above, with the statistics of `collect_activation_stats`.
/// \throws gift::error when `stats` does not hold one entry per linear layer.
template <sensitivity_metric Metric, std::floating_point T, backend_tag Backend>
[[nodiscard]] model_selection select_model_salient(const llama_model<T, Backend>& model, const std::vector<activation_stats>& stats,
                                                   const symmetric_options& d_quantizer, const selection_size& size) {
  const auto layers = static_cast<std::size_t>(model.config().layers * projections_per_block);
  gift::detail::require(stats.size() == layers, "gift::model::select_model_salient: argument 'stats' must hold ", layers,
                        " entries (one per linear layer), but holds ", stats.size());
  return select_model_salient<Metric>(
      model, [&](int block, projection p) -> const activation_stats& {
        return stats[static_cast<std::size_t>(layer_id(block, p))];
      },
      d_quantizer, size);
}

/// The harness: for every metric of `Metrics` (a `gift::type_list` of metric policies), in
/// order, selects the model's salient columns with it and calls
/// `cell.template operator()<Metric>(selection)` — with a generic lambda,
/// `[&]<class Metric>(const model_selection& salient) { ... }`. What a cell does with the
/// selection (quantize, fine-tune, evaluate) is the caller's.
template <type_list_like Metrics, std::floating_point T, class Cell>
void metric_sweep(const llama_model<T>& model, const std::vector<activation_stats>& stats,
                  const symmetric_options& d_quantizer, const selection_size& size, Cell&& cell) {
  for_each_type<Metrics>([&]<class Metric>() {
    static_assert(sensitivity_metric<Metric>, "gift::model::metric_sweep: every type of Metrics must be a "
                                              "gift::sensitivity<...> metric policy");
    cell.template operator()<Metric>(select_model_salient<Metric>(model, stats, d_quantizer, size));
  });
}

}  // namespace gift::model
