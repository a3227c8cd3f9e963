#pragma once
/// \file gift/model/full_linear.hpp
/// \brief `gift::model::full_linear<T, Backend>`: full fine-tuning of one dense layer — every
/// weight trains (the baseline with the most trainable parameters and optimizer state).

#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/multiply.hpp>

#include <concepts>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gift::model {

/// `y = x Wᵀ` with all of `W` (`out × in`) trained: `dW += dyᵀ x`, `dx = dy W`. The weight, its
/// gradient and the recorded input live on `Backend` (Eigen by default; a Thrust system with
/// <gift/backend/thrust.hpp>); every product is a `gift::multiply`, so a Thrust host system
/// computes the Eigen slot's bits.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class full_linear final : public trainable_linear<T, Backend> {
public:
  /// The activations' (and the weight's) matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;

  /// Starts from the host `out × in` weight.
  /// \throws gift::error when `weight` is empty.
  explicit full_linear(matrix<T> weight) {
    gift::detail::require(weight.size() > 0, "gift::model::full_linear: argument 'weight' must not be empty");
    gradient_ = storage::zeros(weight.rows(), weight.cols());
    weight_ = to_backend(std::move(weight));
  }

  [[nodiscard]] Eigen::Index in_features() const override { return static_cast<Eigen::Index>(weight_.cols()); }
  [[nodiscard]] Eigen::Index out_features() const override { return static_cast<Eigen::Index>(weight_.rows()); }
  /// \copydoc linear_module::forward
  void forward(const matrix_type& x, matrix_type& y, const forward_context& context) override {
    gift::detail::require(static_cast<Eigen::Index>(x.cols()) == in_features(),
                          "gift::model::full_linear::forward: argument 'x' must have ", in_features(),
                          " columns (in), but has ", x.cols());
    gift::multiply(x, weight_, y, right_factor::transposed);
    if (context.record) input_ = x;
  }
  /// \copydoc linear_module::backward
  void backward(const matrix_type& dy, matrix_type& dx) override {
    gift::detail::require(static_cast<Eigen::Index>(dy.cols()) == out_features() &&
                              static_cast<Eigen::Index>(dy.rows()) == static_cast<Eigen::Index>(input_.rows()),
                          "gift::model::full_linear::backward: argument 'dy' must be ", input_.rows(), " x ",
                          out_features(), " (the last recorded forward), but is ", dy.rows(), " x ", dy.cols());
    gift::multiply_transposed(dy, input_, gradient_, true);
    gift::multiply(dy, weight_, dx);
  }
  [[nodiscard]] matrix<T> effective_weight() const override { return storage::to_host(weight_); }
  [[nodiscard]] std::vector<optim::parameter<T, Backend>> parameters() override {
    return {{span(weight_), span(gradient_), true, "weight"}};
  }
  [[nodiscard]] std::string_view method() const override { return "full"; }

  /// The trained weight (`out × in`), in the backend's memory.
  [[nodiscard]] matrix_type& weight() noexcept { return weight_; }
  /// Its accumulated gradient, in the backend's memory.
  [[nodiscard]] const matrix_type& gradient() const noexcept { return gradient_; }
  /// Sets the accumulated gradient to zero (per-sequence gradients, as the empirical Fisher needs).
  void zero_gradient() { gradient_ = storage::zeros(gradient_.rows(), gradient_.cols()); }

private:
  using storage = backend_storage<Backend, T>;
  static std::span<T> span(matrix_type& m) { return {m.data(), static_cast<std::size_t>(m.size())}; }
  static matrix_type to_backend(matrix<T>&& weight) {
    if constexpr (std::is_same_v<matrix_type, matrix<T>>) {
      return std::move(weight);
    } else {
      return storage::from_host(weight);
    }
  }

  matrix_type weight_, gradient_, input_;
};

}  // namespace gift::model
