#pragma once
// --device: the backend a command computes on. `eigen` (default) is the CPU model; `thrust-omp`
// and `thrust-cpp` run the same model as Thrust algorithms on the host (the GPU's code path, with
// the Eigen model's numbers); `cuda` runs on the GPU through `gift-cuda`, the same commands built
// with nvcc, which a CUDA build installs beside `gift` (this process is replaced by it).
#include <gift/error.hpp>
#include <gift/model/llama.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__)
#include <unistd.h>
#endif

#if GIFT_TOOL_CUDA
#include <gift/backend/cuda.cuh>
#elif GIFT_TOOL_THRUST
#include <gift/backend/thrust.hpp>
#endif

#include "args.hpp"

namespace gift::cli {

/// The backends --device names.
enum class device { eigen, thrust_omp, thrust_cpp, cuda };

/// Declares --device.
inline void device_option(arguments& args) {
  args.option("device", "eigen",
              "eigen (the CPU model) | thrust-omp | thrust-cpp (the Thrust model on the host: the GPU's code path, "
              "same numbers as eigen) | cuda (the GPU, through gift-cuda from a CUDA build)");
}

/// The backend --device names.
inline device parse_device(const arguments& args) {
  const std::string name = args.get("device");
#if GIFT_TOOL_CUDA
  // gift-cuda holds the GPU path only (the CPU backends' code is gift's): compiling the Eigen
  // model's training and evaluation again under nvcc made it the largest translation unit of CI.
  gift::require(name == "cuda", "gift-cuda: --device must be cuda, but is '", name,
                "'; run gift (not gift-cuda) for --device eigen, thrust-omp or thrust-cpp");
#endif
  if (name == "eigen") return device::eigen;
  if (name == "thrust-omp") return device::thrust_omp;
  if (name == "thrust-cpp") return device::thrust_cpp;
  if (name == "cuda") return device::cuda;
  throw error("gift: --device must be eigen, thrust-omp, thrust-cpp or cuda, but is '" + name + "'");
}

/// For --device cuda in the CPU build: replaces this process by `gift-cuda` (beside this
/// executable) with the same arguments. Returns only when --device is not cuda.
/// \throws gift::error when there is no gift-cuda (a build without CUDA), it cannot be started, or
/// this is one of several MPI ranks (`ranks` > 1: the GPU build runs one process).
inline void hand_over_to_cuda_build(device chosen, int ranks, char** argv) {
#if GIFT_TOOL_CUDA
  (void)chosen;
  (void)ranks;
  (void)argv;
#else
  if (chosen != device::cuda) return;
  gift::require(ranks == 1, "gift: --device cuda runs in one process, but this is one of ", ranks,
                " MPI ranks; start it without mpirun");
  std::error_code ignored;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ignored);
  const auto sibling = self.parent_path() / "gift-cuda";
  gift::require(!self.empty() && std::filesystem::exists(sibling), "gift: --device cuda needs gift-cuda beside ",
                "this executable (", sibling.string(), "), which a build with the CUDA toolkit makes "
                "(-DGIFT_ENABLE_CUDA=ON); use --device eigen or thrust-omp on this machine");
#if defined(__unix__)
  ::execv(sibling.c_str(), argv);
#endif
  throw error("gift: --device cuda: could not start " + sibling.string());
#endif
}

/// Calls `work(m)` with the model on the chosen backend: `model` itself for eigen, else a copy
/// moved there (`model::to_backend`, every linear layer frozen at its effective weight).
/// \throws gift::error for a backend this build lacks.
template <class Work>
decltype(auto) on_device(device chosen, model::llama_model<float>& model, Work&& work) {
#if GIFT_TOOL_CUDA
  // Only the GPU: parse_device refused every other backend, and leaving `work(model)` out keeps
  // the Eigen instantiation of each command's work out of this nvcc translation unit.
  gift::require(chosen == device::cuda, "gift-cuda: --device must be cuda");
  auto moved = model::to_backend<backend::cuda>(model);
  return work(moved);
#else
#if GIFT_TOOL_THRUST
  if (chosen == device::thrust_omp) {
    auto moved = model::to_backend<backend::thrust_omp>(model);
    return work(moved);
  }
  if (chosen == device::thrust_cpp) {
    auto moved = model::to_backend<backend::thrust_cpp>(model);
    return work(moved);
  }
#else
  gift::require(chosen == device::eigen, "gift: --device thrust-omp and thrust-cpp need a gift built with ",
                "Thrust (the CUDA toolkit's headers, CMake option GIFT_ENABLE_THRUST); use --device eigen");
#endif
  return work(model);
#endif
}

}  // namespace gift::cli
