#pragma once
/// \file gift/model/npft_linear.hpp
/// \brief `gift::model::npft_linear<T, Backend>`: NPFT (Wang et al., "Taming Sensitive Weights: Noise
/// Perturbation Fine-tuning for Robust LLM Quantization") — a frozen weight whose sensitive
/// (outlier) entries are perturbed by random noise during training, with a LoRA adapter that
/// learns to make the model robust to that perturbation, so the merged model can be quantized
/// entirely (no full-precision outliers).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/npft_linear.hpp>
#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/detail/model/npft_linear.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/lora_adapter.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/multiply.hpp>
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
/// without LoRA). The slot computes on `Backend` (Eigen by default; a Thrust system with
/// <gift/backend/thrust.hpp>); every backend draws the same perturbation bits.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class npft_linear final : public trainable_linear<T, Backend> {
public:
  /// The activations' (and the weight's) matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;

  /// Perturbs `outliers` of the frozen host `base` (`out × in`); `adapter`, when given, is LoRA's shape.
  /// \throws gift::error when an outlier lies outside the weight, appears twice, or
  /// `steps_per_draw` is not positive.
  npft_linear(const matrix<T>& base, std::vector<std::pair<Eigen::Index, Eigen::Index>> outliers,
              const npft_options& options, const std::optional<lora_options>& adapter)
      : outliers_(std::move(outliers)), options_(options) {
    gift::detail::require(base.size() > 0, "gift::model::npft_linear: argument 'base' must not be empty");
    gift::detail::require(options_.steps_per_draw > 0, "gift::model::npft_linear: steps_per_draw must be positive, but ",
                          "is ", options_.steps_per_draw);
    gift::detail::require(std::isfinite(options_.noise_scale) && options_.noise_scale >= 0, "gift::model::npft_linear: ",
                          "noise_scale must be finite and >= 0, but is ", options_.noise_scale);
    std::sort(outliers_.begin(), outliers_.end());
    std::vector<std::int64_t> group_row, group_first, column;
    for (std::size_t e = 0; e < outliers_.size(); ++e) {
      const auto [i, j] = outliers_[e];
      gift::detail::require(i >= 0 && i < base.rows() && j >= 0 && j < base.cols(), "gift::model::npft_linear: ",
                            "outlier (", i, ", ", j, ") lies outside the ", base.rows(), " x ", base.cols(), " weight");
      gift::detail::require(e == 0 || outliers_[e - 1] != outliers_[e], "gift::model::npft_linear: outlier (", i, ", ",
                            j, ") is listed twice");
      if (e == 0 || outliers_[e - 1].first != i) {
        group_row.push_back(i);
        group_first.push_back(static_cast<std::int64_t>(e));
      }
      column.push_back(j);
    }
    group_first.push_back(static_cast<std::int64_t>(outliers_.size()));
    group_row_ = to_backend(group_row);
    group_first_ = to_backend(group_first);
    column_ = to_backend(column);
    base_ = backend_storage<Backend, T>::from_host(base);
    if (adapter) adapter_.emplace(base.rows(), base.cols(), *adapter);
  }

  [[nodiscard]] Eigen::Index in_features() const override { return static_cast<Eigen::Index>(base_.cols()); }
  [[nodiscard]] Eigen::Index out_features() const override { return static_cast<Eigen::Index>(base_.rows()); }
  /// \copydoc linear_module::forward
  void forward(const matrix_type& x, matrix_type& y, const forward_context& context) override {
    gift::detail::require(x.cols() == base_.cols(), "gift::model::npft_linear::forward: argument 'x' must have ",
                          base_.cols(), " columns (in), but has ", x.cols());
    used_noisy_ = context.training && !outliers_.empty();
    if (used_noisy_) draw(static_cast<std::int64_t>(context.step) / options_.steps_per_draw);
    gift::multiply(x, used_noisy_ ? noisy_ : base_, y, right_factor::transposed);
    if (adapter_) adapter_->add_forward(x, y, context.record);
  }
  /// \copydoc linear_module::backward
  void backward(const matrix_type& dy, matrix_type& dx) override {
    gift::detail::require(dy.cols() == base_.rows(), "gift::model::npft_linear::backward: argument 'dy' must have ",
                          base_.rows(), " columns (out), but has ", dy.cols());
    gift::multiply(dy, used_noisy_ ? noisy_ : base_, dx);
    if (adapter_) adapter_->add_backward(dy, dx);
  }
  /// `W₀ + s·B·A`: the clean weight with the adapter merged (the perturbation is training-only).
  [[nodiscard]] matrix<T> effective_weight() const override {
    matrix<T> merged = backend_storage<Backend, T>::to_host(base_);
    if (adapter_) merged += adapter_->delta_weight();
    return merged;
  }
  [[nodiscard]] std::vector<optim::parameter<T, Backend>> parameters() override {
    return adapter_ ? adapter_->parameters("") : std::vector<optim::parameter<T, Backend>>{};
  }
  [[nodiscard]] std::string_view method() const override { return "npft"; }

  /// The weight of training forwards for draw `d`: `W₀` plus that draw's perturbation, in the
  /// backend's memory.
  [[nodiscard]] const matrix_type& noisy_weight(std::int64_t d) {
    draw(d);
    return noisy_;
  }
  /// The perturbed entries, row-major.
  [[nodiscard]] const std::vector<std::pair<Eigen::Index, Eigen::Index>>& outliers() const noexcept { return outliers_; }
  /// The adapter, when the slot has one.
  [[nodiscard]] lora_adapter<T, Backend>* adapter() noexcept { return adapter_ ? &*adapter_ : nullptr; }
  /// The frozen clean weight W₀, in the backend's memory.
  [[nodiscard]] const matrix_type& base() const noexcept { return base_; }

private:
  // The outlier layout as `n × 1` matrices of the backend (raw pointers on every backend).
  using index_vector = backend_matrix_t<Backend, std::int64_t>;

  static index_vector to_backend(const std::vector<std::int64_t>& values) {
    matrix<std::int64_t> host(static_cast<Eigen::Index>(values.size()), 1);
    for (std::size_t e = 0; e < values.size(); ++e) host(static_cast<Eigen::Index>(e), 0) = values[e];
    return backend_storage<Backend, std::int64_t>::from_host(host);
  }

  // Draws the noise of draw `d` into noisy_ once (it is reused until the draw index changes).
  void draw(std::int64_t d) {
    if (drawn_ == d) return;
    gift::detail::npft_draw plan;
    plan.group_row = group_row_.data();
    plan.group_first = group_first_.data();
    plan.column = column_.data();
    plan.groups = static_cast<std::int64_t>(group_first_.size()) - 1;
    plan.columns = static_cast<std::int64_t>(base_.cols());
    // The stream is apart from LoRA's initialisation (key step 0) by a tagged layer field.
    plan.key = noise_key{options_.seed, options_.layer | 0x40000000u, static_cast<std::uint32_t>(d)};
    plan.scale = options_.noise_scale;
    backend::dispatch<ops::npft_perturb>(Backend{}, base_, noisy_, plan);
    drawn_ = d;
  }
  matrix_type base_, noisy_;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> outliers_;
  index_vector group_row_, group_first_, column_;
  npft_options options_;
  std::optional<lora_adapter<T, Backend>> adapter_;
  std::int64_t drawn_ = -1;
  bool used_noisy_ = false;
};

}  // namespace gift::model
