#pragma once
/// \file gift/backend/eigen/multiply.hpp
/// \brief `gift::multiply` and `gift::multiply_transposed` on the Eigen backend: shape-fixed column
/// blocks of single-threaded GEMMs (`detail::product_any_threads`); `gift::scale`.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/multiply.hpp>
#include <gift/detail/product.hpp>
#include <gift/fwd.hpp>

namespace gift::backend {

template <>
struct implementation<ops::multiply, eigen> {
  static constexpr bool available = true;

  /// `c = a · op(b)` (or `+=`), the shapes checked by the front end.
  template <class T>
  static void run(eigen, const gift::matrix<T>& a, const gift::matrix<T>& b, gift::matrix<T>& c, bool transpose_b,
                  bool accumulate) {
    if (transpose_b) {
      gift::detail::product_any_threads(c, a, b.transpose(), accumulate);
    } else {
      gift::detail::product_any_threads(c, a, b, accumulate);
    }
  }
};

template <>
struct implementation<ops::multiply_transposed, eigen> {
  static constexpr bool available = true;

  /// `c = aᵀ · b` (or `+=`), the shapes checked by the front end.
  template <class T>
  static void run(eigen, const gift::matrix<T>& a, const gift::matrix<T>& b, gift::matrix<T>& c, bool accumulate) {
    gift::detail::product_any_threads(c, a.transpose(), b, accumulate);
  }
};

template <>
struct implementation<ops::scale, eigen> {
  static constexpr bool available = true;

  /// `c = value · a`.
  template <class T>
  static void run(eigen, const gift::matrix<T>& a, double value, gift::matrix<T>& c) {
    c = static_cast<T>(value) * a;
  }
};

}  // namespace gift::backend
