#pragma once
/// \file gift/backend/eigen/optim/sgd.hpp
/// \brief One SGD step of a block on the CPU: the shared element update, in index order.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/detail/optim/sgd.hpp>

#include <cstddef>
#include <span>

namespace gift::backend {

template <>
struct implementation<ops::sgd_step, eigen> {
  static constexpr bool available = true;
  /// `momentum` is the block's buffer (empty without momentum).
  template <class T, class State>
  static void run(eigen, std::span<T> value, std::span<const T> gradient, State& momentum,
                  const gift::detail::sgd_constants<T>& constants) {
    T* buffer = momentum.size() == 0 ? nullptr : momentum.data();
    for (std::size_t e = 0; e < value.size(); ++e)
      gift::detail::sgd_update(value[e], gradient[e], buffer == nullptr ? nullptr : buffer + e, constants);
  }
};

}  // namespace gift::backend
