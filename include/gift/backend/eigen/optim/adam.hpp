#pragma once
/// \file gift/backend/eigen/optim/adam.hpp
/// \brief One Adam step of a block on the CPU: the shared element update, in index order.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/detail/optim/adam.hpp>

#include <cstddef>
#include <span>

namespace gift::backend {

template <>
struct implementation<ops::adam_step, eigen> {
  static constexpr bool available = true;
  /// `first` and `second` are the block's moment buffers (from `ops::optimizer_state`).
  template <class T, class State>
  static void run(eigen, std::span<T> value, std::span<const T> gradient, State& first, State& second,
                  const gift::detail::adam_constants<T>& constants) {
    T* m = first.data();
    T* v = second.data();
    for (std::size_t e = 0; e < value.size(); ++e) gift::detail::adam_update(value[e], gradient[e], m[e], v[e], constants);
  }
};

}  // namespace gift::backend
