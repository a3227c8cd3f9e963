#pragma once
/// \file gift/model/gift_sw_linear.hpp
/// \brief `gift::model::gift_sw_linear<T>`: plugs a `gift::nn::gift_linear` (trainable salient
/// columns, quantization noise on the frozen ones) into a model slot.

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/nn/gift_linear.hpp>
#include <gift/salient_columns.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::model {

/// A model slot backed by `gift::nn::gift_linear<T>`: a training forward adds fresh noise of the
/// context's step, an evaluation forward uses the clean weights, `backward` accumulates the
/// salient-block gradient (read it, and the parameters, through `layer()`).
template <std::floating_point T>
class gift_sw_linear final : public trainable_linear<T> {
public:
  /// Wraps an existing layer.
  explicit gift_sw_linear(nn::gift_linear<T> layer) : layer_(std::move(layer)) {}

  /// Builds the layer from the dense `weight` (out × in), the salient columns, the per-row
  /// quantization scale and the noise stream (`seed`, `layer_id`).
  gift_sw_linear(const matrix<T>& weight, const salient_columns& salient, const vector<float>& delta,
                 std::uint64_t seed, std::uint32_t layer_id)
      : layer_(weight, salient, delta, noise_key{seed, layer_id, 0}) {}

  [[nodiscard]] Eigen::Index in_features() const override { return layer_.in_features(); }
  [[nodiscard]] Eigen::Index out_features() const override { return layer_.out_features(); }
  void forward(const matrix<T>& x, matrix<T>& y, const forward_context& context) override {
    if (!context.record) {
      y = layer_.forward_eval(x);
      return;
    }
    layer_.set_training(context.training);
    y = layer_.forward(x, context.step);
  }
  void backward(const matrix<T>& dy, matrix<T>& dx) override { dx = layer_.backward(dy); }
  [[nodiscard]] matrix<T> effective_weight() const override { return layer_.merged_weight(); }
  /// The salient block (out × k) and the bias, if any.
  [[nodiscard]] std::vector<optim::parameter<T>> parameters() override { return layer_.parameters(); }
  [[nodiscard]] std::string_view method() const override { return "gift_sw"; }

  /// The wrapped layer: salient block, its gradient, `parameters()` for an optimizer.
  [[nodiscard]] nn::gift_linear<T>& layer() noexcept { return layer_; }
  /// \copydoc layer
  [[nodiscard]] const nn::gift_linear<T>& layer() const noexcept { return layer_; }

private:
  nn::gift_linear<T> layer_;
};

}  // namespace gift::model
