#pragma once
/// \file gift/optim/adam.hpp
/// \brief `gift::optim::adam<T, Backend>` and `adamw<T, Backend>`: Adam with coupled (L2) or
/// decoupled weight decay, holding two moment buffers only for the elements it is given — for
/// gift_linear layers that is 2 · out · k values per layer, never anything for the frozen columns.
///
/// The backend follows from the views (`parameter<T, Backend>`): host memory through Eigen's
/// backend, the Thrust systems, or CUDA device memory. The settings are checked once here; every
/// backend applies the same element update (detail/optim/adam.hpp), so they agree bit for bit.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/optim/adam.hpp>
#include <gift/backend/eigen/optim/parameter.hpp>
#include <gift/detail/optim/adam.hpp>
#include <gift/detail/optim/parameter.hpp>
#include <gift/error.hpp>
#include <gift/optim/parameter.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
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

namespace detail {
/// Validates `options` once and turns them into the plan every backend applies.
inline gift::detail::adam_plan adam_plan_of(const adam_options& options, const char* where) {
  gift::detail::require(options.beta1 >= 0.0 && options.beta1 < 1.0, where,
                        ": option 'beta1' must lie in [0, 1), but it is ", options.beta1);
  gift::detail::require(options.beta2 >= 0.0 && options.beta2 < 1.0, where,
                        ": option 'beta2' must lie in [0, 1), but it is ", options.beta2);
  gift::detail::require(std::isfinite(options.epsilon) && options.epsilon > 0.0, where,
                        ": option 'epsilon' must be finite and > 0, but it is ", options.epsilon);
  gift::detail::require(std::isfinite(options.weight_decay) && options.weight_decay >= 0.0, where,
                        ": option 'weight_decay' must be finite and >= 0, but it is ", options.weight_decay);
  return gift::detail::adam_plan{options.beta1, options.beta2, options.epsilon, options.weight_decay, options.decoupled};
}

/// The state buffer type of `Backend` for elements of type T.
template <class T, class Backend>
using state_buffer_t = decltype(backend::dispatch<ops::optimizer_state>(Backend{}, std::type_identity<T>{},
                                                                        std::size_t{}));
}  // namespace detail

/// Adam (Kingma & Ba) over parameter views:
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr · m̂ / (√v̂ + ε)` with bias-corrected
/// `m̂ = m / (1−β₁ᵗ)`, `v̂ = v / (1−β₂ᵗ)`. Weight decay is coupled (added to g) unless
/// `decoupled`, which gives AdamW. `Backend` is the views' backend (deduced from them).
template <std::floating_point T, backend_tag Backend = backend::eigen>
class adam {
public:
  /// The views' type.
  using parameter_type = parameter<T, Backend>;

  /// Takes the views to train (they must outlive the optimizer) and the settings.
  /// \throws gift::error on β outside [0, 1), ε ≤ 0, a negative weight decay, or a view whose
  /// value and gradient lengths differ.
  adam(std::vector<parameter_type> parameters, adam_options options = {})
      : parameters_(std::move(parameters)), options_(options), plan_(detail::adam_plan_of(options, "gift::optim::adam")) {
    detail::require_matching_views(parameters_, "gift::optim::adam");
    for (const auto& p : parameters_) {
      first_moment_.push_back(backend::dispatch<ops::optimizer_state>(Backend{}, std::type_identity<T>{}, p.value.size()));
      second_moment_.push_back(backend::dispatch<ops::optimizer_state>(Backend{}, std::type_identity<T>{}, p.value.size()));
    }
  }

  /// One update with learning rate `learning_rate` (from a schedule).
  /// \throws gift::error on a negative or non-finite learning rate.
  void step(double learning_rate) {
    detail::require_learning_rate(learning_rate, "gift::optim::adam::step");
    ++steps_;
    for (std::size_t b = 0; b < parameters_.size(); ++b) {
      auto& p = parameters_[b];
      const auto constants = gift::detail::adam_step_constants<T>(plan_, learning_rate, steps_, p.decay);
      backend::dispatch<ops::adam_step>(Backend{}, p.value, std::span<const T>(p.gradient), first_moment_[b],
                                        second_moment_[b], constants);
    }
  }

  /// Clears the gradients of every view.
  void zero_grad() {
    for (auto& p : parameters_) backend::dispatch<ops::zero_fill>(Backend{}, p.gradient);
  }

  /// Number of optimizer-state elements held: two per trained element.
  [[nodiscard]] std::size_t state_elements() const noexcept {
    std::size_t total = 0;
    for (std::size_t b = 0; b < first_moment_.size(); ++b) total += first_moment_[b].size() + second_moment_[b].size();
    return total;
  }
  /// Steps taken so far (t of the bias correction).
  [[nodiscard]] std::uint64_t steps() const noexcept { return steps_; }

  /// A host copy of view `block`'s first moment m (for a checkpoint).
  /// \throws gift::error when `block` is not a view index.
  [[nodiscard]] std::vector<T> first_moment(std::size_t block) const {
    return host_copy(first_moment_, block, "gift::optim::adam::first_moment");
  }
  /// A host copy of view `block`'s second moment v (for a checkpoint).
  /// \throws gift::error when `block` is not a view index.
  [[nodiscard]] std::vector<T> second_moment(std::size_t block) const {
    return host_copy(second_moment_, block, "gift::optim::adam::second_moment");
  }

  /// Continues from a checkpoint: the step count and every view's two moments, as
  /// `steps()`, `first_moment(b)` and `second_moment(b)` returned them. The next `step` then
  /// makes exactly the update the checkpointed optimizer would have made.
  /// \throws gift::error when the counts or sizes differ from the views', or a moment is not
  /// finite (or v negative); nothing is changed then.
  void restore(std::uint64_t steps, const std::vector<std::vector<T>>& first, const std::vector<std::vector<T>>& second) {
    constexpr const char* where = "gift::optim::adam::restore";
    gift::detail::require(first.size() == parameters_.size() && second.size() == parameters_.size(), where,
                          ": the checkpoint has ", first.size(), " and ", second.size(), " moment blocks, but the ",
                          "optimizer trains ", parameters_.size(), " views; was it written for another model or "
                          "selection?");
    for (std::size_t b = 0; b < parameters_.size(); ++b) {
      gift::detail::require(first[b].size() == parameters_[b].value.size() &&
                                second[b].size() == parameters_[b].value.size(),
                            where, ": moment block ", b, " holds ", first[b].size(), " and ", second[b].size(),
                            " values, but view '", parameters_[b].name, "' has ", parameters_[b].value.size());
      for (std::size_t e = 0; e < first[b].size(); ++e) {
        gift::detail::require(std::isfinite(static_cast<double>(first[b][e])) &&
                                  std::isfinite(static_cast<double>(second[b][e])) && second[b][e] >= T(0),
                              where, ": moment block ", b, " element ", e, " is not a valid Adam state (m = ",
                              first[b][e], ", v = ", second[b][e], ")");
      }
    }
    for (std::size_t b = 0; b < parameters_.size(); ++b) {
      std::copy(first[b].begin(), first[b].end(), first_moment_[b].begin());
      std::copy(second[b].begin(), second[b].end(), second_moment_[b].begin());
    }
    steps_ = steps;
  }
  /// The settings.
  [[nodiscard]] const adam_options& options() const noexcept { return options_; }
  /// The views being trained.
  [[nodiscard]] const std::vector<parameter_type>& parameters() const noexcept { return parameters_; }

private:
  // Works for any state buffer with begin/end (std::vector, Thrust host or device vectors).
  template <class Buffers>
  static std::vector<T> host_copy(const Buffers& buffers, std::size_t block, const char* where) {
    gift::detail::require(block < buffers.size(), where, ": argument 'block' must be < ", buffers.size(),
                          " (the number of views), but is ", block);
    std::vector<T> host(buffers[block].size());
    std::copy(buffers[block].begin(), buffers[block].end(), host.begin());
    return host;
  }

  std::vector<parameter_type> parameters_;
  adam_options options_;
  gift::detail::adam_plan plan_;
  std::vector<detail::state_buffer_t<T, Backend>> first_moment_, second_moment_;
  std::uint64_t steps_ = 0;
};

/// Deduces the scalar and the backend from the views.
template <class T, class Backend>
adam(std::vector<parameter<T, Backend>>, adam_options = {}) -> adam<T, Backend>;

/// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay `p ← p − lr·λ·p`.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class adamw : public adam<T, Backend> {
public:
  /// As `adam`, with `decoupled` forced on; λ defaults to 0.01 (PyTorch's AdamW default).
  explicit adamw(std::vector<parameter<T, Backend>> parameters, double weight_decay = 0.01, double beta1 = 0.9,
                 double beta2 = 0.999, double epsilon = 1e-8)
      : adam<T, Backend>(std::move(parameters), adam_options{beta1, beta2, epsilon, weight_decay, true}) {}
};

/// Deduces the scalar and the backend from the views.
template <class T, class Backend, class... Settings>
adamw(std::vector<parameter<T, Backend>>, Settings...) -> adamw<T, Backend>;

}  // namespace gift::optim
