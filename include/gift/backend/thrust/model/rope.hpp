#pragma once
/// \file gift/backend/thrust/model/rope.hpp
/// \brief RoPE on a Thrust system: one functor call per (row, head), by the shared rotation.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/model/rope.hpp>

#include <cstdint>

namespace gift::backend {

namespace detail {
template <class T>
struct rope_heads {
  T* x;
  const T* cosine;
  const T* sine;
  std::int64_t cols, head_dim, heads, pairs, sequence, first;
  T sign;
  GIFT_HOST_DEVICE void operator()(std::int64_t task) const {
    const std::int64_t row = task / heads, h = task % heads;
    const std::int64_t p = first + row % sequence;
    gift::detail::rotate_head(x + row * cols + h * head_dim, cosine + p * pairs, sine + p * pairs, pairs, sign);
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::rope, thrust<System>> {
  static constexpr bool available = true;
  /// Rotates every head of `x` in place; row r sits at position `first + r % sequence`.
  template <class T>
  static void run(thrust<System>, thrust_matrix<T, System>& x, int head_dim, const thrust_matrix<T, System>& cosine,
                  const thrust_matrix<T, System>& sine, std::int64_t sequence, std::int64_t first, bool inverse) {
    const auto cols = static_cast<std::int64_t>(x.cols());
    const std::int64_t heads = cols / head_dim;
    detail::for_each_index<System>(static_cast<std::int64_t>(x.rows()) * heads,
                                   detail::rope_heads<T>{x.data(), cosine.data(), sine.data(), cols, head_dim, heads,
                                                         static_cast<std::int64_t>(cosine.cols()), sequence, first,
                                                         inverse ? T(-1) : T(1)});
  }
};

}  // namespace gift::backend
