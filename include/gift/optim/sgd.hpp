#pragma once
/// \file gift/optim/sgd.hpp
/// \brief `gift::optim::sgd<T>`: stochastic gradient descent with momentum over parameter views,
/// with state (one momentum buffer) only for the elements it is given.

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

/// Settings of `sgd` (PyTorch semantics, dampening 0).
struct sgd_options {
  double momentum = 0.9;      ///< momentum factor μ in [0, 1); 0 is plain SGD
  double weight_decay = 0.0;  ///< L2 penalty added to the gradient (coupled), for blocks with decay
  bool nesterov = false;      ///< Nesterov momentum
};

/// SGD with momentum: `b ← μ b + (g + λ p)`, `p ← p − lr · b` (or `g + μ b` with Nesterov).
/// The first step initialises `b` with the gradient, as PyTorch does.
template <std::floating_point T>
class sgd {
public:
  /// Takes the views to train (they must outlive the optimizer) and the settings.
  /// \throws gift::error on a momentum outside [0, 1), a negative or non-finite weight decay, or
  /// a view whose value and gradient lengths differ.
  sgd(std::vector<parameter<T>> parameters, sgd_options options = {})
      : parameters_(std::move(parameters)), options_(options) {
    constexpr const char* where = "gift::optim::sgd";
    gift::detail::require(options_.momentum >= 0.0 && options_.momentum < 1.0, where,
                          ": option 'momentum' must lie in [0, 1), but it is ", options_.momentum);
    gift::detail::require(std::isfinite(options_.weight_decay) && options_.weight_decay >= 0.0, where,
                          ": option 'weight_decay' must be finite and >= 0, but it is ", options_.weight_decay);
    gift::detail::require(!options_.nesterov || options_.momentum > 0.0, where,
                          ": Nesterov momentum needs momentum > 0");
    for (const auto& p : parameters_) {
      gift::detail::require(p.value.size() == p.gradient.size(), where, ": parameter '", p.name, "' has ",
                            p.value.size(), " values but ", p.gradient.size(), " gradient entries");
      momentum_.emplace_back(options_.momentum > 0.0 ? p.value.size() : 0, T(0));
    }
  }

  /// One update with learning rate `learning_rate` (from a schedule).
  /// \throws gift::error on a negative or non-finite learning rate.
  void step(double learning_rate) {
    gift::detail::require(std::isfinite(learning_rate) && learning_rate >= 0.0,
                          "gift::optim::sgd::step: argument 'learning_rate' must be finite and >= 0, but it is ",
                          learning_rate);
    const T lr = static_cast<T>(learning_rate), mu = static_cast<T>(options_.momentum);
    for (std::size_t b = 0; b < parameters_.size(); ++b) {
      auto& p = parameters_[b];
      const T decay = p.decay ? static_cast<T>(options_.weight_decay) : T(0);
      auto& buffer = momentum_[b];
      for (std::size_t e = 0; e < p.value.size(); ++e) {
        T g = p.gradient[e];
        if (decay != T(0)) g += decay * p.value[e];
        if (mu != T(0)) {
          buffer[e] = steps_ == 0 ? g : mu * buffer[e] + g;
          g = options_.nesterov ? g + mu * buffer[e] : buffer[e];
        }
        p.value[e] -= lr * g;
      }
    }
    ++steps_;
  }

  /// Clears the gradients of every view.
  void zero_grad() {
    for (auto& p : parameters_) std::fill(p.gradient.begin(), p.gradient.end(), T(0));
  }

  /// Number of optimizer-state elements held (one per trained element with momentum, else 0).
  [[nodiscard]] std::size_t state_elements() const noexcept {
    std::size_t total = 0;
    for (const auto& buffer : momentum_) total += buffer.size();
    return total;
  }
  /// Steps taken so far.
  [[nodiscard]] std::uint64_t steps() const noexcept { return steps_; }
  /// The views being trained.
  [[nodiscard]] const std::vector<parameter<T>>& parameters() const noexcept { return parameters_; }

private:
  std::vector<parameter<T>> parameters_;
  sgd_options options_;
  std::vector<std::vector<T>> momentum_;
  std::uint64_t steps_ = 0;
};

}  // namespace gift::optim
