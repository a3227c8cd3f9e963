#pragma once
/// \file gift/backend/cuda/quant/packed.cuh
/// \brief `y = x Wᵀ` from the packed mixed-precision layout on the GPU: a dequantize-on-the-fly
/// kernel that reads the bit-packed codes directly.
///
/// One warp per output row and tile of up to 8 tokens: the lanes stride over the row's codes
/// (decoding each field with the host's `detail::packed_code`), multiply with the matching input
/// column and keep 8 partial sums in registers; a warp shuffle adds them, and lane 0 writes
/// `Δ_i · Σ code·x + Σ salient·x`. Δ is applied once per row (not per code as on the CPU), so the
/// result equals the dense product to fp32 rounding, not bit for bit. The packed matrix is copied
/// to the device on first use and kept in its `backend_copy()` slot.

#include <gift/backend/cuda/launch.cuh>
#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/detail/quant/packed.hpp>
#include <gift/error.hpp>

#include <thrust/device_vector.h>

#include <algorithm>
#include <cstdint>
#include <memory>

namespace gift::backend {

namespace detail {

/// Tokens per tile of the packed product kernel (partial sums kept in registers).
inline constexpr int packed_tile_tokens = 8;
/// Threads per block: 8 warps, 8 output rows.
inline constexpr unsigned packed_threads = 256;

/// y (tokens × rows, row-major) for the tiles of `Tile` tokens starting at `first_token`. A
/// template so that the header can be included by several translation units.
template <int Tile>
__global__ void __launch_bounds__(packed_threads)
    packed_matmul_kernel(gift::detail::packed_view w, const float* x, std::int64_t tokens, std::int64_t first_token,
                         float* y) {
  const unsigned lane = threadIdx.x % 32;
  const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
  const std::int64_t t0 = first_token + static_cast<std::int64_t>(blockIdx.y) * Tile;
  if (r >= w.rows || t0 >= tokens) return;  // the whole warp leaves together
  const int n = static_cast<int>(tokens - t0 < Tile ? tokens - t0 : Tile);
  float coded[Tile] = {}, kept[Tile] = {};
  const std::uint32_t* row = w.words + r * w.words_per_row;
  for (std::int64_t t = lane; t < w.kept; t += 32) {
    const float code = static_cast<float>(gift::detail::packed_code(row, t, w.bits));
    const std::int64_t j = w.kept_columns[t];
#pragma unroll
    for (int k = 0; k < Tile; ++k)
      if (k < n) coded[k] = fmaf(code, x[(t0 + k) * w.cols + j], coded[k]);
  }
  for (std::int64_t s = lane; s < w.salient; s += 32) {
    const float value = w.salient_values[r * w.salient + s];
    const std::int64_t j = w.salient_columns[s];
#pragma unroll
    for (int k = 0; k < Tile; ++k)
      if (k < n) kept[k] = fmaf(value, x[(t0 + k) * w.cols + j], kept[k]);
  }
#pragma unroll
  for (int k = 0; k < Tile; ++k) {
    for (int offset = 16; offset > 0; offset /= 2) {
      coded[k] += __shfl_down_sync(0xffffffffu, coded[k], offset);
      kept[k] += __shfl_down_sync(0xffffffffu, kept[k], offset);
    }
  }
  if (lane == 0) {
    const float delta = w.delta[r];
    for (int k = 0; k < n; ++k) y[(t0 + k) * w.rows + r] = fmaf(delta, coded[k], kept[k]);
  }
}

/// The device copy of a packed matrix.
struct packed_device_copy {
  ::thrust::device_vector<std::uint32_t> words;
  ::thrust::device_vector<float> delta, salient_values;
  ::thrust::device_vector<std::int32_t> kept_columns, salient_columns;
  gift::detail::packed_view view;

  explicit packed_device_copy(const gift::detail::packed_view& host)
      : words(host.words, host.words + host.rows * host.words_per_row), delta(host.delta, host.delta + host.rows),
        salient_values(host.salient_values, host.salient_values + host.rows * host.salient),
        kept_columns(host.kept_columns, host.kept_columns + host.kept),
        salient_columns(host.salient_columns, host.salient_columns + host.salient), view(host) {
    view.words = ::thrust::raw_pointer_cast(words.data());
    view.delta = ::thrust::raw_pointer_cast(delta.data());
    view.salient_values = ::thrust::raw_pointer_cast(salient_values.data());
    view.kept_columns = ::thrust::raw_pointer_cast(kept_columns.data());
    view.salient_columns = ::thrust::raw_pointer_cast(salient_columns.data());
  }
};

}  // namespace detail

template <>
struct implementation<ops::packed_matmul, cuda> {
  static constexpr bool available = true;

  /// `y = x Wᵀ` with `x` and `y` in GPU memory; `packed` is the host packed matrix (copied to the
  /// device on first use, through `packed.backend_copy()`).
  template <class Packed>
  static void run(cuda, const Packed& packed, const thrust_matrix<float, system::cuda>& x,
                  thrust_matrix<float, system::cuda>& y) {
    auto& slot = packed.backend_copy();
    if (!slot) slot = std::make_shared<detail::packed_device_copy>(packed.view());
    const gift::detail::packed_view& w = static_cast<const detail::packed_device_copy*>(slot.get())->view;
    const auto tokens = static_cast<std::int64_t>(x.rows());
    y = thrust_matrix<float, system::cuda>(x.rows(), static_cast<std::size_t>(w.rows));
    if (tokens == 0) return;
    const unsigned rows_per_block = detail::packed_threads / 32;
    const auto row_blocks = static_cast<unsigned>((w.rows + rows_per_block - 1) / rows_per_block);
    const std::int64_t tiles = (tokens + detail::packed_tile_tokens - 1) / detail::packed_tile_tokens;
    constexpr std::int64_t max_tiles = 65535;  // gridDim.y limit: launch in slices
    for (std::int64_t first_tile = 0; first_tile < tiles; first_tile += max_tiles) {
      const auto count = static_cast<unsigned>(std::min<std::int64_t>(max_tiles, tiles - first_tile));
      detail::packed_matmul_kernel<detail::packed_tile_tokens><<<dim3(row_blocks, count), detail::packed_threads>>>(
          w, ::thrust::raw_pointer_cast(x.storage().data()), tokens, first_tile * detail::packed_tile_tokens,
          ::thrust::raw_pointer_cast(y.storage().data()));
      check_cuda(cudaGetLastError(), "gift::packed_matmul<cuda>: kernel launch");
    }
  }
};

}  // namespace gift::backend
