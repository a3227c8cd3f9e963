#pragma once
/// \file gift/backend/thrust/model/rms_norm.hpp
/// \brief RMSNorm on a Thrust system: one functor call per row, by the shared row arithmetic.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/model/rms_norm.hpp>

#include <cstdint>

namespace gift::backend {

namespace detail {
template <class T>
struct rms_norm_rows {
  const T* x;
  const T* weight;
  T* y;
  T* inverse_rms;
  std::int64_t cols;
  double epsilon;
  GIFT_HOST_DEVICE void operator()(std::int64_t i) const {
    inverse_rms[i] = gift::detail::rms_norm_row(x + i * cols, weight, cols, epsilon, y + i * cols);
  }
};

template <class T>
struct rms_norm_backward_rows {
  const T* dy;
  const T* x;
  const T* weight;
  const T* inverse_rms;
  T* dx;
  std::int64_t cols;
  GIFT_HOST_DEVICE void operator()(std::int64_t i) const {
    gift::detail::rms_norm_backward_row(dy + i * cols, x + i * cols, weight, inverse_rms[i], cols, dx + i * cols);
  }
};

}  // namespace detail

template <class System>
struct implementation<ops::rms_norm_forward, thrust<System>> {
  static constexpr bool available = true;
  /// Normalises every row of `x` into `y` (resized) and keeps each row's inverse RMS.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& x, const thrust_vector_t<System, T>& weight,
                  double epsilon, thrust_matrix<T, System>& y, thrust_vector_t<System, T>& inverse_rms) {
    y.resize(x.rows(), x.cols());
    inverse_rms.resize(x.rows());
    detail::for_each_index<System>(static_cast<std::int64_t>(x.rows()),
                                   detail::rms_norm_rows<T>{x.data(), detail::raw(weight), y.data(),
                                                            detail::raw(inverse_rms),
                                                            static_cast<std::int64_t>(x.cols()), epsilon});
  }
};

template <class System>
struct implementation<ops::rms_norm_backward_add, thrust<System>> {
  static constexpr bool available = true;
  /// Adds the input gradient of RMSNorm to `dx`.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& dy, const thrust_matrix<T, System>& x,
                  const thrust_vector_t<System, T>& weight, const thrust_vector_t<System, T>& inverse_rms,
                  thrust_matrix<T, System>& dx) {
    detail::for_each_index<System>(
        static_cast<std::int64_t>(x.rows()),
        detail::rms_norm_backward_rows<T>{dy.data(), x.data(), detail::raw(weight), detail::raw(inverse_rms), dx.data(),
                                          static_cast<std::int64_t>(x.cols())});
  }
};

}  // namespace gift::backend
