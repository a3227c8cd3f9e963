#pragma once
/// \file gift/model/lora_adapter.hpp
/// \brief `gift::model::lora_adapter<T, Backend>`: the low-rank update `s·B·A` that LoRA, DoRA and
/// NPFT add to a frozen weight — its initialisation (as peft does it), its forward and backward,
/// its merge — on any backend.

#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/multiply.hpp>
#include <gift/optim/parameter.hpp>
#include <gift/random.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
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
/// `(seed, layer)`, so a run is reproducible bit for bit. `A`, `B`, their gradients and what the
/// backward keeps live on `Backend` (Eigen by default; a Thrust system with
/// <gift/backend/thrust.hpp>); every product is a `gift::multiply`, so each backend computes the
/// same bits as the Eigen adapter wherever its GEMM does.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class lora_adapter {
public:
  /// The backend's matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;

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
    matrix<T> a(options.rank, in);
    const noise_key key{options.seed, options.layer, 0};
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    for (Eigen::Index i = 0; i < a.size(); ++i) {
      const std::uint64_t index = static_cast<std::uint64_t>(i);
      const auto bits = gift::detail::noise_bits(key, index / 4).word[index % 4];
      a.data()[i] = static_cast<T>(bound * (2.0 * gift::detail::uniform_closed_open(bits) - 1.0));
    }
    a_ = storage::from_host(a);
    b_ = storage::zeros(out, options.rank);
    grad_a_ = storage::zeros(options.rank, in);
    grad_b_ = storage::zeros(out, options.rank);
  }

  /// Adds `s·(x Aᵀ) Bᵀ` to `y` (`tokens × out`); keeps `x` and `x Aᵀ` for the backward when `record`.
  void add_forward(const matrix_type& x, matrix_type& y, bool record) {
    matrix_type h, scaled;
    gift::multiply(x, a_, h, right_factor::transposed);
    gift::scale(h, static_cast<double>(scale_), scaled);
    gift::multiply(scaled, b_, y, right_factor::transposed, true);
    if (record) {
      input_ = x;
      hidden_ = std::move(h);
    }
  }
  /// Accumulates `dB += s·dyᵀ h` and `dA += (s·dy B)ᵀ x` for the recorded forward and adds
  /// `(s·dy B) A` to `dx`.
  void add_backward(const matrix_type& dy, matrix_type& dx) {
    gift::detail::require(static_cast<Eigen::Index>(dy.rows()) == static_cast<Eigen::Index>(hidden_.rows()) &&
                              static_cast<Eigen::Index>(dy.cols()) == static_cast<Eigen::Index>(b_.rows()),
                          "gift::model::lora_adapter::backward: argument 'dy' must be ", hidden_.rows(), " x ", b_.rows(),
                          " (the last recorded forward), but is ", dy.rows(), " x ", dy.cols());
    matrix_type scaled, dh;
    gift::scale(dy, static_cast<double>(scale_), scaled);
    gift::multiply(scaled, b_, dh);
    gift::multiply_transposed(scaled, hidden_, grad_b_, true);
    gift::multiply_transposed(dh, input_, grad_a_, true);
    gift::multiply(dh, a_, dx, right_factor::as_is, true);
  }
  /// The dense update `s·B·A` (`out × in`), on the host.
  [[nodiscard]] matrix<T> delta_weight() const {
    return scale_ * (storage::to_host(b_) * storage::to_host(a_));
  }

  /// Views of A then B for an optimizer (both decayed, as peft's AdamW does by default), in the
  /// backend's memory.
  [[nodiscard]] std::vector<optim::parameter<T, Backend>> parameters(const std::string& prefix) {
    return {{span(a_), span(grad_a_), true, prefix + "lora_a"}, {span(b_), span(grad_b_), true, prefix + "lora_b"}};
  }

  /// A (`r × in`).
  [[nodiscard]] matrix_type& a() noexcept { return a_; }
  /// B (`out × r`).
  [[nodiscard]] matrix_type& b() noexcept { return b_; }
  /// \copydoc a
  [[nodiscard]] const matrix_type& a() const noexcept { return a_; }
  /// \copydoc b
  [[nodiscard]] const matrix_type& b() const noexcept { return b_; }
  /// Gradient of A.
  [[nodiscard]] const matrix_type& grad_a() const noexcept { return grad_a_; }
  /// Gradient of B.
  [[nodiscard]] const matrix_type& grad_b() const noexcept { return grad_b_; }
  /// The scale `s = α / r`.
  [[nodiscard]] T scale() const noexcept { return scale_; }
  /// The rank r.
  [[nodiscard]] Eigen::Index rank() const noexcept { return static_cast<Eigen::Index>(a_.rows()); }

private:
  using storage = backend_storage<Backend, T>;
  static std::span<T> span(matrix_type& m) { return {m.data(), static_cast<std::size_t>(m.size())}; }
  T scale_;
  matrix_type a_, b_, grad_a_, grad_b_, input_, hidden_;
};

/// Trainable scalars of a rank-`rank` adapter on an `out × in` weight: `r·(in + out)`.
[[nodiscard]] constexpr std::int64_t lora_parameters(std::int64_t out, std::int64_t in, std::int64_t rank) noexcept {
  return rank * (in + out);
}

}  // namespace gift::model
