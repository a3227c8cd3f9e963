#pragma once
// The fine-tuning methods of `gift finetune --method`: what each one puts into a model slot, its
// trainable count, and --match-params (the LoRA/DoRA rank whose count is closest to GIFT-SW's).
#include <gift/error.hpp>
#include <gift/model/dora_linear.hpp>
#include <gift/model/full_linear.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/npft_linear.hpp>
#include <gift/model/ste_linear.hpp>
#include <gift/model/svft_linear.hpp>
#include <gift/quant/symmetric.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::cli {

/// `--method`: which module replaces every linear layer.
enum class finetune_method { gift_sw, lora, dora, full, ste, quik_lora, svft, npft };

/// The spellings of `--method`, for --help and messages.
inline constexpr const char* finetune_method_names = "gift_sw | lora | dora | full | ste | quik_lora | svft | npft";

/// Parses `--method`; the message lists the choices.
inline finetune_method parse_finetune_method(const std::string& text) {
  if (text == "gift_sw") return finetune_method::gift_sw;
  if (text == "lora") return finetune_method::lora;
  if (text == "dora") return finetune_method::dora;
  if (text == "full") return finetune_method::full;
  if (text == "ste") return finetune_method::ste;
  if (text == "quik_lora") return finetune_method::quik_lora;
  if (text == "svft") return finetune_method::svft;
  if (text == "npft") return finetune_method::npft;
  throw error("gift finetune: --method must be one of " + std::string(finetune_method_names) + ", but is '" + text + "'");
}

/// Whether --match-params can size the method's low-rank adapter to GIFT-SW's count.
[[nodiscard]] inline bool uses_adapter(finetune_method m) {
  return m == finetune_method::lora || m == finetune_method::dora || m == finetune_method::quik_lora;
}
/// Whether the method trains a LoRA adapter at all (so --rank and --lora-alpha apply).
[[nodiscard]] inline bool trains_adapter(finetune_method m) { return uses_adapter(m) || m == finetune_method::npft; }
/// NPFT's LoRA goes on q, k, v, o, up and down; ffn_gate is only perturbed (the authors' choice).
[[nodiscard]] inline bool npft_adapts(model::projection p) { return p != model::projection::gate; }
/// Whether the method needs the salient columns (GIFT-SW trains them, STE keeps them in fp).
[[nodiscard]] inline bool uses_salient(finetune_method m) {
  return m == finetune_method::gift_sw || m == finetune_method::ste;
}

/// Everything a method's module needs beyond the layer's weight.
struct method_settings {
  finetune_method method = finetune_method::gift_sw;
  model::lora_options adapter;  ///< rank and α (seed and layer filled per layer)
  int bits = 4;                 ///< STE's grid (GIFT-SW's noise takes Δ instead)
  std::uint64_t seed = 0;       ///< noise (GIFT-SW) and A's initialisation (LoRA/DoRA)
  model::svft_options svft;     ///< SVFT's pattern (seed and layer filled per layer)
  std::int64_t npft_steps_per_draw = 1;  ///< NPFT: steps between re-draws of the perturbation
  double npft_noise_scale = 1;           ///< NPFT: multiplies the perturbation
};

/// What a method needs of one layer beyond its weight.
struct layer_inputs {
  const salient_columns* salient = nullptr;  ///< GIFT-SW's / STE's salient columns
  const gift::vector<float>* delta = nullptr;  ///< GIFT-SW's noise scale, STE's grid
  std::vector<std::pair<Eigen::Index, Eigen::Index>> outliers;  ///< NPFT's perturbed entries
  model::projection projection = model::projection::q;  ///< which of the block's layers
};

/// The module of `settings.method` for one layer: `weight` is the layer's current dense weight,
/// `inputs` what the method needs beyond it (salient columns and Δ, NPFT's outliers).
inline std::unique_ptr<model::trainable_linear<float>> make_trainable(const method_settings& settings,
                                                                      const gift::matrix<float>& weight,
                                                                      layer_inputs inputs, std::uint32_t layer) {
  model::lora_options adapter = settings.adapter;
  adapter.seed = settings.seed;
  adapter.layer = layer;
  const auto need = [&](const auto* pointer) {
    gift::require(pointer != nullptr, "gift finetune: --method needs salient columns and their delta here");
    return *pointer;
  };
  switch (settings.method) {
    case finetune_method::gift_sw:
      return std::make_unique<model::gift_sw_linear<float>>(weight, need(inputs.salient), need(inputs.delta),
                                                            settings.seed, layer);
    case finetune_method::lora: return std::make_unique<model::lora_linear<float>>(weight, adapter, "lora");
    case finetune_method::quik_lora: return std::make_unique<model::lora_linear<float>>(weight, adapter, "quik_lora");
    case finetune_method::dora: return std::make_unique<model::dora_linear<float>>(weight, adapter);
    case finetune_method::full: return std::make_unique<model::full_linear<float>>(weight);
    case finetune_method::ste:
      return std::make_unique<model::ste_linear<float>>(weight, need(inputs.salient), need(inputs.delta), settings.bits);
    case finetune_method::svft: {
      model::svft_options svft = settings.svft;
      svft.seed = settings.seed;
      svft.layer = layer;
      return std::make_unique<model::svft_linear<float>>(weight, svft);
    }
    case finetune_method::npft: {
      const model::npft_options npft{settings.npft_steps_per_draw, settings.seed, layer, settings.npft_noise_scale};
      return std::make_unique<model::npft_linear<float>>(
          weight, std::move(inputs.outliers), npft,
          npft_adapts(inputs.projection) ? std::optional<model::lora_options>(adapter) : std::nullopt);
    }
  }
  throw error("gift finetune: unknown method");
}

/// Totals over the model's layers that --match-params needs.
struct layer_totals {
  std::int64_t salient_weights = 0;  ///< Σ out·k: GIFT-SW's trainable count
  std::int64_t in_plus_out = 0;      ///< Σ (in + out): LoRA's count per unit of rank
  std::int64_t outs = 0;             ///< Σ out: DoRA's magnitudes
  std::int64_t max_rank = 0;         ///< min over layers of min(out, in)
};

/// The rank whose LoRA (or DoRA) trainable count is nearest GIFT-SW's (ties: the smaller rank).
/// \throws gift::error when GIFT-SW trains nothing (no salient columns).
inline int matching_rank(finetune_method method, const layer_totals& totals) {
  gift::require(totals.salient_weights > 0, "gift finetune: --match-params needs salient columns to match, ",
                "but the --salient file selects none");
  const std::int64_t fixed = method == finetune_method::dora ? totals.outs : 0;
  std::int64_t best = 1;
  for (std::int64_t r = 1; r <= totals.max_rank; ++r) {
    const auto gap = [&](std::int64_t rank) { return std::llabs(rank * totals.in_plus_out + fixed - totals.salient_weights); };
    if (gap(r) < gap(best)) best = r;
    if (r * totals.in_plus_out + fixed > totals.salient_weights) break;
  }
  return static_cast<int>(best);
}

}  // namespace gift::cli
