#pragma once
/// \file gift/pipeline/methods.hpp
/// \brief The fine-tuning methods gift compares — GIFT-SW and its baselines (LoRA, DoRA, full,
/// STE, QUIK + LoRA, SVFT, NPFT) — as one choice: what each puts into a model's linear layer
/// (`make_slot`), its trainable count, and the adapter rank whose count matches GIFT-SW's
/// (`matching_rank`), so research code sets up any arm of a comparison the way `gift finetune`
/// does.
///
/// \code
/// gift::pipeline::method_settings settings;
/// settings.method = gift::pipeline::finetune_method::lora;
/// settings.adapter.rank = gift::pipeline::matching_rank(settings.method, gift::pipeline::layer_totals_of(model, salient_of));
/// std::vector<gift::optim::parameter<float>> parameters;
/// for (int b = 0; b < model.config().layers; ++b)
///   for (gift::model::projection p : gift::model::all_projections) {
///     auto slot = gift::pipeline::make_slot(settings, model.linear(b, p).effective_weight(), {},
///                                           static_cast<std::uint32_t>(gift::model::layer_id(b, p)));
///     for (auto& view : slot->parameters()) parameters.push_back(view);
///     model.replace_linear(b, p, std::move(slot));
///   }
/// \endcode

#include <gift/backend/tags.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/model/dora_linear.hpp>
#include <gift/model/full_linear.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/npft_linear.hpp>
#include <gift/model/ste_linear.hpp>
#include <gift/model/svft_linear.hpp>
#include <gift/stored_weight.hpp>
#include <gift/salient_columns.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gift::pipeline {

/// Which module replaces every linear layer.
enum class finetune_method {
  gift_sw,    ///< salient columns trained, the rest frozen under quantization-scaled noise (`model::gift_sw_linear`)
  lora,       ///< low-rank adapter on the frozen weight (`model::lora_linear`)
  dora,       ///< weight-decomposed low-rank adapter (`model::dora_linear`)
  full,       ///< every weight trained (`model::full_linear`)
  ste,        ///< quantization-aware training with a straight-through estimator (`model::ste_linear`)
  quik_lora,  ///< LoRA on a QUIK-quantized model (the same module as lora; the weights differ)
  svft,       ///< singular-vector fine-tuning (`model::svft_linear`)
  npft,       ///< noisy perturbation fine-tuning: LoRA with outliers perturbed (`model::npft_linear`)
};

/// Every method, in declaration order.
inline constexpr std::array<finetune_method, 8> all_finetune_methods = {
    finetune_method::gift_sw, finetune_method::lora, finetune_method::dora,      finetune_method::full,
    finetune_method::ste,     finetune_method::quik_lora, finetune_method::svft, finetune_method::npft};

/// The method's name ("gift_sw", "lora", ..., "npft"): how gift's tools and results spell it.
[[nodiscard]] constexpr std::string_view name_of(finetune_method method) noexcept {
  constexpr std::array<std::string_view, 8> names = {"gift_sw", "lora", "dora", "full", "ste", "quik_lora", "svft", "npft"};
  return names[static_cast<std::size_t>(method)];
}

/// The method named `name` (as `name_of` spells it), or nothing.
[[nodiscard]] constexpr std::optional<finetune_method> finetune_method_named(std::string_view name) noexcept {
  for (finetune_method m : all_finetune_methods)
    if (name_of(m) == name) return m;
  return std::nullopt;
}

/// Whether the method's trainable count is a low-rank adapter's (so a rank can match GIFT-SW's).
[[nodiscard]] constexpr bool uses_adapter(finetune_method m) noexcept {
  return m == finetune_method::lora || m == finetune_method::dora || m == finetune_method::quik_lora;
}
/// Whether the method trains a LoRA adapter at all (so `lora_options` rank and α apply).
[[nodiscard]] constexpr bool trains_adapter(finetune_method m) noexcept {
  return uses_adapter(m) || m == finetune_method::npft;
}
/// Whether the method needs each layer's salient columns and steps Δ (GIFT-SW trains the columns
/// under noise scaled by Δ; STE keeps them in full precision on Δ's grid).
[[nodiscard]] constexpr bool uses_salient(finetune_method m) noexcept {
  return m == finetune_method::gift_sw || m == finetune_method::ste;
}
/// NPFT's LoRA goes on q, k, v, o, up and down; ffn_gate is only perturbed (the authors' choice).
[[nodiscard]] constexpr bool npft_adapts(model::projection p) noexcept { return p != model::projection::gate; }

/// Everything a method's module needs beyond the layer's weight.
struct method_settings {
  finetune_method method = finetune_method::gift_sw;  ///< which module
  model::lora_options adapter;  ///< rank and α (seed and layer are filled per layer)
  int bits = 4;                 ///< STE's grid (GIFT-SW's noise takes Δ instead)
  std::uint64_t seed = 0;       ///< noise (GIFT-SW, NPFT) and adapters' initialisation (LoRA, DoRA, SVFT)
  model::svft_options svft;     ///< SVFT's pattern (seed and layer are filled per layer)
  std::int64_t npft_steps_per_draw = 1;  ///< NPFT: steps between re-draws of the perturbation
  double npft_noise_scale = 1;           ///< NPFT: multiplies the perturbation
  /// GIFT-SW: keep each layer's noisy weight W̃ from forward to backward instead of generating
  /// the noise twice (`nn::gift_linear::set_noisy_weight_cache`): the same bits, faster, for as
  /// many more bytes as the model's linear weights.
  bool noisy_weight_cache = false;
  /// GIFT-SW: how each layer's frozen weight is held (`gift::weight_storage::bf16`: half the memory,
  /// rounded once; the salient block, noise and products stay fp32). The other methods take f32.
  gift::weight_storage storage = gift::weight_storage::f32;
};

/// What a method needs of one layer beyond its weight.
struct layer_inputs {
  const salient_columns* salient = nullptr;    ///< GIFT-SW's / STE's salient columns
  const gift::vector<float>* delta = nullptr;  ///< GIFT-SW's noise scale, STE's grid: one step per row
  std::vector<std::pair<Eigen::Index, Eigen::Index>> outliers;  ///< NPFT's perturbed entries (row, column)
  model::projection projection = model::projection::q;          ///< which of the block's layers
};

/// The module of `settings.method` for one layer whose current dense weight is `weight`; `layer`
/// is its `model::layer_id` (it keys the noise and the adapters' initialisation). The module
/// computes on `Backend`: Eigen (default) has every method; a Thrust system (with
/// <gift/backend/thrust.hpp>) has gift_sw, lora, quik_lora, full, svft and npft, with the Eigen
/// module's numbers.
/// \throws gift::error when GIFT-SW or STE get no salient columns or Δ, when a method other than
/// GIFT-SW is asked for bf16 storage, when `Backend` has no module for the method (dora, ste) or
/// no noisy-weight cache, or what the module's constructor throws (a rank above the layer's
/// width, bf16 storage off Eigen, ...).
template <backend_tag Backend = backend::eigen>
[[nodiscard]] std::unique_ptr<model::trainable_linear<float, Backend>> make_slot(const method_settings& settings,
                                                                               const gift::matrix<float>& weight,
                                                                               layer_inputs inputs, std::uint32_t layer) {
  constexpr bool on_eigen = std::is_same_v<Backend, backend::eigen>;
  model::lora_options adapter = settings.adapter;
  adapter.seed = settings.seed;
  adapter.layer = layer;
  // GIFT-SW and STE read the salient columns and Δ: checked in this order, before either is used.
  if (uses_salient(settings.method)) {
    for (const auto& [given, what] : {std::pair{inputs.salient != nullptr, "salient"}, std::pair{inputs.delta != nullptr, "delta"}})
      gift::require(given, "gift::pipeline::make_slot: method ", name_of(settings.method), " needs the layer's ", what,
                    " (layer_inputs::", what, ")");
  }
  gift::require(settings.method == finetune_method::gift_sw || settings.storage == gift::weight_storage::f32,
                "gift::pipeline::make_slot: method ", name_of(settings.method), " holds its weights in f32; bf16 storage ",
                "(method_settings::storage) is implemented for gift_sw");
  if constexpr (!on_eigen) {
    gift::require(settings.method != finetune_method::dora && settings.method != finetune_method::ste,
                  "gift::pipeline::make_slot: method ", name_of(settings.method), " has no module on backend ",
                  Backend::name(), " (model::", name_of(settings.method), "_linear is Eigen-only); train it with ",
                  "backend::eigen, or choose gift_sw, lora, quik_lora, full, svft or npft");
    gift::require(!settings.noisy_weight_cache, "gift::pipeline::make_slot: the noisy-weight cache ",
                  "(method_settings::noisy_weight_cache) is implemented on backend::eigen only, not on ", Backend::name(),
                  "; leave it off (the noise is regenerated in backward, the same bits)");
  }
  switch (settings.method) {
    case finetune_method::gift_sw: {
      auto slot = std::make_unique<model::gift_sw_linear<float, Backend>>(weight, *inputs.salient, *inputs.delta,
                                                                          settings.seed, layer, settings.storage);
      if constexpr (on_eigen) slot->layer().set_noisy_weight_cache(settings.noisy_weight_cache);
      return slot;
    }
    case finetune_method::lora: return std::make_unique<model::lora_linear<float, Backend>>(weight, adapter, "lora");
    case finetune_method::quik_lora:
      return std::make_unique<model::lora_linear<float, Backend>>(weight, adapter, "quik_lora");
    case finetune_method::full: return std::make_unique<model::full_linear<float, Backend>>(weight);
    case finetune_method::dora:
      if constexpr (on_eigen) return std::make_unique<model::dora_linear<float>>(weight, adapter);
      break;  // refused above
    case finetune_method::ste:
      if constexpr (on_eigen)
        return std::make_unique<model::ste_linear<float>>(weight, *inputs.salient, *inputs.delta, settings.bits);
      break;  // refused above
    case finetune_method::svft: {
      model::svft_options svft = settings.svft;
      svft.seed = settings.seed;
      svft.layer = layer;
      return std::make_unique<model::svft_linear<float, Backend>>(weight, svft);
    }
    case finetune_method::npft: {
      const model::npft_options npft{settings.npft_steps_per_draw, settings.seed, layer, settings.npft_noise_scale};
      return std::make_unique<model::npft_linear<float, Backend>>(
          weight, std::move(inputs.outliers), npft,
          npft_adapts(inputs.projection) ? std::optional<model::lora_options>(adapter) : std::nullopt);
    }
  }
  throw error("gift::pipeline::make_slot: argument 'settings' names no method (method_settings::method is out of range)");
}

/// Totals over a model's linear layers that `matching_rank` needs.
struct layer_totals {
  std::int64_t salient_weights = 0;  ///< Σ out·k: GIFT-SW's trainable count
  std::int64_t in_plus_out = 0;      ///< Σ (in + out): LoRA's count per unit of rank
  std::int64_t outs = 0;             ///< Σ out: DoRA's magnitudes
  std::int64_t max_rank = 0;         ///< min over layers of min(out, in)
};

/// The totals of every linear layer of `model`; `salient_count(block, p)` gives the layer's
/// number of salient columns (0 everywhere when the function is empty).
[[nodiscard]] inline layer_totals layer_totals_of(const model::llama_model<float>& model,
                                                  const std::function<std::int64_t(int block, model::projection p)>& salient_count) {
  layer_totals totals;
  totals.max_rank = std::numeric_limits<std::int64_t>::max();
  for (int b = 0; b < model.config().layers; ++b)
    for (model::projection p : model::all_projections) {
      const auto& layer = model.linear(b, p);
      const std::int64_t out = layer.out_features(), in = layer.in_features();
      const std::int64_t k = salient_count ? salient_count(b, p) : 0;
      totals.salient_weights += out * k;
      totals.in_plus_out += in + out;
      totals.outs += out;
      totals.max_rank = std::min(totals.max_rank, std::min(in, out));
    }
  return totals;
}

/// The rank whose LoRA (DoRA: with its magnitudes) trainable count is nearest GIFT-SW's
/// (`totals.salient_weights`; ties: the smaller rank), at most `totals.max_rank`.
/// \throws gift::error when GIFT-SW trains nothing (no salient columns).
[[nodiscard]] inline int matching_rank(finetune_method method, const layer_totals& totals) {
  gift::require(totals.salient_weights > 0, "gift::pipeline::matching_rank: there are no salient columns to match ",
                "(layer_totals::salient_weights is 0); select salient columns first");
  const std::int64_t fixed = method == finetune_method::dora ? totals.outs : 0;
  std::int64_t best = 1;
  for (std::int64_t r = 1; r <= totals.max_rank; ++r) {
    const auto gap = [&](std::int64_t rank) { return std::llabs(rank * totals.in_plus_out + fixed - totals.salient_weights); };
    if (gap(r) < gap(best)) best = r;
    if (r * totals.in_plus_out + fixed > totals.salient_weights) break;
  }
  return static_cast<int>(best);
}

}  // namespace gift::pipeline
