#pragma once
/// \file gift/model/linear_module.hpp
/// \brief The seven linear layers of a decoder block and the interface every layer kind
/// (frozen dense, GIFT-SW, test doubles) implements for the model.
///
/// The model owns one `linear_module` per (block, projection) and calls `forward` in the block's
/// order and `backward` in reverse. A module that trains keeps what its backward needs (its input)
/// itself; a frozen one keeps nothing, because `dx = dy W` needs only the weight.

#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/multiply.hpp>

#include <array>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace gift::model {

/// The linear layers of one block, in GGUF order of use. Their layer id is `block * 7 + p`.
enum class projection : int { q = 0, k = 1, v = 2, o = 3, gate = 4, up = 5, down = 6 };

/// Number of linear layers per decoder block.
inline constexpr int projections_per_block = 7;

/// All projections, for loops.
inline constexpr std::array<projection, projections_per_block> all_projections = {
    projection::q, projection::k, projection::v, projection::o, projection::gate, projection::up, projection::down};

/// The GGUF tensor stem of a projection ("attn_q", ..., "ffn_down").
[[nodiscard]] constexpr std::string_view gguf_name(projection p) noexcept {
  constexpr std::array<std::string_view, projections_per_block> names = {
      "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
  return names[static_cast<std::size_t>(p)];
}

/// A short name of a projection ("q", "k", "v", "o", "gate", "up", "down").
[[nodiscard]] constexpr std::string_view short_name(projection p) noexcept {
  constexpr std::array<std::string_view, projections_per_block> names = {"q", "k", "v", "o", "gate", "up", "down"};
  return names[static_cast<std::size_t>(p)];
}

/// The stem gift's per-layer files use for layer `p` of block `block` ("blk.3.attn_q"): the GGUF
/// tensor name without ".weight" (calibration statistics, salient files, checkpoints).
[[nodiscard]] inline std::string layer_name(int block, projection p) {
  return "blk." + std::to_string(block) + "." + std::string(gguf_name(p));
}

/// The projection whose input `p` reads: q, k and v read the same normalised input, and so do
/// gate and up, so calibration keeps one set of statistics for each group (under its first member).
[[nodiscard]] constexpr projection input_owner(projection p) noexcept {
  switch (p) {
    case projection::k: case projection::v: return projection::q;
    case projection::up: return projection::gate;
    default: return p;
  }
}

/// The model-wide id of a linear layer (also the `layer` of its `noise_key`).
[[nodiscard]] constexpr int layer_id(int block, projection p) noexcept {
  return block * projections_per_block + static_cast<int>(p);
}

/// What a forward pass is for: training (noise on) or evaluation, and whether a backward follows.
struct forward_context {
  bool training = false;    ///< training forward: trainable layers inject noise and keep inputs
  std::uint32_t step = 0;   ///< optimizer step (selects the noise stream)
  bool record = false;      ///< a backward pass follows: trainable layers keep their inputs (set by the model)
};

/// One linear layer `y = x Wᵀ` of the model (`W` is `out × in`, `x` is `tokens × in`), computing
/// in `Backend`'s matrices (`gift::matrix<T>` on Eigen, `thrust_matrix<T, System>` on Thrust).
template <std::floating_point T, backend_tag Backend = backend::eigen>
class linear_module {
public:
  /// The backend the layer computes on.
  using backend_type = Backend;
  /// The activations' matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;

  virtual ~linear_module() = default;
  linear_module() = default;
  linear_module(const linear_module&) = delete;
  linear_module& operator=(const linear_module&) = delete;

  /// Input width (`in`).
  [[nodiscard]] virtual Eigen::Index in_features() const = 0;
  /// Output width (`out`).
  [[nodiscard]] virtual Eigen::Index out_features() const = 0;
  /// Whether the layer has trainable parameters (and so needs `backward` after a training forward).
  [[nodiscard]] virtual bool trainable() const = 0;
  /// `y = x Wᵀ` (+ bias); `y` is resized. A trainable layer keeps what its backward needs when `context.record`.
  virtual void forward(const matrix_type& x, matrix_type& y, const forward_context& context) = 0;
  /// `dx = dy W` through the weights used in the last forward; a trainable layer also
  /// accumulates its parameter gradients. `dx` is resized.
  virtual void backward(const matrix_type& dy, matrix_type& dx) = 0;
  /// The dense weight this layer computes with in evaluation (`out × in`; trained and merged), as
  /// a host matrix whatever the backend (what saving and exporting need).
  [[nodiscard]] virtual matrix<T> effective_weight() const = 0;
};

/// A frozen dense layer on `Backend`: forward and input gradient only, each one
/// `gift::multiply`.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class frozen_linear final : public linear_module<T, Backend> {
public:
  /// The activations' (and the weight's) matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;

  /// Takes the `out × in` weight, in the backend's memory.
  /// \throws gift::error when the weight is empty.
  explicit frozen_linear(matrix_type weight) : weight_(std::move(weight)) {
    gift::detail::require(weight_.size() > 0, "gift::model::frozen_linear: argument 'weight' must not be empty");
  }

  [[nodiscard]] Eigen::Index in_features() const override { return static_cast<Eigen::Index>(weight_.cols()); }
  [[nodiscard]] Eigen::Index out_features() const override { return static_cast<Eigen::Index>(weight_.rows()); }
  [[nodiscard]] bool trainable() const override { return false; }
  void forward(const matrix_type& x, matrix_type& y, const forward_context&) override {
    gift::detail::require(static_cast<Eigen::Index>(x.cols()) == in_features(),
                          "gift::model::frozen_linear::forward: argument 'x' must have ", in_features(),
                          " columns (in), but has ", x.cols());
    gift::multiply(x, weight_, y, right_factor::transposed);
  }
  void backward(const matrix_type& dy, matrix_type& dx) override {
    gift::detail::require(static_cast<Eigen::Index>(dy.cols()) == out_features(),
                          "gift::model::frozen_linear::backward: argument 'dy' must have ", out_features(),
                          " columns (out), but has ", dy.cols());
    gift::multiply(dy, weight_, dx);
  }
  [[nodiscard]] matrix<T> effective_weight() const override { return backend_storage<Backend, T>::to_host(weight_); }

  /// The weight (`out × in`), in the backend's memory.
  [[nodiscard]] const matrix_type& weight() const noexcept { return weight_; }

private:
  matrix_type weight_;
};

}  // namespace gift::model
