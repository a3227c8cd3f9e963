#pragma once
/// \file gift/backend/eigen/optim/parameter.hpp
/// \brief The optimizers' block operations on the CPU (host memory, one thread, fixed order).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/detail/optim/parameter.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::optimizer_state, eigen> {
  static constexpr bool available = true;
  /// `elements` zeros of type T.
  template <class T>
  static std::vector<T> run(eigen, std::type_identity<T>, std::size_t elements) {
    return std::vector<T>(elements, T(0));
  }
};

template <>
struct implementation<ops::zero_fill, eigen> {
  static constexpr bool available = true;
  /// Sets every element of `values` to zero.
  template <class T>
  static void run(eigen, std::span<T> values) {
    std::fill(values.begin(), values.end(), T(0));
  }
};

template <>
struct implementation<ops::squared_norm, eigen> {
  static constexpr bool available = true;
  /// Σ v², in double, in index order.
  template <class T>
  static double run(eigen, std::span<const T> values) {
    double sum = 0.0;
    for (const T x : values) sum += static_cast<double>(x) * static_cast<double>(x);
    return sum;
  }
};

template <>
struct implementation<ops::scale_in_place, eigen> {
  static constexpr bool available = true;
  /// values *= factor.
  template <class T>
  static void run(eigen, std::span<T> values, T factor) {
    for (T& x : values) x *= factor;
  }
};

}  // namespace gift::backend
