#pragma once
/// \file gift/optim/adam.hpp
/// \brief `gift::optim::adam<T>` and `adamw<T>`: Adam with coupled (L2) or decoupled weight decay,
/// holding two moment buffers only for the elements it is given — for gift_linear layers that is
/// 2 · out · k values per layer, never anything for the frozen columns.

#include <gift/error.hpp>
#include <gift/optim/parameter.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace gift::optim {

/// Settings of `adam` / `adamw` (PyTorch names and defaults).
struct adam_options {
  double beta1 = 0.9;          ///< decay of the first moment, in [0, 1)
  double beta2 = 0.999;        ///< decay of the second moment, in [0, 1)
  double epsilon = 1e-8;       ///< added to √v̂, > 0
  double weight_decay = 0.0;   ///< λ, for views with `decay`
  bool decoupled = false;      ///< true: AdamW (p ← p − lr·λ·p before the Adam step); false: L2 in g
};

/// Adam (Kingma & Ba) over parameter views:
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr · m̂ / (√v̂ + ε)` with bias-corrected
/// `m̂ = m / (1−β₁ᵗ)`, `v̂ = v / (1−β₂ᵗ)`. Weight decay is coupled (added to g) unless
/// `decoupled`, which gives AdamW.
template <std::floating_point T>
class adam {
public:
  /// Takes the views to train (they must outlive the optimizer) and the settings.
  /// \throws gift::error on β outside [0, 1), ε ≤ 0, a negative weight decay, or a view whose
  /// value and gradient lengths differ.
  adam(std::vector<parameter<T>> parameters, adam_options options = {})
      : parameters_(std::move(parameters)), options_(options) {
    constexpr const char* where = "gift::optim::adam";
    gift::detail::require(options_.beta1 >= 0.0 && options_.beta1 < 1.0, where,
                          ": option 'beta1' must lie in [0, 1), but it is ", options_.beta1);
    gift::detail::require(options_.beta2 >= 0.0 && options_.beta2 < 1.0, where,
                          ": option 'beta2' must lie in [0, 1), but it is ", options_.beta2);
    gift::detail::require(std::isfinite(options_.epsilon) && options_.epsilon > 0.0, where,
                          ": option 'epsilon' must be finite and > 0, but it is ", options_.epsilon);
    gift::detail::require(std::isfinite(options_.weight_decay) && options_.weight_decay >= 0.0, where,
                          ": option 'weight_decay' must be finite and >= 0, but it is ", options_.weight_decay);
    for (const auto& p : parameters_) {
      gift::detail::require(p.value.size() == p.gradient.size(), where, ": parameter '", p.name, "' has ",
                            p.value.size(), " values but ", p.gradient.size(), " gradient entries");
      first_moment_.emplace_back(p.value.size(), T(0));
      second_moment_.emplace_back(p.value.size(), T(0));
    }
  }

  /// One update with learning rate `learning_rate` (from a schedule).
  /// \throws gift::error on a negative or non-finite learning rate.
  void step(double learning_rate) {
    gift::detail::require(std::isfinite(learning_rate) && learning_rate >= 0.0,
                          "gift::optim::adam::step: argument 'learning_rate' must be finite and >= 0, but it is ",
                          learning_rate);
    ++steps_;
    const double t = static_cast<double>(steps_);
    // Bias corrections in double, folded into the step size and ε (PyTorch's formulation):
    // p -= (lr / c1) · m / (√v / √c2 + ε).
    const T step_size = static_cast<T>(learning_rate / (1.0 - std::pow(options_.beta1, t)));
    const T sqrt_correction2 = static_cast<T>(std::sqrt(1.0 - std::pow(options_.beta2, t)));
    const T beta1 = static_cast<T>(options_.beta1), beta2 = static_cast<T>(options_.beta2);
    const T one_minus_beta1 = static_cast<T>(1.0 - options_.beta1);
    const T one_minus_beta2 = static_cast<T>(1.0 - options_.beta2);
    const T epsilon = static_cast<T>(options_.epsilon);
    for (std::size_t b = 0; b < parameters_.size(); ++b) {
      auto& p = parameters_[b];
      const double lambda = p.decay ? options_.weight_decay : 0.0;
      const T coupled = options_.decoupled ? T(0) : static_cast<T>(lambda);
      const T shrink = static_cast<T>(1.0 - learning_rate * (options_.decoupled ? lambda : 0.0));
      T* m = first_moment_[b].data();
      T* v = second_moment_[b].data();
      for (std::size_t e = 0; e < p.value.size(); ++e) {
        T value = p.value[e];
        T g = p.gradient[e];
        if (coupled != T(0)) g += coupled * value;
        if (shrink != T(1)) value *= shrink;
        m[e] = beta1 * m[e] + one_minus_beta1 * g;
        v[e] = beta2 * v[e] + one_minus_beta2 * (g * g);
        const T denominator = std::sqrt(v[e]) / sqrt_correction2 + epsilon;
        p.value[e] = value - step_size * (m[e] / denominator);
      }
    }
  }

  /// Clears the gradients of every view.
  void zero_grad() {
    for (auto& p : parameters_) std::fill(p.gradient.begin(), p.gradient.end(), T(0));
  }

  /// Number of optimizer-state elements held: two per trained element.
  [[nodiscard]] std::size_t state_elements() const noexcept {
    std::size_t total = 0;
    for (std::size_t b = 0; b < first_moment_.size(); ++b) total += first_moment_[b].size() + second_moment_[b].size();
    return total;
  }
  /// Steps taken so far (t of the bias correction).
  [[nodiscard]] std::uint64_t steps() const noexcept { return steps_; }
  /// The settings.
  [[nodiscard]] const adam_options& options() const noexcept { return options_; }
  /// The views being trained.
  [[nodiscard]] const std::vector<parameter<T>>& parameters() const noexcept { return parameters_; }

private:
  std::vector<parameter<T>> parameters_;
  adam_options options_;
  std::vector<std::vector<T>> first_moment_, second_moment_;
  std::uint64_t steps_ = 0;
};

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay `p ← p − lr·λ·p`.
template <std::floating_point T>
class adamw : public adam<T> {
public:
  /// As `adam`, with `decoupled` forced on; λ defaults to 0.01 (PyTorch's AdamW default).
  explicit adamw(std::vector<parameter<T>> parameters, double weight_decay = 0.01, double beta1 = 0.9,
                 double beta2 = 0.999, double epsilon = 1e-8)
      : adam<T>(std::move(parameters), adam_options{beta1, beta2, epsilon, weight_decay, true}) {}
};

}  // namespace gift::optim
