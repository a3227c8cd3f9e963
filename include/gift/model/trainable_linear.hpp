#pragma once
/// \file gift/model/trainable_linear.hpp
/// \brief `gift::model::trainable_linear<T>`: the interface of a model slot that trains — every
/// fine-tuning method (GIFT-SW, LoRA, DoRA, full, STE) implements it, so the trainer, the
/// optimizer and the parameter counts treat them alike.

#include <gift/backend/tags.hpp>
#include <gift/concepts.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/optim/parameter.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>
#include <vector>

namespace gift::model {

/// A linear slot with trainable parameters. `parameters()` hands views of them (and of their
/// gradients, which `backward` accumulates into) to an optimizer; the views stay valid while the
/// module lives. `effective_weight()` merges what was trained into one dense `out × in` weight,
/// which is what evaluation and export use.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class trainable_linear : public linear_module<T, Backend> {
public:
  /// Always true: this slot trains.
  [[nodiscard]] bool trainable() const final { return true; }
  /// Views of every trained block, in a fixed order (the optimizer's state follows it), in the
  /// backend's memory: an optimizer built on them runs on the same backend.
  [[nodiscard]] virtual std::vector<optim::parameter<T, Backend>> parameters() = 0;
  /// The method's name as the CLI spells it ("gift_sw", "lora", "dora", "full", "ste").
  [[nodiscard]] virtual std::string_view method() const = 0;

  /// Number of trained scalars (the sum of the views' lengths).
  [[nodiscard]] std::int64_t trainable_parameters() {
    std::int64_t total = 0;
    for (const auto& p : parameters()) total += static_cast<std::int64_t>(p.value.size());
    return total;
  }
};

/// Optimizer-state scalars AdamW keeps for `trainable` trained scalars (first and second moment).
[[nodiscard]] constexpr std::int64_t adamw_state_values(std::int64_t trainable) noexcept { return 2 * trainable; }

}  // namespace gift::model
