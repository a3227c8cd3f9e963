#pragma once
/// \file gift/backend/eigen/multiply.hpp
/// \brief `gift::multiply` on the Eigen backend: shape-fixed column blocks of single-threaded
/// GEMMs (`detail::product_any_threads`).

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

}  // namespace gift::backend
