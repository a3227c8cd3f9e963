#pragma once
/// \file gift/model/lora_linear.hpp
/// \brief `gift::model::lora_linear<T>`: LoRA — a frozen weight plus a trained low-rank update,
/// `y = x W₀ᵀ + (α/r)·(x Aᵀ) Bᵀ`. Over a GPTQ-quantized `W₀` (salient columns in full precision)
/// it is the QUIK + LoRA baseline.

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/lora_adapter.hpp>
#include <gift/model/trainable_linear.hpp>

#include <concepts>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::model {

/// LoRA on one slot: `W₀` stays frozen (any weight: dense, dequantized, mixed precision), `A` and
/// `B` train. The merged weight is `W₀ + s·B·A`.
template <std::floating_point T>
class lora_linear final : public trainable_linear<T> {
public:
  /// Adapts the frozen `base` (`out × in`); `method` names it in reports ("lora", "quik_lora").
  lora_linear(matrix<T> base, const lora_options& options, std::string_view method = "lora")
      : base_(std::move(base)), adapter_(base_.rows(), base_.cols(), options), method_(method) {}

  [[nodiscard]] Eigen::Index in_features() const override { return base_.cols(); }
  [[nodiscard]] Eigen::Index out_features() const override { return base_.rows(); }
  /// \copydoc linear_module::forward
  void forward(const matrix<T>& x, matrix<T>& y, const forward_context& context) override {
    gift::detail::require(x.cols() == base_.cols(), "gift::model::lora_linear::forward: argument 'x' must have ",
                          base_.cols(), " columns (in), but has ", x.cols());
    gift::detail::product_any_threads(y, x, base_.transpose());
    adapter_.add_forward(x, y, context.record);
  }
  /// \copydoc linear_module::backward
  void backward(const matrix<T>& dy, matrix<T>& dx) override {
    gift::detail::product_any_threads(dx, dy, base_);
    adapter_.add_backward(dy, dx);
  }
  [[nodiscard]] matrix<T> effective_weight() const override { return base_ + adapter_.delta_weight(); }
  [[nodiscard]] std::vector<optim::parameter<T>> parameters() override { return adapter_.parameters(""); }
  [[nodiscard]] std::string_view method() const override { return method_; }

  /// The adapter (A, B, their gradients, the scale).
  [[nodiscard]] lora_adapter<T>& adapter() noexcept { return adapter_; }
  /// The frozen weight W₀.
  [[nodiscard]] const matrix<T>& base() const noexcept { return base_; }

private:
  matrix<T> base_;
  lora_adapter<T> adapter_;
  std::string method_;
};

}  // namespace gift::model
