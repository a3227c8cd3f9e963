#pragma once
/// \file gift/backend/thrust/optim/sgd.hpp
/// \brief One SGD step of a block on a Thrust system: the shared element update per work item.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/optim/sgd.hpp>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstddef>
#include <span>

namespace gift::backend {

namespace detail {
template <class T>
struct sgd_element {
  T* value;
  const T* gradient;
  T* buffer;  // null without momentum
  gift::detail::sgd_constants<T> constants;
  GIFT_HOST_DEVICE void operator()(std::size_t e) const {
    gift::detail::sgd_update(value[e], gradient[e], buffer == nullptr ? nullptr : buffer + e, constants);
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::sgd_step, thrust<System>> {
  static constexpr bool available = true;
  /// `momentum` is the block's buffer (empty without momentum).
  template <class T, class State>
  static void run(thrust<System>, std::span<T> value, std::span<const T> gradient, State& momentum,
                  const gift::detail::sgd_constants<T>& constants) {
    if (value.empty()) return;
    T* buffer = momentum.size() == 0 ? nullptr : ::thrust::raw_pointer_cast(momentum.data());
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::size_t>(0),
                       ::thrust::counting_iterator<std::size_t>(value.size()),
                       detail::sgd_element<T>{value.data(), gradient.data(), buffer, constants});
  }
};

}  // namespace gift::backend
