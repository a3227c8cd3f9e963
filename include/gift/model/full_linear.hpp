#pragma once
/// \file gift/model/full_linear.hpp
/// \brief `gift::model::full_linear<T>`: full fine-tuning of one dense layer — every weight
/// trains (the baseline with the most trainable parameters and optimizer state).

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/trainable_linear.hpp>

#include <concepts>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::model {

/// `y = x Wᵀ` with all of `W` (`out × in`) trained: `dW += dyᵀ x`, `dx = dy W`.
template <std::floating_point T>
class full_linear final : public trainable_linear<T> {
public:
  /// Starts from the `out × in` weight.
  explicit full_linear(matrix<T> weight) : weight_(std::move(weight)), gradient_(matrix<T>::Zero(weight_.rows(), weight_.cols())) {
    gift::detail::require(weight_.size() > 0, "gift::model::full_linear: argument 'weight' must not be empty");
  }

  [[nodiscard]] Eigen::Index in_features() const override { return weight_.cols(); }
  [[nodiscard]] Eigen::Index out_features() const override { return weight_.rows(); }
  /// \copydoc linear_module::forward
  void forward(const matrix<T>& x, matrix<T>& y, const forward_context& context) override {
    gift::detail::require(x.cols() == weight_.cols(), "gift::model::full_linear::forward: argument 'x' must have ",
                          weight_.cols(), " columns (in), but has ", x.cols());
    gift::detail::product_any_threads(y, x, weight_.transpose());
    if (context.record) input_ = x;
  }
  /// \copydoc linear_module::backward
  void backward(const matrix<T>& dy, matrix<T>& dx) override {
    gift::detail::require(dy.cols() == weight_.rows() && dy.rows() == input_.rows(),
                          "gift::model::full_linear::backward: argument 'dy' must be ", input_.rows(), " x ",
                          weight_.rows(), " (the last recorded forward), but is ", dy.rows(), " x ", dy.cols());
    gift::detail::product_any_threads(gradient_, dy.transpose(), input_, true);
    gift::detail::product_any_threads(dx, dy, weight_);
  }
  [[nodiscard]] matrix<T> effective_weight() const override { return weight_; }
  [[nodiscard]] std::vector<optim::parameter<T>> parameters() override {
    return {{std::span<T>(weight_.data(), static_cast<std::size_t>(weight_.size())),
             std::span<T>(gradient_.data(), static_cast<std::size_t>(gradient_.size())), true, "weight"}};
  }
  [[nodiscard]] std::string_view method() const override { return "full"; }

  /// The trained weight (`out × in`).
  [[nodiscard]] matrix<T>& weight() noexcept { return weight_; }
  /// Its accumulated gradient.
  [[nodiscard]] const matrix<T>& gradient() const noexcept { return gradient_; }
  /// Sets the accumulated gradient to zero (per-sequence gradients, as the empirical Fisher needs).
  void zero_gradient() { gradient_.setZero(); }

private:
  matrix<T> weight_, gradient_, input_;
};

}  // namespace gift::model
