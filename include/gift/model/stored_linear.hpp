#pragma once
/// \file gift/model/stored_linear.hpp
/// \brief `gift::model::stored_linear<T>`: a frozen dense layer whose weight is held in a storage
/// type (`gift::weight_storage`: fp32 or bf16) and widened to `T` a panel at a time inside the
/// product, and `store_frozen_weights`, which moves a model's frozen layers into that storage.
///
/// With bf16 storage a model's linear weights take half the memory; the products, activations
/// and gradients stay in `T`. The layer computes exactly what `frozen_linear` computes on the
/// bf16-rounded weight (widening is exact), up to the summation order of `backward`, which adds
/// fixed-size panels in a fixed order; every product is `detail::product_any_threads`, so the bits
/// do not depend on the thread count.

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/stored_weight.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <memory>
#include <utility>

namespace gift::model {

/// A frozen `out × in` layer on the CPU whose weight is a `gift::stored_weight<T>`: forward and
/// input gradient only, one GEMM per panel of at most `panel_rows` rows widened into a scratch.
template <std::floating_point T>
class stored_linear final : public linear_module<T> {
public:
  /// Stores `weight` (out × in) in `storage`.
  /// \throws gift::error when the weight is empty or holds a non-finite value.
  stored_linear(const matrix<T>& weight, gift::weight_storage storage) : weight_(checked(weight), storage) {}

  [[nodiscard]] Eigen::Index in_features() const override { return weight_.cols(); }
  [[nodiscard]] Eigen::Index out_features() const override { return weight_.rows(); }
  [[nodiscard]] bool trainable() const override { return false; }

  /// `y = x Wᵀ`, one row panel of W (a column block of y) at a time.
  void forward(const matrix<T>& x, matrix<T>& y, const forward_context&) override {
    gift::require(x.cols() == in_features(), "gift::model::stored_linear::forward: argument 'x' must have ", in_features(),
                  " columns (in), but has ", x.cols());
    y.resize(x.rows(), out_features());
    matrix<T> panel;
    for (Eigen::Index first = 0; first < out_features(); first += panel_rows(in_features())) {
      const Eigen::Index count = std::min(panel_rows(in_features()), out_features() - first);
      widen_rows(first, count, panel);
      gift::detail::product_any_threads(y.middleCols(first, count), x, panel.transpose());
    }
  }

  /// `dx = dy W`, the row panels' products added in order.
  void backward(const matrix<T>& dy, matrix<T>& dx) override {
    gift::require(dy.cols() == out_features(), "gift::model::stored_linear::backward: argument 'dy' must have ",
                  out_features(), " columns (out), but has ", dy.cols());
    dx = matrix<T>::Zero(dy.rows(), in_features());
    matrix<T> panel;
    for (Eigen::Index first = 0; first < out_features(); first += panel_rows(in_features())) {
      const Eigen::Index count = std::min(panel_rows(in_features()), out_features() - first);
      widen_rows(first, count, panel);
      gift::detail::product_any_threads(dx, dy.middleCols(first, count), panel, true);
    }
  }

  /// The weight as the layer computes with it (bf16: rounded, widened), as a dense copy.
  [[nodiscard]] matrix<T> effective_weight() const override { return weight_.to_matrix(); }

  /// The stored weight.
  [[nodiscard]] const gift::stored_weight<T>& weight() const noexcept { return weight_; }

  /// Rows per panel for a weight `in` wide: about 4 M values (16 MB of fp32 scratch), at least 8.
  [[nodiscard]] static Eigen::Index panel_rows(Eigen::Index in) noexcept {
    return std::max<Eigen::Index>(8, (Eigen::Index{1} << 22) / std::max<Eigen::Index>(in, 1));
  }

private:
  static const matrix<T>& checked(const matrix<T>& weight) {
    gift::require(weight.size() > 0, "gift::model::stored_linear: argument 'weight' must not be empty");
    return weight;
  }

  void widen_rows(Eigen::Index first, Eigen::Index count, matrix<T>& panel) const {
    panel.resize(count, in_features());
    for (Eigen::Index r = 0; r < count; ++r) weight_.read(first + r, 0, in_features(), panel.data() + r * in_features());
  }

  gift::stored_weight<T> weight_;
};

/// Replaces every frozen (non-trainable) linear layer of `model` by a `stored_linear` holding its
/// weight in `storage`, one layer at a time (the extra memory is one layer's dense copy).
/// Trainable slots, the embedding, the output head and the norms are left as they are.
/// \returns the number of layers replaced.
template <std::floating_point T>
int store_frozen_weights(llama_model<T>& model, gift::weight_storage storage) {
  int replaced = 0;
  for (int b = 0; b < model.config().layers; ++b)
    for (projection p : all_projections) {
      if (model.linear(b, p).trainable()) continue;
      const matrix<T> dense = model.linear(b, p).effective_weight();
      model.replace_linear(b, p, std::make_unique<stored_linear<T>>(dense, storage));
      ++replaced;
    }
  return replaced;
}

}  // namespace gift::model
