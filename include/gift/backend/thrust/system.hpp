#pragma once
/// \file gift/backend/thrust/system.hpp
/// \brief Maps gift's light system tags to Thrust execution policies and vectors.
///
/// Requires Thrust (CMake target gift::thrust, or gift::cuda under nvcc). With a non-CUDA
/// compiler, THRUST_DEVICE_SYSTEM must name a host system before any Thrust header is seen; the
/// gift::thrust target defines it as OMP.

#if !defined(THRUST_DEVICE_SYSTEM) && !defined(__CUDACC__)
#error "gift/backend/thrust: define THRUST_DEVICE_SYSTEM (e.g. THRUST_DEVICE_SYSTEM_OMP) before including Thrust headers, or link the CMake target gift::thrust, which does it"
#endif

#include <gift/backend/tags.hpp>

#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdint>
#include <type_traits>
#include <thrust/system/cpp/execution_policy.h>
#include <thrust/system/cpp/vector.h>
#include <thrust/system/omp/execution_policy.h>
#include <thrust/system/omp/vector.h>
#if defined(__CUDACC__)
#include <thrust/system/cuda/execution_policy.h>
#include <thrust/system/cuda/vector.h>
#endif

namespace gift::backend {

/// Per-system facts: the Thrust vector type and the execution policy.
template <class System>
struct thrust_system_traits;

/// Thrust's sequential host system.
template <>
struct thrust_system_traits<system::cpp> {
  /// Vector in this system's memory.
  template <class T>
  using vector = ::thrust::cpp::vector<T>;
  /// Execution policy.
  static auto policy() { return ::thrust::cpp::par; }
};

/// Thrust's OpenMP host system.
template <>
struct thrust_system_traits<system::omp> {
  /// Vector in this system's memory.
  template <class T>
  using vector = ::thrust::omp::vector<T>;
  /// Execution policy.
  static auto policy() { return ::thrust::omp::par; }
};

#if defined(__CUDACC__)
/// Thrust's CUDA system.
template <>
struct thrust_system_traits<system::cuda> {
  /// Vector in this system's memory.
  template <class T>
  using vector = ::thrust::cuda::vector<T>;
  /// Execution policy.
  static auto policy() { return ::thrust::cuda::par; }
};
#endif

/// The Thrust vector of `T` living in `System`'s memory.
template <class System, class T>
using thrust_vector_t = typename thrust_system_traits<System>::template vector<T>;

namespace detail {
/// True for the Thrust systems whose memory is host memory (readable by the CPU in place).
template <class System>
inline constexpr bool host_memory_system = std::is_same_v<System, system::cpp> || std::is_same_v<System, system::omp>;

/// Calls `f(i)` for every `i < count` on `System` (in parallel where the system is): how the
/// Thrust backend runs a functor per row or per element.
template <class System, class F>
void for_each_index(std::int64_t count, const F& f) {
  if (count <= 0) return;
  ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::int64_t>(0),
                     ::thrust::counting_iterator<std::int64_t>(count), f);
}

/// The raw pointer to the first element of a Thrust vector (a device pointer on CUDA).
template <class Vector>
auto raw(Vector& v) {
  return ::thrust::raw_pointer_cast(v.data());
}
}  // namespace detail

}  // namespace gift::backend
