#pragma once
/// \file gift/backend/thrust/nn/gift_linear.hpp
/// \brief The GIFT-SW linear layer on the Thrust host systems (OMP, CPP): the device code path of
/// the CUDA layer — noisy weight panels written by a Thrust algorithm, each consumed by a GEMM of
/// the system's BLAS (Eigen on host memory, as cuBLAS on the GPU) — run on the CPU, so that a
/// machine without a GPU tests it.
///
/// W (out × in) and the trainable salient block (out × k) live in the system's vectors. Every
/// pass regenerates W̃ one row panel at a time: element (i, j) is the trained salient value for a
/// salient column, else W_ij plus (in training) `½ Δ_i · standard_normal(key, i·in + j)` — the
/// same arithmetic, hence the same bits, as `gift::add_quantization_noise` and the Eigen layer.
/// The forward pass gives column blocks of y = x W̃ᵀ, the backward pass accumulates dx += dy_P W̃_P
/// over the panels. Scratch: one panel, never out × in.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/optim/parameter.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/nn/gift_linear.hpp>
#include <gift/detail/noise.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/random.hpp>
#include <gift/salient_columns.hpp>

#include <thrust/copy.h>
#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <Eigen/Core>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gift::backend {

namespace detail {
/// Writes element e of a row panel of W̃ that starts at row `first_row` and spans all `in`
/// columns.
template <class T>
struct noisy_panel_element {
  const T* weight;          // out × in
  const T* salient_weight;  // out × k
  const T* half_delta;      // per row, ½ Δ_i
  const std::int32_t* slot; // per column: its position in the salient block, or −1
  T* panel;
  std::uint64_t in, k, first_row;
  noise_key key;
  bool noisy;
  GIFT_HOST_DEVICE void operator()(std::uint64_t e) const {
    const std::uint64_t i = first_row + e / in, j = e % in;
    const std::int32_t s = slot[j];
    if (s >= 0) {
      panel[e] = salient_weight[i * k + static_cast<std::uint64_t>(s)];
    } else if (noisy) {
      panel[e] = gift::detail::noisy_weight(weight[i * in + j], half_delta[i], standard_normal(key, i * in + j));
    } else {
      panel[e] = weight[i * in + j];
    }
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::gift_linear, thrust<System>> {
  /// The host systems only: their memory is host memory, which Eigen's GEMM reads in place. (On
  /// the GPU, `backend::cuda` has the layer.)
  static constexpr bool available = detail::host_memory_system<System>;

  /// The layer on a Thrust host system, for float or double (gradient checks).
  template <std::floating_point T>
  class layer : public gift::detail::gift_linear_settings {
  public:
    /// A matrix of the layer's system.
    using matrix_type = thrust_matrix<T, System>;
    /// A vector of the layer's system.
    using vector_type = thrust_vector_t<System, T>;
    /// The scalar type of the weights, activations and gradients.
    using scalar = T;
    /// The scalar of the trained blocks.
    using master_scalar = T;
    /// `set_noisy_weight_cache` has no effect here yet: backward regenerates the noise.
    static constexpr bool noisy_weight_cache_supported = false;

    /// Builds the layer from `weight` (out × in, in the system's memory), its salient columns,
    /// the per-row scale `delta` (out entries, finite, > 0) and the noise stream (`base.step` is
    /// ignored: each forward names its step). No bias.
    /// \throws gift::error on empty or non-finite weights, a selection of another width or a bad
    /// scale.
    layer(const matrix_type& weight, const gift::salient_columns& salient, const gift::vector<float>& delta,
          noise_key base)
        : layer(weight, gift::vector<T>(), false, salient, delta, base) {}

    /// As above, with a bias of `out` entries (host values, copied into the system's memory).
    layer(const matrix_type& weight, const gift::vector<T>& bias, const gift::salient_columns& salient,
          const gift::vector<float>& delta, noise_key base)
        : layer(weight, bias, true, salient, delta, base) {}

    /// Output features (rows of W).
    [[nodiscard]] std::int64_t out_features() const noexcept { return static_cast<std::int64_t>(weight_.rows()); }
    /// Input features (columns of W).
    [[nodiscard]] std::int64_t in_features() const noexcept { return static_cast<std::int64_t>(weight_.cols()); }
    /// The trainable salient block (out × k), in the order of `salient_columns().indices()`.
    [[nodiscard]] matrix_type& salient_weight() noexcept { return salient_weight_; }
    /// \copydoc salient_weight()
    [[nodiscard]] const matrix_type& salient_weight() const noexcept { return salient_weight_; }
    /// Accumulated gradient of the salient block (out × k).
    [[nodiscard]] matrix_type& salient_gradient() noexcept { return salient_gradient_; }
    /// \copydoc salient_gradient()
    [[nodiscard]] const matrix_type& salient_gradient() const noexcept { return salient_gradient_; }
    /// The bias (empty without one).
    [[nodiscard]] vector_type& bias() noexcept { return bias_; }
    /// Accumulated gradient of the bias (empty without a bias).
    [[nodiscard]] vector_type& bias_gradient() noexcept { return bias_gradient_; }

    /// Everything this layer trains (salient block, then the bias), as views of host memory.
    [[nodiscard]] std::vector<gift::detail::trainable_block<T>> trainable_blocks() {
      std::vector<gift::detail::trainable_block<T>> views;
      const std::string prefix = "gift_linear<thrust>(layer " + std::to_string(base_.layer) + ")";
      views.push_back({span_of(salient_weight_.storage()), span_of(salient_gradient_.storage()), true,
                       prefix + " salient"});
      if (has_bias_) views.push_back({span_of(bias_), span_of(bias_gradient_), false, prefix + " bias"});
      return views;
    }

    /// Clears the accumulated gradients.
    void zero_grad() {
      std::fill(salient_gradient_.storage().begin(), salient_gradient_.storage().end(), T(0));
      std::fill(bias_gradient_.begin(), bias_gradient_.end(), T(0));
    }

    /// `y = x W̃ᵀ (+ b)` for `x` (tokens × in); noise of `step` in training mode. Caches x_S.
    /// \throws gift::error on a shape mismatch, a non-finite input or a step beyond 32 bits.
    [[nodiscard]] matrix_type forward(const matrix_type& x, std::uint64_t step) {
      constexpr const char* where = "gift::nn::gift_linear<thrust>::forward";
      check_input(x, where);
      gift::detail::check_step(step, where);
      matrix_type y = multiply_by_transpose(x, training_, static_cast<std::uint32_t>(step));
      const auto tokens = static_cast<Eigen::Index>(x.rows());
      const auto k = static_cast<Eigen::Index>(selection_.size());
      cached_salient_input_ = matrix_type(x.rows(), selection_.size());
      auto x_host = host_view(x);
      auto cache = host_view(cached_salient_input_);
      for (Eigen::Index t = 0; t < tokens; ++t)
        for (Eigen::Index s = 0; s < k; ++s) cache(t, s) = x_host(t, selection_.indices()[static_cast<std::size_t>(s)]);
      cached_step_ = static_cast<std::uint32_t>(step);
      cached_noisy_ = training_;
      has_cache_ = true;
      return y;
    }

    /// `y = x Wᵀ (+ b)` with clean weights, whatever the mode; caches nothing.
    [[nodiscard]] matrix_type forward_eval(const matrix_type& x) const {
      check_input(x, "gift::nn::gift_linear<thrust>::forward_eval");
      return multiply_by_transpose(x, false, 0);
    }

    /// Back-propagates `dy` (tokens × out) through the last `forward`: returns dx = dy W̃ with
    /// the same W̃, and accumulates dW_S += dyᵀ x_S and db += Σ_tokens dy.
    /// \throws gift::error without a preceding forward, on a shape mismatch or a non-finite dy.
    [[nodiscard]] matrix_type backward(const matrix_type& dy) {
      constexpr const char* where = "gift::nn::gift_linear<thrust>::backward";
      gift::detail::require(has_cache_, where, ": no forward pass to differentiate; call forward(x, step) first");
      gift::detail::require(dy.rows() == cached_salient_input_.rows() &&
                                static_cast<std::int64_t>(dy.cols()) == out_features(),
                            where, ": argument 'dy' must be tokens x out = ", cached_salient_input_.rows(), " x ",
                            out_features(), " (the shape forward returned), but it is ", dy.rows(), " x ", dy.cols());
      require_finite(dy, where, "dy");
      const auto dy_host = host_view(dy);
      matrix_type dx(dy.rows(), weight_.cols());
      auto dx_host = host_view(dx);
      for_each_panel(cached_noisy_, cached_step_, [&](Eigen::Index first, Eigen::Index count, const auto& panel) {
        dx_host.noalias() += dy_host.middleCols(first, count) * panel;
      });
      auto gradient = host_view(salient_gradient_);
      gradient.noalias() += dy_host.transpose() * host_view(cached_salient_input_);
      if (has_bias_) {
        Eigen::Map<gift::vector<T>> db(::thrust::raw_pointer_cast(bias_gradient_.data()),
                                       static_cast<Eigen::Index>(bias_gradient_.size()));
        db += dy_host.colwise().sum().transpose();
      }
      return dx;
    }

    /// The dense weight with the trained salient columns written back (out × in).
    [[nodiscard]] matrix_type merged_weight() const {
      matrix_type merged = weight_;
      auto m = host_view(merged);
      const auto block = host_view(salient_weight_);
      for (std::size_t s = 0; s < selection_.size(); ++s)
        m.col(selection_.indices()[s]) = block.col(static_cast<Eigen::Index>(s));
      return merged;
    }

    /// The frozen weight as stored (out × in); its salient columns hold the original values.
    [[nodiscard]] const matrix_type& frozen_weight() const noexcept { return weight_; }

  private:
    using host_matrix = Eigen::Map<gift::matrix<T>>;
    using const_host_matrix = Eigen::Map<const gift::matrix<T>>;

    layer(const matrix_type& weight, const gift::vector<T>& bias, bool has_bias, const gift::salient_columns& salient,
          const gift::vector<float>& delta, noise_key base)
        : gift::detail::gift_linear_settings(salient, delta, base, has_bias, checked_rows(weight),
                                             static_cast<std::int64_t>(weight.cols()), "gift::nn::gift_linear<thrust>"),
          weight_(weight) {
      constexpr const char* where = "gift::nn::gift_linear<thrust>";
      if (has_bias_) {
        gift::detail::require(bias.size() == out_features(), where, ": argument 'bias' must have out = ",
                              out_features(), " entries, but it has ", bias.size());
        gift::detail::require(bias.allFinite(), where, ": argument 'bias' must be finite");
        bias_.assign(bias.data(), bias.data() + bias.size());
        bias_gradient_.assign(bias_.size(), T(0));
      }
      std::vector<T> half(weight_.rows());
      for (std::size_t i = 0; i < half.size(); ++i)
        half[i] = gift::detail::half_delta<T>(delta_(static_cast<Eigen::Index>(i)));
      half_delta_.assign(half.begin(), half.end());
      std::vector<std::int32_t> slot(weight_.cols(), -1);
      for (std::size_t s = 0; s < selection_.size(); ++s)
        slot[static_cast<std::size_t>(selection_.indices()[s])] = static_cast<std::int32_t>(s);
      slot_.assign(slot.begin(), slot.end());
      salient_weight_ = matrix_type(weight_.rows(), selection_.size());
      salient_gradient_ = matrix_type(weight_.rows(), selection_.size());
      auto block = host_view(salient_weight_);
      const auto w = host_view(weight_);
      for (std::size_t s = 0; s < selection_.size(); ++s)
        block.col(static_cast<Eigen::Index>(s)) = w.col(selection_.indices()[s]);
    }

    template <class Vector>
    static std::span<T> span_of(Vector& v) {
      return std::span<T>(::thrust::raw_pointer_cast(v.data()), v.size());
    }
    static host_matrix host_view(matrix_type& m) {
      return host_matrix(::thrust::raw_pointer_cast(m.storage().data()), static_cast<Eigen::Index>(m.rows()),
                         static_cast<Eigen::Index>(m.cols()));
    }
    static const_host_matrix host_view(const matrix_type& m) {
      return const_host_matrix(::thrust::raw_pointer_cast(m.storage().data()), static_cast<Eigen::Index>(m.rows()),
                               static_cast<Eigen::Index>(m.cols()));
    }

    /// The weight's rows, after checking that it is non-empty and finite.
    static std::int64_t checked_rows(const matrix_type& weight) {
      constexpr const char* where = "gift::nn::gift_linear<thrust>";
      gift::detail::require(weight.rows() > 0 && weight.cols() > 0, where,
                            ": argument 'weight' must be non-empty (out x in), but it is ", weight.rows(), " x ",
                            weight.cols());
      require_finite(weight, where, "weight");
      return static_cast<std::int64_t>(weight.rows());
    }

    static void require_finite(const matrix_type& m, const char* where, const char* argument) {
      const auto host = host_view(m);
      if (!host.allFinite()) gift::detail::throw_first_non_finite(host, where, argument);
    }

    void check_input(const matrix_type& x, const char* where) const {
      gift::detail::require(static_cast<std::int64_t>(x.cols()) == in_features(), where,
                            ": argument 'x' must be tokens x in with in = ", in_features(), ", but it is ", x.rows(),
                            " x ", x.cols());
      require_finite(x, where, "x");
    }

    /// Calls `work(first_row, rows, panel)` for consecutive row panels of W̃ (noise of `step`
    /// when `noisy`), each generated by a Thrust algorithm into one scratch vector.
    template <class Work>
    void for_each_panel(bool noisy, std::uint32_t step, const Work& work) const {
      const std::uint64_t out = weight_.rows(), in = weight_.cols();
      const std::uint64_t height = std::clamp<std::uint64_t>(panel_elements_ / in, 1, out);
      vector_type panel(height * in);
      const noise_key key{base_.seed, base_.layer, step};
      for (std::uint64_t first = 0; first < out; first += height) {
        const std::uint64_t rows = std::min(height, out - first);
        ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::uint64_t>(0),
                           ::thrust::counting_iterator<std::uint64_t>(rows * in),
                           detail::noisy_panel_element<T>{
                               ::thrust::raw_pointer_cast(weight_.storage().data()),
                               ::thrust::raw_pointer_cast(salient_weight_.storage().data()),
                               ::thrust::raw_pointer_cast(half_delta_.data()), ::thrust::raw_pointer_cast(slot_.data()),
                               ::thrust::raw_pointer_cast(panel.data()), in, selection_.size(), first, key, noisy});
        const const_host_matrix view(::thrust::raw_pointer_cast(panel.data()), static_cast<Eigen::Index>(rows),
                                     static_cast<Eigen::Index>(in));
        work(static_cast<Eigen::Index>(first), static_cast<Eigen::Index>(rows), view);
      }
    }

    /// x W̃ᵀ (+ b), one row panel of W̃ at a time.
    matrix_type multiply_by_transpose(const matrix_type& x, bool noisy, std::uint32_t step) const {
      matrix_type y(x.rows(), weight_.rows());
      auto y_host = host_view(y);
      const auto x_host = host_view(x);
      for_each_panel(noisy, step, [&](Eigen::Index first, Eigen::Index count, const auto& panel) {
        y_host.middleCols(first, count).noalias() = x_host * panel.transpose();
      });
      if (has_bias_) {
        const Eigen::Map<const gift::vector<T>> b(::thrust::raw_pointer_cast(bias_.data()),
                                                  static_cast<Eigen::Index>(bias_.size()));
        y_host.rowwise() += b.transpose();
      }
      return y;
    }

    matrix_type weight_;            // out × in, frozen
    matrix_type salient_weight_;    // out × k, trainable
    matrix_type salient_gradient_;  // out × k
    vector_type bias_, bias_gradient_;
    vector_type half_delta_;
    thrust_vector_t<System, std::int32_t> slot_;
    matrix_type cached_salient_input_;
    std::uint32_t cached_step_ = 0;
    bool cached_noisy_ = false;
    bool has_cache_ = false;
  };
};

}  // namespace gift::backend

namespace gift::nn {
template <class T, backend_tag Backend>
class gift_linear;

/// A Thrust host-system weight gives the layer of that system, in the weight's scalar type.
template <class T, class System, class... Rest>
gift_linear(const thrust_matrix<T, System>&, Rest&&...) -> gift_linear<T, backend::thrust<System>>;
}  // namespace gift::nn
