#pragma once
/// \file gift/distributed/nccl.cuh
/// \brief `gift::distributed::nccl_communicator`: the order-fixed sum of `ordered_fold.hpp` on
/// GPU memory, moved by NCCL. Compile with nvcc and link `gift::nccl` (NCCL ships with the CUDA
/// toolkit install).
///
/// The algorithm is the host one: each rank receives every shard's part of its slice of the vector
/// (grouped `ncclSend`/`ncclRecv`), adds the shards left to right in a kernel (no fused
/// multiply-add, one rounding per addition, as on the host), and sends its summed slice to every
/// rank. The bits equal `distributed::ordered_sum` on the host for the same shards. NCCL's own
/// `ncclAllReduce` is not used: its order of additions depends on the number of ranks and the
/// topology. The host `communicator` is only used once, to hand NCCL's unique id from rank 0 to
/// the others. NCCL runs one rank per GPU.

#if !defined(__CUDACC__)
#error "gift/distributed/nccl.cuh needs a CUDA compiler: compile this file with nvcc and link gift::nccl"
#endif

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace gift::distributed {

namespace detail {
/// One addition, rounded once (never contracted with a neighbouring multiply).
__device__ inline float add_rounded(float a, float b) { return __fadd_rn(a, b); }
/// \copydoc add_rounded
__device__ inline double add_rounded(double a, double b) { return __dadd_rn(a, b); }

/// `slice[i] = ((received[0][i] + received[1][i]) + …)` over `shards` blocks of `width` values.
template <class T>
__global__ void fold_shards_kernel(const T* received, std::size_t width, std::size_t shards, T* slice) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= width) return;
  T accumulated = received[i];
  for (std::size_t s = 1; s < shards; ++s) accumulated = add_rounded(accumulated, received[s * width + i]);
  slice[i] = accumulated;
}

/// Device memory of `count` values of `T`, freed on scope exit.
template <class T>
class device_buffer {
public:
  device_buffer() = default;
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  /// Makes room for `count` values (contents are not kept).
  void reserve(std::size_t count, const char* where) {
    if (count <= capacity_) return;
    if (data_ != nullptr) cudaFree(data_);
    data_ = nullptr;
    capacity_ = 0;
    const cudaError_t status = cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T));
    gift::detail::require(status == cudaSuccess, where, ": cudaMalloc of ", count * sizeof(T), " bytes failed: ",
                          cudaGetErrorString(status));
    capacity_ = count;
  }
  [[nodiscard]] T* data() const noexcept { return data_; }

private:
  T* data_ = nullptr;
  std::size_t capacity_ = 0;
};
}  // namespace detail

/// The ranks of a run as an NCCL communicator on one GPU each.
class nccl_communicator {
public:
  /// Joins the ranks of `host` (each process calls this with its own GPU, `device`).
  /// \throws gift::error when the device cannot be selected or NCCL cannot start.
  nccl_communicator(communicator& host, int device) : rank_(host.rank()), size_(host.size()) {
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    ncclUniqueId id{};
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    // Only rank 0's id travels: the others contribute nothing to the gather.
    std::vector<std::size_t> bytes(static_cast<std::size_t>(size_), 0);
    bytes[0] = sizeof id;
    ncclUniqueId received{};
    host.all_gather(rank_ == 0 ? std::as_bytes(std::span<const ncclUniqueId>(&id, 1)) : std::span<const std::byte>(),
                    std::as_writable_bytes(std::span<ncclUniqueId>(&received, 1)), bytes);
    check_nccl(ncclCommInitRank(&comm_, size_, received, rank_), "ncclCommInitRank");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~nccl_communicator() {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }
  nccl_communicator(const nccl_communicator&) = delete;
  nccl_communicator& operator=(const nccl_communicator&) = delete;

  /// This rank.
  [[nodiscard]] int rank() const noexcept { return rank_; }
  /// Number of ranks.
  [[nodiscard]] int size() const noexcept { return size_; }

  /// `result[i] = ((x₀[i] + x₁[i]) + …) + x_{S−1}[i]` over the shards in shard order, on every
  /// rank. `owned` (device memory) holds this rank's `plan.count(rank)` shards of `n` values,
  /// shard after shard; `result` (device memory) receives `n` values. Returns when done.
  /// \throws gift::error when the plan does not match the ranks, or CUDA/NCCL fail.
  template <class T>
    requires(std::is_same_v<T, float> || std::is_same_v<T, double>)
  void ordered_sum(const shard_plan& plan, const T* owned, std::size_t n, T* result) {
    const char* where = "gift::distributed::nccl_communicator::ordered_sum";
    gift::detail::require(plan.ranks() == size_, where, ": the plan spreads its shards over ", plan.ranks(),
                          " rank(s), but NCCL has ", size_);
    const auto ranks = static_cast<std::size_t>(size_), me = static_cast<std::size_t>(rank_);
    const auto mine = static_cast<std::size_t>(plan.count(rank_));
    const auto shards = static_cast<std::size_t>(plan.shards());
    const auto lo = [&](std::size_t q) { return n * q / ranks; };  // rank q sums [lo(q), lo(q + 1))
    const std::size_t width = lo(me + 1) - lo(me);
    send_.reserve(std::max<std::size_t>(1, mine * n) * sizeof(T), where);
    receive_.reserve(std::max<std::size_t>(1, shards * width) * sizeof(T), where);
    slice_.reserve(std::max<std::size_t>(1, width) * sizeof(T), where);
    T* send = reinterpret_cast<T*>(send_.data());
    T* receive = reinterpret_cast<T*>(receive_.data());
    T* slice = reinterpret_cast<T*>(slice_.data());
    // Stage this rank's shards rank-major: for each destination q, every owned shard's slice q.
    std::size_t at = 0;
    for (std::size_t q = 0; q < ranks; ++q)
      for (std::size_t s = 0; s < mine; ++s) {
        const std::size_t count = lo(q + 1) - lo(q);
        if (count > 0)
          check_cuda(cudaMemcpyAsync(send + at, owned + s * n + lo(q), count * sizeof(T), cudaMemcpyDeviceToDevice,
                                     stream_),
                     "cudaMemcpyAsync");
        at += count;
      }
    // Exchange: rank r's blocks arrive in rank order, which is shard order.
    check_nccl(ncclGroupStart(), "ncclGroupStart");
    std::size_t send_at = 0, receive_at = 0;
    for (std::size_t q = 0; q < ranks; ++q) {
      const std::size_t out = mine * (lo(q + 1) - lo(q));
      const std::size_t in = static_cast<std::size_t>(plan.count(static_cast<int>(q))) * width;
      if (out > 0) check_nccl(ncclSend(send + send_at, out * sizeof(T), ncclUint8, static_cast<int>(q), comm_, stream_),
                              "ncclSend");
      if (in > 0)
        check_nccl(ncclRecv(receive + receive_at, in * sizeof(T), ncclUint8, static_cast<int>(q), comm_, stream_),
                   "ncclRecv");
      send_at += out;
      receive_at += in;
    }
    check_nccl(ncclGroupEnd(), "ncclGroupEnd");
    if (width > 0) {
      constexpr unsigned threads = 256;
      const auto blocks = static_cast<unsigned>((width + threads - 1) / threads);
      detail::fold_shards_kernel<T><<<blocks, threads, 0, stream_>>>(receive, width, shards, slice);
      check_cuda(cudaGetLastError(), "fold_shards_kernel");
    }
    // Every rank's summed slice to every rank.
    check_nccl(ncclGroupStart(), "ncclGroupStart");
    for (std::size_t q = 0; q < ranks; ++q) {
      if (width > 0) check_nccl(ncclSend(slice, width * sizeof(T), ncclUint8, static_cast<int>(q), comm_, stream_),
                                "ncclSend");
      const std::size_t count = lo(q + 1) - lo(q);
      if (count > 0)
        check_nccl(ncclRecv(result + lo(q), count * sizeof(T), ncclUint8, static_cast<int>(q), comm_, stream_),
                   "ncclRecv");
    }
    check_nccl(ncclGroupEnd(), "ncclGroupEnd");
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  }

private:
  static void check_cuda(cudaError_t status, const char* call) {
    gift::detail::require(status == cudaSuccess, "gift::distributed::nccl_communicator: ", call, " failed: ",
                          cudaGetErrorString(status));
  }
  static void check_nccl(ncclResult_t status, const char* call) {
    gift::detail::require(status == ncclSuccess, "gift::distributed::nccl_communicator: ", call, " failed: ",
                          ncclGetErrorString(status));
  }

  int rank_ = 0, size_ = 1;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  // Staging memory, kept between calls: a training run sums the same sizes every step.
  detail::device_buffer<std::byte> send_, receive_, slice_;
};

}  // namespace gift::distributed
