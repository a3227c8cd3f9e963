#pragma once
/// \file gift/model/ste_linear.hpp
/// \brief `gift::model::ste_linear<T>`: quantization-aware training with the straight-through
/// estimator, salient columns kept in full precision — the STE baseline of the GIFT-SW paper.

#include <gift/detail/product.hpp>
#include <gift/detail/fp.hpp>
#include <gift/detail/quant/levels.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/salient_columns.hpp>

#include <cmath>
#include <concepts>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::model {

/// All of `W` trains; every forward uses `Q(W)`: the columns outside `salient` rounded to the
/// symmetric `bits`-bit grid of their row's fixed step `Δ_i` (the quantizer `gift quantize`
/// applies, same bits), the salient columns as they are. The backward is straight-through:
/// `dW += dyᵀ x` as if `Q` were the identity, `dx = dy Q(W)`. The merged weight is `Q(W)`, so
/// what is evaluated is exactly a quantized model.
template <std::floating_point T>
class ste_linear final : public trainable_linear<T> {
public:
  /// Starts from `weight` (`out × in`); `delta` holds one positive step per row.
  /// \throws gift::error on mismatched shapes, `bits` outside 2..8 or a step that is not finite and > 0.
  ste_linear(matrix<T> weight, const salient_columns& salient, const vector<float>& delta, int bits)
      : weight_(std::move(weight)), delta_(delta), salient_(salient), bits_(bits) {
    gift::detail::require(weight_.size() > 0, "gift::model::ste_linear: argument 'weight' must not be empty");
    gift::detail::require_bits(bits, "gift::model::ste_linear");
    salient_.require_columns(static_cast<std::size_t>(weight_.cols()), "gift::model::ste_linear");
    gift::detail::require(delta_.size() == weight_.rows(), "gift::model::ste_linear: argument 'delta' must have ",
                          weight_.rows(), " entries (one per row), but has ", delta_.size());
    for (Eigen::Index i = 0; i < delta_.size(); ++i)
      gift::detail::require(std::isfinite(delta_(i)) && delta_(i) > 0, "gift::model::ste_linear: argument 'delta' ",
                            "entry ", i, " must be finite and > 0, but it is ", delta_(i));
    gradient_ = matrix<T>::Zero(weight_.rows(), weight_.cols());
  }

  [[nodiscard]] Eigen::Index in_features() const override { return weight_.cols(); }
  [[nodiscard]] Eigen::Index out_features() const override { return weight_.rows(); }
  /// \copydoc linear_module::forward
  void forward(const matrix<T>& x, matrix<T>& y, const forward_context& context) override {
    gift::detail::require(x.cols() == weight_.cols(), "gift::model::ste_linear::forward: argument 'x' must have ",
                          weight_.cols(), " columns (in), but has ", x.cols());
    quantized_ = quantized_weight();
    gift::detail::product_any_threads(y, x, quantized_.transpose());
    if (context.record) input_ = x;
  }
  /// \copydoc linear_module::backward
  void backward(const matrix<T>& dy, matrix<T>& dx) override {
    gift::detail::require(dy.cols() == weight_.rows() && dy.rows() == input_.rows(),
                          "gift::model::ste_linear::backward: argument 'dy' must be ", input_.rows(), " x ",
                          weight_.rows(), " (the last recorded forward), but is ", dy.rows(), " x ", dy.cols());
    gift::detail::product_any_threads(gradient_, dy.transpose(), input_, true);
    gift::detail::product_any_threads(dx, dy, quantized_);
  }
  [[nodiscard]] matrix<T> effective_weight() const override { return quantized_weight(); }
  [[nodiscard]] std::vector<optim::parameter<T>> parameters() override {
    return {{std::span<T>(weight_.data(), static_cast<std::size_t>(weight_.size())),
             std::span<T>(gradient_.data(), static_cast<std::size_t>(gradient_.size())), true, "weight"}};
  }
  [[nodiscard]] std::string_view method() const override { return "ste"; }

  /// `Q(W)`: non-salient columns on the grid, salient columns as trained. Rounding is the
  /// quantizer's own (`Δ·round(w·(1/Δ))`, clamped, in float), so a float layer's `Q(W)` equals
  /// `gift::quantize_symmetric` with the same steps bit for bit.
  [[nodiscard]] matrix<T> quantized_weight() const {
    matrix<T> q = weight_;
    const auto qmin = static_cast<float>(gift::detail::symmetric_qmin(bits_));
    const auto qmax = static_cast<float>(gift::detail::symmetric_qmax(bits_));
    const auto& mask = salient_.mask();
    for (Eigen::Index i = 0; i < q.rows(); ++i) {
      const float delta = delta_(i), inverse = 1.0f / delta;
      for (Eigen::Index j = 0; j < q.cols(); ++j) {
        if (mask[static_cast<std::size_t>(j)]) continue;
        const auto w = static_cast<float>(weight_(i, j));
        q(i, j) = static_cast<T>(gift::detail::fmul(gift::detail::round_clamped(gift::detail::fmul(w, inverse), qmin, qmax), delta));
      }
    }
    return q;
  }

  /// The latent full-precision weight that trains.
  [[nodiscard]] matrix<T>& weight() noexcept { return weight_; }
  /// Its accumulated (straight-through) gradient.
  [[nodiscard]] const matrix<T>& gradient() const noexcept { return gradient_; }

private:
  matrix<T> weight_, gradient_, input_, quantized_;
  vector<float> delta_;
  salient_columns salient_;
  int bits_;
};

}  // namespace gift::model
