#pragma once
/// \file gift/backend/cuda/quant/symmetric.cuh
/// \brief The symmetric quantizer's α search as a CUDA kernel: one thread block per row (or
/// group); the block loads the row into registers once, then for every candidate each thread
/// sums the error of its elements and the block adds the partial sums (in double). Memory sees
/// one read of W whatever the number of candidates.
///
/// Δ for a given candidate is computed with the same single-rounded operations as on the host,
/// but the error sum is added in another order than the CPU's lanes, so where two candidates'
/// errors agree to float accuracy the kernel may choose the neighbouring α. Codes for given Δ
/// are bit-identical to every other backend. Rows longer than 12288 (or groups) use the
/// Thrust-on-CUDA path's row functor instead (one thread per row).

#include <gift/backend/cuda/launch.cuh>
#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/quant/symmetric.hpp>
#include <gift/detail/quant/symmetric.hpp>
#include <gift/detail/quant/row_kernels.hpp>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace gift::backend {

namespace detail {

inline constexpr unsigned alpha_search_threads = 256;

/// Sum over the block (every thread receives it). `shared` holds one double per warp + 1.
__device__ inline double block_sum(double value, double* shared) {
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) shared[warp] = value;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0.0;
    for (unsigned w = 0; w < blockDim.x / 32; ++w) total += shared[w];
    shared[blockDim.x / 32] = total;
  }
  __syncthreads();
  const double total = shared[blockDim.x / 32];
  __syncthreads();  // shared is reused by the next call
  return total;
}

/// Max over the block, NaN-propagating.
__device__ inline float block_max(float value, float* shared) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const float other = __shfl_down_sync(0xffffffffu, value, offset);
    value = (other != other || value < other) ? other : value;
  }
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) shared[warp] = value;
  __syncthreads();
  if (threadIdx.x == 0) {
    float m = 0.0f;
    for (unsigned w = 0; w < blockDim.x / 32; ++w) m = (shared[w] != shared[w] || m < shared[w]) ? shared[w] : m;
    shared[blockDim.x / 32] = m;
  }
  __syncthreads();
  const float m = shared[blockDim.x / 32];
  __syncthreads();
  return m;
}

template <int PerThread, bool Squared>
__global__ void __launch_bounds__(alpha_search_threads)
    alpha_search_kernel(const float* weights, const float* keep, std::size_t rows, std::size_t cols, std::size_t width,
                        std::size_t groups, const float* ratios, std::size_t count, int bits, float exponent,
                        float* alpha_out, float* delta_out, float* max_out) {
  __shared__ double shared_sum[alpha_search_threads / 32 + 1];
  __shared__ float shared_max[alpha_search_threads / 32 + 1];
  const float qmin = static_cast<float>(gift::detail::symmetric_qmin(bits));
  const float qmax = static_cast<float>(gift::detail::symmetric_qmax(bits));
  for (std::size_t segment = blockIdx.x; segment < rows * groups; segment += gridDim.x) {
    const std::size_t r = segment / groups, g = segment % groups, first = g * width;
    const std::size_t n = first + width < cols ? width : cols - first;
    const float* row = weights + r * cols + first;
    float value[PerThread], kept[PerThread];
    float all = 0.0f, largest = 0.0f;
#pragma unroll
    for (int i = 0; i < PerThread; ++i) {
      const std::size_t j = threadIdx.x + static_cast<std::size_t>(i) * blockDim.x;
      value[i] = j < n ? row[j] : 0.0f;
      kept[i] = j < n ? (keep == nullptr ? 1.0f : keep[first + j]) : 0.0f;
      const float a = value[i] < 0 ? -value[i] : value[i];
      all = (a != a || all < a) ? a : all;
      if (kept[i] != 0.0f) largest = largest < a ? a : largest;
    }
    all = block_max(all, shared_max);
    largest = block_max(largest, shared_max);
    float best_alpha = 0.0f, best_delta = gift::detail::degenerate_scale;
    if (largest > 0.0f && all == all && all - all == 0.0f) {
      double best_error = HUGE_VAL;
      for (std::size_t c = 0; c < count; ++c) {
        const float alpha = gift::detail::fmul(ratios[c], largest);
        const float delta = gift::detail::fdiv(alpha, qmax);
        if (!(delta >= gift::detail::degenerate_scale)) continue;
        if (count == 1) {
          best_alpha = alpha;
          best_delta = delta;
          break;
        }
        const float inverse = gift::detail::fdiv(1.0f, delta);
        float partial = 0.0f;
#pragma unroll
        for (int i = 0; i < PerThread; ++i) {
          const float e = gift::detail::symmetric_error(value[i], delta, inverse, qmin, qmax);
          partial = __fadd_rn(partial, __fmul_rn(gift::detail::error_power<Squared>(e, inverse, exponent), kept[i]));
        }
        double error = block_sum(static_cast<double>(partial), shared_sum);
        if constexpr (!Squared) error *= pow(static_cast<double>(delta), static_cast<double>(exponent));  // terms are in steps
        if (error < best_error) {
          best_error = error;
          best_alpha = alpha;
          best_delta = delta;
        }
      }
    }
    if (threadIdx.x == 0) {
      alpha_out[segment] = best_alpha;
      delta_out[segment] = best_delta;
      max_out[segment] = all;
    }
  }
}

template <class T>
__global__ void symmetric_codes_kernel(const T* weights, std::size_t rows, std::size_t cols, std::size_t width,
                                              std::size_t groups, const float* deltas, int bits, std::int8_t* codes,
                                              float* dequantized) {
  const float qmin = static_cast<float>(gift::detail::symmetric_qmin(bits));
  const float qmax = static_cast<float>(gift::detail::symmetric_qmax(bits));
  for (std::size_t index = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; index < rows * cols;
       index += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t r = index / cols, j = index % cols;
    const float delta = deltas[r * groups + j / width];
    const float q = gift::detail::round_clamped(gift::detail::fmul(weights[index], gift::detail::fdiv(1.0f, delta)), qmin, qmax);
    codes[index] = gift::detail::code_of<std::int8_t>(q);
    dequantized[index] = gift::detail::fmul(q, delta);
  }
}

template <int PerThread>
void launch_alpha_search(std::size_t segments, bool squared, const float* weights, const float* keep, std::size_t rows,
                         std::size_t cols, std::size_t width, std::size_t groups, const float* ratios, std::size_t count,
                         int bits, float exponent, float* alpha, float* delta, float* max_abs) {
  const unsigned blocks = static_cast<unsigned>(segments < 65535 ? segments : 65535);
  if (squared) {
    alpha_search_kernel<PerThread, true><<<blocks, alpha_search_threads>>>(weights, keep, rows, cols, width, groups, ratios,
                                                                         count, bits, exponent, alpha, delta, max_abs);
  } else {
    alpha_search_kernel<PerThread, false><<<blocks, alpha_search_threads>>>(
        weights, keep, rows, cols, width, groups, ratios, count, bits, exponent, alpha, delta, max_abs);
  }
}
}  // namespace detail

template <>
struct implementation<ops::symmetric_quantize, cuda> {
  static constexpr bool available = true;

  template <class Result, class T>
  static Result run(cuda, std::type_identity<Result> result_type, const char* where,
                    const thrust_matrix<T, system::cuda>& weights, const gift::detail::symmetric_plan& options,
                    const std::vector<float>& keep, bool with_codes) {
    detail::require_float_weights<T>();
    const std::size_t rows = weights.rows(), cols = weights.cols();
    const std::size_t width = options.group_size == 0 ? cols : options.group_size;
    if (width > 48 * detail::alpha_search_threads) {  // too long for registers: one thread per row
      return implementation<ops::symmetric_quantize, thrust<system::cuda>>::run(thrust<system::cuda>{}, result_type, where,
                                                                                weights, options, keep, with_codes);
    }
    const std::size_t groups = gift::detail::group_count(cols, options.group_size);
    Result out;
    out.bits = options.bits;
    out.group_size = options.group_size;
    out.alpha = thrust_matrix<float, system::cuda>(rows, groups);
    out.delta = thrust_matrix<float, system::cuda>(rows, groups);
    thrust_matrix<float, system::cuda> max_abs(rows, groups);
    const thrust_vector_t<system::cuda, float> keep_device(keep.begin(), keep.end());
    const thrust_vector_t<system::cuda, float> ratios(options.ratios.begin(), options.ratios.end());
    const float* w = ::thrust::raw_pointer_cast(weights.storage().data());
    const float* k = keep.empty() ? nullptr : ::thrust::raw_pointer_cast(keep_device.data());
    const float exponent = static_cast<float>(options.error_exponent);
    const bool squared = exponent == 2.0f;
    float* alpha = ::thrust::raw_pointer_cast(out.alpha.storage().data());
    float* delta = ::thrust::raw_pointer_cast(out.delta.storage().data());
    float* maxima = ::thrust::raw_pointer_cast(max_abs.storage().data());
    const float* r = ::thrust::raw_pointer_cast(ratios.data());
    if (width <= 16 * detail::alpha_search_threads) {
      detail::launch_alpha_search<16>(rows * groups, squared, w, k, rows, cols, width, groups, r, ratios.size(),
                                      options.bits, exponent, alpha, delta, maxima);
    } else {
      detail::launch_alpha_search<48>(rows * groups, squared, w, k, rows, cols, width, groups, r, ratios.size(),
                                      options.bits, exponent, alpha, delta, maxima);
    }
    check_cuda(cudaGetLastError(), "gift::quantize_symmetric alpha-search kernel launch");
    if (with_codes) {
      out.codes = thrust_matrix<std::int8_t, system::cuda>(rows, cols);
      out.dequantized = thrust_matrix<float, system::cuda>(rows, cols);
      const launch_shape shape = grid_stride_shape(rows * cols);
      detail::symmetric_codes_kernel<float><<<shape.blocks, shape.threads>>>(
          w, rows, cols, width, groups, delta, options.bits, ::thrust::raw_pointer_cast(out.codes.storage().data()),
          ::thrust::raw_pointer_cast(out.dequantized.storage().data()));
      check_cuda(cudaGetLastError(), "gift::quantize_symmetric codes kernel launch");
    }
    detail::require_finite_rows(max_abs, weights, where);  // copies the maxima back: synchronises
    return out;
  }
};

}  // namespace gift::backend
