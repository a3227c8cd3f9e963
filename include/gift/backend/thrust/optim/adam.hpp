#pragma once
/// \file gift/backend/thrust/optim/adam.hpp
/// \brief One Adam step of a block on a Thrust system: the shared element update, one element per
/// Thrust work item (elements are independent, so the bits do not depend on the order).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/optim/adam.hpp>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstddef>
#include <span>

namespace gift::backend {

namespace detail {
template <class T>
struct adam_element {
  T* value;
  const T* gradient;
  T* m;
  T* v;
  gift::detail::adam_constants<T> constants;
  GIFT_HOST_DEVICE void operator()(std::size_t e) const {
    gift::detail::adam_update(value[e], gradient[e], m[e], v[e], constants);
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::adam_step, thrust<System>> {
  static constexpr bool available = true;
  /// `first` and `second` are the block's moment buffers (the system's vectors).
  template <class T, class State>
  static void run(thrust<System>, std::span<T> value, std::span<const T> gradient, State& first, State& second,
                  const gift::detail::adam_constants<T>& constants) {
    if (value.empty()) return;
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::size_t>(0),
                       ::thrust::counting_iterator<std::size_t>(value.size()),
                       detail::adam_element<T>{value.data(), gradient.data(), ::thrust::raw_pointer_cast(first.data()),
                                               ::thrust::raw_pointer_cast(second.data()), constants});
  }
};

}  // namespace gift::backend
