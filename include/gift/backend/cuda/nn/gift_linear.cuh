#pragma once
/// \file gift/backend/cuda/nn/gift_linear.cuh
/// \brief `gift::nn::gift_linear<T, backend::cuda>`: the GIFT-SW linear layer on the GPU, fp32 or bf16
/// weights and activations, fp32 accumulation, an fp32 master copy of the salient block and fp32
/// gradients. Same noise, same API shape as the CPU `gift::nn::gift_linear`.
///
/// W (T) is kept whole, the salient block (fp32) beside it; each pass generates the noisy weight
/// W̃ panel by panel (backend/cuda/noisy_gemm.cuh) and multiplies with cuBLAS. The backward pass
/// regenerates the same panels from the key. Scratch per pass: one panel, never out × in.

#include <gift/backend/cuda/launch.cuh>
#include <gift/backend/cuda/noisy_gemm.cuh>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/noise.hpp>
#include <gift/salient_columns.hpp>
#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/detail/nn/gift_linear.hpp>
#include <gift/random.hpp>

#include <cublas_v2.h>
#include <thrust/copy.h>
#include <thrust/fill.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::gift_linear, cuda> {
  static constexpr bool available = true;

  /// GIFT-SW linear layer `y = x W̃ᵀ (+ b)` on the GPU for T = float or __nv_bfloat16.
  template <cuda_training_scalar T>
  class layer : public gift::detail::gift_linear_settings {
  public:
    /// A device matrix of the layer's element type.
    using device_matrix = thrust_matrix<T, backend::system::cuda>;

    /// Builds the layer from a host `weight` (out × in; rounded to T), an optional `bias` (empty
    /// vector: none), the salient column indices (any order), the per-row scale `delta` and the
    /// noise stream's seed and layer (`base.step` is ignored). The salient block's fp32 master
    /// copy is taken from `weight` before rounding.
    /// \throws gift::error on bad shapes, indices or scales, or a CUDA/cuBLAS failure.
    template <class Weight>
    layer(const Eigen::MatrixBase<Weight>& weight, const gift::vector<float>& bias,
                     const gift::salient_columns& salient, const gift::vector<float>& delta, noise_key base)
        : gift::detail::gift_linear_settings(salient, delta, base, bias.size() != 0, checked_rows(weight), weight.cols(),
                                             "gift::nn::gift_linear<cuda>"),
          out_(weight.rows()), in_(weight.cols()), handle_(make_handle()) {
      constexpr const char* where = "gift::nn::gift_linear<cuda>";
      gift::detail::require(!has_bias_ || bias.size() == out_, where, ": argument 'bias' must have out = ", out_,
                            " entries (or none), but it has ", bias.size());
      const gift::matrix<float> host = weight.template cast<float>();
      if constexpr (std::is_same_v<T, float>) {
        weight_ = device_matrix::from_eigen(host);
      } else {
        // Eigen has no bf16 scalar: round on the host, element by element (round to nearest even).
        std::vector<T> rounded(static_cast<std::size_t>(host.size()));
        for (std::size_t e = 0; e < rounded.size(); ++e) rounded[e] = __float2bfloat16_rn(host.data()[e]);
        weight_ = device_matrix(static_cast<std::size_t>(out_), static_cast<std::size_t>(in_));
        ::thrust::copy(rounded.begin(), rounded.end(), weight_.storage().begin());
      }
      const auto k = static_cast<Eigen::Index>(salient_indices().size());
      gift::matrix<float> master(out_, k);
      for (Eigen::Index s = 0; s < k; ++s) master.col(s) = host.col(salient_indices()[static_cast<std::size_t>(s)]);
      salient_master_ = thrust_matrix<float, backend::system::cuda>::from_eigen(master);
      salient_gradient_ = thrust_matrix<float, backend::system::cuda>(static_cast<std::size_t>(out_), salient_indices().size());
      std::vector<std::int32_t> slot(static_cast<std::size_t>(in_), -1), columns(salient_indices().size());
      for (std::size_t s = 0; s < salient_indices().size(); ++s) {
        slot[static_cast<std::size_t>(salient_indices()[s])] = static_cast<std::int32_t>(s);
        columns[s] = static_cast<std::int32_t>(salient_indices()[s]);
      }
      slot_.assign(slot.begin(), slot.end());
      columns_.assign(columns.begin(), columns.end());
      std::vector<float> half(static_cast<std::size_t>(out_));
      for (Eigen::Index i = 0; i < out_; ++i) half[static_cast<std::size_t>(i)] = gift::detail::half_delta<float>(delta(i));
      half_delta_.assign(half.begin(), half.end());
      if (has_bias_) {
        bias_.assign(bias.data(), bias.data() + bias.size());
        bias_gradient_.assign(static_cast<std::size_t>(out_), 0.0f);
      }
    }

    layer(const layer&) = delete;
    layer& operator=(const layer&) = delete;
    /// Moves the layer; its device buffers change owner without a copy.
    layer(layer&&) noexcept = default;
    /// Move assignment; the device buffers change owner without a copy.
    layer& operator=(layer&&) noexcept = default;

    /// As above, with the salient columns as indices (any order), validated by
    /// `gift::salient_columns::from_indices` against the weight's width.
    template <class Weight>
    layer(const Eigen::MatrixBase<Weight>& weight, const gift::vector<float>& bias,
                     std::span<const std::int64_t> salient_indices, const gift::vector<float>& delta, noise_key base)
        : layer(weight, bias,
                           gift::salient_columns::from_indices(salient_indices, static_cast<std::size_t>(weight.cols()),
                                                               "gift::nn::gift_linear<cuda>"),
                           delta, base) {}

    /// Output features (rows of W).
    [[nodiscard]] std::int64_t out_features() const noexcept { return out_; }
    /// Input features (columns of W).
    [[nodiscard]] std::int64_t in_features() const noexcept { return in_; }

    /// fp32 master copy of the salient block (out × k), on the device.
    [[nodiscard]] thrust_matrix<float, backend::system::cuda>& salient_weight() noexcept { return salient_master_; }
    /// fp32 accumulated gradient of the salient block (out × k), on the device.
    [[nodiscard]] thrust_matrix<float, backend::system::cuda>& salient_gradient() noexcept { return salient_gradient_; }
    /// fp32 bias on the device (empty without a bias).
    [[nodiscard]] backend::thrust_vector_t<backend::system::cuda, float>& bias() noexcept { return bias_; }
    /// fp32 accumulated gradient of the bias on the device (empty without a bias).
    [[nodiscard]] backend::thrust_vector_t<backend::system::cuda, float>& bias_gradient() noexcept { return bias_gradient_; }

    /// The scalar of the trained blocks: fp32 masters, whatever T is.
    using master_scalar = float;
    /// `set_noisy_weight_cache` has no effect here yet: backward regenerates the noise.
    static constexpr bool noisy_weight_cache_supported = false;

    /// Device views of everything this layer trains (fp32 salient master, then the bias); the
    /// front end turns them into optimizer parameters of the CUDA backend.
    [[nodiscard]] std::vector<gift::detail::trainable_block<float>> trainable_blocks() {
      std::vector<gift::detail::trainable_block<float>> views;
      const std::string prefix = "gift_linear<cuda>(layer " + std::to_string(base_.layer) + ")";
      views.push_back({std::span<float>(raw(salient_master_), salient_master_.size()),
                       std::span<float>(raw(salient_gradient_), salient_gradient_.size()), true, prefix + " salient"});
      if (has_bias_)
        views.push_back({std::span<float>(::thrust::raw_pointer_cast(bias_.data()), bias_.size()),
                         std::span<float>(::thrust::raw_pointer_cast(bias_gradient_.data()), bias_gradient_.size()),
                         false, prefix + " bias"});
      return views;
    }

    /// Clears the gradients.
    void zero_grad() {
      ::thrust::fill(salient_gradient_.storage().begin(), salient_gradient_.storage().end(), 0.0f);
      ::thrust::fill(bias_gradient_.begin(), bias_gradient_.end(), 0.0f);
    }

    /// `y = x W̃ᵀ (+ b)` for device `x` (tokens × in); noise of `step` in training mode. Caches x_S.
    /// \throws gift::error on a shape mismatch or a step beyond 32 bits.
    [[nodiscard]] device_matrix forward(const device_matrix& x, std::uint64_t step) {
      constexpr const char* where = "gift::nn::gift_linear<cuda>::forward";
      gift::detail::require(static_cast<std::int64_t>(x.cols()) == in_, where, ": argument 'x' must be tokens x ", in_,
                            ", but it is ", x.rows(), " x ", x.cols());
      gift::detail::check_step(step, where);
      const std::size_t tokens = x.rows();
      device_matrix y(tokens, static_cast<std::size_t>(out_));
      const std::int64_t height = panel_extent(in_, out_, 8);
      ensure_panel(static_cast<std::size_t>(height * in_));
      for (std::int64_t first = 0; first < out_; first += height) {
        const std::int64_t count = std::min(height, out_ - first);
        fill_panel(first, count, 0, in_, training_, static_cast<std::uint32_t>(step));
        // y[:, first : first + count] = x · panelᵀ
        backend::gemm_row_major(handle_.get(), false, true, static_cast<std::int64_t>(tokens), count, in_, raw(x), in_,
                                raw(panel_), in_, raw(y) + first, out_);
      }
      if (has_bias_ && tokens > 0) {
        const auto shape = backend::grid_stride_shape(tokens * static_cast<std::size_t>(out_));
        backend::detail::add_bias_kernel<<<shape.blocks, shape.threads>>>(raw(y), tokens, static_cast<std::uint64_t>(out_),
                                                                           ::thrust::raw_pointer_cast(bias_.data()));
        backend::check_cuda(cudaGetLastError(), "gift::nn::gift_linear<cuda> bias kernel");
      }
      cached_salient_input_ = device_matrix(tokens, salient_indices().size());
      if (tokens > 0 && !salient_indices().empty()) {
        const auto shape = backend::grid_stride_shape(tokens * salient_indices().size());
        backend::detail::gather_columns_kernel<<<shape.blocks, shape.threads>>>(
            raw(x), tokens, static_cast<std::uint64_t>(in_), ::thrust::raw_pointer_cast(columns_.data()), salient_indices().size(),
            raw(cached_salient_input_));
        backend::check_cuda(cudaGetLastError(), "gift::nn::gift_linear<cuda> gather kernel");
      }
      cached_step_ = static_cast<std::uint32_t>(step);
      cached_noisy_ = training_;
      has_cache_ = true;
      return y;
    }

    /// Returns dx = dy W̃ through the same noisy weights, accumulates dW_S += dyᵀ x_S and db.
    /// \throws gift::error without a preceding forward or on a shape mismatch.
    [[nodiscard]] device_matrix backward(const device_matrix& dy) {
      constexpr const char* where = "gift::nn::gift_linear<cuda>::backward";
      gift::detail::require(has_cache_, where, ": no forward pass to differentiate; call forward(x, step) first");
      const std::size_t tokens = cached_salient_input_.rows();
      gift::detail::require(dy.rows() == tokens && static_cast<std::int64_t>(dy.cols()) == out_, where,
                            ": argument 'dy' must be ", tokens, " x ", out_, ", but it is ", dy.rows(), " x ", dy.cols());
      device_matrix dx(tokens, static_cast<std::size_t>(in_));
      const std::int64_t width = panel_extent(out_, in_, 8);
      ensure_panel(static_cast<std::size_t>(width * out_));
      for (std::int64_t first = 0; first < in_; first += width) {
        const std::int64_t count = std::min(width, in_ - first);
        fill_panel(0, out_, first, count, cached_noisy_, cached_step_);
        // dx[:, first : first + count] = dy · panel (out × count)
        backend::gemm_row_major(handle_.get(), false, false, static_cast<std::int64_t>(tokens), count, out_, raw(dy), out_,
                                raw(panel_), count, raw(dx) + first, in_);
      }
      if (!salient_indices().empty() && tokens > 0) {
        // dW_S (out × k, fp32) += dyᵀ x_S
        backend::gemm_row_major(handle_.get(), true, false, out_, static_cast<std::int64_t>(salient_indices().size()),
                                static_cast<std::int64_t>(tokens), raw(dy), out_, raw(cached_salient_input_),
                                static_cast<std::int64_t>(salient_indices().size()),
                                ::thrust::raw_pointer_cast(salient_gradient_.storage().data()),
                                static_cast<std::int64_t>(salient_indices().size()), 1.0f);
      }
      if (has_bias_) {
        const auto shape = backend::grid_stride_shape(static_cast<std::uint64_t>(out_));
        backend::detail::bias_gradient_kernel<<<shape.blocks, shape.threads>>>(
            raw(dy), tokens, static_cast<std::uint64_t>(out_), ::thrust::raw_pointer_cast(bias_gradient_.data()));
        backend::check_cuda(cudaGetLastError(), "gift::nn::gift_linear<cuda> bias-gradient kernel");
      }
      return dx;
    }

    /// The dense weight (host, fp32) with the trained salient columns written back.
    [[nodiscard]] gift::matrix<float> merged_weight() const {
      gift::matrix<float> merged = to_host_float(weight_);
      const gift::matrix<float> master = salient_master_.to_eigen();
      for (std::size_t s = 0; s < salient_indices().size(); ++s)
        merged.col(salient_indices()[s]) = master.col(static_cast<Eigen::Index>(s));
      return merged;
    }

  private:
    /// The weight's rows, after checking that it is non-empty and finite.
    template <class Weight>
    static std::int64_t checked_rows(const Eigen::MatrixBase<Weight>& weight) {
      constexpr const char* where = "gift::nn::gift_linear<cuda>";
      gift::detail::require(weight.rows() > 0 && weight.cols() > 0, where,
                            ": argument 'weight' must be non-empty, but it is ", weight.rows(), " x ", weight.cols());
      gift::detail::require(weight.allFinite(), where, ": argument 'weight' must be finite");
      return weight.rows();
    }

    struct handle_deleter {
      void operator()(cublasContext* handle) const noexcept { cublasDestroy(handle); }
    };
    using handle_ptr = std::unique_ptr<cublasContext, handle_deleter>;

    static handle_ptr make_handle() {
      cublasHandle_t handle = nullptr;
      backend::check_cublas(cublasCreate(&handle), "gift::nn::gift_linear<cuda>: cublasCreate");
      // Exact fp32 products (no TF32), so fp32 results compare with the CPU layer.
      backend::check_cublas(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
      return handle_ptr(handle);
    }

    template <class U>
    static U* raw(thrust_matrix<U, backend::system::cuda>& m) {
      return ::thrust::raw_pointer_cast(m.storage().data());
    }
    template <class U>
    static const U* raw(const thrust_matrix<U, backend::system::cuda>& m) {
      return ::thrust::raw_pointer_cast(m.storage().data());
    }
    T* raw(backend::thrust_vector_t<backend::system::cuda, T>& v) { return ::thrust::raw_pointer_cast(v.data()); }

    static gift::matrix<float> to_host_float(const device_matrix& m) {
      if constexpr (std::is_same_v<T, float>) {
        return m.to_eigen();
      } else {
        std::vector<T> host(m.size());
        ::thrust::copy(m.storage().begin(), m.storage().end(), host.begin());
        gift::matrix<float> result(static_cast<Eigen::Index>(m.rows()), static_cast<Eigen::Index>(m.cols()));
        for (std::size_t e = 0; e < host.size(); ++e) result.data()[e] = __bfloat162float(host[e]);
        return result;
      }
    }

    [[nodiscard]] std::int64_t panel_extent(std::int64_t other_extent, std::int64_t total, std::int64_t align) const {
      std::int64_t extent = static_cast<std::int64_t>(panel_elements_) / std::max<std::int64_t>(other_extent, 1);
      extent = std::max(align, extent / align * align);
      return std::min(extent, total);
    }

    void ensure_panel(std::size_t elements) {
      if (panel_.size() < elements) panel_.resize(elements);
    }

    void fill_panel(std::int64_t first_row, std::int64_t rows, std::int64_t first_col, std::int64_t cols, bool noisy,
                    std::uint32_t step) {
      const backend::detail::salient_layout layout{::thrust::raw_pointer_cast(slot_.data()),
                                                   ::thrust::raw_pointer_cast(salient_master_.storage().data()),
                                                   static_cast<std::int64_t>(salient_indices().size())};
      const std::uint64_t tasks = static_cast<std::uint64_t>(rows) * (static_cast<std::uint64_t>(cols + 3) / 4 + 1);
      const auto shape = backend::grid_stride_shape(tasks);
      backend::detail::noisy_panel_kernel<<<shape.blocks, shape.threads>>>(
          raw(weight_), layout, ::thrust::raw_pointer_cast(half_delta_.data()), static_cast<std::uint64_t>(in_),
          noise_key{base_.seed, base_.layer, step}, noisy, static_cast<std::uint64_t>(first_row),
          static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(first_col), static_cast<std::uint64_t>(cols),
          raw(panel_));
      backend::check_cuda(cudaGetLastError(), "gift::nn::gift_linear<cuda> panel kernel");
    }

    std::int64_t out_, in_;
    handle_ptr handle_;
    device_matrix weight_;
    thrust_matrix<float, backend::system::cuda> salient_master_, salient_gradient_;
    backend::thrust_vector_t<backend::system::cuda, float> bias_, bias_gradient_, half_delta_;
    backend::thrust_vector_t<backend::system::cuda, std::int32_t> slot_, columns_;
    backend::thrust_vector_t<backend::system::cuda, T> panel_;
    device_matrix cached_salient_input_;
    std::uint32_t cached_step_ = 0;
    bool cached_noisy_ = false;
    bool has_cache_ = false;
  };
};

}  // namespace gift::backend
