#pragma once
/// \file gift/optim/sgd.hpp
/// \brief `gift::optim::sgd<T, Backend>`: SGD with momentum (and Nesterov), with a momentum buffer
/// only for the elements it is given. The backend follows from the views, as for `adam`.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/optim/parameter.hpp>
#include <gift/backend/eigen/optim/sgd.hpp>
#include <gift/detail/optim/parameter.hpp>
#include <gift/detail/optim/sgd.hpp>
#include <gift/error.hpp>
#include <gift/optim/parameter.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
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
template <std::floating_point T, backend_tag Backend = backend::eigen>
class sgd {
public:
  /// The views' type.
  using parameter_type = parameter<T, Backend>;

  /// Takes the views to train (they must outlive the optimizer) and the settings.
  /// \throws gift::error on a momentum outside [0, 1), a negative or non-finite weight decay, or
  /// a view whose value and gradient lengths differ.
  sgd(std::vector<parameter_type> parameters, sgd_options options = {})
      : parameters_(std::move(parameters)), options_(options) {
    constexpr const char* where = "gift::optim::sgd";
    gift::detail::require(options_.momentum >= 0.0 && options_.momentum < 1.0, where,
                          ": option 'momentum' must lie in [0, 1), but it is ", options_.momentum);
    gift::detail::require(std::isfinite(options_.weight_decay) && options_.weight_decay >= 0.0, where,
                          ": option 'weight_decay' must be finite and >= 0, but it is ", options_.weight_decay);
    gift::detail::require(!options_.nesterov || options_.momentum > 0.0, where,
                          ": Nesterov momentum needs momentum > 0");
    detail::require_matching_views(parameters_, where);
    for (const auto& p : parameters_)
      momentum_.push_back(backend::dispatch<ops::optimizer_state>(Backend{}, std::type_identity<T>{},
                                                                  options_.momentum > 0.0 ? p.value.size() : 0));
  }

  /// One update with learning rate `learning_rate` (from a schedule).
  /// \throws gift::error on a negative or non-finite learning rate.
  void step(double learning_rate) {
    detail::require_learning_rate(learning_rate, "gift::optim::sgd::step");
    for (std::size_t b = 0; b < parameters_.size(); ++b) {
      auto& p = parameters_[b];
      const gift::detail::sgd_constants<T> constants{static_cast<T>(learning_rate), static_cast<T>(options_.momentum),
                                                     p.decay ? static_cast<T>(options_.weight_decay) : T(0),
                                                     steps_ == 0, options_.nesterov};
      backend::dispatch<ops::sgd_step>(Backend{}, p.value, std::span<const T>(p.gradient), momentum_[b], constants);
    }
    ++steps_;
  }

  /// Clears the gradients of every view.
  void zero_grad() {
    for (auto& p : parameters_) backend::dispatch<ops::zero_fill>(Backend{}, p.gradient);
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
  [[nodiscard]] const std::vector<parameter_type>& parameters() const noexcept { return parameters_; }

private:
  using buffer_type = decltype(backend::dispatch<ops::optimizer_state>(Backend{}, std::type_identity<T>{}, std::size_t{}));
  std::vector<parameter_type> parameters_;
  sgd_options options_;
  std::vector<buffer_type> momentum_;
  std::uint64_t steps_ = 0;
};

/// Deduces the scalar and the backend from the views.
template <class T, class Backend>
sgd(std::vector<parameter<T, Backend>>, sgd_options = {}) -> sgd<T, Backend>;

}  // namespace gift::optim
