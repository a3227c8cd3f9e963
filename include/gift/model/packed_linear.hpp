#pragma once
/// \file gift/model/packed_linear.hpp
/// \brief `gift::model::packed_linear`: a frozen linear layer that runs from the packed
/// mixed-precision form (bit-packed codes, per-row Δ, full-precision salient columns) without
/// holding its dense weight, and `pack_linear_layers`, which turns a quantized model's layers
/// into such modules.
///
/// The forward pass is `gift::packed_matmul` (dequantize-on-the-fly in blocks): the same bits as
/// `frozen_linear` with the dequantized weight, for any thread count, at a fraction of the
/// memory (4-bit codes take an eighth of fp32). The input gradient decodes the weight once per
/// call, so a packed layer can sit in a model that fine-tunes other layers.

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/quant/packed.hpp>
#include <gift/salient_columns.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace gift::model {

/// A frozen linear layer `y = x Wᵀ` whose W is a `gift::packed_matrix` (fp32 activations).
class packed_linear final : public linear_module<float> {
public:
  /// Takes the packed weight (out × in).
  explicit packed_linear(packed_matrix weight) : weight_(std::move(weight)) {}

  [[nodiscard]] Eigen::Index in_features() const override { return static_cast<Eigen::Index>(weight_.cols()); }
  [[nodiscard]] Eigen::Index out_features() const override { return static_cast<Eigen::Index>(weight_.rows()); }
  [[nodiscard]] bool trainable() const override { return false; }
  /// \copydoc linear_module::forward
  void forward(const matrix<float>& x, matrix<float>& y, const forward_context&) override {
    packed_matmul(weight_, x, y);
  }
  /// \copydoc linear_module::backward
  void backward(const matrix<float>& dy, matrix<float>& dx) override {
    gift::detail::require(dy.cols() == out_features(), "gift::model::packed_linear::backward: argument 'dy' must have ",
                          out_features(), " columns (out), but has ", dy.cols());
    const matrix<float> w = weight_.dequantize();
    gift::detail::product_any_threads(dx, dy, w);
  }
  [[nodiscard]] matrix<float> effective_weight() const override { return weight_.dequantize(); }

  /// The packed weight.
  [[nodiscard]] const packed_matrix& packed() const noexcept { return weight_; }

private:
  packed_matrix weight_;
};

/// What `pack_linear_layers` needs for one layer: its Δ per row and salient columns.
struct packing_plan {
  gift::vector<float> delta;         ///< the step of every row the layer was quantized with
  gift::salient_columns salient;     ///< the columns kept in full precision
};

/// Replaces every linear layer of `model` by a `packed_linear` holding its current effective
/// weight (which must be on the `bits`-bit grid of `plan(block, p).delta` in its non-salient
/// columns: a quantized, possibly GIFT-SW fine-tuned model). A layer that is already a
/// `packed_linear` of that bit-width is kept. Nothing is replaced unless every layer packs.
/// \throws gift::error naming the first layer (and weight) that cannot be packed exactly.
inline void pack_linear_layers(llama_model<float>& model, int bits,
                               const std::function<packing_plan(int block, projection p)>& plan) {
  std::vector<std::unique_ptr<linear_module<float>>> packed;
  const int layers = model.config().layers;
  for (int b = 0; b < layers; ++b) {
    for (const projection p : all_projections) {
      const auto* existing = dynamic_cast<const packed_linear*>(&model.linear(b, p));
      if (existing != nullptr && existing->packed().bits() == bits) {
        packed.emplace_back();
        continue;
      }
      const packing_plan layer = plan(b, p);
      try {
        packed.push_back(std::make_unique<packed_linear>(
            packed_matrix::pack(model.linear(b, p).effective_weight(), layer.delta, layer.salient, bits)));
      } catch (const gift::error& e) {
        throw gift::error(gift::detail::concat("gift::model::pack_linear_layers: block ", b, " layer ", short_name(p),
                                               ": ", e.what()));
      }
    }
  }
  std::size_t next = 0;
  for (int b = 0; b < layers; ++b)
    for (const projection p : all_projections) {
      auto& module = packed[next++];
      if (module) model.replace_linear(b, p, std::move(module));
    }
}

}  // namespace gift::model
