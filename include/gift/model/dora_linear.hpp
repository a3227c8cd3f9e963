#pragma once
/// \file gift/model/dora_linear.hpp
/// \brief `gift::model::dora_linear<T>`: DoRA — weight-decomposed low-rank adaptation,
/// `W' = diag(m / ‖W₀ + s·B·A‖_row)·(W₀ + s·B·A)`, with the magnitude `m` trained beside the LoRA
/// factors.

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/lora_adapter.hpp>
#include <gift/model/trainable_linear.hpp>

#include <concepts>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::model {

/// DoRA on one slot, following peft: the magnitude `m` (one per output row) starts at the row
/// norms of `W₀`, so the layer starts equal to the frozen one; the row norm `n` of `W₀ + s·B·A`
/// is recomputed in every forward and treated as a constant in the backward (peft detaches it,
/// as the DoRA paper recommends to save memory). The output is `y = (x W₀ᵀ + s·x Aᵀ Bᵀ) ⊙ (m / n)`
/// per column.
template <std::floating_point T>
class dora_linear final : public trainable_linear<T> {
public:
  /// Adapts the frozen `base` (`out × in`).
  /// \throws gift::error when a row of `base` is zero (its direction is undefined).
  dora_linear(matrix<T> base, const lora_options& options)
      : base_(std::move(base)), adapter_(base_.rows(), base_.cols(), options) {
    magnitude_ = base_.rowwise().norm();
    for (Eigen::Index i = 0; i < magnitude_.size(); ++i)
      gift::detail::require(magnitude_(i) > T(0), "gift::model::dora_linear: row ", i, " of argument 'base' is zero; ",
                            "DoRA needs every row's direction");
    magnitude_gradient_ = vector<T>::Zero(magnitude_.size());
    norm_ = magnitude_;
  }

  [[nodiscard]] Eigen::Index in_features() const override { return base_.cols(); }
  [[nodiscard]] Eigen::Index out_features() const override { return base_.rows(); }
  /// \copydoc linear_module::forward
  void forward(const matrix<T>& x, matrix<T>& y, const forward_context& context) override {
    gift::detail::require(x.cols() == base_.cols(), "gift::model::dora_linear::forward: argument 'x' must have ",
                          base_.cols(), " columns (in), but has ", x.cols());
    norm_ = (base_ + adapter_.delta_weight()).rowwise().norm();
    matrix<T> z;
    gift::detail::product_any_threads(z, x, base_.transpose());
    adapter_.add_forward(x, z, context.record);
    const vector<T> factor = magnitude_.cwiseQuotient(norm_);
    y = z * factor.asDiagonal();
    if (context.record) unscaled_ = std::move(z);
  }
  /// \copydoc linear_module::backward
  void backward(const matrix<T>& dy, matrix<T>& dx) override {
    gift::detail::require(dy.rows() == unscaled_.rows() && dy.cols() == base_.rows(),
                          "gift::model::dora_linear::backward: argument 'dy' must be ", unscaled_.rows(), " x ",
                          base_.rows(), " (the last recorded forward), but is ", dy.rows(), " x ", dy.cols());
    // y_tj = z_tj m_j / n_j with n constant: dm_j = Σ_t dy_tj z_tj / n_j and dz = dy · diag(m / n).
    magnitude_gradient_.array() += (dy.cwiseProduct(unscaled_)).colwise().sum().transpose().array() / norm_.array();
    const matrix<T> dz = dy * magnitude_.cwiseQuotient(norm_).asDiagonal();
    gift::detail::product_any_threads(dx, dz, base_);
    adapter_.add_backward(dz, dx);
  }
  [[nodiscard]] matrix<T> effective_weight() const override {
    const matrix<T> adapted = base_ + adapter_.delta_weight();
    const vector<T> norm = adapted.rowwise().norm();
    return magnitude_.cwiseQuotient(norm).asDiagonal() * adapted;
  }
  /// A, B, then the magnitude (not decayed: it is a scale, like a norm weight).
  [[nodiscard]] std::vector<optim::parameter<T>> parameters() override {
    auto views = adapter_.parameters("");
    views.push_back({std::span<T>(magnitude_.data(), static_cast<std::size_t>(magnitude_.size())),
                     std::span<T>(magnitude_gradient_.data(), static_cast<std::size_t>(magnitude_gradient_.size())), false,
                     "dora_magnitude"});
    return views;
  }
  [[nodiscard]] std::string_view method() const override { return "dora"; }

  /// The adapter (A, B, their gradients, the scale).
  [[nodiscard]] lora_adapter<T>& adapter() noexcept { return adapter_; }
  /// The magnitude m (one per output row).
  [[nodiscard]] vector<T>& magnitude() noexcept { return magnitude_; }
  /// Its accumulated gradient.
  [[nodiscard]] const vector<T>& magnitude_gradient() const noexcept { return magnitude_gradient_; }
  /// The row norms n of `W₀ + s·B·A` used by the last forward.
  [[nodiscard]] const vector<T>& row_norm() const noexcept { return norm_; }

private:
  matrix<T> base_;
  lora_adapter<T> adapter_;
  vector<T> magnitude_, magnitude_gradient_, norm_;
  matrix<T> unscaled_;
};

/// Trainable scalars of DoRA with rank `rank` on an `out × in` weight: `r·(in + out) + out`.
[[nodiscard]] constexpr std::int64_t dora_parameters(std::int64_t out, std::int64_t in, std::int64_t rank) noexcept {
  return rank * (in + out) + out;
}

}  // namespace gift::model
