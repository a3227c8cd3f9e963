#pragma once
// The fine-tuning methods of `gift finetune --method`: what each one puts into a model slot, its
// trainable count, and --match-params (the LoRA/DoRA rank whose count is closest to GIFT-SW's).
#include <gift/error.hpp>
#include <gift/model/dora_linear.hpp>
#include <gift/model/full_linear.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/ste_linear.hpp>
#include <gift/quant/symmetric.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace gift::cli {

/// `--method`: which module replaces every linear layer.
enum class finetune_method { gift_sw, lora, dora, full, ste, quik_lora };

/// The spellings of `--method`, for --help and messages.
inline constexpr const char* finetune_method_names = "gift_sw | lora | dora | full | ste | quik_lora";

/// Parses `--method`; the message lists the choices.
inline finetune_method parse_finetune_method(const std::string& text) {
  if (text == "gift_sw") return finetune_method::gift_sw;
  if (text == "lora") return finetune_method::lora;
  if (text == "dora") return finetune_method::dora;
  if (text == "full") return finetune_method::full;
  if (text == "ste") return finetune_method::ste;
  if (text == "quik_lora") return finetune_method::quik_lora;
  throw error("gift finetune: --method must be one of " + std::string(finetune_method_names) + ", but is '" + text + "'");
}

/// Whether the method trains a low-rank adapter (so --rank, --lora-alpha, --match-params apply).
[[nodiscard]] inline bool uses_adapter(finetune_method m) {
  return m == finetune_method::lora || m == finetune_method::dora || m == finetune_method::quik_lora;
}
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
};

/// The module of `settings.method` for one layer: `weight` is the layer's current dense weight,
/// `delta` its per-row step (GIFT-SW's noise scale, STE's grid), `salient` its salient columns.
inline std::unique_ptr<model::trainable_linear<float>> make_trainable(const method_settings& settings,
                                                                      const gift::matrix<float>& weight,
                                                                      const salient_columns& salient,
                                                                      const gift::vector<float>& delta,
                                                                      std::uint32_t layer) {
  model::lora_options adapter = settings.adapter;
  adapter.seed = settings.seed;
  adapter.layer = layer;
  switch (settings.method) {
    case finetune_method::gift_sw:
      return std::make_unique<model::gift_sw_linear<float>>(weight, salient, delta, settings.seed, layer);
    case finetune_method::lora: return std::make_unique<model::lora_linear<float>>(weight, adapter, "lora");
    case finetune_method::quik_lora: return std::make_unique<model::lora_linear<float>>(weight, adapter, "quik_lora");
    case finetune_method::dora: return std::make_unique<model::dora_linear<float>>(weight, adapter);
    case finetune_method::full: return std::make_unique<model::full_linear<float>>(weight);
    case finetune_method::ste: return std::make_unique<model::ste_linear<float>>(weight, salient, delta, settings.bits);
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
  gift::detail::require(totals.salient_weights > 0, "gift finetune: --match-params needs salient columns to match, ",
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
