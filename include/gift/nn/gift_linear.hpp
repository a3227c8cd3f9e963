#pragma once
/// \file gift/nn/gift_linear.hpp
/// \brief `gift::nn::gift_linear<T, Backend>`: a linear layer trained GIFT-SW style — only the
/// salient columns learn, the frozen columns see fresh quantization noise `½ Δ_i Ω_ij` every
/// training step — on the backend its weights' container implies.
///
/// One template for every backend: `gift_linear<float>` (or `gift_linear layer(W, ...)` with an
/// Eigen W) runs on the CPU through Eigen (backend/eigen/nn/gift_linear.hpp); a
/// `gift::thrust_matrix<T, system::omp|cpp>` weight gives the Thrust host layer
/// (backend/thrust/nn/gift_linear.hpp, include <gift/backend/thrust.hpp>);
/// `gift_linear<float, backend::cuda>` and `gift_linear<__nv_bfloat16, backend::cuda>` run on the
/// GPU (backend/cuda/nn/gift_linear.cuh, include <gift/backend/cuda.cuh>). A backend that has no
/// layer (`thrust<system::cuda>`: use `backend::cuda`) is a compile error that names the missing
/// header. Every
/// backend draws Ω_ij as `standard_normal(key, i*in + j)`, indexed by the element's position in
/// the original W, so all of them inject the noise `gift::add_quantization_noise` would.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/nn/gift_linear.hpp>
#include <gift/backend/tags.hpp>
#include <gift/concepts.hpp>
#include <gift/detail/nn/gift_linear.hpp>
#include <gift/fwd.hpp>
#include <gift/optim/parameter.hpp>

#include <Eigen/Core>

#include <utility>
#include <vector>

namespace gift::nn {

/// A GIFT-SW linear layer `y = x W̃ᵀ (+ b)` with weights of type `T` on `Backend`. The state and
/// the passes are the backend's (`backend::implementation<ops::gift_linear, Backend>::layer<T>`),
/// with the same interface on every backend, in the backend's own matrix type `M` (an Eigen
/// matrix, a `thrust_matrix<T, System>`, a CUDA device matrix):
/// - `gift_linear(weight, salient, delta, key)` and `gift_linear(weight, bias, salient, delta,
///   key)`: the frozen weight (out × in), its `gift::salient_columns` (or indices, validated by
///   the same factory), Δ per output row (finite, > 0) and the noise stream (`key.step` unused);
///   on the CPU a last argument `gift::weight_storage::bf16` holds the frozen weight in bf16 (half
///   the memory; widened per panel, so noise and products stay fp32; `storage()`,
///   `frozen_weight_bytes()`);
/// - `M forward(x, step)`: `x W̃ᵀ (+ b)` with the noise of `step` on the frozen columns in
///   training mode, caching what `backward` needs; `M forward_eval(x)`: clean weights;
/// - `M backward(dy)`: `dy W̃` with the same W̃, accumulating `dW_S += dyᵀ x_S` and `db`;
/// - `salient_weight()`, `salient_gradient()`, `bias()`, `bias_gradient()`, `zero_grad()`,
///   `merged_weight()` (trained columns written back), `frozen_weight()`;
/// - (the CUDA layer has no `forward_eval` and `frozen_weight` yet: evaluate with
///   `set_training(false)` and `forward`);
/// - `salient_columns()`, `delta()`, `base_key()`, `has_bias()`, `set_training()`, `training()`,
///   `set_panel_elements()`, `out_features()`, `in_features()`.
///
/// `parameters()` hands the trainable blocks to an optimizer, which then runs on the same backend.
template <class T = float, backend_tag Backend = backend::eigen>
class gift_linear
    : public backend::implementation<ops::gift_linear, backend::resolved_t<ops::gift_linear, Backend>>::template layer<T> {
  using base =
      typename backend::implementation<ops::gift_linear, backend::resolved_t<ops::gift_linear, Backend>>::template layer<T>;

public:
  /// The backend the layer runs on.
  using backend_type = Backend;
  using base::base;

  /// Views of everything this layer trains (salient block, then the bias if any), for an
  /// optimizer (`gift::optim::adamw` etc., which then runs on the same backend); append the
  /// views of many layers to train them with one optimizer. The views stay valid as long as the
  /// layer lives and is not moved.
  [[nodiscard]] std::vector<optim::parameter<typename base::master_scalar, Backend>> parameters() {
    std::vector<optim::parameter<typename base::master_scalar, Backend>> views;
    for (auto& block : base::trainable_blocks())
      views.push_back({block.value, block.gradient, block.decay, std::move(block.name)});
    return views;
  }
};

/// An Eigen weight gives the CPU layer, in the weight's scalar type.
template <class Weight, class... Rest>
gift_linear(const Eigen::MatrixBase<Weight>&, Rest&&...) -> gift_linear<typename Weight::Scalar, backend::eigen>;

}  // namespace gift::nn
