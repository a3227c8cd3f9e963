#pragma once
/// \file gift/backend/eigen/nn/gift_linear.hpp
/// \brief The GIFT-SW linear layer on the CPU (Eigen): only the salient columns learn, the frozen
/// columns see fresh quantization noise every training step.
///
/// Storage. W is kept whole (out × in, frozen) next to the trainable salient block (out × k, the
/// master copy). The forward pass then needs one GEMM per panel with no gather of the frozen
/// input columns and no scatter of the input gradient; the compact alternative (W_N as
/// out × (in − k) plus W_S) saves k·out floats (≈3 %) but costs two GEMMs and a copy of x_N and of
/// dx_N per pass. The original values of the salient columns inside W are never read.
/// W is a `gift::stored_weight`: fp32, or bf16 (half the memory) widened to fp32 as each panel
/// is filled, so the noise is added and the product computed in fp32 either way; the salient block
/// is taken from the weight as given, before any rounding.
///
/// Noise without a full-size temporary. A training forward computes `y = x W̃ᵀ` where W̃ is W with
/// `½ Δ_i Ω_ij` added to the frozen columns and the current salient block in the salient ones.
/// W̃ is generated one panel at a time (≤ 16 MB, `set_panel_elements`) and consumed by an Eigen GEMM
/// right away: row panels of W̃ give column blocks of y; for `dx = dy W̃` column panels of W̃ give
/// column blocks of dx. Threads take whole panels (generate + single-threaded GEMM), so a pass
/// has one parallel region and the scratch is one panel per thread. The backward pass regenerates exactly the same W̃ from the key, so nothing
/// of size out × in is stored or allocated per step. Ω_ij is `standard_normal(key, i*in + j)`,
/// indexed by the position in the ORIGINAL W, so it equals `gift::add_quantization_noise`.

#include <gift/detail/product.hpp>
#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/noise_rows.hpp>
#include <gift/backend/tags.hpp>
#include <gift/detail/nn/gift_linear.hpp>
#include <gift/detail/noise.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/stored_weight.hpp>
#include <gift/random.hpp>
#include <gift/salient_columns.hpp>

#include <Eigen/Core>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::gift_linear, eigen> {
  static constexpr bool available = true;

  /// The layer `y = x W̃ᵀ (+ b)` on the CPU, templated on the scalar so that a double instance
  /// can serve as a gradient-check reference; training uses float.
  template <std::floating_point T>
  class layer : public gift::detail::gift_linear_settings {
  public:
    /// The scalar type of the weights, activations and gradients.
    using scalar = T;

    /// Builds the layer from `weight` (out × in), its salient columns (selected for this layer's
    /// width), the per-row quantization scale `delta` (out entries, finite, > 0) and the noise
    /// stream's `seed` and `layer` (the step field of `base` is ignored: each forward call names
    /// its step). No bias. `storage` says how the frozen weight is held (`weight_storage::bf16`:
    /// rounded once, half the memory; the salient block and all arithmetic stay in `T`).
    /// \throws gift::error on empty or non-finite weights, a selection of another width or a bad
    /// scale.
    template <class Weight>
    layer(const Eigen::MatrixBase<Weight>& weight, const gift::salient_columns& salient,
                const gift::vector<float>& delta, noise_key base, gift::weight_storage storage = gift::weight_storage::f32)
        : layer(weight, gift::vector<T>(), false, salient, delta, base, storage) {}

    /// As above, with the salient columns as indices (any order), validated by
    /// `gift::salient_columns::from_indices` against the weight's width.
    /// \throws gift::error for an index out of range or repeated, or as above.
    template <class Weight>
    layer(const Eigen::MatrixBase<Weight>& weight, std::span<const std::int64_t> salient_indices,
                const gift::vector<float>& delta, noise_key base, gift::weight_storage storage = gift::weight_storage::f32)
        : layer(weight,
                      gift::salient_columns::from_indices(salient_indices, static_cast<std::size_t>(weight.cols()),
                                                          "gift::nn::gift_linear"),
                      delta, base, storage) {}

    /// As above, with a bias of `out` entries (trainable, like the salient block).
    template <class Weight, class Bias>
    layer(const Eigen::MatrixBase<Weight>& weight, const Eigen::MatrixBase<Bias>& bias,
                const gift::salient_columns& salient, const gift::vector<float>& delta, noise_key base,
                gift::weight_storage storage = gift::weight_storage::f32)
        : layer(weight, gift::vector<T>(bias.template cast<T>()), true, salient, delta, base, storage) {}

    /// As above (bias), with the salient columns as indices (any order).
    template <class Weight, class Bias>
    layer(const Eigen::MatrixBase<Weight>& weight, const Eigen::MatrixBase<Bias>& bias,
                std::span<const std::int64_t> salient_indices, const gift::vector<float>& delta, noise_key base,
                gift::weight_storage storage = gift::weight_storage::f32)
        : layer(weight, bias,
                      gift::salient_columns::from_indices(salient_indices, static_cast<std::size_t>(weight.cols()),
                                                          "gift::nn::gift_linear"),
                      delta, base, storage) {}

    /// Output features (rows of W).
    [[nodiscard]] std::int64_t out_features() const noexcept { return weight_.rows(); }
    /// Input features (columns of W).
    [[nodiscard]] std::int64_t in_features() const noexcept { return weight_.cols(); }
    /// The trainable salient block (out × k), in the order of `salient_columns()`.
    [[nodiscard]] gift::matrix<T>& salient_weight() noexcept { return salient_weight_; }
    /// \copydoc salient_weight()
    [[nodiscard]] const gift::matrix<T>& salient_weight() const noexcept { return salient_weight_; }
    /// Accumulated gradient of the salient block (out × k); `zero_grad` clears it.
    [[nodiscard]] gift::matrix<T>& salient_gradient() noexcept { return salient_gradient_; }
    /// \copydoc salient_gradient()
    [[nodiscard]] const gift::matrix<T>& salient_gradient() const noexcept { return salient_gradient_; }
    /// The bias (empty without one).
    [[nodiscard]] gift::vector<T>& bias() noexcept { return bias_; }
    /// \copydoc bias()
    [[nodiscard]] const gift::vector<T>& bias() const noexcept { return bias_; }
    /// Accumulated gradient of the bias (empty without a bias); `zero_grad` clears it.
    [[nodiscard]] gift::vector<T>& bias_gradient() noexcept { return bias_gradient_; }
    /// \copydoc bias_gradient()
    [[nodiscard]] const gift::vector<T>& bias_gradient() const noexcept { return bias_gradient_; }

    /// The scalar of the trained blocks and their gradients.
    using master_scalar = T;

    /// Everything this layer trains (salient block, then the bias if any), as plain views; the
    /// front end turns them into optimizer parameters.
    [[nodiscard]] std::vector<gift::detail::trainable_block<T>> trainable_blocks() {
      std::vector<gift::detail::trainable_block<T>> views;
      const std::string prefix = "gift_linear(layer " + std::to_string(base_.layer) + ")";
      views.push_back({std::span<T>(salient_weight_.data(), static_cast<std::size_t>(salient_weight_.size())),
                       std::span<T>(salient_gradient_.data(), static_cast<std::size_t>(salient_gradient_.size())), true,
                       prefix + " salient"});
      if (has_bias_) {
        views.push_back({std::span<T>(bias_.data(), static_cast<std::size_t>(bias_.size())),
                         std::span<T>(bias_gradient_.data(), static_cast<std::size_t>(bias_gradient_.size())), false,
                         prefix + " bias"});
      }
      return views;
    }

    /// Clears the accumulated gradients.
    void zero_grad() {
      salient_gradient_.setZero();
      bias_gradient_.setZero();
    }

    /// `y = x W̃ᵀ (+ b)` for `x` of shape tokens × in. In training mode W̃ carries the noise of
    /// `step` on its frozen columns; in evaluation mode W̃ is the clean weight. Caches what
    /// `backward` needs: the salient input columns x_S (tokens × k) and the step.
    /// \throws gift::error on a shape mismatch, a non-finite input or a step beyond 32 bits.
    template <class Input>
    [[nodiscard]] gift::matrix<T> forward(const Eigen::MatrixBase<Input>& x, std::uint64_t step) {
      constexpr const char* where = "gift::nn::gift_linear::forward";
      check_input(x, where);
      gift::detail::check_step(step, where);
      // With the cache on, a training forward writes W̃ into the cache and multiplies from there.
      const bool keep = training_ && noisy_weight_cache_;
      gift::matrix<T> y = keep ? multiply_and_keep(x, static_cast<std::uint32_t>(step))
                               : multiply_by_transpose(x, training_, static_cast<std::uint32_t>(step));
      cache_holds_step_ = keep;
      // Cache x_S only: dx needs dy and W̃ (regenerated), dW_S needs x_S.
      cached_salient_input_.resize(x.rows(), static_cast<Eigen::Index>(salient_indices().size()));
      for (Eigen::Index t = 0; t < x.rows(); ++t)
        for (std::size_t s = 0; s < salient_indices().size(); ++s)
          cached_salient_input_(t, static_cast<Eigen::Index>(s)) = static_cast<T>(x(t, salient_indices()[s]));
      cached_step_ = static_cast<std::uint32_t>(step);
      cached_noisy_ = training_;
      has_cache_ = true;
      return y;
    }

    /// `y = x Wᵀ (+ b)` with clean weights (evaluation), whatever the mode; caches nothing.
    template <class Input>
    [[nodiscard]] gift::matrix<T> forward_eval(const Eigen::MatrixBase<Input>& x) const {
      check_input(x, "gift::nn::gift_linear::forward_eval");
      return multiply_by_transpose(x, false, 0);
    }

    /// Back-propagates `dy` (tokens × out) through the last `forward`: returns `dx = dy W̃` with the
    /// SAME W̃ (noise regenerated from the key), and accumulates `dW_S += dyᵀ x_S` and
    /// `db += Σ_tokens dy`.
    /// \throws gift::error without a preceding forward, on a shape mismatch or a non-finite dy.
    template <class OutputGradient>
    [[nodiscard]] gift::matrix<T> backward(const Eigen::MatrixBase<OutputGradient>& dy) {
      constexpr const char* where = "gift::nn::gift_linear::backward";
      gift::detail::require(has_cache_, where, ": no forward pass to differentiate; call forward(x, step) first");
      gift::detail::require(dy.rows() == cached_salient_input_.rows() && dy.cols() == out_features(), where,
                            ": argument 'dy' must be tokens x out = ", cached_salient_input_.rows(), " x ",
                            out_features(), " (the shape forward returned), but it is ", dy.rows(), " x ", dy.cols());
      check_finite(dy, where, "dy");
      const Eigen::Index tokens = dy.rows(), in = in_features(), out = out_features();
      gift::matrix<T> dx(tokens, in);
      // Column panels of W̃ (out × width) give disjoint column blocks of dx, full depth `out`. Widths
      // in whole generator batches: each row's stretch of noise is then made without a wasted tail.
      const Eigen::Index width = panel_extent(out, in, 4 * backend::detail::noise_tail_batch_blocks);
      for_each_panel(in, width, out * width, [&](Eigen::Index first, Eigen::Index count, T* scratch) {
        if (cache_holds_step_) {
          // The kept W̃, read in place: the GEMM packs the same values, so the bits are the same.
          dx.middleCols(first, count).noalias() = dy.template cast<T>() * noisy_weight_.middleCols(first, count);
          return;
        }
        Eigen::Map<gift::matrix<T>> block(scratch, out, count);
        fill_panel(block, 0, first, cached_noisy_, cached_step_);
        dx.middleCols(first, count).noalias() = dy.template cast<T>() * block;
      });
      gift::detail::product_any_threads(salient_gradient_, dy.template cast<T>().transpose(), cached_salient_input_, true);
      if (has_bias_) bias_gradient_ += dy.template cast<T>().colwise().sum().transpose();
      return dx;
    }

    /// Whether `set_noisy_weight_cache(true)` takes effect on this backend (it does on the CPU).
    static constexpr bool noisy_weight_cache_supported = true;

    /// The dense weight with the trained salient columns written back (out × in), e.g. for saving
    /// or quantizing after fine-tuning.
    [[nodiscard]] gift::matrix<T> merged_weight() const {
      gift::matrix<T> merged = weight_.to_matrix();
      for (std::size_t s = 0; s < salient_indices().size(); ++s)
        merged.col(salient_indices()[s]) = salient_weight_.col(static_cast<Eigen::Index>(s));
      return merged;
    }

    /// The frozen weight (out × in) as the layer reads it: a dense copy in `T` (bf16 storage:
    /// the rounded values, widened); its salient columns hold the ORIGINAL values (rounded too).
    [[nodiscard]] gift::matrix<T> frozen_weight() const { return weight_.to_matrix(); }

    /// How the frozen weight is held (`weight_storage::f32` or `bf16`).
    [[nodiscard]] gift::weight_storage storage() const noexcept { return weight_.storage(); }

    /// Bytes the frozen weight takes (out · in · 4 for f32, · 2 for bf16).
    [[nodiscard]] std::size_t frozen_weight_bytes() const noexcept { return weight_.bytes(); }

  private:
    template <class Weight>
    layer(const Eigen::MatrixBase<Weight>& weight, gift::vector<T> bias, bool has_bias,
                const gift::salient_columns& salient, const gift::vector<float>& delta, noise_key base,
                gift::weight_storage storage)
        : gift::detail::gift_linear_settings(salient, delta, base, has_bias, checked_rows(weight), weight.cols(),
                                             "gift::nn::gift_linear"),
          weight_(weight, storage), bias_(std::move(bias)) {
      constexpr const char* where = "gift::nn::gift_linear";
      if (has_bias_) {
        gift::detail::require(bias_.size() == weight_.rows(), where, ": argument 'bias' must have out = ", weight_.rows(),
                              " entries, but it has ", bias_.size());
        check_finite(bias_, where, "bias");
      }
      half_delta_.resize(weight_.rows());
      for (Eigen::Index i = 0; i < weight_.rows(); ++i) half_delta_(i) = gift::detail::half_delta<T>(delta_(i));
      const auto k = static_cast<Eigen::Index>(salient_indices().size());
      salient_weight_.resize(weight_.rows(), k);
      // From the weight as given: the trained block starts from the exact values, whatever the storage.
      for (Eigen::Index s = 0; s < k; ++s)
        salient_weight_.col(s) = weight.col(salient_indices()[static_cast<std::size_t>(s)]).template cast<T>();
      salient_gradient_ = gift::matrix<T>::Zero(weight_.rows(), k);
      bias_gradient_ = gift::vector<T>::Zero(has_bias_ ? weight_.rows() : 0);
    }

    /// The weight's rows, after checking that it is non-empty and finite (before anything is
    /// stored, so a bad weight is reported as such).
    template <class Weight>
    static std::int64_t checked_rows(const Eigen::MatrixBase<Weight>& weight) {
      constexpr const char* where = "gift::nn::gift_linear";
      gift::detail::require(weight.rows() > 0 && weight.cols() > 0, where,
                            ": argument 'weight' must be non-empty (out x in), but it is ", weight.rows(), " x ",
                            weight.cols());
      check_finite(weight, where, "weight");
      return weight.rows();
    }

    template <class Matrix>
    static void check_finite(const Eigen::MatrixBase<Matrix>& m, const char* where, const char* argument) {
      if (!m.allFinite()) gift::detail::throw_first_non_finite(m, where, argument);
    }

    template <class Input>
    void check_input(const Eigen::MatrixBase<Input>& x, const char* where) const {
      gift::detail::require(x.cols() == in_features(), where, ": argument 'x' must be tokens x in with in = ",
                            in_features(), ", but it is ", x.rows(), " x ", x.cols(),
                            "; the layer computes y = x W^T with W of shape ", out_features(), " x ", in_features());
      check_finite(x, where, "x");
    }

    /// Rows (or columns) per panel: as many as fit `panel_elements_` given the other extent, but
    /// few enough that every thread gets several panels; a multiple of `align` (whole Philox
    /// blocks when rows are 4-aligned), at least `align`.
    [[nodiscard]] Eigen::Index panel_extent(Eigen::Index other_extent, Eigen::Index total, Eigen::Index align) const {
      Eigen::Index extent = static_cast<Eigen::Index>(panel_elements_) / std::max<Eigen::Index>(other_extent, 1);
      // Spread as if over `panel_spread` threads, whatever the real count: the panel shapes (and
      // with them the bits) must not depend on the thread count.
      const Eigen::Index balanced = (total + 4 * panel_spread - 1) / (4 * panel_spread);
      extent = std::min(extent, std::max<Eigen::Index>(balanced, 64));
      extent = std::max(align, extent / align * align);
      return std::min(extent, total);
    }

    /// The thread count panel sizes are balanced for (a constant, so results are the same on any).
    static constexpr Eigen::Index panel_spread = 8;

    /// Runs `work(first, count, scratch)` for the panels [first, first + count) of `total` in
    /// steps of `extent`, panels spread over the threads, each thread with its own scratch of
    /// `scratch_elements`. Threads generate and multiply their own panels (single-threaded GEMMs
    /// on disjoint output blocks) and meet once at the end: on a loaded machine a stalled thread
    /// delays only its own panels, where a barrier per panel would stall everyone.
    template <class Work>
    static void for_each_panel(Eigen::Index total, Eigen::Index extent, Eigen::Index scratch_elements, const Work& work) {
      const Eigen::Index panels = (total + extent - 1) / extent;
  #if defined(_OPENMP)
  #pragma omp parallel  // always a team: a lone GEMM outside one would be multi-threaded by Eigen
  #endif
      {
        std::vector<T> scratch(static_cast<std::size_t>(scratch_elements));
  #if defined(_OPENMP)
  #pragma omp for schedule(dynamic, 1)
  #endif
        for (Eigen::Index p = 0; p < panels; ++p) {
          const Eigen::Index first = p * extent;
          work(first, std::min(extent, total - first), scratch.data());
        }
      }
    }

    /// Writes W̃[first_row : first_row + rows, first_col : first_col + cols] into `panel`: frozen
    /// elements with noise (when `noisy`), salient elements from the trained block.
    void fill_panel(Eigen::Map<gift::matrix<T>>& panel, Eigen::Index first_row, Eigen::Index first_col, bool noisy,
                    std::uint32_t step) const {
      const Eigen::Index rows = panel.rows(), cols = panel.cols(), in = in_features();
      const noise_key key{base_.seed, base_.layer, step};
      // Salient columns inside this panel: a contiguous run of the sorted index list.
      const auto begin = std::lower_bound(salient_indices().begin(), salient_indices().end(), first_col);
      const auto end = std::lower_bound(begin, salient_indices().end(), first_col + cols);
      const auto first_salient = static_cast<Eigen::Index>(begin - salient_indices().begin());
      const auto salient_count = static_cast<Eigen::Index>(end - begin);
  #if defined(_OPENMP)
  #pragma omp parallel if (rows * cols > (1 << 14))
  #endif
      {
        // Rows per group: enough that a short stretch per row (a narrow column panel) still
        // fills whole generator batches; one group's noise is generated, then applied.
        const Eigen::Index group =
            std::max<Eigen::Index>(1, 4 * backend::detail::noise_batch_blocks / std::max<Eigen::Index>(cols, 1));
        std::vector<float> omega(noisy ? static_cast<std::size_t>(group * cols) : 0);
        const auto simd = backend::detail::fastest_noise_simd();
  #if defined(_OPENMP)
  #pragma omp for schedule(static)
  #endif
        for (Eigen::Index first_in_group = 0; first_in_group < rows; first_in_group += group) {
          const Eigen::Index last = std::min(rows, first_in_group + group);
          if (noisy) {
            backend::detail::standard_normal_gather gather(simd, key);
            for (Eigen::Index r = first_in_group; r < last; ++r)
              gather.request(static_cast<std::uint64_t>(first_row + r) * static_cast<std::uint64_t>(in) +
                                 static_cast<std::uint64_t>(first_col),
                             static_cast<std::uint64_t>(cols), omega.data() + (r - first_in_group) * cols);
          }
          for (Eigen::Index r = first_in_group; r < last; ++r) {
            const Eigen::Index i = first_row + r;
            T* destination = panel.data() + r * cols;
            weight_.visit_row(i, first_col, [&](const auto* source) {
              using stored = gift::stored_weight<T>;
              // A column panel reads a short stretch of every row, `in` apart: too short for the
              // hardware prefetcher, so each stretch would wait on memory. Ask for a later row's now.
              if (r + prefetch_rows < rows) prefetch_stretch(source + prefetch_rows * in, cols);
              if (noisy) {
                const float* row_omega = omega.data() + (r - first_in_group) * cols;
                const T half = half_delta_(i);
                for (Eigen::Index c = 0; c < cols; ++c)
                  destination[c] = gift::detail::noisy_weight(stored::widen(source[c]), half, row_omega[c]);
              } else {
                for (Eigen::Index c = 0; c < cols; ++c) destination[c] = stored::widen(source[c]);
              }
            });
            for (Eigen::Index s = first_salient; s < first_salient + salient_count; ++s)
              destination[salient_indices()[static_cast<std::size_t>(s)] - first_col] = salient_weight_(i, s);
          }
        }
      }
    }

    /// Rows ahead whose weights `fill_panel` requests while it works on the current one.
    static constexpr Eigen::Index prefetch_rows = 8;

    /// Requests the cache lines of `count` weights from `first` (a hint; no effect on results).
    template <class Stored>
    static void prefetch_stretch(const Stored* first, Eigen::Index count) {
  #if defined(__GNUC__)
      constexpr Eigen::Index per_line = 64 / static_cast<Eigen::Index>(sizeof(Stored));
      for (Eigen::Index c = 0; c < count; c += per_line) __builtin_prefetch(first + c);
  #else
      (void)first;
      (void)count;
  #endif
    }

    /// x W̃ᵀ (+ b), one row panel of W̃ at a time.
    template <class Input>
    gift::matrix<T> multiply_by_transpose(const Eigen::MatrixBase<Input>& x, bool noisy, std::uint32_t step) const {
      const Eigen::Index tokens = x.rows(), in = in_features(), out = out_features();
      gift::matrix<T> y(tokens, out);
      // Row panels of W̃ (height × in) give disjoint column blocks of y, full depth `in`.
      const Eigen::Index height = panel_extent(in, out, 8);
      for_each_panel(out, height, height * in, [&](Eigen::Index first, Eigen::Index count, T* scratch) {
        Eigen::Map<gift::matrix<T>> block(scratch, count, in);
        fill_panel(block, first, 0, noisy, step);
        y.middleCols(first, count).noalias() = x.template cast<T>() * block.transpose();
      });
      if (has_bias_) y.rowwise() += bias_.transpose();
      return y;
    }

    /// x W̃ᵀ (+ b) as `multiply_by_transpose` computes it in training mode (the same row panels,
    /// the same GEMMs, so the same bits), with the panels written into `noisy_weight_` instead of
    /// a scratch buffer, where backward finds them.
    template <class Input>
    gift::matrix<T> multiply_and_keep(const Eigen::MatrixBase<Input>& x, std::uint32_t step) {
      const Eigen::Index tokens = x.rows(), in = in_features(), out = out_features();
      noisy_weight_.resize(out, in);
      gift::matrix<T> y(tokens, out);
      const Eigen::Index height = panel_extent(in, out, 8);
      for_each_panel(out, height, 0, [&](Eigen::Index first, Eigen::Index count, T*) {
        Eigen::Map<gift::matrix<T>> block(noisy_weight_.data() + first * in, count, in);  // row-major rows
        fill_panel(block, first, 0, true, step);
        y.middleCols(first, count).noalias() = x.template cast<T>() * block.transpose();
      });
      if (has_bias_) y.rowwise() += bias_.transpose();
      return y;
    }

    gift::stored_weight<T> weight_;  // out × in, frozen (salient columns: original values, unused)
    gift::matrix<T> salient_weight_;    // out × k, trainable master copy
    gift::matrix<T> salient_gradient_;  // out × k
    gift::vector<T> bias_;
    gift::vector<T> bias_gradient_;
    gift::vector<T> half_delta_;
    // What backward needs from forward.
    gift::matrix<T> cached_salient_input_;
    std::uint32_t cached_step_ = 0;
    bool cached_noisy_ = false;
    bool has_cache_ = false;
    // W̃ of the last training forward, kept when the noisy-weight cache is on (out × in).
    gift::matrix<T> noisy_weight_;
    bool cache_holds_step_ = false;
  };
};

}  // namespace gift::backend
