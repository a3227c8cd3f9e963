#pragma once
/// \file gift/model/lora_adapter.hpp
/// \brief `gift::model::lora_adapter<T>`: the low-rank update `s·B·A` that LoRA and DoRA add to a
/// frozen weight — its initialisation (as peft does it), its forward and backward, its merge.

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/optim/parameter.hpp>
#include <gift/random.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gift::model {

/// The shape and initialisation of a low-rank adapter.
struct lora_options {
  int rank = 8;             ///< r: rows of A, columns of B
  double alpha = 16;        ///< LoRA α; the update is scaled by α / r
  std::uint64_t seed = 0;   ///< stream of A's initial values (with the layer id)
  std::uint32_t layer = 0;  ///< layer id: every layer gets its own A
};

/// `ΔW = s·B·A` with `A` (`r × in`), `B` (`out × r`) and `s = α / r`. As in peft, `A` starts
/// Kaiming-uniform with `a = √5` — uniform in `[−1/√in, 1/√in)` — and `B` at zero, so the
/// adapted layer starts equal to the frozen one. `A`'s values come from the Philox stream
/// `(seed, layer)`, so a run is reproducible bit for bit.
template <std::floating_point T>
class lora_adapter {
public:
  /// An adapter for an `out × in` weight.
  /// \throws gift::error when `rank` is not in `1..min(out, in)` or `alpha` is not finite and > 0.
  lora_adapter(Eigen::Index out, Eigen::Index in, const lora_options& options) : scale_(0) {
    gift::detail::require(out > 0 && in > 0, "gift::model::lora_adapter: the layer must not be empty, but is ", out,
                          " x ", in);
    gift::detail::require(options.rank >= 1 && options.rank <= std::min(out, in), "gift::model::lora_adapter: ",
                          "argument 'rank' must be in 1..", std::min(out, in), " (min of out ", out, " and in ", in,
                          "), but it is ", options.rank);
    gift::detail::require(std::isfinite(options.alpha) && options.alpha > 0, "gift::model::lora_adapter: argument ",
                          "'alpha' must be finite and > 0, but it is ", options.alpha);
    scale_ = static_cast<T>(options.alpha / options.rank);
    a_.resize(options.rank, in);
    const noise_key key{options.seed, options.layer, 0};
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    for (Eigen::Index i = 0; i < a_.size(); ++i) {
      const std::uint64_t index = static_cast<std::uint64_t>(i);
      const auto bits = gift::detail::noise_bits(key, index / 4).word[index % 4];
      a_.data()[i] = static_cast<T>(bound * (2.0 * gift::detail::uniform_closed_open(bits) - 1.0));
    }
    b_ = matrix<T>::Zero(out, options.rank);
    grad_a_ = matrix<T>::Zero(a_.rows(), a_.cols());
    grad_b_ = matrix<T>::Zero(b_.rows(), b_.cols());
  }

  /// Adds `s·(x Aᵀ) Bᵀ` to `y` (`tokens × out`); keeps `x` and `x Aᵀ` for the backward when `record`.
  void add_forward(const matrix<T>& x, matrix<T>& y, bool record) {
    matrix<T> h;
    gift::detail::product_any_threads(h, x, a_.transpose());
    const matrix<T> scaled = scale_ * h;
    gift::detail::product_any_threads(y, scaled, b_.transpose(), true);
    if (record) {
      input_ = x;
      hidden_ = std::move(h);
    }
  }
  /// Accumulates `dB += s·dyᵀ h` and `dA += (s·dy B)ᵀ x` for the recorded forward and adds
  /// `(s·dy B) A` to `dx`.
  void add_backward(const matrix<T>& dy, matrix<T>& dx) {
    gift::detail::require(dy.rows() == hidden_.rows() && dy.cols() == b_.rows(),
                          "gift::model::lora_adapter::backward: argument 'dy' must be ", hidden_.rows(), " x ", b_.rows(),
                          " (the last recorded forward), but is ", dy.rows(), " x ", dy.cols());
    const matrix<T> scaled = scale_ * dy;
    matrix<T> dh;
    gift::detail::product_any_threads(dh, scaled, b_);
    gift::detail::product_any_threads(grad_b_, scaled.transpose(), hidden_, true);
    gift::detail::product_any_threads(grad_a_, dh.transpose(), input_, true);
    gift::detail::product_any_threads(dx, dh, a_, true);
  }
  /// The dense update `s·B·A` (`out × in`).
  [[nodiscard]] matrix<T> delta_weight() const { return scale_ * (b_ * a_); }

  /// Views of A then B for an optimizer (both decayed, as peft's AdamW does by default).
  [[nodiscard]] std::vector<optim::parameter<T>> parameters(const std::string& prefix) {
    return {{span(a_), span(grad_a_), true, prefix + "lora_a"}, {span(b_), span(grad_b_), true, prefix + "lora_b"}};
  }

  /// A (`r × in`).
  [[nodiscard]] matrix<T>& a() noexcept { return a_; }
  /// B (`out × r`).
  [[nodiscard]] matrix<T>& b() noexcept { return b_; }
  /// \copydoc a
  [[nodiscard]] const matrix<T>& a() const noexcept { return a_; }
  /// \copydoc b
  [[nodiscard]] const matrix<T>& b() const noexcept { return b_; }
  /// Gradient of A.
  [[nodiscard]] const matrix<T>& grad_a() const noexcept { return grad_a_; }
  /// Gradient of B.
  [[nodiscard]] const matrix<T>& grad_b() const noexcept { return grad_b_; }
  /// The scale `s = α / r`.
  [[nodiscard]] T scale() const noexcept { return scale_; }
  /// The rank r.
  [[nodiscard]] Eigen::Index rank() const noexcept { return a_.rows(); }

private:
  static std::span<T> span(matrix<T>& m) { return {m.data(), static_cast<std::size_t>(m.size())}; }
  T scale_;
  matrix<T> a_, b_, grad_a_, grad_b_, input_, hidden_;
};

/// Trainable scalars of a rank-`rank` adapter on an `out × in` weight: `r·(in + out)`.
[[nodiscard]] constexpr std::int64_t lora_parameters(std::int64_t out, std::int64_t in, std::int64_t rank) noexcept {
  return rank * (in + out);
}

}  // namespace gift::model
