#pragma once
/// \file gift/backend/tags.hpp
/// \brief Backend tags and their fallback chain.
///
/// A backend is a small tag type. When an operation has no implementation for a backend, dispatch
/// tries the tag's `fallback`, as Thrust's OMP system falls back on the CPP one:
///
///     cuda -> thrust<system::cuda> -> none
///     thrust<system::omp> -> thrust<system::cpp> -> none
///     eigen -> none
///
/// Tags carry no Thrust or CUDA types, so this header is light; the mapping to real Thrust
/// systems lives in `backend/thrust/`.

#include <string>

namespace gift::backend {

/// End of a fallback chain: no backend left to try.
struct none {
  /// The chain ends here.
  using fallback = none;
  /// Printable name.
  static std::string name() { return "none"; }
};

/// The CPU through Eigen (OpenMP threads where Eigen and gift use them).
struct eigen {
  /// Nothing to fall back on.
  using fallback = none;
  /// Printable name.
  static std::string name() { return "eigen"; }
};

/// Thrust execution systems, as light tags.
namespace system {
/// Thrust's sequential host system.
struct cpp {
  /// Printable name.
  static std::string name() { return "cpp"; }
};
/// Thrust's OpenMP host system.
struct omp {
  /// Printable name.
  static std::string name() { return "omp"; }
};
/// Thrust's CUDA system (needs nvcc).
struct cuda {
  /// Printable name.
  static std::string name() { return "cuda"; }
};
}  // namespace system

namespace detail {
template <class System>
struct thrust_fallback {
  using type = none;
};
}  // namespace detail

/// Thrust algorithms on an explicit system.
template <class System>
struct thrust {
  /// The Thrust system tag.
  using system_type = System;
  /// The backend tried when this one lacks an operation.
  using fallback = typename detail::thrust_fallback<System>::type;
  /// Printable name, e.g. `thrust<omp>`.
  static std::string name() { return "thrust<" + System::name() + ">"; }
};

namespace detail {
/// OMP memory is host memory, so what the CPP system implements works on it too.
template <>
struct thrust_fallback<system::omp> {
  using type = thrust<system::cpp>;
};
}  // namespace detail

/// gift's own CUDA kernels plus cuBLAS/cuRAND; anything it does not specialise runs through
/// Thrust on the CUDA system.
struct cuda {
  /// Operations without a dedicated kernel run through Thrust on CUDA.
  using fallback = thrust<system::cuda>;
  /// Printable name.
  static std::string name() { return "cuda"; }
};

/// Thrust on the sequential host system.
using thrust_cpp = thrust<system::cpp>;
/// Thrust on the OpenMP host system.
using thrust_omp = thrust<system::omp>;
/// Thrust on the CUDA system.
using thrust_cuda = thrust<system::cuda>;

}  // namespace gift::backend
