#pragma once
/// \file gift/model/gift_sw_linear.hpp
/// \brief `gift::model::gift_sw_linear<T>`: plugs a `gift::nn::gift_linear` (trainable salient
/// columns, quantization noise on the frozen ones) into a model slot.

#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/nn/gift_linear.hpp>
#include <gift/stored_weight.hpp>
#include <gift/salient_columns.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace gift::model {

/// A model slot backed by `gift::nn::gift_linear<T, Backend>`: a training forward adds fresh
/// noise of the context's step, an evaluation forward uses the clean weights, `backward`
/// accumulates the salient-block gradient (read it, and the parameters, through `layer()`). The
/// same slot on every backend: Eigen (default), a Thrust host system (include
/// <gift/backend/thrust.hpp>) or CUDA (include <gift/backend/cuda.cuh>); the noise is the same
/// on all of them.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class gift_sw_linear final : public trainable_linear<T, Backend> {
public:
  /// The activations' matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;
  /// The wrapped layer.
  using layer_type = nn::gift_linear<T, Backend>;

  /// Wraps an existing layer.
  explicit gift_sw_linear(layer_type layer) : layer_(std::move(layer)) {}

  /// Builds the layer from the dense host `weight` (out × in), the salient columns, the per-row
  /// quantization scale and the noise stream (`seed`, `layer_id`); `storage` says how the frozen
  /// weight is held (`gift::weight_storage::bf16`: half the memory, on the CPU layer).
  /// \throws gift::error as the layer's constructor does (shapes, scales, non-finite weights), or
  /// for bf16 storage on a backend other than Eigen.
  gift_sw_linear(const matrix<T>& weight, const salient_columns& salient, const vector<float>& delta,
                 std::uint64_t seed, std::uint32_t layer_id, gift::weight_storage storage = gift::weight_storage::f32)
      : layer_(make_layer(weight, salient, delta, noise_key{seed, layer_id, 0}, storage)) {}

  [[nodiscard]] Eigen::Index in_features() const override { return static_cast<Eigen::Index>(layer_.in_features()); }
  [[nodiscard]] Eigen::Index out_features() const override {
    return static_cast<Eigen::Index>(layer_.out_features());
  }
  void forward(const matrix_type& x, matrix_type& y, const forward_context& context) override {
    if constexpr (requires { layer_.forward_eval(x); }) {
      if (!context.record) {
        y = layer_.forward_eval(x);
        return;
      }
    }
    layer_.set_training(context.record && context.training);
    y = layer_.forward(x, context.step);
  }
  void backward(const matrix_type& dy, matrix_type& dx) override { dx = layer_.backward(dy); }
  [[nodiscard]] matrix<T> effective_weight() const override {
    auto merged = layer_.merged_weight();
    if constexpr (std::is_same_v<decltype(merged), matrix<T>>) {
      return merged;
    } else {
      return backend_storage<Backend, T>::to_host(merged);
    }
  }
  /// The salient block (out × k) and the bias, if any.
  [[nodiscard]] std::vector<optim::parameter<T, Backend>> parameters() override { return layer_.parameters(); }
  [[nodiscard]] std::string_view method() const override { return "gift_sw"; }

  /// The wrapped layer: salient block, its gradient, `parameters()` for an optimizer.
  [[nodiscard]] layer_type& layer() noexcept { return layer_; }
  /// \copydoc layer
  [[nodiscard]] const layer_type& layer() const noexcept { return layer_; }

private:
  static layer_type make_layer(const matrix<T>& weight, const salient_columns& salient, const vector<float>& delta,
                               noise_key key, gift::weight_storage storage) {
    if constexpr (std::is_same_v<Backend, backend::eigen>) {
      return layer_type(weight, salient, delta, key, storage);
    } else {
      gift::require(storage == gift::weight_storage::f32, "gift::model::gift_sw_linear: argument 'storage' is bf16, which ",
                    "the CPU (Eigen) layer implements; on this backend pass weight_storage::f32 (on CUDA, ",
                    "gift_linear<__nv_bfloat16, backend::cuda> stores bf16)");
      if constexpr (std::is_same_v<Backend, backend::cuda>) {
        // The GPU layer copies (and rounds) a host weight itself.
        return layer_type(weight, vector<float>(), salient, delta, key);
      } else {
        return layer_type(backend_storage<Backend, T>::from_host(weight), salient, delta, key);
      }
    }
  }

  layer_type layer_;
};

}  // namespace gift::model
