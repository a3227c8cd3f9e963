// gift-cuda: `gift eval` and `gift finetune` built with nvcc, so that --device cuda runs the model
// on the GPU (llama_model<float, backend::cuda>: Thrust kernels on the CUDA system, cuBLAS GEMMs,
// the CUDA GIFT-SW layer, AdamW on the device). `gift --device cuda` hands its arguments over to
// this executable, installed beside it by a CUDA build; it also runs directly
// (`gift-cuda eval --device cuda ...`). One process: the data-parallel runs are gift's. The
// commands are gift's own eval.cpp and finetune.cpp, compiled by nvcc with GIFT_TOOL_CUDA=1
// (tools/cuda/CMakeLists.txt).
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>

#include "cli/commands.hpp"

#include <cuda_runtime.h>

#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  const auto usage = [](std::ostream& out) {
    out << "usage: gift-cuda eval|finetune --device cuda [options]  (gift's commands on the GPU; "
           "see gift eval --help, gift finetune --help)\n";
  };
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  gift::io::remove_temporaries_on_signals();
  // Say so up front when there is no GPU to run on, rather than fail in the first allocation.
  int devices = 0;
  if (const cudaError_t status = cudaGetDeviceCount(&devices); status != cudaSuccess || devices == 0) {
    std::cerr << "gift-cuda " << command << ": error: no usable CUDA device ("
              << (status != cudaSuccess ? cudaGetErrorString(status) : "none found")
              << "); use --device eigen or thrust-omp on this machine\n";
    return 1;
  }
  try {
    if (command == "eval") return gift::cli::run_eval(argc, argv);
    if (command == "finetune") return gift::cli::run_finetune(argc, argv);
    std::cerr << "gift-cuda: '" << command << "' runs on the CPU: use gift " << command << "\n";
    usage(std::cerr);
    return 2;
  } catch (const gift::error& e) {
    std::cerr << "gift-cuda " << command << ": error: " << e.what() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "gift-cuda " << command << ": unexpected error: " << e.what() << std::endl;
  }
  return 1;
}
