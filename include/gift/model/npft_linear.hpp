#pragma once
/// \file gift/model/npft_linear.hpp
/// \brief `gift::model::npft_linear<T>`: NPFT (Wang et al., "Taming Sensitive Weights: Noise
/// Perturbation Fine-tuning for Robust LLM Quantization") — a frozen weight whose sensitive
/// (outlier) entries are perturbed by random noise during training, with a LoRA adapter that
/// learns to make the model robust to that perturbation, so the merged model can be quantized
/// entirely (no full-precision outliers).

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/lora_adapter.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/random.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::model {

/// When and from which stream NPFT draws its perturbation.
struct npft_options {
  std::int64_t steps_per_draw = 1;  ///< the noise is re-drawn every this many steps (one "epoch")
  std::uint64_t seed = 0;           ///< the noise stream (with the layer id and the draw index)
  std::uint32_t layer = 0;          ///< layer id: every layer draws its own noise
  double noise_scale = 1;           ///< multiplies the noise (1: the authors' full outlier range)
};

/// NPFT on one slot. `outliers` are the perturbed entries `(row, column)` (from
/// `fisher_diagonal::top_share`). For draw `d = step / steps_per_draw`, each row's outliers get
/// noise uniform on `[min, max]` of that row's outlier values, minus its mean over the row's
/// outliers (so the row's outlier sum is unchanged) — as in the authors' code — times
/// `noise_scale`. The noisy weight is
/// used in training forwards only; evaluation and the merge use the clean weight plus the adapter.
/// Without an adapter the slot trains nothing and only perturbs (the authors leave `ffn_gate`
/// without LoRA).
template <std::floating_point T>
class npft_linear final : public trainable_linear<T> {
public:
  /// Perturbs `outliers` of the frozen `base` (`out × in`); `adapter`, when given, is LoRA's shape.
  /// \throws gift::error when an outlier lies outside the weight, appears twice, or
  /// `steps_per_draw` is not positive.
  npft_linear(matrix<T> base, std::vector<std::pair<Eigen::Index, Eigen::Index>> outliers, const npft_options& options,
              const std::optional<lora_options>& adapter)
      : base_(std::move(base)), outliers_(std::move(outliers)), options_(options) {
    gift::detail::require(base_.size() > 0, "gift::model::npft_linear: argument 'base' must not be empty");
    gift::detail::require(options_.steps_per_draw > 0, "gift::model::npft_linear: steps_per_draw must be positive, but ",
                          "is ", options_.steps_per_draw);
    gift::detail::require(std::isfinite(options_.noise_scale) && options_.noise_scale >= 0, "gift::model::npft_linear: ",
                          "noise_scale must be finite and >= 0, but is ", options_.noise_scale);
    std::sort(outliers_.begin(), outliers_.end());
    for (std::size_t e = 0; e < outliers_.size(); ++e) {
      const auto [i, j] = outliers_[e];
      gift::detail::require(i >= 0 && i < base_.rows() && j >= 0 && j < base_.cols(), "gift::model::npft_linear: ",
                            "outlier (", i, ", ", j, ") lies outside the ", base_.rows(), " x ", base_.cols(), " weight");
      gift::detail::require(e == 0 || outliers_[e - 1] != outliers_[e], "gift::model::npft_linear: outlier (", i, ", ",
                            j, ") is listed twice");
    }
    if (adapter) adapter_.emplace(base_.rows(), base_.cols(), *adapter);
  }

  [[nodiscard]] Eigen::Index in_features() const override { return base_.cols(); }
  [[nodiscard]] Eigen::Index out_features() const override { return base_.rows(); }
  /// \copydoc linear_module::forward
  void forward(const matrix<T>& x, matrix<T>& y, const forward_context& context) override {
    gift::detail::require(x.cols() == base_.cols(), "gift::model::npft_linear::forward: argument 'x' must have ",
                          base_.cols(), " columns (in), but has ", x.cols());
    used_noisy_ = context.training && !outliers_.empty();
    if (used_noisy_) draw(static_cast<std::int64_t>(context.step) / options_.steps_per_draw);
    gift::detail::product_any_threads(y, x, (used_noisy_ ? noisy_ : base_).transpose());
    if (adapter_) adapter_->add_forward(x, y, context.record);
  }
  /// \copydoc linear_module::backward
  void backward(const matrix<T>& dy, matrix<T>& dx) override {
    gift::detail::require(dy.cols() == base_.rows(), "gift::model::npft_linear::backward: argument 'dy' must have ",
                          base_.rows(), " columns (out), but has ", dy.cols());
    gift::detail::product_any_threads(dx, dy, used_noisy_ ? noisy_ : base_);
    if (adapter_) adapter_->add_backward(dy, dx);
  }
  /// `W₀ + s·B·A`: the clean weight with the adapter merged (the perturbation is training-only).
  [[nodiscard]] matrix<T> effective_weight() const override {
    return adapter_ ? matrix<T>(base_ + adapter_->delta_weight()) : base_;
  }
  [[nodiscard]] std::vector<optim::parameter<T>> parameters() override {
    return adapter_ ? adapter_->parameters("") : std::vector<optim::parameter<T>>{};
  }
  [[nodiscard]] std::string_view method() const override { return "npft"; }

  /// The weight of training forwards for draw `d`: `W₀` plus that draw's perturbation.
  [[nodiscard]] const matrix<T>& noisy_weight(std::int64_t d) {
    draw(d);
    return noisy_;
  }
  /// The perturbed entries, row-major.
  [[nodiscard]] const std::vector<std::pair<Eigen::Index, Eigen::Index>>& outliers() const noexcept { return outliers_; }
  /// The adapter, when the slot has one.
  [[nodiscard]] lora_adapter<T>* adapter() noexcept { return adapter_ ? &*adapter_ : nullptr; }
  /// The frozen clean weight W₀.
  [[nodiscard]] const matrix<T>& base() const noexcept { return base_; }

private:
  // Draws the noise of draw `d` into noisy_ once (it is reused until the draw index changes).
  void draw(std::int64_t d) {
    if (drawn_ == d) return;
    noisy_ = base_;
    // The stream is apart from LoRA's initialisation (key step 0) by a tagged layer field.
    const noise_key key{options_.seed, options_.layer | 0x40000000u, static_cast<std::uint32_t>(d)};
    std::vector<double> row_noise;
    for (std::size_t first = 0; first < outliers_.size();) {
      std::size_t last = first;
      const Eigen::Index row = outliers_[first].first;
      T low = base_(row, outliers_[first].second), high = low;
      while (last < outliers_.size() && outliers_[last].first == row) {
        low = std::min(low, base_(row, outliers_[last].second));
        high = std::max(high, base_(row, outliers_[last].second));
        ++last;
      }
      row_noise.assign(last - first, 0.0);
      double mean = 0;
      for (std::size_t e = first; e < last; ++e) {
        const auto bits = gift::detail::noise_bits(key, e / 4).word[e % 4];
        const double u = gift::detail::uniform_closed_open(bits);
        row_noise[e - first] = static_cast<double>(low) + u * (static_cast<double>(high) - static_cast<double>(low));
        mean += row_noise[e - first];
      }
      mean /= static_cast<double>(last - first);
      for (std::size_t e = first; e < last; ++e)
        noisy_(row, outliers_[e].second) += static_cast<T>(options_.noise_scale * (row_noise[e - first] - mean));
      first = last;
    }
    drawn_ = d;
  }

  matrix<T> base_, noisy_;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> outliers_;
  npft_options options_;
  std::optional<lora_adapter<T>> adapter_;
  std::int64_t drawn_ = -1;
  bool used_noisy_ = false;
};

}  // namespace gift::model
