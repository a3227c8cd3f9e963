#pragma once
/// \file gift/config.hpp
/// \brief Compiler and platform configuration shared by every gift header.

#include <gift/version.hpp>

/// Marks functions callable from host and device code. Defined once, here: a CUDA compiler
/// (nvcc, or clang in CUDA mode) sees `__host__ __device__`, every other compiler sees nothing.
#if defined(__CUDACC__) || defined(__HIPCC__)
#define GIFT_HOST_DEVICE __host__ __device__
/// 1 when a CUDA compiler is running (host or device pass), else 0.
#define GIFT_CUDA_COMPILER 1
#else
#define GIFT_HOST_DEVICE
/// 1 when a CUDA compiler is running (host or device pass), else 0.
#define GIFT_CUDA_COMPILER 0
#endif

/// True only in the device pass of a CUDA compilation.
#if defined(__CUDA_ARCH__)
#define GIFT_DEVICE_PASS 1
#else
#define GIFT_DEVICE_PASS 0
#endif

/// Forces inlining of small hot functions (the noise and norm kernels).
#if defined(_MSC_VER)
#define GIFT_FORCE_INLINE __forceinline
#else
#define GIFT_FORCE_INLINE inline __attribute__((always_inline))
#endif

#if __cplusplus < 202002L && !defined(_MSVC_LANG)
#error "gift needs C++20: compile with -std=c++20 (CMake: target_compile_features(... cxx_std_20))"
#endif
