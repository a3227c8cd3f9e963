# bench_model: the LLaMA forward/training benchmark. Built for the host CPU (AVX2/FMA GEMMs in
# Eigen) unless GIFT_NATIVE_ARCH is off: the figures are about this machine's throughput.
include(CheckCXXCompilerFlag)
if(NOT DEFINED GIFT_NATIVE_ARCH)
  option(GIFT_NATIVE_ARCH "Compile the gift tool and the model benchmark with -march=native" ON)
endif()
check_cxx_compiler_flag(-march=native GIFT_HAS_MARCH_NATIVE)
if(GIFT_NATIVE_ARCH AND GIFT_HAS_MARCH_NATIVE)
  target_compile_options(bench_model PRIVATE -march=native)
endif()
