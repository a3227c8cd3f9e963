#pragma once
/// \file gift/model/lora_linear.hpp
/// \brief `gift::model::lora_linear<T, Backend>`: LoRA — a frozen weight plus a trained low-rank update,
/// `y = x W₀ᵀ + (α/r)·(x Aᵀ) Bᵀ`. Over a GPTQ-quantized `W₀` (salient columns in full precision)
/// it is the QUIK + LoRA baseline.

#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/lora_adapter.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/multiply.hpp>

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gift::model {

/// LoRA on one slot: `W₀` stays frozen (any weight: dense, dequantized, mixed precision), `A` and
/// `B` train. The merged weight is `W₀ + s·B·A`. The slot computes on `Backend` (Eigen by
/// default; a Thrust system with <gift/backend/thrust.hpp>), taking its weight from the host.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class lora_linear final : public trainable_linear<T, Backend> {
public:
  /// The activations' (and the weight's) matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;

  /// Adapts the frozen host `base` (`out × in`); `method` names it in reports ("lora", "quik_lora").
  lora_linear(matrix<T> base, const lora_options& options, std::string_view method = "lora")
      : base_(to_backend(std::move(base))),
        adapter_(static_cast<Eigen::Index>(base_.rows()), static_cast<Eigen::Index>(base_.cols()), options),
        method_(method) {}

  [[nodiscard]] Eigen::Index in_features() const override { return static_cast<Eigen::Index>(base_.cols()); }
  [[nodiscard]] Eigen::Index out_features() const override { return static_cast<Eigen::Index>(base_.rows()); }
  /// \copydoc linear_module::forward
  void forward(const matrix_type& x, matrix_type& y, const forward_context& context) override {
    gift::detail::require(x.cols() == base_.cols(), "gift::model::lora_linear::forward: argument 'x' must have ",
                          base_.cols(), " columns (in), but has ", x.cols());
    gift::multiply(x, base_, y, right_factor::transposed);
    adapter_.add_forward(x, y, context.record);
  }
  /// \copydoc linear_module::backward
  void backward(const matrix_type& dy, matrix_type& dx) override {
    gift::multiply(dy, base_, dx);
    adapter_.add_backward(dy, dx);
  }
  [[nodiscard]] matrix<T> effective_weight() const override {
    return backend_storage<Backend, T>::to_host(base_) + adapter_.delta_weight();
  }
  [[nodiscard]] std::vector<optim::parameter<T, Backend>> parameters() override { return adapter_.parameters(""); }
  [[nodiscard]] std::string_view method() const override { return method_; }

  /// The adapter (A, B, their gradients, the scale).
  [[nodiscard]] lora_adapter<T, Backend>& adapter() noexcept { return adapter_; }
  /// The frozen weight W₀, in the backend's memory.
  [[nodiscard]] const matrix_type& base() const noexcept { return base_; }

private:
  static matrix_type to_backend(matrix<T>&& weight) {
    if constexpr (std::is_same_v<matrix_type, matrix<T>>) {
      return std::move(weight);
    } else {
      return backend_storage<Backend, T>::from_host(weight);
    }
  }

  matrix_type base_;
  lora_adapter<T, Backend> adapter_;
  std::string method_;
};

}  // namespace gift::model
