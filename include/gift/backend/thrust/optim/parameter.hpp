#pragma once
/// \file gift/backend/thrust/optim/parameter.hpp
/// \brief The optimizers' block operations on a Thrust system. State buffers are the system's
/// vectors; the squared norm is summed in index order on the host systems (their memory is host
/// memory), so the result does not depend on the thread count, and by a device reduction on CUDA.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/optim/parameter.hpp>

#include <thrust/fill.h>
#include <thrust/functional.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>

namespace gift::backend {

namespace detail {
template <class T>
struct square_as_double {
  GIFT_HOST_DEVICE double operator()(T x) const { return static_cast<double>(x) * static_cast<double>(x); }
};
template <class T>
struct times {
  T factor;
  GIFT_HOST_DEVICE T operator()(T x) const { return x * factor; }
};
}  // namespace detail

template <class System>
struct implementation<ops::optimizer_state, thrust<System>> {
  static constexpr bool available = true;
  /// `elements` zeros in the system's memory.
  template <class T>
  static thrust_vector_t<System, T> run(thrust<System>, std::type_identity<T>, std::size_t elements) {
    return thrust_vector_t<System, T>(elements, T(0));
  }
};

template <class System>
struct implementation<ops::zero_fill, thrust<System>> {
  static constexpr bool available = true;
  /// Sets every element of `values` (the system's memory) to zero.
  template <class T>
  static void run(thrust<System>, std::span<T> values) {
    if (values.empty()) return;
    if constexpr (detail::host_memory_system<System>) {
      std::fill(values.begin(), values.end(), T(0));
    } else {
      ::thrust::fill(thrust_system_traits<System>::policy(), values.data(), values.data() + values.size(), T(0));
    }
  }
};

template <class System>
struct implementation<ops::squared_norm, thrust<System>> {
  static constexpr bool available = true;
  /// Σ v² in double.
  template <class T>
  static double run(thrust<System>, std::span<const T> values) {
    if (values.empty()) return 0.0;
    if constexpr (detail::host_memory_system<System>) {
      double sum = 0.0;
      for (const T x : values) sum += detail::square_as_double<T>{}(x);
      return sum;
    } else {
      return ::thrust::transform_reduce(thrust_system_traits<System>::policy(), values.data(),
                                        values.data() + values.size(), detail::square_as_double<T>{}, 0.0,
                                        ::thrust::plus<double>());
    }
  }
};

template <class System>
struct implementation<ops::scale_in_place, thrust<System>> {
  static constexpr bool available = true;
  /// values *= factor.
  template <class T>
  static void run(thrust<System>, std::span<T> values, T factor) {
    if (values.empty()) return;
    ::thrust::transform(thrust_system_traits<System>::policy(), values.data(), values.data() + values.size(),
                        values.data(), detail::times<T>{factor});
  }
};

}  // namespace gift::backend
